"""How loud the delivered audio is and how high its peaks may go, and the one limiter that holds them.

* **Loudness:** −14 LUFS integrated, the streaming norm (ITU-R BS.1770 with EBU R128 gating,
  measured by pyloudnorm).
* **True peak:** the largest magnitude of the 4x oversampled signal (BS.1770 Annex 2). The norm's
  ceiling is −1 dBTP; the delivered file aims at −1.5 dBTP, *measured on its decoded AAC*, so a
  player's own resampling has room too.
* **Headroom before the codec:** AAC's quantisation moves the true peak by up to about 1 dB on
  these beds, so the PCM is limited to −2.5 dBTP before the encode and the first encode nearly
  always lands under the delivered ceiling; the encoder (``soundtrack``) measures what it wrote
  and limits again where it did not.
* **One limiter** for both: a look-ahead gain computed from a true-peak envelope, either the
  signal's own or that of its decoded encode.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyloudnorm
from scipy.ndimage import maximum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

TARGET_LUFS: Final = -14.0
DELIVERED_PEAK_DBTP: Final = -1.5
PCM_PEAK_DBTP: Final = -2.5
_OVERSAMPLING: Final = 4


def db_to_gain(db: float) -> float:
    return float(10 ** (db / 20))


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """BS.1770 integrated loudness; −inf for silence."""
    return float(pyloudnorm.Meter(sample_rate).integrated_loudness(np.asarray(audio, dtype=np.float64)))


def true_peak(audio: np.ndarray) -> float:
    """Linear true peak: the largest absolute sample of the 4x oversampled signal."""
    return float(np.max(peak_envelope(audio)))


def peak_envelope(audio: np.ndarray) -> np.ndarray:
    """Per input sample, the largest oversampled magnitude at or after it, over all channels."""
    channels = np.atleast_2d(audio.T)
    magnitude = np.zeros(channels.shape[1] * _OVERSAMPLING, np.float32)
    for channel in channels:
        # float32 halves the cost of the oversampling; its error (~1e-7 relative) is far below a dB.
        oversampled = resample_poly(channel.astype(np.float32), _OVERSAMPLING, 1)
        np.maximum(magnitude, np.abs(oversampled), out=magnitude)
    per_sample: np.ndarray = magnitude.reshape(-1, _OVERSAMPLING).max(axis=1)
    return per_sample


def limit(audio: np.ndarray, envelope: np.ndarray, ceiling: float, window: int) -> np.ndarray:
    """``audio`` with its gain lowered wherever ``envelope`` (one value per sample) passes ``ceiling``.

    The reduction each sample needs is held for ``window`` samples on both sides (a max filter)
    and smoothed over ``window + 1`` (a moving average): every averaged value near a peak covers
    it, so the gain is low enough on the peak and changes smoothly around it, with no clipping
    distortion and no step a listener hears as a click.
    """
    reduction = np.maximum(envelope / ceiling, 1.0)
    reduction = maximum_filter1d(reduction, size=2 * window + 1)
    reduction = uniform_filter1d(reduction, size=window + 1)
    limited: np.ndarray = audio / reduction[:, None]
    return limited
