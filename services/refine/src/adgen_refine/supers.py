"""On-screen text (supers) burned into the final video: where it sits, how it looks, how it blends.

* **Safe area per shape.** Text stays inside a title-safe box: 5 % at the sides of a 16:9 frame;
  on 9:16 a larger top and bottom margin, because phone apps draw their own controls there; 1:1 in
  between. The text block sits at the bottom of the safe area, centred.
* **Legible on anything.** White text with a soft drop shadow on a translucent dark band: over
  pure white the band is dark enough for a WCAG contrast of at least 4.5 : 1 against the text,
  while the picture still shows through it.
* **Rendered once, blended per frame.** Each caption is drawn once with Pillow's scalable default
  font into a premultiplied RGBA layer the size of its band; a frame then costs one alpha blend of
  that region, scaled by the caption's fade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from adgen_refine.captions import Caption

# (sides, top, bottom) margins as fractions of width, height, height.
_MARGINS: Final = {"16:9": (0.05, 0.05, 0.08), "9:16": (0.06, 0.10, 0.18), "1:1": (0.06, 0.06, 0.10)}
# Type size per role, as a fraction of the frame's shorter side.
_SIZES: Final = {"headline": 0.075, "subline": 0.045, "cta": 0.055}
_BAND_ALPHA: Final = 150
_SHADOW_ALPHA: Final = 190
_LINE_SPACING: Final = 1.25
_MIN_SIZE_PX: Final = 10


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int

    def contains(self, other: Box) -> bool:
        return (
            self.left <= other.left
            and self.top <= other.top
            and other.right <= self.right
            and other.bottom <= self.bottom
        )


def aspect_of(width: int, height: int) -> str:
    """The nearest of the three delivered shapes."""
    ratio = width / height
    return min(_MARGINS, key=lambda name: abs(ratio - _ratio(name)))


def safe_area(width: int, height: int) -> Box:
    sides, top, bottom = _MARGINS[aspect_of(width, height)]
    return Box(round(width * sides), round(height * top), width - round(width * sides), height - round(height * bottom))


@dataclass(frozen=True)
class Super:
    """A rendered text layer: premultiplied colour and alpha, placed at (x, y) in the frame."""

    x: int
    y: int
    colour: np.ndarray = field(repr=False)
    """(h, w, 3) float32, already multiplied by alpha."""
    alpha: np.ndarray = field(repr=False)
    """(h, w, 1) float32 in [0, 1]."""
    text_mask: np.ndarray = field(repr=False)
    """(h, w) bool: where the glyphs are fully opaque (for measuring legibility)."""

    @property
    def box(self) -> Box:
        h, w = self.alpha.shape[:2]
        return Box(self.x, self.y, self.x + w, self.y + h)

    def blend_into(self, image: np.ndarray, opacity: float) -> None:
        """Alpha-blend this layer into ``image`` (RGB or RGBA, uint8) in place."""
        if opacity <= 0:
            return
        h, w = self.alpha.shape[:2]
        region = image[self.y : self.y + h, self.x : self.x + w, :3]
        blended = region * (1.0 - opacity * self.alpha) + opacity * self.colour
        region[...] = np.rint(blended).astype(np.uint8)


@dataclass(frozen=True)
class TimedSuper:
    caption: Caption
    layer: Super


def render_super(lines: Sequence[tuple[str, str]], width: int, height: int) -> Super:
    """Draw (role, text) lines as one centred block at the bottom of the safe area."""
    if not lines:
        raise ValueError("a super needs at least one line")
    safe = safe_area(width, height)
    short_side = min(width, height)
    pad = max(4, round(0.025 * short_side))
    shadow = max(1, round(0.004 * short_side))
    room = safe.right - safe.left - 2 * pad
    laid: list[tuple[ImageFont.FreeTypeFont, str]] = []
    for role, text in lines:
        font, wrapped = _fit(text, round(_SIZES[role] * short_side), room)
        laid += [(font, line) for line in wrapped]
    heights = [round(font.size * _LINE_SPACING) for font, _ in laid]
    text_w = max(round(font.getlength(line)) for font, line in laid)
    band_w = min(text_w + 2 * pad, safe.right - safe.left)
    band_h = min(sum(heights) + 2 * pad, safe.bottom - safe.top)

    canvas = Image.new("RGBA", (band_w, band_h), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).rounded_rectangle(
        (0, 0, band_w - 1, band_h - 1), radius=pad // 2, fill=(0, 0, 0, _BAND_ALPHA)
    )
    glyphs = Image.new("L", (band_w, band_h), 0)
    draw = ImageDraw.Draw(glyphs)
    y = pad
    for (font, line), line_h in zip(laid, heights, strict=True):
        draw.text(((band_w - font.getlength(line)) / 2, y), line, font=font, fill=255)
        y += line_h
    shadow_mask = glyphs.filter(ImageFilter.GaussianBlur(shadow)).point(lambda v: v * _SHADOW_ALPHA // 255)
    canvas.alpha_composite(_solid((0, 0, 0), _offset(shadow_mask, shadow)))
    canvas.alpha_composite(_solid((255, 255, 255), glyphs))

    rgba = np.asarray(canvas, np.float32)
    alpha = rgba[..., 3:4] / 255.0
    x = safe.left + (safe.right - safe.left - band_w) // 2
    return Super(
        x=x,
        y=safe.bottom - band_h,
        colour=rgba[..., :3] * alpha,
        alpha=alpha,
        text_mask=np.asarray(glyphs) == 255,
    )


def supers_for(captions: Sequence[Caption], width: int, height: int) -> list[TimedSuper]:
    return [TimedSuper(caption, render_super(caption.lines, width, height)) for caption in captions]


def _fit(text: str, size: int, room: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The font and greedy word wrap for ``text`` in ``room`` pixels; the size shrinks while one
    word alone is wider than the room or the text needs more than two lines."""
    while True:
        font = ImageFont.load_default(size=size)
        assert isinstance(font, ImageFont.FreeTypeFont)
        wrapped = _wrap(text, font, room)
        fits = all(font.getlength(line) <= room for line in wrapped) and len(wrapped) <= 2
        if fits or size <= _MIN_SIZE_PX:
            return font, wrapped
        size = max(_MIN_SIZE_PX, int(size * 0.9))


def _wrap(text: str, font: ImageFont.FreeTypeFont, room: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= room:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _solid(colour: tuple[int, int, int], mask: Image.Image) -> Image.Image:
    layer = Image.new("RGBA", mask.size, (*colour, 0))
    layer.putalpha(mask)
    return layer


def _offset(mask: Image.Image, by: int) -> Image.Image:
    shifted = Image.new("L", mask.size, 0)
    shifted.paste(mask, (by, by))
    return shifted


def _ratio(name: str) -> float:
    w, h = name.split(":")
    return int(w) / int(h)
