"""The voice over the music: where each line sits, how far the music steps back under it, the mix.

* **Where:** a beat's line starts one breath into its beat (`adgen_video.speech_pace.BREATH_S`); the
  voice service fitted it to end a breath before the beat does.
* **Ducking:** the word timings say exactly when someone speaks, so the music's gain is drawn from
  them rather than detected from the voice: words closer than `_JOIN_S` are one stretch of speech,
  the music is down `DUCK_DB` across each stretch, reaching it `ATTACK_S` before the first word (the
  timings are known ahead, so the music is already down when the voice starts) and coming back over
  `RELEASE_S` after the last. The ramps are linear in dB, which the ear hears as an even fade.
  (pedalboard's compressor has no side-chain input, so it cannot duck one signal under another; a
  gain curve from known timings needs no detector at all.)
* **Levels:** the voice track is set to the delivery loudness, as the bed is, so speech stands
  `DUCK_DB` over the ducked bed and the sum needs little correction; it is brought to the delivery
  loudness and peak ceiling by the one loudness rule (`music.normalise_loudness`). Outside speech
  the bed plays as it would in an ad without a voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from adgen_refine.loudness import TARGET_LUFS, db_to_gain, integrated_lufs

DUCK_DB: Final = 10.0
ATTACK_S: Final = 0.15
RELEASE_S: Final = 0.4
_JOIN_S: Final = 0.35


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class PlacedLine:
    """One beat's spoken line: mono samples at the mix rate, from `start_s` of the ad, and its words
    in the ad's time."""

    beat_index: int
    start_s: float
    samples: np.ndarray
    words: tuple[Word, ...]


def place(beat_index: int, at_s: float, samples: np.ndarray, words: Sequence[Word]) -> PlacedLine:
    """A line whose samples and word timings start at 0, moved to start `at_s` into the ad."""
    shifted = tuple(Word(w.text, w.start_s + at_s, w.end_s + at_s) for w in words)
    return PlacedLine(beat_index, at_s, np.asarray(samples, dtype=np.float32), shifted)


def speech_spans(lines: Sequence[PlacedLine]) -> list[tuple[float, float]]:
    """Stretches of speech in the ad's time: words joined across gaps shorter than `_JOIN_S`."""
    spans: list[tuple[float, float]] = []
    for word in sorted((w for line in lines for w in line.words), key=lambda w: w.start_s):
        if spans and word.start_s - spans[-1][1] < _JOIN_S:
            spans[-1] = (spans[-1][0], max(spans[-1][1], word.end_s))
        else:
            spans.append((word.start_s, word.end_s))
    return spans


def duck_gain(spans: Sequence[tuple[float, float]], samples: int, sample_rate: int) -> np.ndarray:
    """The music's gain per sample: 1 away from speech, `DUCK_DB` down across each span, with a
    linear-in-dB attack before it and release after it."""
    t = np.arange(samples) / sample_rate
    depth = np.zeros(samples)  # how far down, 0..1 of DUCK_DB
    for start, end in spans:
        into = np.clip((t - (start - ATTACK_S)) / ATTACK_S, 0.0, 1.0)
        out = np.clip(1.0 - (t - end) / RELEASE_S, 0.0, 1.0)
        np.maximum(depth, np.minimum(into, out), out=depth)
    gain: np.ndarray = 10 ** (-DUCK_DB * depth / 20)
    return gain


def mix(music: np.ndarray | None, lines: Sequence[PlacedLine], sample_rate: int, samples: int) -> np.ndarray:
    """Stereo float32 of `samples`: the music (stereo, at its delivery loudness, or None) ducked under
    the lines, and the lines over it at the delivery loudness; not yet normalised."""
    voice = np.zeros(samples, np.float64)
    for line in lines:
        if line.start_s < 0:
            raise ValueError(f"a line cannot start before the ad, at {line.start_s} s")
        at = round(line.start_s * sample_rate)
        part = line.samples[: max(samples - at, 0)]
        voice[at : at + len(part)] += part
    loudness = integrated_lufs(voice, sample_rate)
    if np.isfinite(loudness):
        voice *= db_to_gain(TARGET_LUFS - loudness)
    out = np.repeat(voice[:, None], 2, axis=1)
    if music is not None:
        bed = np.zeros((samples, 2), np.float64)
        bed[: min(samples, len(music))] = np.asarray(music, dtype=np.float64)[:samples]
        out += bed * duck_gain(speech_spans(lines), samples, sample_rate)[:, None]
    return out.astype(np.float32)
