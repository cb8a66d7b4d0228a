"""How a provider's clip becomes a timeline clip: the plan's frame rate, the output size, lossless.

Models return their own rate and size (hailuo: 30 fps at 1366×768). Output frame i shows the source
frame on screen at time i / fps (the latest one that started by then), so motion keeps its speed;
each frame is scaled to cover the output size and centre-cropped, as the storyboard image was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from adgen_chunks.clip_io import write_clip


@dataclass(frozen=True)
class ConformedClip:
    frames: int
    source_fps: Fraction
    source_frames: int
    handoff: np.ndarray | None


def source_index(i: int, source_fps: Fraction | int, fps: int) -> int:
    """The source frame on screen at output frame `i`."""
    return int(Fraction(i) * source_fps / fps)


def cover(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """`frame` scaled to cover width × height and centre-cropped to it."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame
    scale = max(width / w, height / h)
    scaled_w, scaled_h = max(width, round(w * scale)), max(height, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(frame, (scaled_w, scaled_h), interpolation=interpolation)
    x, y = (scaled_w - width) // 2, (scaled_h - height) // 2
    return np.ascontiguousarray(scaled[y : y + height, x : x + width])


def conform_clip(
    source: Path, path: Path, *, fps: int, width: int, height: int, max_frames: int, handoff_frame: int
) -> ConformedClip:
    """Writes `source` to `path` losslessly at `fps` and width × height, at most `max_frames` frames."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise ValueError("the clip does not say its frame rate")
        source_fps = Fraction(rate)
        decoded = 0
        handoff: list[np.ndarray] = []

        def frames() -> Iterator[np.ndarray]:
            nonlocal decoded
            wanted = 0
            for frame in container.decode(stream):
                index = decoded
                decoded += 1
                if wanted >= max_frames:
                    continue
                picture: np.ndarray | None = None
                while wanted < max_frames and source_index(wanted, source_fps, fps) == index:
                    if picture is None:
                        picture = cover(frame.to_ndarray(format="rgb24"), width, height)
                    if wanted == handoff_frame:
                        handoff.append(picture)
                    yield picture
                    wanted += 1

        written = write_clip(frames(), fps, path)
    return ConformedClip(written, source_fps, decoded, handoff[0] if handoff else None)
