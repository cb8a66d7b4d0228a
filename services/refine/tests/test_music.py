"""The synthesised bed: deterministic, exact length, delivered loudness, rhythm that follows energy."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import butter, resample_poly, sosfilt

from adgen_refine.loudness import PCM_PEAK_DBTP
from adgen_refine.music import normalise_loudness, synthesise_music

RATE = 48_000
CURVE = [(0.0, "medium"), (5.0, "low"), (10.0, "high")]


@pytest.fixture(scope="module")
def bed() -> np.ndarray:
    return synthesise_music(15.0, sample_rate=RATE, energy_curve=CURVE, archetype="luxury_showcase", seed=3)


def measured_true_peak_db(audio: np.ndarray) -> float:
    """4x oversampled peak over both channels, in dBTP (measured here, not by the module)."""
    up = resample_poly(audio.astype(np.float64), 4, 1, axis=0)
    return float(20 * np.log10(np.max(np.abs(up))))


def onsets(audio: np.ndarray, rate: int = RATE) -> int:
    """Count percussive onsets: rises of the >2 kHz energy envelope above its recent level."""
    high = sosfilt(butter(4, 2000, "highpass", fs=rate, output="sos"), audio.mean(axis=1))
    hop = rate // 200
    frames = high[: len(high) // hop * hop].reshape(-1, hop)
    energy_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    rise = np.diff(energy_db)
    return int(np.sum((rise[1:] > 6) & (rise[:-1] <= 6)))


def test_shape_dtype_and_exact_length(bed: np.ndarray) -> None:
    assert bed.shape == (15 * RATE, 2) and bed.dtype == np.float32
    odd = synthesise_music(7.33333, sample_rate=44_100, energy_curve=[], archetype="unknown", seed=0)
    assert odd.shape == (round(7.33333 * 44_100), 2)
    assert np.all(np.isfinite(odd)) and np.max(np.abs(odd)) <= 1.0


def test_deterministic_for_a_seed(bed: np.ndarray) -> None:
    again = synthesise_music(15.0, sample_rate=RATE, energy_curve=CURVE, archetype="luxury_showcase", seed=3)
    other = synthesise_music(15.0, sample_rate=RATE, energy_curve=CURVE, archetype="luxury_showcase", seed=4)
    assert np.array_equal(bed, again)
    assert not np.array_equal(bed, other)


def test_fades_in_and_out(bed: np.ndarray) -> None:
    assert np.max(np.abs(bed[:10])) < 1e-3 and np.max(np.abs(bed[-10:])) < 1e-3
    assert np.sqrt(np.mean(bed[RATE : 2 * RATE] ** 2)) > 0.02


def test_normalised_to_minus_14_lufs_with_headroom_for_the_codec(bed: np.ndarray) -> None:
    out = normalise_loudness(bed, RATE)
    assert out.shape == bed.shape and out.dtype == np.float32
    assert pyloudnorm.Meter(RATE).integrated_loudness(out) == pytest.approx(-14.0, abs=1.0)
    assert measured_true_peak_db(out) <= PCM_PEAK_DBTP


def test_normalising_a_spiky_signal_limits_its_peaks() -> None:
    rng = np.random.default_rng(0)
    quiet = 0.01 * rng.standard_normal((10 * RATE, 2))
    quiet[::RATE] = 0.9  # one full-scale click a second: a crest factor no gain alone can fix
    out = normalise_loudness(quiet, RATE)
    assert measured_true_peak_db(out) <= PCM_PEAK_DBTP
    assert pyloudnorm.Meter(RATE).integrated_loudness(out) == pytest.approx(-14.0, abs=1.0)


def test_silence_stays_silent() -> None:
    assert not np.any(normalise_loudness(np.zeros((RATE, 2), np.float32), RATE))


def test_high_energy_is_busier_than_low() -> None:
    def bed_at(energy: str) -> np.ndarray:
        return synthesise_music(8.0, energy_curve=[(0.0, energy)], archetype="energetic_lifestyle", seed=1)

    low, medium, high = (onsets(bed_at(e)) for e in ("low", "medium", "high"))
    assert low < medium < high, (low, medium, high)


def test_energy_is_validated() -> None:
    with pytest.raises(ValueError, match="energy"):
        synthesise_music(5.0, energy_curve=[(0.0, "frantic")], archetype="feature_demo", seed=0)
    with pytest.raises(ValueError, match="positive"):
        synthesise_music(0.0, energy_curve=[], archetype="feature_demo", seed=0)
