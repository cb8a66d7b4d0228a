"""The voice's captions burned into the picture, word by word as they are spoken, clear of the supers.

* **Look:** white DejaVu Bold on a dark plate (black at `_PLATE_ALPHA`): over any picture the words
  keep a contrast above 6:1 (white against the lightest pixel darkened to 38 %), so no sampling of
  the frames is needed. A cue's words are wrapped to the safe area's width and centred; each word
  appears at the frame its speech starts, and the plate holds the cue's whole window, so the text
  never jumps as words arrive.
* **Where:** inside the rendition's safe area, at its foot, else at its head, else the lowest
  height between: the first place whose box meets no super (caption or end card, as it moves) on
  screen at the same time; a cue that meets one everywhere is set where it covers the least (the
  render tests check that no caption box meets a super's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from adgen_refine.spoken_captions import SpokenCue
from adgen_refine.supers import Box, Fonts, Layer, TextTrack, safe_area
from adgen_refine.voice_mix import Word

_SIZE: Final = 0.045  # of the frame's short side
_MIN_SIZE_PX: Final = 14
_PLATE_ALPHA: Final = 0.62
LIGHT: Final = (255, 255, 255)


@dataclass(frozen=True)
class _Word:
    layer: Layer
    start_frame: int


@dataclass(frozen=True)
class BurnedCaption:
    """One cue, laid out and rendered once; `draw` blends what has been said by `frame`."""

    first_frame: int
    end_frame: int
    plate: Layer
    words: tuple[_Word, ...]

    @property
    def box(self) -> Box:
        return self.plate.box

    def active(self, frame: int) -> bool:
        return self.first_frame <= frame < self.end_frame

    def glyph_mask(self, height: int, width: int) -> np.ndarray:
        """(height, width) bool: the fully opaque glyph pixels of every word."""
        mask = np.zeros((height, width), bool)
        for word in self.words:
            b = word.layer.box
            mask[b.top : b.bottom, b.left : b.right] |= word.layer.alpha[..., 0] >= 1.0
        return mask

    def draw(self, image: np.ndarray, frame: int, *, glyphs: bool = True) -> None:
        if not self.active(frame):
            return
        self.plate.blend_into(image)
        if glyphs:
            for word in self.words:
                if word.start_frame <= frame:
                    word.layer.blend_into(image)


def _overlap(a: Box, b: Box) -> int:
    w = min(a.right, b.right) - max(a.left, b.left)
    h = min(a.bottom, b.bottom) - max(a.top, b.top)
    return max(0, w) * max(0, h)


def _covered(box: Box, supers: Sequence[Box]) -> int:
    """Pixels of `box` that lie over a super's (overlapping supers counted once each)."""
    return sum(_overlap(box, other) for other in supers)


def burned_captions(
    cues: Sequence[SpokenCue], width: int, height: int, fps: int, supers: Sequence[TextTrack], fonts: Fonts
) -> list[BurnedCaption]:
    """Every cue rendered for a `width` x `height` rendition at `fps`, placed clear of `supers`."""
    safe = safe_area(width, height)
    size = max(_MIN_SIZE_PX, round(_SIZE * min(width, height)))
    font = fonts.face(True, size)
    pad_x, pad_y, gap = round(0.6 * size), round(0.3 * size), round(0.25 * size)
    line_h = round(1.2 * size)
    space = font.getlength(" ")

    def width_of(row: Sequence[Word]) -> float:
        return sum(font.getlength(w.text) for w in row) + space * (len(row) - 1)

    tracks = []
    for cue in cues:
        first, end = round(cue.start_s * fps), max(round(cue.end_s * fps), round(cue.start_s * fps) + 1)
        rows = [(row, width_of(row)) for row in _rows(cue.words, width_of, safe.right - safe.left - 2 * pad_x)]
        plate_w = round(max(w for _, w in rows)) + 2 * pad_x
        plate_h = line_h * len(rows) + 2 * pad_y
        x = (safe.left + safe.right - plate_w) // 2
        lowest, highest = safe.bottom - plate_h - gap, safe.top + gap
        places = [lowest, highest, *range(lowest - gap, highest, -gap)]
        near = [s.motion_box for s in supers if s.first_frame < end and first < s.end_frame]
        # The first place clear of every super on screen meanwhile, else the least covered one.
        y = min(places, key=lambda top: (_covered(Box(x, top, x + plate_w, top + plate_h), near), places.index(top)))
        alpha = np.full((plate_h, plate_w, 1), _PLATE_ALPHA, np.float32)
        plate = Layer(x, y, np.zeros((plate_h, plate_w, 3), np.float32), alpha)
        laid = []
        for k, (row, row_w) in enumerate(rows):
            left = x + (plate_w - row_w) / 2
            baseline = y + pad_y + k * line_h + round(0.95 * size)
            for word in row:
                laid.append(_Word(_glyphs(word.text, font, round(left), baseline), round(word.start_s * fps)))
                left += font.getlength(word.text) + space
        tracks.append(BurnedCaption(first, end, plate, tuple(laid)))
    return tracks


def _rows(words: Sequence[Word], width_of: Callable[[Sequence[Word]], float], room: int) -> list[list[Word]]:
    """The cue's words wrapped to `room` pixels (a word wider than that is a row of its own)."""
    rows: list[list[Word]] = []
    for word in words:
        if rows and width_of([*rows[-1], word]) <= room:
            rows[-1].append(word)
        else:
            rows.append([word])
    return rows


def _glyphs(text: str, font: ImageFont.FreeTypeFont, x: int, baseline: int) -> Layer:
    """`text` in white as a premultiplied layer, its pen at (`x`, `baseline`)."""
    left, top, right, bottom = map(int, font.getbbox(text, anchor="ls"))
    w, h = max(1, right - left + 2), max(1, bottom - top + 2)
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).text((1 - left, 1 - top), text, font=font, fill=255, anchor="ls")
    alpha = (np.asarray(mask, np.float32) / 255.0)[..., None]
    colour = np.ascontiguousarray(np.broadcast_to(np.array(LIGHT, np.float32), (h, w, 3)) * alpha)
    return Layer(x + left - 1, baseline + top - 1, colour, np.ascontiguousarray(alpha))
