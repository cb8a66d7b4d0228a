"""On-screen text (supers) burned into the final video: its type, its place, its colour, its motion,
and the end card.

* **Type.** DejaVu Sans Bold for headlines, the brand and the CTA, DejaVu Sans for sublines, read
  with Pillow's FreeType from ``ADGEN_FONT_DIR`` (``load_fonts``); when a file is missing, Pillow's
  bundled scalable font stands in, with a warning, never a crash. Sizes are fractions of the
  frame's shorter side (the width on 9:16, the height on 16:9): a close-up, macro or hero beat
  carries a bigger headline (its picture is one calm subject), other beats a smaller one; the
  subline is well under half the headline. Text is shrunk until it fits its band in at most two
  lines (three for a 9:16 headline).
* **Safe zones per shape** (``safe_area``): 16:9 and 1:1 title-safe margins; 9:16 keeps clear of the
  top 10 %, the bottom 20 % and the right 15 % (the platforms' captions and buttons). Every
  rendition (``spec.extra_outputs``) lays its supers out for its own shape on its own cover-fitted
  frames, so nothing is burned in before a crop. The box the text may occupy while it moves (the
  rise in and the slide out included) stays inside the safe area.
* **Negative space.** The block goes in one of a few bands of the safe area — top, middle-left,
  middle-right, bottom (top, middle, bottom on 9:16) — the one whose pixels are calmest (mean
  gradient magnitude plus luminance spread, on a low-resolution copy of sample frames of the
  caption's window: first, middle and last fully shown frame, as stitched and graded). A mild
  preference for the bottom and a penalty for repeating the previous caption's band make beats
  alternate sensibly. Ties go by a fixed band order: deterministic.
* **Contrast without a box.** White or near-black text, whichever reaches 5 : 1 (4.5 : 1 plus a
  margin for the motion between samples) against nearly every (99.7 %) glyph pixel's brightest
  (or darkest) background over the samples, spread by a few pixels for the camera's motion; a soft shadow (a dark
  one under light text, a faint light glow round dark text). Only when neither polarity reaches it
  a scrim is added: a feathered gradient behind the text (not a box), as transparent as it can be
  while the contrast is reached; a dark one under white text unless a light one needs clearly less.
* **Motion, rendered once.** Each word is drawn once into its own premultiplied layer (glyphs and
  shadow); in a frame, a word that is arriving is one small alpha blend, moved up as it fades in
  (headline words 0.125 s apart, the subline following); once all have arrived, the whole block is
  one precomposited layer, so a frame costs about what one caption region cost before. The text
  leaves with a short fade while sliding up.
* **End card.** The closing beat's last 1.75 s (``captions``): a scrim darkens the picture from
  just above the card's text down (its edge climbs slowly, so no frame repeats) while the packshot
  above stays in view, the brand name comes up big at the foot of the safe area, then the CTA on
  a pill in the palette's accent (``spec.style.palette``, the most colourful entry), its label white
  or near-black, the plate darkened or lightened until the label reaches 4.5 : 1.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Final, Protocol

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from adgen_kernel.logs import get_logger
from adgen_refine.captions import Caption

log = get_logger(__name__)

DEFAULT_FONT_DIR: Final = Path("/usr/share/fonts/truetype/dejavu")
BOLD_FILE: Final = "DejaVuSans-Bold.ttf"
REGULAR_FILE: Final = "DejaVuSans.ttf"

# (left, right, top, bottom) margins as fractions of width, width, height, height.
_MARGINS: Final = {
    "16:9": (0.05, 0.05, 0.07, 0.08),
    "9:16": (0.06, 0.15, 0.10, 0.20),
    "1:1": (0.06, 0.06, 0.07, 0.09),
}
_BIG_SHOTS: Final = ("close", "macro", "hero", "detail")
# Type size per role, as a fraction of the frame's shorter side.
_SIZES: Final = {"headline": 0.085, "headline_big": 0.11, "subline": 0.046, "brand": 0.16, "cta": 0.055}
_MIN_SIZE_PX: Final = 9
_DESIGN_CONTRAST: Final = 5.0  # chosen against the samples with a margin for what moves between them
_NEARLY_ALL: Final = 0.997  # of the glyph pixels: a star or a glint behind one stroke needs no box
LIGHT_TEXT: Final = (255, 255, 255)
DARK_TEXT: Final = (18, 18, 20)
_BAND_ORDER: Final = ("bottom", "top", "middle-left", "middle-right", "middle")
_BAND_WEIGHT: Final = {"bottom": 1.0, "top": 1.06, "middle-left": 1.1, "middle-right": 1.1, "middle": 1.15}
_REPEAT_PENALTY: Final = 1.2
_DEFAULT_ACCENT: Final = (232, 163, 61)


# --- fonts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fonts:
    """The two faces supers use; None means Pillow's bundled scalable font."""

    bold: Path | None
    regular: Path | None

    def face(self, bold: bool, size: int) -> ImageFont.FreeTypeFont:
        return _face(self.bold if bold else self.regular, max(_MIN_SIZE_PX, size))


@lru_cache(maxsize=128)
def _face(path: Path | None, size: int) -> ImageFont.FreeTypeFont:
    if path is not None:
        return ImageFont.truetype(str(path), size)
    font = ImageFont.load_default(size=size)
    assert isinstance(font, ImageFont.FreeTypeFont)
    return font


