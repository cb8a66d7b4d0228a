"""The voice over the music: the music measured under speech and away from it, the mix's loudness and
peak, and the captions cut from the word timings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from adgen_refine.loudness import TARGET_LUFS, integrated_lufs, true_peak
from adgen_refine.music import normalise_loudness, synthesise_music
from adgen_refine.spoken_captions import LINE_CHARS, cues, webvtt
from adgen_refine.voice_mix import ATTACK_S, DUCK_DB, RELEASE_S, Word, duck_gain, mix, place, speech_spans

RATE = 48_000


def tone_line(seconds: float, words: list[tuple[str, float, float]]) -> tuple[np.ndarray, list[Word]]:
    """A stand-in for speech: a modulated tone sounding only while its words are spoken."""
    t = np.arange(round(seconds * RATE)) / RATE
    voiced = np.zeros_like(t)
    for _, start, end in words:
        voiced[(t >= start) & (t < end)] = 1.0
    samples = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)) * voiced
    return samples.astype(np.float32), [Word(*w) for w in words]


def rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x))) + 1e-12))


def test_words_close_together_are_one_stretch_of_speech() -> None:
    line = place(0, 1.0, np.zeros(10), [Word("a", 0.0, 0.4), Word("b", 0.6, 1.0), Word("c", 2.0, 2.5)])
    assert speech_spans([line]) == [(1.0, 2.0), (3.0, 3.5)]


def test_the_music_steps_down_ahead_of_the_voice_and_comes_back_after_it() -> None:
    gain = duck_gain([(2.0, 3.0)], 5 * RATE, RATE)
    db = 20 * np.log10(gain)
    at = lambda s: db[round(s * RATE)]  # noqa: E731
    assert at(0.5) == pytest.approx(0.0) and at(4.9) == pytest.approx(0.0)
    assert at(2.0) == pytest.approx(-DUCK_DB) and at(2.99) == pytest.approx(-DUCK_DB)  # down at the first word
    assert at(2.0 - ATTACK_S / 2) == pytest.approx(-DUCK_DB / 2, abs=0.1)
    assert at(3.0 + RELEASE_S / 2) == pytest.approx(-DUCK_DB / 2, abs=0.1)
    assert at(2.0 - ATTACK_S - 0.01) == pytest.approx(0.0) and at(3.0 + RELEASE_S + 0.01) == pytest.approx(0.0)
    assert np.all(np.abs(np.diff(db)) < 0.01)  # no step a listener hears as a click


def test_the_music_under_speech_is_at_least_8_db_below_the_music_outside_it() -> None:
    music = normalise_loudness(
        synthesise_music(10, sample_rate=RATE, energy_curve=[(0, "medium")], archetype="problem_solution", seed=3),
        RATE,
    )
    samples, words = tone_line(3.0, [("fresh", 0.0, 0.5), ("coffee", 0.6, 1.2), ("daily.", 1.3, 2.4)])
    line = place(0, 3.0, samples, words)
    voiceless = place(0, 3.0, np.zeros_like(samples), words)  # the same timings, nothing said: the music alone
    ducked = mix(music, [voiceless], RATE, 10 * RATE)
    speech = slice(round(3.0 * RATE), round(5.4 * RATE))
    away = np.r_[0 : round(2.5 * RATE), round(6.0 * RATE) : 10 * RATE]
    under, outside = rms_db(ducked[speech]) - rms_db(music[speech]), rms_db(ducked[away]) - rms_db(music[away])
    assert outside == pytest.approx(0.0, abs=0.01)
    assert -12.0 <= under <= -8.0
    # With the voice, the sum is delivered at the norm's loudness and under the PCM's peak ceiling.
    delivered = normalise_loudness(mix(music, [line], RATE, 10 * RATE), RATE)
    assert integrated_lufs(delivered, RATE) == pytest.approx(TARGET_LUFS, abs=0.5)
    assert 20 * np.log10(true_peak(delivered)) <= -2.4


def test_a_voice_without_music_is_still_delivered() -> None:
    samples, words = tone_line(2.0, [("hello", 0.1, 1.5)])
    out = normalise_loudness(mix(None, [place(0, 0.5, samples, words)], RATE, 3 * RATE), RATE)
    assert out.shape == (3 * RATE, 2)
    assert integrated_lufs(out, RATE) == pytest.approx(TARGET_LUFS, abs=0.5)


def test_captions_are_phrases_of_at_most_42_characters_inside_their_beat() -> None:
    text = (
        "Meet the Aurora watch, in matte black titanium built for every single day of the year, "
        "and shipped to your door."
    ).split()
    words = [Word(w, 0.3 * i, 0.3 * i + 0.25) for i, w in enumerate(text)]
    line = place(2, 10.5, np.zeros(10), words)
    shown = cues([line], {2: 10.5 + 0.3 * len(text) + 0.2})
    assert next(" ".join(c.lines) for c in shown) == "Meet the Aurora watch,"
    assert all(len(row) <= LINE_CHARS for c in shown for row in c.lines)
    assert all(1 <= len(c.lines) <= 2 for c in shown)
    assert [w.text for c in shown for w in c.words] == text  # every spoken word, once, in order
    assert all(10.5 <= c.start_s < c.end_s <= shown[-1].end_s for c in shown)
    assert shown[-1].end_s <= 10.5 + 0.3 * len(text) + 0.2  # held, but not past the beat
    assert all(a.end_s <= b.start_s for a, b in itertools.pairwise(shown))
    vtt = webvtt(shown)
    assert vtt.startswith("WEBVTT\n\n1\n00:00:10.500 --> ")
    assert "Meet the Aurora watch," in vtt


def test_cue_text_is_escaped() -> None:
    line = place(0, 0.5, np.zeros(10), [Word("<b>fish", 0.0, 0.4), Word("&", 0.5, 0.6), Word("chips", 0.7, 1.0)])
    assert "&lt;b&gt;fish &amp; chips" in webvtt(cues([line], {0: 5.0}))


def test_no_lines_no_cues() -> None:
    assert cues([], {0: 5.0}) == []
    assert webvtt([]) == "WEBVTT\n"
