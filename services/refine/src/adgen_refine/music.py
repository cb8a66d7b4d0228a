"""The music bed when no music provider is used, and the length and loudness every bed is delivered at.

The bed is synthesised, not sampled, so it is deterministic for a seed and costs nothing:

* a chord progression per archetype (key, chords, base tempo) played by a soft additive pad,
  one chord per bar, with a bass line on the chord roots;
* each beat of the ad is a *section*: its energy sets the tempo (low 0.85x, medium 1x,
  high 1.2x the archetype's tempo) and how busy the rhythm is (low: a kick per bar and a quiet
  shaker; medium: kick, clap on 2 and 4, eighth-note hats; high: four-on-the-floor kick,
  sixteenth hats, eighth-note bass). Sections start a new bar on the beat boundary, so the music
  changes exactly when the picture does;
* every beat boundary after the first gets an accent: a swell into it and a low impact on it;
* a short fade-in and a longer fade-out so the ad does not start or stop on a hard edge.

Every bed, synthesised or from a music model, leaves here at −14 LUFS integrated with its true peak
under the headroom the AAC encode needs (``loudness`` says how much and why).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.signal import butter, fftconvolve, sosfilt

from adgen_refine.loudness import (
    PCM_PEAK_DBTP,
    TARGET_LUFS,
    db_to_gain,
    integrated_lufs,
    limit,
    peak_envelope,
)

ENERGY_TEMPO: Final = {"low": 0.85, "medium": 1.0, "high": 1.2}
_LIMITER_WINDOW_S: Final = 0.01
_FADE_IN_S: Final = 0.5
_FADE_OUT_S: Final = 1.5


@dataclass(frozen=True)
class _Harmony:
    """An archetype's musical identity: where the chords sit and how fast the bed moves."""

    root_midi: int
    chords: tuple[tuple[int, ...], ...]
    """Chords as semitone offsets from the key root; the first offset is the bass note."""
    bpm: float


_HARMONY: Final = {
    # A minor, lush sevenths and ninths: i9 - VImaj7 - IIImaj7 - VII6.
    "luxury_showcase": _Harmony(57, ((0, 3, 7, 10, 14), (-4, 0, 3, 7), (3, 7, 10, 14), (-2, 2, 5, 9)), 84),
    # E major pop loop with added ninths: I - V - vi - IV.
    "energetic_lifestyle": _Harmony(52, ((0, 4, 7, 14), (7, 11, 14, 21), (9, 12, 16, 19), (5, 9, 12, 16)), 118),
    # C major, open and static: Imaj7 - IVmaj7 - vi7 - V.
    "minimalist_reveal": _Harmony(48, ((0, 4, 7, 11), (5, 9, 12, 16), (9, 12, 16, 19), (7, 11, 14, 17)), 92),
    # G major, warm: I - iii - vi - IV.
    "emotional_storytelling": _Harmony(55, ((0, 4, 7, 12), (4, 7, 11, 16), (9, 12, 16, 19), (5, 9, 12, 16)), 76),
    # F major, confident: I - vi - IV - V.
    "feature_demo": _Harmony(53, ((0, 4, 7, 12), (9, 12, 16, 21), (5, 9, 12, 17), (7, 11, 14, 19)), 100),
}
_DEFAULT_HARMONY: Final = _HARMONY["feature_demo"]


def archetype_bpm(archetype: str) -> float:
    """The base tempo of an archetype's bed (medium energy)."""
    return _HARMONY.get(archetype, _DEFAULT_HARMONY).bpm


@dataclass(frozen=True)
class _Section:
    start_s: float
    end_s: float
    energy: str