@lru_cache(maxsize=8)
def load_fonts(font_dir: Path = DEFAULT_FONT_DIR) -> Fonts:
    """DejaVu Sans Bold and DejaVu Sans from ``font_dir``; a missing or unreadable file is replaced
    by Pillow's bundled font, with a warning."""
    found: list[Path | None] = []
    for name in (BOLD_FILE, REGULAR_FILE):
        path = Path(font_dir) / name
        try:
            if not path.is_file():  # Pillow would look for the bare name in the system's folders
                raise OSError("no such file")
            ImageFont.truetype(str(path), 12)
            found.append(path)
        except OSError as error:
            log.warning("font missing; supers use Pillow's bundled font", font=str(path), error=str(error))
            found.append(None)
    return Fonts(bold=found[0], regular=found[1])


# --- geometry ----------------------------------------------------------------------------------


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

    def union(self, other: Box) -> Box:
        return Box(
            min(self.left, other.left),
            min(self.top, other.top),
            max(self.right, other.right),
            max(self.bottom, other.bottom),
        )

    def moved(self, dx: int, dy: int) -> Box:
        return Box(self.left + dx, self.top + dy, self.right + dx, self.bottom + dy)


def aspect_of(width: int, height: int) -> str:
    """The nearest of the three delivered shapes."""
    ratio = width / height
    return min(_MARGINS, key=lambda name: abs(ratio - _ratio(name)))


def safe_area(width: int, height: int) -> Box:
    left, right, top, bottom = _MARGINS[aspect_of(width, height)]
    return Box(round(width * left), round(height * top), width - round(width * right), height - round(height * bottom))


# --- colour ------------------------------------------------------------------------------------


def luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB code values (last axis RGB)."""
    c = np.asarray(rgb, np.float64)[..., :3] / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def contrast(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """WCAG contrast ratio of two relative luminances."""
    hi, lo = np.maximum(a, b), np.minimum(a, b)
    return (hi + 0.05) / (lo + 0.05)


def parse_palette(palette: Sequence[str]) -> list[tuple[int, int, int]]:
    colours = []
    for entry in palette:
        text = entry.strip().lstrip("#")
        if len(text) == 6:
            try:
                colours.append((int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)))
            except ValueError:
                continue
    return colours


def accent_of(palette: Sequence[str]) -> tuple[int, int, int]:
    """The palette's most colourful entry (saturation × value); a warm amber when there is none."""
    colours = parse_palette(palette)
    if not colours:
        return _DEFAULT_ACCENT

    def colourfulness(c: tuple[int, int, int]) -> float:
        _, s, v = colorsys.rgb_to_hsv(*(x / 255 for x in c))
        return s * v

    return max(colours, key=colourfulness)


def _plate_and_label(accent: tuple[int, int, int]) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The CTA plate colour (the accent, shifted until a label reaches 4.5 : 1) and its label colour."""
    plate = np.array(accent, np.float64)
    light, dark = luminance(np.array(LIGHT_TEXT)), luminance(np.array(DARK_TEXT))
    toward_black = contrast(luminance(plate), light) >= contrast(luminance(plate), dark)
    for _ in range(40):
        lum = luminance(plate)
        label = LIGHT_TEXT if toward_black else DARK_TEXT
        if contrast(lum, light if toward_black else dark) >= _DESIGN_CONTRAST:
            return tuple(int(v) for v in np.rint(plate)), label  # type: ignore[return-value]
        plate = plate * 0.93 if toward_black else plate + (255 - plate) * 0.07
    return tuple(int(v) for v in np.rint(plate)), LIGHT_TEXT if toward_black else DARK_TEXT  # type: ignore[return-value]


# --- layers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """A premultiplied RGBA picture placed at (x, y) in the frame."""

    x: int
    y: int
    colour: np.ndarray = field(repr=False)
    """(h, w, 3) float32, already multiplied by alpha."""
    alpha: np.ndarray = field(repr=False)
    """(h, w, 1) float32 in [0, 1]."""

    @property
    def box(self) -> Box:
        h, w = self.alpha.shape[:2]
        return Box(self.x, self.y, self.x + w, self.y + h)

    def blend_into(self, image: np.ndarray, opacity: float = 1.0, dy: int = 0) -> None:
        """Alpha-blend into ``image`` (RGB or RGBA, uint8) in place, ``dy`` pixels lower."""
        if opacity <= 0:
            return
        h, w = self.alpha.shape[:2]
        top, left = self.y + dy, self.x
        y0, y1 = max(0, top), min(image.shape[0], top + h)
        x0, x1 = max(0, left), min(image.shape[1], left + w)
        if y0 >= y1 or x0 >= x1:
            return
        window = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
        alpha, colour = self._alpha3[window], self.colour[window]
        region = image[y0:y1, x0:x1, :3]
        picture = region.astype(np.float32)
        # picture + opacity * (colour - picture * alpha), in OpenCV's vectorised float maths,
        # rounded and saturated once on the way back to 8 bits.
        change = cv2.subtract(colour, cv2.multiply(picture, alpha))
        blended = cv2.scaleAdd(change, float(min(1.0, opacity)), picture)
        region[...] = cv2.convertScaleAbs(blended)

    @cached_property
    def _alpha3(self) -> np.ndarray:
        return np.ascontiguousarray(np.repeat(self.alpha, 3, axis=2))


def _layer_from_pil(canvas: Image.Image, x: int, y: int) -> Layer:
    rgba = np.asarray(canvas, np.float32)
    alpha = rgba[..., 3:4] / 255.0
    return Layer(x, y, np.ascontiguousarray(rgba[..., :3] * alpha), np.ascontiguousarray(alpha))


def _solid(colour: tuple[int, int, int], mask: Image.Image) -> Image.Image:
    layer = Image.new("RGBA", mask.size, (*colour, 0))
    layer.putalpha(mask)
    return layer


@dataclass(frozen=True)
class _Word:
    text: str
    bold: bool
    size: int
    x: float
    baseline: int
    role: str  # headline | subline | brand: what the word's line is


@dataclass(frozen=True)
class _Laid:
    """Words placed in block coordinates, and the block's size."""

    words: tuple[_Word, ...]
    width: int
    height: int


