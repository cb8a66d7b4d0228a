"""Piper really speaks a line offline: decoded and measured."""

from __future__ import annotations

import numpy as np
import pytest

from adgen_voice.piper_voice import DEFAULT_VOICE, PiperVoices
from adgen_voice.speech import SAMPLE_RATE, read_wav, wav_bytes
from adgen_voice.voice_timing import next_rate

LINE = "Meet the Aurora watch. Matte black titanium, made to last."


@pytest.fixture(scope="module")
def piper() -> PiperVoices:
    return PiperVoices()


async def test_piper_speaks_a_line_that_fits_its_beat(piper: PiperVoices) -> None:
    speech = await piper.speak(LINE, DEFAULT_VOICE, 1.0)
    samples, rate = read_wav(wav_bytes(speech.samples))
    assert rate == SAMPLE_RATE
    duration_s = len(samples) / rate
    assert duration_s == pytest.approx(speech.duration_s)
    assert next_rate([(1.0, duration_s)], 5) is None, "a line of the planner's budget fits at the voice's pace"
    rms_db = 20 * np.log10(np.sqrt(np.mean(samples**2)))
    assert rms_db > -35, f"the line is near silence ({rms_db:.1f} dBFS)"
    assert [w.text for w in speech.words] == LINE.split()
    starts = [w.start_s for w in speech.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start_s < w.end_s <= duration_s for w in speech.words)
    assert speech.usd_micros == 0


async def test_a_faster_rate_speaks_the_same_line_shorter(piper: PiperVoices) -> None:
    natural = await piper.speak(LINE, DEFAULT_VOICE, 1.0)
    faster = await piper.speak(LINE, DEFAULT_VOICE, 1.3)
    # Piper's pauses do not shrink and its durations are noisy (voice_timing), so by less than 1.3x.
    assert faster.duration_s < natural.duration_s * 0.93


def test_the_packaged_voice_is_listed_in_bcp47(piper: PiperVoices) -> None:
    [voice] = piper.voices()
    assert (voice.key, voice.provider, voice.language) == (DEFAULT_VOICE, "piper", "en-US")