def synthesise_music(
    duration_s: float,
    *,
    sample_rate: int = 48_000,
    energy_curve: Sequence[tuple[float, str]],
    archetype: str,
    seed: int,
) -> np.ndarray:
    """A stereo float32 bed of exactly ``round(duration_s * sample_rate)`` samples, shape (n, 2).

    ``energy_curve`` lists (beat start in seconds, "low" | "medium" | "high"); an empty curve is
    one medium section. An unknown archetype falls back to the feature-demo harmony.
    """
    n = round(duration_s * sample_rate)
    if n <= 0:
        raise ValueError(f"duration must be positive, got {duration_s} s")
    sections = _sections(energy_curve, n / sample_rate)
    harmony = _HARMONY.get(archetype, _DEFAULT_HARMONY)
    rng = np.random.default_rng(seed)
    # The seed picks where in the progression the bed starts and colours the noise voices.
    chord_offset = int(rng.integers(len(harmony.chords)))

    pad = np.zeros((n, 2))
    bass = np.zeros(n)
    drums = np.zeros((n, 2))
    voices = _Voices(sample_rate, rng)
    bar = chord_offset
    for section in sections:
        beat_s = 60.0 / (harmony.bpm * ENERGY_TEMPO[section.energy])
        bar_start = section.start_s
        while bar_start < section.end_s - 1e-9:
            bar_end = bar_start + 4 * beat_s
            if section.end_s - bar_end < beat_s:
                # Fold a leftover of less than a beat into this bar rather than play a sliver chord.
                bar_end = section.end_s
            chord = harmony.chords[bar % len(harmony.chords)]
            _add(pad, _seconds(bar_start, sample_rate), voices.pad(harmony.root_midi, chord, bar_end - bar_start))
            _play_bar(
                bass, drums, voices, section.energy, harmony.root_midi + chord[0] - 12, bar_start, bar_end, beat_s
            )
            bar_start = bar_end
            bar += 1
    for section in sections[1:]:
        at = _seconds(section.start_s, sample_rate)
        swell = voices.swell()[-at:]
        _add(drums, at - len(swell), swell)
        _add(drums, at, voices.impact())

    mix = 0.55 * pad + 0.5 * bass[:, None] + 0.45 * drums
    mix += 0.18 * voices.reverb(0.6 * pad + drums)
    mix *= _fades(n, sample_rate)[:, None]
    peak = float(np.max(np.abs(mix)))
    return (mix * (10 ** (-3 / 20) / peak if peak > 0 else 1.0)).astype(np.float32)


def fit_with_fades(audio: np.ndarray, sample_rate: int, duration_s: float) -> np.ndarray:
    """A bed from elsewhere (a music model) made exactly ``duration_s`` long: stereo, trimmed or
    padded with silence, with the same fade-in and fade-out as the synthesised bed (the fade-out
    ends on the last sample, so a trimmed track does not stop on a hard edge)."""
    n = round(duration_s * sample_rate)
    if n <= 0:
        raise ValueError(f"duration must be positive, got {duration_s} s")
    track = np.asarray(audio, dtype=np.float64)
    if track.ndim == 1:
        track = track[:, None]
    if track.ndim != 2 or track.shape[1] not in (1, 2) or len(track) == 0:
        raise ValueError(f"audio must be (n,), (n, 1) or (n, 2) with n > 0, got {track.shape}")
    if track.shape[1] == 1:
        track = np.repeat(track, 2, axis=1)
    fitted = np.zeros((n, 2))
    fitted[: min(n, len(track))] = track[:n]
    return (fitted * _fades(n, sample_rate)[:, None]).astype(np.float32)


def normalise_loudness(
    audio: np.ndarray,
    sample_rate: int,
    target_lufs: float = TARGET_LUFS,
    true_peak_dbtp: float = PCM_PEAK_DBTP,
) -> np.ndarray:
    """Gain to ``target_lufs`` integrated, then limit so the true peak is ≤ ``true_peak_dbtp``.

    Limiting lowers the loudness a little, so gain and limiter alternate a few times; if a peak
    still stands out at the end, a final static gain favours the peak ceiling over the loudness
    target (a bed that is slightly quiet is acceptable, one that clips is not). Silence is
    returned unchanged because it has no loudness to match.
    """
    out = np.asarray(audio, dtype=np.float64)
    loudness = integrated_lufs(out, sample_rate)
    if not np.isfinite(loudness):
        return np.asarray(audio, dtype=np.float32)
    ceiling = db_to_gain(true_peak_dbtp)
    window = max(int(_LIMITER_WINDOW_S * sample_rate), 1)
    out = out * db_to_gain(target_lufs - loudness)
    envelope = peak_envelope(out)
    for _ in range(6):
        if envelope.max() <= ceiling:
            break
        # Limit a little under the ceiling: the next loudness gain lifts it back up.
        out = limit(out, envelope, ceiling * db_to_gain(-0.3), window)
        out = out * db_to_gain(target_lufs - integrated_lufs(out, sample_rate))
        envelope = peak_envelope(out)
    peak = float(envelope.max())
    if peak > ceiling:
        out = out * (ceiling / peak * (1 - 1e-5))  # a hair under: the peak was measured in float32
    return out.astype(np.float32)