def _wrap(words: Sequence[str], font: ImageFont.FreeTypeFont, room: float) -> list[list[str]]:
    lines: list[list[str]] = []
    for word in words:
        if lines and font.getlength(" ".join([*lines[-1], word])) <= room:
            lines[-1].append(word)
        else:
            lines.append([word])
    # No orphan: a lone short last word ("200 / m") takes the word before it along.
    if len(lines) >= 2 and len(lines[-1]) == 1 and len(lines[-2]) >= 2 and len(lines[-1][0]) <= 4:
        moved = [lines[-2][-1], *lines[-1]]
        if font.getlength(" ".join(moved)) <= room:
            lines[-2], lines[-1] = lines[-2][:-1], moved
    return lines


def _lay_out(
    lines: Sequence[tuple[str, str]], fonts: Fonts, sizes: Mapping[str, int], room: int, max_lines: Mapping[str, int],
    align: str,
) -> _Laid:  # fmt: skip
    """Each role's text wrapped in ``room`` pixels, shrunk until it fits, stacked in reading order."""
    placed: list[tuple[str, ImageFont.FreeTypeFont, list[list[str]]]] = []
    for role, text in lines:
        size = sizes[role]
        words = text.split()
        while True:
            font = fonts.face(role != "subline", size)
            wrapped = _wrap(words, font, room)
            widest = max(font.getlength(" ".join(line)) for line in wrapped)
            if (widest <= room and len(wrapped) <= max_lines.get(role, 2)) or size <= _MIN_SIZE_PX:
                break
            size = max(_MIN_SIZE_PX, int(size * 0.92))
        placed.append((role, font, wrapped))
    widths = [font.getlength(" ".join(line)) for _, font, wrapped in placed for line in wrapped]
    block_w = math.ceil(max(widths))
    result: list[_Word] = []
    y = 0.0
    for k, (role, font, wrapped) in enumerate(placed):
        ascent, descent = font.getmetrics()
        step = font.size * (1.08 if role != "subline" else 1.3)
        if k:
            y += font.size * 0.45 if placed[k - 1][0] == "headline" else font.size * 0.3
        for line in wrapped:
            line_w = font.getlength(" ".join(line))
            x = {"left": 0.0, "right": block_w - line_w, "centre": (block_w - line_w) / 2}[align]
            baseline = round(y + ascent)
            space = font.getlength(" ")
            for word in line:
                # Pillow types a face's size as float; ours are asked for in whole pixels.
                result.append(_Word(word, role != "subline", int(font.size), x, baseline, role))
                x += font.getlength(word) + space
            y += step
        y += descent * 0.2
    return _Laid(tuple(result), block_w, math.ceil(y))


