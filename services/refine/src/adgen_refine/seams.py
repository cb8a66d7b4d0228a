"""Exposure matching where two chunks of one beat meet, so a model's drift does not flicker.

A later chunk of a beat starts from the hand-off frame of the chunk before it: at the first frame
of their overlap both chunks show the same picture. Any difference in brightness or colour balance
between those two frames is the video model's drift, and a cross-fade alone turns it into a visible
pulse. So the incoming chunk is matched to the outgoing one:

* **What is matched:** per channel mean and standard deviation of the two frames at the hand-off
  moment (subsampled: statistics, not detail). The correction is a per-channel gain and offset
  mapping the incoming statistics onto the outgoing ones, limited (gain within [2/3, 3/2], offset
  within ±48 levels): drift is small, and a larger difference is content the match must not erase.
* **How long:** in full through the overlap, where both chunks are on screen, then eased out with
  a raised cosine over about a second, so the chunk returns to its own exposure as a slow drift
  rather than a jump.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np

from adgen_refine.timeline import Contribution, Placement

EASE_S: Final = 1.0
_MAX_GAIN: Final = 1.5
_MAX_OFFSET: Final = 48.0
_FLAT_STD: Final = 2.0
_SUBSAMPLE: Final = 4


@dataclass(frozen=True)
class ChannelStats:
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


@dataclass(frozen=True)
class ExposureMatch:
    """``out = gain * in + offset`` per channel, on 8-bit values."""

    gain: tuple[float, float, float]
    offset: tuple[float, float, float]


def channel_stats(image: np.ndarray) -> ChannelStats:
    """Per channel mean and standard deviation of an RGB(A) image, on every 4th pixel each way."""
    sample = image[::_SUBSAMPLE, ::_SUBSAMPLE, :3].reshape(-1, 3).astype(np.float32)
    mean, std = sample.mean(axis=0), sample.std(axis=0)
    return ChannelStats(tuple(map(float, mean)), tuple(map(float, std)))  # type: ignore[arg-type]


def match_exposure(reference: ChannelStats, incoming: ChannelStats) -> ExposureMatch:
    """The gain and offset that give ``incoming`` the mean and spread of ``reference``."""
    gains, offsets = [], []
    for ref_mean, ref_std, in_mean, in_std in zip(
        reference.mean, reference.std, incoming.mean, incoming.std, strict=True
    ):
        gain = 1.0 if in_std < _FLAT_STD or ref_std < _FLAT_STD else ref_std / in_std
        gain = min(max(gain, 1 / _MAX_GAIN), _MAX_GAIN)
        gains.append(gain)
        offsets.append(min(max(ref_mean - gain * in_mean, -_MAX_OFFSET), _MAX_OFFSET))
    return ExposureMatch(tuple(gains), tuple(offsets))  # type: ignore[arg-type]


def seam_strength(local_frame: int, overlap_frames: int, ease_frames: int) -> float:
    """How much of the match applies at a frame of the incoming chunk: 1 through the overlap, then
    a raised-cosine ease to 0 over ``ease_frames``."""
    if local_frame < overlap_frames:
        return 1.0
    into = local_frame - overlap_frames + 1
    if ease_frames <= 0 or into > ease_frames:
        return 0.0
    return 0.5 * (1.0 + math.cos(math.pi * into / (ease_frames + 1)))


def apply_match(image: np.ndarray, match: ExposureMatch, strength: float) -> np.ndarray:
    """A new 8-bit image with ``strength`` of the match applied to R, G and B (rounded and saturated
    once); an RGBA image keeps its fourth channel as it was."""
    channels = image.shape[2]
    matrix = np.zeros((channels, channels + 1), np.float32)
    for channel in range(channels):
        matrix[channel, channel] = 1.0
    for channel in range(3):
        matrix[channel, channel] = 1.0 + strength * (match.gain[channel] - 1.0)
        matrix[channel, channels] = strength * match.offset[channel]
    return cv2.transform(np.ascontiguousarray(image), matrix)


class SeamMatcher:
    """The exposure match of every chunk that continues a beat, measured when its overlap starts."""

    def __init__(self, placements: Sequence[Placement], fps: int) -> None:
        self._overlap = {p.index: p.overlap_in_frames for p in placements}
        self._ease = round(EASE_S * fps)
        self._matches: dict[int, ExposureMatch] = {}

    def corrected(self, contribution: Contribution, image: np.ndarray, shown_before: np.ndarray | None) -> np.ndarray:
        """``image`` of the chunk, matched to ``shown_before`` (the chunk it continues, as shown)."""
        overlap = self._overlap[contribution.chunk]
        if overlap == 0:
            return image
        if contribution.chunk not in self._matches:
            if contribution.local_frame != 0 or shown_before is None:
                return image
            self._matches[contribution.chunk] = match_exposure(channel_stats(shown_before), channel_stats(image))
        strength = seam_strength(contribution.local_frame, overlap, self._ease)
        if strength <= 0:
            del self._matches[contribution.chunk]
            return image
        return apply_match(image, self._matches[contribution.chunk], strength)