def _sections(energy_curve: Sequence[tuple[float, str]], duration_s: float) -> list[_Section]:
    points = sorted((float(start), energy) for start, energy in energy_curve)
    for _, energy in points:
        if energy not in ENERGY_TEMPO:
            raise ValueError(f"energy {energy!r} is not one of {tuple(ENERGY_TEMPO)}")
    points = [(start, energy) for start, energy in points if start < duration_s]
    if not points:
        points = [(0.0, "medium")]
    starts = [0.0] + [start for start, _ in points[1:]]
    ends = [*starts[1:], duration_s]
    return [
        _Section(start, end, energy)
        for start, end, (_, energy) in zip(starts, ends, points, strict=True)
        if end > start
    ]


def _play_bar(
    bass: np.ndarray,
    drums: np.ndarray,
    voices: _Voices,
    energy: str,
    bass_midi: int,
    start_s: float,
    end_s: float,
    beat_s: float,
) -> None:
    """One bar of bass and drums on a sixteenth-note grid from the bar's start.

    A bar that absorbed a leftover beat runs past 16 steps; the pattern simply repeats.
    """
    sr = voices.sample_rate
    sixteenth = beat_s / 4
    steps = int(np.ceil((end_s - start_s) / sixteenth - 1e-9))
    bass_every = {"low": 16, "medium": 8, "high": 2}[energy]
    for at_step in range(steps):
        step = at_step % 16
        at = _seconds(start_s + at_step * sixteenth, sr)
        on_beat = step % 4 == 0
        if step % bass_every == 0:
            length = min(bass_every * sixteenth, end_s - start_s - at_step * sixteenth)
            _add(bass, at, voices.bass(bass_midi, length, accent=step == 0))
        if energy == "low":
            if step == 0:
                _add(drums, at, voices.kick(0.5))
            if on_beat:
                _add(drums, at, voices.hat(0.12, pan=0.3))
        elif energy == "medium":
            if step in (0, 8):
                _add(drums, at, voices.kick(0.8))
            if step in (4, 12):
                _add(drums, at, voices.clap(0.35))
            if step % 2 == 0:
                _add(drums, at, voices.hat(0.18 if on_beat else 0.12, pan=0.25))
        else:
            if on_beat:
                _add(drums, at, voices.kick(1.0))
            if step in (4, 12):
                _add(drums, at, voices.clap(0.5))
            _add(drums, at, voices.hat(0.22 if step % 2 == 0 else 0.13, pan=-0.25 if step % 2 else 0.25))