def _render_word(
    word: _Word, fonts: Fonts, colour: tuple[int, int, int], shadow: int, light: bool
) -> tuple[Image.Image, np.ndarray, int, int]:
    """The word's glyphs and shadow as RGBA, its fully opaque glyph mask, and its canvas origin
    relative to the word's (x, baseline)."""
    font = fonts.face(word.bold, word.size)
    # Pillow types a box as float for stroked text; an unstroked one is in whole pixels.
    left, top, right, bottom = map(int, font.getbbox(word.text, anchor="ls"))
    pad = 3 * shadow + 2
    w, h = right - left + 2 * pad, bottom - top + 2 * pad
    origin_x, origin_y = left - pad, top - pad
    glyphs = Image.new("L", (w, h), 0)
    ImageDraw.Draw(glyphs).text((-origin_x, -origin_y), word.text, font=font, fill=255, anchor="ls")
    canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    if light:
        soft = glyphs.filter(ImageFilter.GaussianBlur(shadow * 1.5)).point(lambda v: v * 150 // 255)
        shifted = Image.new("L", (w, h), 0)
        shifted.paste(soft, (shadow // 2 + 1, shadow))
        canvas.alpha_composite(_solid((0, 0, 0), shifted))
    else:
        glow = glyphs.filter(ImageFilter.GaussianBlur(shadow * 1.5)).point(lambda v: v * 90 // 255)
        canvas.alpha_composite(_solid((255, 255, 255), glow))
    canvas.alpha_composite(_solid(colour, glyphs))
    return canvas, np.asarray(glyphs) == 255, origin_x, origin_y


# --- the caption track -------------------------------------------------------------------------


@dataclass(frozen=True)
class WordLayer:
    layer: Layer
    mask: np.ndarray = field(repr=False)
    """(h, w) bool over ``layer``: the fully opaque glyph pixels."""
    start: int
    """Frames after the caption's first frame when this word starts to arrive."""
    text: str


class _OnScreen:
    """What a caption's text track knows of its time on screen: the caption's frames."""

    caption: Caption

    @property
    def first_frame(self) -> int:
        return self.caption.first_frame

    @property
    def end_frame(self) -> int:
        return self.caption.end_frame

    def active(self, frame: int) -> bool:
        return self.caption.first_frame <= frame < self.caption.end_frame


@dataclass(frozen=True)
class CaptionSuper(_OnScreen):
    """One caption's text, laid out and rendered once; ``draw`` blends it into a frame."""

    caption: Caption
    band: str
    words: tuple[WordLayer, ...]
    block: Layer
    """All words composited, at rest: what a frame blends once every word has arrived."""
    scrim: Layer | None
    text_colour: tuple[int, int, int]
    settled: Layer | None
    """The scrim with the block on it, when there is a scrim: a settled frame's one blend."""
    rise_frames: int
    rise_px: int
    out_px: int

    @property
    def box(self) -> Box:
        """The text at rest (glyphs and shadows)."""
        return self.block.box

    @property
    def motion_box(self) -> Box:
        """Every pixel the text touches while it arrives and leaves."""
        return Box(self.box.left, self.box.top - self.out_px, self.box.right, self.box.bottom + self.rise_px)

    def _arrived(self, word: WordLayer, frame: int) -> float:
        return _ease((frame - self.caption.first_frame - word.start + 1) / self.rise_frames)

    def _leaving(self, frame: int) -> float:
        """1 while the text stays, falling to 0 over the caption's last fade frames."""
        fade = max(1, self.caption.fade_frames)
        return _ease((self.caption.end_frame - frame) / (fade + 1))

    def fully_shown(self, frame: int) -> bool:
        return (
            self.active(frame)
            and self._leaving(frame) >= 1.0
            and all(self._arrived(w, frame) >= 1.0 for w in self.words)
        )

    def draw(self, image: np.ndarray, frame: int, *, glyphs: bool = True) -> None:
        """Blend this caption as it looks in ``frame`` into ``image`` in place (nothing outside its
        window); ``glyphs=False`` draws only what lies behind the text (the scrim)."""
        if not self.active(frame):
            return
        leaving = self._leaving(frame)
        arrivals = [self._arrived(w, frame) for w in self.words]
        settled = leaving >= 1.0 and all(a >= 1.0 for a in arrivals)
        if settled and glyphs and self.settled is not None:
            self.settled.blend_into(image)  # scrim and text in one blend
            return
        if self.scrim is not None:
            self.scrim.blend_into(image, min(leaving, _ease(3 * arrivals[0])))
        if not glyphs:
            return
        if leaving < 1.0 or all(a >= 1.0 for a in arrivals):
            self.block.blend_into(image, leaving, -round((1.0 - leaving) * self.out_px))
            return
        for word, arrived in zip(self.words, arrivals, strict=True):
            word.layer.blend_into(image, arrived, round((1.0 - arrived) * self.rise_px))

    def glyph_mask(self, height: int, width: int) -> np.ndarray:
        """(height, width) bool: the fully opaque glyph pixels of the text at rest."""
        mask = np.zeros((height, width), bool)
        for word in self.words:
            b = word.layer.box
            mask[b.top : b.bottom, b.left : b.right] |= word.mask
        return mask

    def drawn_boxes(self, frame: int) -> list[Box]:
        """The boxes of the text layers blended in ``frame`` (for checking the safe area)."""
        if not self.active(frame):
            return []
        leaving = self._leaving(frame)
        arrivals = [self._arrived(w, frame) for w in self.words]
        if leaving < 1.0 or all(a >= 1.0 for a in arrivals):
            return [self.block.box.moved(0, -round((1.0 - leaving) * self.out_px))]
        return [
            w.layer.box.moved(0, round((1.0 - a) * self.rise_px))
            for w, a in zip(self.words, arrivals, strict=True)
            if a > 0
        ]


def _ease(p: float) -> float:
    p = min(1.0, max(0.0, p))
    return 1.0 - (1.0 - p) ** 3


def sample_frames_of(caption: Caption, fps: int) -> list[int]:
    """The frames whose pictures decide a caption's place and colour: the first fully shown frame
    (estimated), the middle of the window and its last fully shown frame."""
    first = min(caption.end_frame - 1, caption.first_frame + round(0.6 * fps))
    last = max(first, caption.end_frame - caption.fade_frames - 1)
    return sorted({first, (first + last) // 2, last})


def _bands(aspect: str) -> tuple[str, ...]:
    return ("bottom", "top", "middle") if aspect == "9:16" else ("bottom", "top", "middle-left", "middle-right")


def _band_origin(band: str, safe: Box, w: int, h: int, rise: int, out: int) -> tuple[int, int]:
    """Top-left of a ``w`` x ``h`` block in ``band``, with room for the motion inside ``safe``."""
    centre_x = safe.left + (safe.right - safe.left - w) // 2
    centre_y = safe.top + out + (safe.bottom - safe.top - out - rise - h) // 2
    return {
        "top": (centre_x, safe.top + out),
        "bottom": (centre_x, safe.bottom - rise - h),
        "middle": (centre_x, centre_y),
        "middle-left": (safe.left, centre_y),
        "middle-right": (safe.right - w, centre_y),
    }[band]


def _calm(samples: Sequence[np.ndarray], width: int) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Per sample, a low-resolution busyness map: gradient magnitude plus local luminance spread."""
    maps = []
    for image in samples:
        scale = 160 / width
        small = cv2.resize(image[..., :3], (160, max(1, round(image.shape[0] * scale))), interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
        gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
        maps.append((np.hypot(gx, gy), grey, scale))
    return maps


def _busyness(maps: Sequence[tuple[np.ndarray, np.ndarray, float]], box: Box) -> float:
    total = 0.0
    for gradient, grey, scale in maps:
        x0, y0 = int(box.left * scale), int(box.top * scale)
        x1, y1 = max(x0 + 1, math.ceil(box.right * scale)), max(y0 + 1, math.ceil(box.bottom * scale))
        total += float(gradient[y0:y1, x0:x1].mean()) + 0.5 * float(grey[y0:y1, x0:x1].std())
    return total / max(1, len(maps))


def render_caption(
    caption: Caption,
    width: int,
    height: int,
    fps: int,
    samples: Sequence[np.ndarray] = (),
    *,
    fonts: Fonts | None = None,
    previous_band: str | None = None,
) -> CaptionSuper:
    """Lay out, colour and render one caption for a ``width`` x ``height`` frame whose pictures
    during the caption look like ``samples`` (none: assume anything, a scrim for white text)."""
    if not caption.lines:
        raise ValueError("a super needs at least one line")
    fonts = fonts or load_fonts()
    aspect = aspect_of(width, height)
    safe = safe_area(width, height)
    short = min(width, height)
    big = any(tag in caption.shot_type for tag in _BIG_SHOTS)
    sizes = {
        "headline": round(_SIZES["headline_big" if big else "headline"] * short),
        "subline": round(_SIZES["subline"] * short * (1.15 if aspect == "9:16" else 1.0)),
        "cta": round(_SIZES["cta"] * short),
        "brand": round(_SIZES["brand"] * short),
    }
    max_lines = {"headline": 3 if aspect == "9:16" else 2, "subline": 2, "cta": 1, "brand": 2}
    shadow = max(1, round(0.004 * short))
    rise_px, out_px = max(2, round(0.03 * short)), max(1, round(0.012 * short))
    safe_w = safe.right - safe.left

    maps = _calm(samples, width) if samples else []
    candidates = []
    for band in _bands(aspect):
        side = band.startswith("middle-")
        room = round(safe_w * (0.5 if side else 0.82)) - 2 * (3 * shadow + 2)
        align = {"middle-left": "left", "middle-right": "right"}.get(band, "centre")
        laid = _lay_out(caption.lines, fonts, sizes, room, max_lines, align)
        pad = 3 * shadow + 2
        w, h = laid.width + 2 * pad, laid.height + 2 * pad
        if h + rise_px + out_px > safe.bottom - safe.top:
            continue
        x, y = _band_origin(band, safe, w, h, rise_px, out_px)
        box = Box(x, y, x + w, y + h)
        score = _busyness(maps, box) if maps else 0.0
        score = (score + 1.0) * _BAND_WEIGHT[band] * (_REPEAT_PENALTY if band == previous_band else 1.0)
        candidates.append((score, _BAND_ORDER.index(band), band, laid, x + pad, y + pad, align))
    if not candidates:
        raise ValueError(f"caption {caption.lines!r} does not fit a {width}x{height} frame")
    _, _, band, laid, bx, by, _ = min(candidates, key=lambda c: (c[0], c[1]))

    # The glyphs at rest, in frame coordinates, for choosing the colour.
    words_px = []
    mask = np.zeros((height, width), bool)
    for word in laid.words:
        canvas, glyph_mask, ox, oy = _render_word(word, fonts, LIGHT_TEXT, shadow, True)
        x, y = round(bx + word.x) + ox, by + word.baseline + oy
        words_px.append((word, x, y))
        mask[y : y + glyph_mask.shape[0], x : x + glyph_mask.shape[1]] |= glyph_mask
    text_colour, scrim = _choose_colour(mask, samples, width, height, shadow)

    light = text_colour == LIGHT_TEXT
    stagger = {"headline": max(1, round(0.125 * fps)), "subline": max(1, round(0.06 * fps))}
    rise_frames = max(2, round(0.35 * fps))
    layers: list[WordLayer] = []
    start, line_role = 0, None
    for word, x, y in words_px:
        canvas, glyph_mask, _, _ = _render_word(word, fonts, text_colour, shadow, light)
        if layers:
            start += stagger.get(word.role, stagger["subline"]) if word.role == line_role else round(0.2 * fps)
        line_role = word.role
        layers.append(WordLayer(_layer_from_pil(canvas, x, y), glyph_mask, start, word.text))
    # Everything arrives within 40 % of the window, however many words.
    budget = max(1, int(0.4 * (caption.end_frame - caption.first_frame)) - rise_frames)
    if layers[-1].start > budget:
        factor = budget / layers[-1].start
        layers = [WordLayer(w.layer, w.mask, int(w.start * factor), w.text) for w in layers]
    block = _composite([w.layer for w in layers])
    settled = _composite([scrim, block]) if scrim is not None else None
    return CaptionSuper(caption, band, tuple(layers), block, scrim, text_colour, settled, rise_frames, rise_px, out_px)


def _composite(layers: Sequence[Layer]) -> Layer:
    box = layers[0].box
    for layer in layers[1:]:
        box = box.union(layer.box)
    h, w = box.bottom - box.top, box.right - box.left
    colour = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w, 1), np.float32)
    for layer in layers:
        b = layer.box
        sl = (slice(b.top - box.top, b.bottom - box.top), slice(b.left - box.left, b.right - box.left))
        colour[sl] = colour[sl] * (1 - layer.alpha) + layer.colour
        alpha[sl] = alpha[sl] * (1 - layer.alpha) + layer.alpha
    return Layer(box.left, box.top, colour, alpha)


def _choose_colour(
    mask: np.ndarray, samples: Sequence[np.ndarray], width: int, height: int, shadow: int
) -> tuple[tuple[int, int, int], Layer | None]:
    """Light or dark text by the pixels behind the glyphs; a scrim only when neither is enough."""
    ys, xs = np.nonzero(mask)
    box = Box(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    sub = mask[box.top : box.bottom, box.left : box.right]
    if samples:
        spread = max(1, round(0.012 * min(width, height)))
        kernel = np.ones((2 * spread + 1, 2 * spread + 1), np.uint8)
        lums = [luminance(s[box.top : box.bottom, box.left : box.right]).astype(np.float32) for s in samples]
        brightest = cv2.dilate(np.max(lums, axis=0), kernel)[sub]
        darkest = cv2.erode(np.min(lums, axis=0), kernel)[sub]
    else:
        brightest, darkest = np.ones(int(sub.sum())), np.zeros(int(sub.sum()))
    light_l, dark_l = float(luminance(np.array(LIGHT_TEXT))), float(luminance(np.array(DARK_TEXT)))
    if np.mean(contrast(light_l, brightest) >= _DESIGN_CONTRAST) >= _NEARLY_ALL:
        return LIGHT_TEXT, None
    if np.mean(contrast(dark_l, darkest) >= _DESIGN_CONTRAST) >= _NEARLY_ALL:
        return DARK_TEXT, None
    # The least scrim: black under light text, or white under dark text, whichever is lighter.
    dark_need = _scrim_alpha(brightest, light_l, toward=0.0)
    light_need = _scrim_alpha(darkest, dark_l, toward=255.0)
    # A dark gradient under white type reads as a designed lower third; a white haze over a
    # picture rarely does, so it must be clearly lighter to win.
    if dark_need <= light_need / 0.6:
        return LIGHT_TEXT, _scrim(box, width, height, (0, 0, 0), dark_need, shadow)
    return DARK_TEXT, _scrim(box, width, height, (255, 255, 255), light_need, shadow)


def _scrim_alpha(lums: np.ndarray, text_l: float, toward: float) -> float:
    """The least opacity of a scrim of grey ``toward`` that brings every pixel to the design contrast."""
    # Luminance to the code value of a grey that has it, blended toward the scrim in code values
    # (as the frame is), back to luminance.
    codes = 255 * np.where(lums <= 0.0031308, lums * 12.92, 1.055 * np.power(lums, 1 / 2.4) - 0.055)
    for alpha in np.linspace(0.0, 1.0, 101):
        blended = codes * (1 - alpha) + toward * alpha
        reached = contrast(text_l, luminance(np.repeat(blended[:, None], 3, axis=1))) >= _DESIGN_CONTRAST
        if np.mean(reached) >= _NEARLY_ALL:
            return float(min(1.0, alpha + 0.02))
    return 1.0


def _scrim(box: Box, width: int, height: int, colour: tuple[int, int, int], alpha: float, shadow: int) -> Layer:
    """A soft gradient behind ``box``: ``alpha`` over the text, feathered to nothing around it."""
    short = min(width, height)
    pad, feather = round(0.02 * short) + shadow, round(0.06 * short)
    core = Box(box.left - pad, box.top - pad, box.right + pad, box.bottom + pad)
    outer = Box(
        max(0, core.left - feather),
        max(0, core.top - feather),
        min(width, core.right + feather),
        min(height, core.bottom + feather),
    )
    h, w = outer.bottom - outer.top, outer.right - outer.left
    shape = np.zeros((h, w), np.float32)
    shape[core.top - outer.top : core.bottom - outer.top, core.left - outer.left : core.right - outer.left] = 1.0
    sigma = max(1.0, feather / 2.5)
    soft = cv2.GaussianBlur(shape, (0, 0), sigma)
    inner = soft[box.top - outer.top : box.bottom - outer.top, box.left - outer.left : box.right - outer.left]
    soft = np.clip(soft / max(1e-3, float(inner.min())), 0.0, 1.0) * alpha
    a = soft[..., None]
    return Layer(outer.left, outer.top, np.ascontiguousarray(np.array(colour, np.float32) * a), np.ascontiguousarray(a))


# --- the end card ------------------------------------------------------------------------------

_CARD_DARKEN: Final = 0.34
_CLEAR_CARD_DARKEN: Final = 0.1  # a card with no product to keep in view: the picture becomes its ground
_CARD_TINT: Final = 0.08
_SCRIM_RISE: Final = 0.05  # of the height: how far the scrim's edge climbs over the card, so it never holds still


@dataclass(frozen=True)
class EndCard(_OnScreen):
    """The closing card over the packshot: the brand name big and the CTA on an accent pill at the
    foot of the safe area, over a scrim that darkens the picture from just above the text down and
    climbs slowly while the card is shown; above it the product stays as the storyboard framed it.
    Each layer is rendered once."""

    caption: Caption
    brand: WordLayer | None
    brand_layer: Layer | None
    plate: Layer | None
    label: WordLayer | None
    label_layer: Layer | None
    tint: tuple[int, int, int]
    fade_frames: int
    cta_delay: int
    rise_px: int
    scrim_top: int  # first row at full darkness when the card starts
    feather_px: int
    darken: float = _CARD_DARKEN  # what is left of the picture under the scrim

    @property
    def box(self) -> Box:
        boxes = [layer.box for layer in (self.brand_layer, self.plate, self.label_layer) if layer is not None]
        result = boxes[0]
        for b in boxes[1:]:
            result = result.union(b)
        return result

    @property
    def motion_box(self) -> Box:
        b = self.box
        return Box(b.left, b.top, b.right, b.bottom + self.rise_px)

    def _progress(self, frame: int, delay: int = 0) -> float:
        return _ease((frame - self.caption.first_frame - delay + 1) / max(1, self.fade_frames))

    def fully_shown(self, frame: int) -> bool:
        return self.active(frame) and self._progress(frame, self.cta_delay) >= 1.0

    def scrim(self, height: int, frame: int) -> np.ndarray:
        """(height, 1, 1) float32: how much of the darkening each row gets at ``frame``."""
        span = max(1, self.caption.end_frame - self.caption.first_frame)
        rise = _SCRIM_RISE * height * (frame - self.caption.first_frame + 1) / span
        rows = np.arange(height, dtype=np.float32)
        top = self.scrim_top - rise
        return np.clip((rows - (top - self.feather_px)) / self.feather_px, 0.0, 1.0)[:, None, None]

    def _darkened(self, image: np.ndarray, frame: int) -> tuple[int, np.ndarray]:
        """The rows the scrim reaches at ``frame`` (from the first one), darkened and tinted; the
        picture above them is the card's as it is, so only these rows are worked on."""
        weight = self.scrim(image.shape[0], frame)
        first = max(0, int(np.argmax(weight[:, 0, 0] > 0)))
        below = image[first:, :, :3].astype(np.float32)
        w = weight[first:]
        below = below * (1.0 - w * (1.0 - self.darken)) + w * (_CARD_TINT * np.array(self.tint, np.float32))
        return first, np.clip(below + 0.5, 0, 255).astype(np.uint8)

    def draw(self, image: np.ndarray, frame: int, *, glyphs: bool = True) -> None:
        if not self.active(frame):
            return
        shown = self._progress(frame)
        first, card = self._darkened(image, frame)
        rgb = image[first:, :, :3]
        rgb[...] = card if shown >= 1.0 else cv2.addWeighted(rgb, 1.0 - shown, card, shown, 0.0)
        later = self._progress(frame, self.cta_delay)
        if self.plate is not None:
            self.plate.blend_into(image, later, round((1.0 - later) * self.rise_px))
        if not glyphs:
            return
        if self.brand_layer is not None:
            self.brand_layer.blend_into(image, shown, round((1.0 - shown) * self.rise_px))
        if self.label_layer is not None:
            self.label_layer.blend_into(image, later, round((1.0 - later) * self.rise_px))

    def glyph_mask(self, height: int, width: int) -> np.ndarray:
        mask = np.zeros((height, width), bool)
        for word in (self.brand, self.label):
            if word is not None:
                b = word.layer.box
                mask[b.top : b.bottom, b.left : b.right] |= word.mask
        return mask

    def drawn_boxes(self, frame: int) -> list[Box]:
        if not self.active(frame):
            return []
        shown, later = self._progress(frame), self._progress(frame, self.cta_delay)
        boxes = []
        if self.brand_layer is not None and shown > 0:
            boxes.append(self.brand_layer.box.moved(0, round((1.0 - shown) * self.rise_px)))
        for layer in (self.plate, self.label_layer):
            if layer is not None and later > 0:
                boxes.append(layer.box.moved(0, round((1.0 - later) * self.rise_px)))
        return boxes


def render_end_card(
    caption: Caption, width: int, height: int, fps: int, *, palette: Sequence[str] = (), fonts: Fonts | None = None
) -> EndCard:
    fonts = fonts or load_fonts()
    safe = safe_area(width, height)
    short = min(width, height)
    shadow = max(1, round(0.004 * short))
    rise_px = max(2, round(0.025 * short))
    safe_w, safe_h = safe.right - safe.left, safe.bottom - safe.top - rise_px
    texts = dict(caption.lines)
    pad = 3 * shadow + 2
    accent = accent_of(palette)
    colours = parse_palette(palette)
    tint = min(colours, key=lambda c: float(luminance(np.array(c)))) if colours else (20, 20, 24)

    brand_word = brand_layer = None
    brand_h = 0
    laid_brand = None
    if "brand" in texts:
        laid_brand = _lay_out(
            [("brand", texts["brand"])], fonts, {"brand": round(_SIZES["brand"] * short)}, safe_w - 2 * pad,
            {"brand": 2}, "centre",
        )  # fmt: skip
        brand_h = laid_brand.height + 2 * pad
    label_font = plate_w = plate_h = None
    if "cta" in texts:
        size = round(_SIZES["cta"] * short)
        while True:
            label_font = fonts.face(True, size)
            plate_h = round(size * 2.1)
            plate_w = round(label_font.getlength(texts["cta"]) + 2.4 * size)
            if plate_w <= safe_w or size <= _MIN_SIZE_PX:
                break
            size = max(_MIN_SIZE_PX, int(size * 0.92))
    gap = round(0.05 * short) if laid_brand and label_font else 0
    total_h = brand_h + gap + (plate_h or 0) + (2 * pad if label_font else 0)
    # At the foot of the safe area: the packshot above it stays in view (the studio frames it high).
    # Without a product the card is the picture: centred, over a scrim from the top.
    top = safe.top + max(0, safe_h - total_h) // (1 if caption.over_product else 2)
    feather = max(4, round(0.12 * height))

    if laid_brand is not None:
        layers = []
        bx = safe.left + (safe_w - laid_brand.width) // 2
        for word in laid_brand.words:
            canvas, mask, ox, oy = _render_word(word, fonts, LIGHT_TEXT, shadow, True)
            layers.append(
                WordLayer(
                    _layer_from_pil(canvas, round(bx + word.x) + ox, top + pad + word.baseline + oy), mask, 0, word.text
                )
            )
        brand_layer = _composite([w.layer for w in layers])
        mask = np.zeros(brand_layer.alpha.shape[:2], bool)
        for w in layers:
            b = w.layer.box
            mask[
                b.top - brand_layer.y : b.bottom - brand_layer.y, b.left - brand_layer.x : b.right - brand_layer.x
            ] |= w.mask
        brand_word = WordLayer(brand_layer, mask, 0, texts["brand"])

    plate_layer = label_word = label_layer = None
    if label_font is not None:
        assert plate_w is not None and plate_h is not None
        plate_colour, label_colour = _plate_and_label(accent)
        px = safe.left + (safe_w - plate_w) // 2
        py = top + brand_h + gap + pad
        canvas = Image.new("RGBA", (plate_w + 2 * pad, plate_h + 2 * pad), (0, 0, 0, 0))
        soft = Image.new("L", canvas.size, 0)
        ImageDraw.Draw(soft).rounded_rectangle(
            (pad, pad + shadow, pad + plate_w - 1, pad + plate_h - 1 + shadow), radius=plate_h // 2, fill=120
        )
        canvas.alpha_composite(_solid((0, 0, 0), soft.filter(ImageFilter.GaussianBlur(shadow * 2))))
        ImageDraw.Draw(canvas).rounded_rectangle(
            (pad, pad, pad + plate_w - 1, pad + plate_h - 1), radius=plate_h // 2, fill=(*plate_colour, 255)
        )
        plate_layer = _layer_from_pil(canvas, px - pad, py - pad)
        glyphs = Image.new("L", (plate_w, plate_h), 0)
        ImageDraw.Draw(glyphs).text((plate_w / 2, plate_h / 2), texts["cta"], font=label_font, fill=255, anchor="mm")
        label_layer = _layer_from_pil(_solid(label_colour, glyphs), px, py)
        label_word = WordLayer(label_layer, np.asarray(glyphs) == 255, 0, texts["cta"])

    return EndCard(
        caption, brand_word, brand_layer, plate_layer, label_word, label_layer, tint,
        fade_frames=max(2, round(0.4 * fps)), cta_delay=round(0.3 * fps), rise_px=rise_px,
        scrim_top=max(0, top - round(0.04 * height)) if caption.over_product else 0, feather_px=feather,
        darken=_CARD_DARKEN if caption.over_product else _CLEAR_CARD_DARKEN,
    )  # fmt: skip


# --- all supers of a rendition -----------------------------------------------------------------

TextTrack = CaptionSuper | EndCard


class Overlay(Protocol):
    """What the stitcher draws over the picture in its window of frames: a super, the end card, or
    a burned-in caption of the voice."""

    def active(self, frame: int) -> bool: ...

    def draw(self, image: np.ndarray, frame: int, *, glyphs: bool = True) -> None: ...


def supers_for(
    captions: Sequence[Caption],
    width: int,
    height: int,
    fps: int = 24,
    samples: Mapping[int, np.ndarray] | None = None,
    *,
    palette: Sequence[str] = (),
    fonts: Fonts | None = None,
) -> list[TextTrack]:
    """Every caption rendered for a ``width`` x ``height`` rendition; ``samples`` maps a frame
    number (``sample_frames_of``) to that frame as stitched, before any text."""
    fonts = fonts or load_fonts()
    samples = samples or {}
    tracks: list[TextTrack] = []
    previous: str | None = None
    for caption in captions:
        if caption.end_card:
            tracks.append(render_end_card(caption, width, height, fps, palette=palette, fonts=fonts))
            continue
        pictures = [samples[f] for f in sample_frames_of(caption, fps) if f in samples]
        track = render_caption(caption, width, height, fps, pictures, fonts=fonts, previous_band=previous)
        previous = track.band
        tracks.append(track)
    return tracks


def _ratio(name: str) -> float:
    w, h = name.split(":")
    return int(w) / int(h)
