"""Where a rendition of another shape crops the picture, so the subject stays in frame.

The chunks are generated at the primary shape; a further shape (9:16 or 1:1 out of 16:9, say)
covers its frame with the chunk scaled up and cropped. A centre crop loses a subject that the
composition put on a third, so the crop window is placed on what stands out:

* **What stands out** is the spectral-residual saliency (Hou & Zhang, 2007) of a small grey
  thumbnail: the part of the log spectrum that a smooth average does not explain is where the
  picture is unlike its surroundings — a product against a backdrop, a face against a wall.
* **Where the window goes:** along the axis that is cropped, the window position holding the most
  saliency; positions within a few per cent of the best are treated as equal and the one nearest
  the centre wins, so a picture with nothing in particular stays centred.
* **Once per beat**, from the beat's first frame (its storyboard image): the window never moves
  inside a beat, so chunks cross-fade in register and the picture does not wander.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import av
import cv2
import numpy as np

from adgen_refine.timeline import Placement

CENTRE: Final = (0.5, 0.5)
_THUMB: Final = 128
_NEAR_BEST: Final = 0.95


def saliency(image: np.ndarray) -> np.ndarray:
    """The spectral-residual saliency of an RGB(A) image, on a thumbnail at most 128 px on its long
    side; sums to 1 (a flat picture gives a uniform map)."""
    h, w = image.shape[:2]
    scale = _THUMB / max(h, w)
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    grey = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    spectrum = np.fft.fft2(grey)
    log_amplitude = np.log(np.abs(spectrum) + 1e-6)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3), borderType=cv2.BORDER_REFLECT)
    back = np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))
    sal = cv2.GaussianBlur((np.abs(back) ** 2).astype(np.float32), (0, 0), sigmaX=2.5)
    total = float(sal.sum())
    return sal / total if total > 0 else np.full_like(sal, 1.0 / sal.size)


def crop_centre(image: np.ndarray, width: int, height: int) -> tuple[float, float]:
    """The centre, as fractions of ``image``'s width and height, of the window that covering
    ``width`` x ``height`` keeps; ``CENTRE`` when the shapes already match."""
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    keep_w, keep_h = width / scale / w, height / scale / h
    if keep_w > 0.99 and keep_h > 0.99:
        return CENTRE
    sal = saliency(image)
    if keep_w <= keep_h:
        return _best_position(sal.sum(axis=0), keep_w), 0.5
    return 0.5, _best_position(sal.sum(axis=1), keep_h)


def _best_position(profile: np.ndarray, keep: float) -> float:
    """The centre (fraction) of the window of length ``keep`` (fraction) holding the most of ``profile``."""
    n = len(profile)
    length = min(n, max(1, round(keep * n)))
    sums = np.convolve(profile, np.ones(length), mode="valid")
    centres = (np.arange(len(sums)) + length / 2) / n
    near_best = np.flatnonzero(sums >= _NEAR_BEST * sums.max())
    chosen = near_best[np.argmin(np.abs(centres[near_best] - 0.5))]
    return float(centres[chosen])


def fit_to_cover(image: np.ndarray, width: int, height: int, focus: tuple[float, float] = CENTRE) -> np.ndarray:
    """Scale ``image`` to cover ``width`` x ``height`` and crop the window centred on ``focus``
    (fractions of the image), kept inside the picture."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    scale = max(width / w, height / h)
    scaled_w, scaled_h = max(width, round(w * scale)), max(height, round(h * scale))
    x = min(max(round(focus[0] * scaled_w - width / 2), 0), scaled_w - width)
    y = min(max(round(focus[1] * scaled_h - height / 2), 0), scaled_h - height)
    if (scaled_w, scaled_h) != (w, h):
        interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        image = cv2.resize(image, (scaled_w, scaled_h), interpolation=interpolation)
    return np.ascontiguousarray(image[y : y + height, x : x + width])


def subject_focus(
    chunk_paths: Mapping[int, Path], placements: Sequence[Placement], width: int, height: int
) -> dict[int, tuple[float, float]]:
    """Per chunk, the centre of its crop window for a ``width`` x ``height`` output: one per beat,
    chosen by ``crop_centre`` on the first frame of the beat's first chunk."""
    first_of_beat: dict[int, Placement] = {}
    for p in sorted(placements, key=lambda p: p.start_frame):
        first_of_beat.setdefault(p.beat_index, p)
    per_beat = {}
    for beat, p in first_of_beat.items():
        with av.open(str(chunk_paths[p.index])) as container:
            frame = next(container.decode(video=0), None)
        per_beat[beat] = CENTRE if frame is None else crop_centre(frame.to_ndarray(format="rgb24"), width, height)
    return {p.index: per_beat[p.beat_index] for p in placements}