class _Voices:
    """The instruments: each call returns one note or hit as a float64 array."""

    def __init__(self, sample_rate: int, rng: np.random.Generator) -> None:
        self.sample_rate = sample_rate
        self._rng = rng
        sr = sample_rate
        self._hat_noise = sosfilt(butter(4, 7000, "highpass", fs=sr, output="sos"), rng.standard_normal(sr // 10))
        self._clap_noise = sosfilt(
            butter(2, [900, 2800], "bandpass", fs=sr, output="sos"), rng.standard_normal(sr // 4)
        )
        self._swell_noise = sosfilt(butter(2, 3000, "lowpass", fs=sr, output="sos"), rng.standard_normal(sr))
        self.swell_len = len(self._swell_noise)
        self._ir = self._room(rng)

    def pad(self, root_midi: int, chord: tuple[int, ...], length_s: float) -> np.ndarray:
        """A soft additive pad: five harmonics, two detuned voices panned apart, slow envelope."""
        sr = self.sample_rate
        release = 0.8
        t = np.arange(int((length_s + release) * sr)) / sr
        out = np.zeros((len(t), 2))
        for offset in chord:
            freq = _hz(root_midi + offset)
            for side, cents in ((0, -7.0), (1, 7.0)):
                theta = 2 * np.pi * freq * 2 ** (cents / 1200) * t + self._rng.uniform(0, 2 * np.pi)
                # sin(k*theta) by the Chebyshev recurrence: one sin and one cos per voice.
                twice_cos = 2 * np.cos(theta)
                previous, current = np.zeros_like(theta), np.sin(theta)
                for k in range(1, 6):
                    out[:, side] += current / k**1.6
                    previous, current = current, twice_cos * current - previous
        attack = np.clip(t / 0.35, 0, 1)
        release_env = np.clip((length_s + release - t) / release, 0, 1)
        return out * (attack * release_env * 0.09)[:, None]

    def bass(self, midi: int, length_s: float, *, accent: bool) -> np.ndarray:
        sr = self.sample_rate
        t = np.arange(int((length_s + 0.08) * sr)) / sr
        f = _hz(midi)
        tone = np.sin(2 * np.pi * f * t) + 0.25 * np.sin(4 * np.pi * f * t)
        env = np.minimum(t / 0.006, 1) * np.exp(-t / max(0.45 * length_s, 0.12))
        env *= np.clip((length_s + 0.08 - t) / 0.08, 0, 1)
        return np.tanh(1.5 * tone) * env * (0.42 if accent else 0.34)

    def kick(self, velocity: float) -> np.ndarray:
        t = np.arange(int(0.35 * self.sample_rate)) / self.sample_rate
        freq = 45 + 75 * np.exp(-t / 0.03)
        phase = 2 * np.pi * np.cumsum(freq) / self.sample_rate
        return _centre(np.sin(phase) * np.exp(-t / 0.12) * 0.9 * velocity)

    def hat(self, velocity: float, *, pan: float) -> np.ndarray:
        n = len(self._hat_noise)
        t = np.arange(n) / self.sample_rate
        hit = self._hat_noise * np.exp(-t / 0.025) * velocity * self._rng.uniform(0.85, 1.0)
        return np.stack([hit * (1 - pan), hit * (1 + pan)], axis=1) * 0.5

    def clap(self, velocity: float) -> np.ndarray:
        t = np.arange(len(self._clap_noise)) / self.sample_rate
        bursts = sum(np.exp(-np.maximum(t - d, 0) / 0.012) * (t >= d) for d in (0.0, 0.011, 0.022))
        tail = np.exp(-t / 0.07)
        return _centre(self._clap_noise * np.maximum(bursts / 3, tail * 0.6) * velocity * 0.6)

    def swell(self) -> np.ndarray:
        """A one-second noise swell that ends on the beat boundary."""
        ramp = np.linspace(0, 1, self.swell_len) ** 3
        return np.stack([self._swell_noise, self._swell_noise[::-1]], axis=1) * ramp[:, None] * 0.1

    def impact(self) -> np.ndarray:
        t = np.arange(int(1.2 * self.sample_rate)) / self.sample_rate
        freq = 38 + 40 * np.exp(-t / 0.05)
        boom = np.sin(2 * np.pi * np.cumsum(freq) / self.sample_rate) * np.exp(-t / 0.35)
        return _centre(boom * 0.7)

    def reverb(self, signal: np.ndarray) -> np.ndarray:
        return np.stack([fftconvolve(signal[:, c], self._ir[:, c])[: len(signal)] for c in range(2)], axis=1)

    def _room(self, rng: np.random.Generator) -> np.ndarray:
        """A decorrelated stereo room: exponentially decaying noise, darker as it decays."""
        sr = self.sample_rate
        t = np.arange(int(1.4 * sr)) / sr
        noise = sosfilt(butter(1, 4000, "lowpass", fs=sr, output="sos"), rng.standard_normal((len(t), 2)), axis=0)
        ir = noise * np.exp(-t / 0.35)[:, None]
        return ir / np.sqrt(np.sum(ir**2, axis=0))


def _fades(n: int, sample_rate: int) -> np.ndarray:
    t = np.arange(n) / sample_rate
    duration = n / sample_rate
    fade_in = min(_FADE_IN_S, duration / 4)
    fade_out = min(_FADE_OUT_S, duration / 4)
    rise = np.clip(t / fade_in, 0, 1)
    fall = np.clip((duration - t) / fade_out, 0, 1)
    return np.sin(0.5 * np.pi * rise) * np.sin(0.5 * np.pi * fall)


def _add(buffer: np.ndarray, at: int, signal: np.ndarray) -> None:
    """Mix ``signal`` into ``buffer`` from sample ``at``, dropping whatever runs past the end."""
    length = min(len(signal), len(buffer) - at)
    if length > 0:
        buffer[at : at + length] += signal[:length]


def _centre(mono: np.ndarray) -> np.ndarray:
    return np.stack([mono, mono], axis=1)


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _seconds(t: float, sample_rate: int) -> int:
    return round(t * sample_rate)
