"""The studio storyboard renderer: a draft-quality ad frame per beat, drawn locally without any model.

What it decides, and why:

* The product is in every beat when the request has an image of it, framed by the beat's role
  (`role_of`: the shot type and the beat's position): **hero** (large, on a seamless floor sweep,
  with a contact shadow, a floor reflection, a key light and a rim light), **detail** (a crop of the
  photo's most detailed region, `cutout.detail_region`, at no more zoom than the source supports;
  the camera move across it is the animator's), **lifestyle** (placed on a tabletop in a set built
  from the palette and lighting: window light on the wall, out-of-focus shapes behind) and
  **packshot** (closing: clean, centred high, with room for the end card refine draws).
* The product comes from `cutout.cut_out`: a cut-out (or the image's own alpha) is composited as an
  object on the set; a photo that cannot be cut out is framed on purpose, as a bordered print with
  depth and a drop shadow, slightly rotated, never as a raw rectangle. The treatment and its
  confidence are returned as the frame's note; an image cut_out refuses gives a note and the frame
  without the product, never an error.
* Without a product image there is no stand-in object (a drawn bottle would pretend to be the
  user's watch or lamp): the frame is typography-led motion design, palette gradients, bold arcs,
  bands and circles, light, and the brand name set large as a graphic wordmark.
* The region `compose().text_box` is kept calm (shapes fade out there) for refine's supers; the
  beat's own headline and subline, when a caller sets them, are set there with a contrast the
  renderer checks before it draws.

Everything random is drawn from the request's seed, so the same request always gives the same pixels.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from adgen_storyboard.cutout import Cutout, cut_out, detail_region

SAFE_MARGIN = 0.05  # of each side: broadcast title-safe, and clear of phone UI in 9:16
# Text is laid out a little inside the safe area so its shadow and emboldening stay inside it too.
TEXT_INSET = SAFE_MARGIN + 0.025
MIN_CONTRAST = 4.5  # WCAG AA for body text
# What the scrim is sized for: a little above the minimum so scaling and re-encoding never dip below it.
TARGET_CONTRAST = MIN_CONTRAST + 0.7
BACKGROUND_SCALE = 4  # the backdrop is all soft light, so it is drawn at 1/4 size and scaled up

LOW_KEY_WORDS = (
    "dramatic",
    "low-key",
    "low key",
    "moody",
    "dark",
    "noir",
    "night",
    "mysterious",
    "cinematic",
    "luxury",
    "premium",
    "sophisticated",
    "elegant",
)
HIGH_KEY_WORDS = (
    "bright",
    "high-key",
    "high key",
    "airy",
    "clean",
    "minimal",
    "fresh",
    "soft",
    "natural",
    "daylight",
    "pastel",
    "simple",
    "light",
)
WARM_WORDS = ("warm", "golden", "sunset", "cozy", "heartfelt", "amber", "human")
COOL_WORDS = ("cool", "blue", "neon", "futuristic", "tech", "icy", "night")
VIVID_WORDS = ("vibrant", "energetic", "dynamic", "bold", "neon", "electric", "motivational", "punchy")

DEFAULT_PALETTES = {
    "luxury": ("#0d0d10", "#1f1b16", "#c9a45c", "#f2e6c9"),
    "energetic": ("#0b1020", "#ff3d57", "#ffb627", "#2ec4ff"),
    "minimal": ("#f4f4f2", "#d9d9d6", "#1f1f1f", "#7a8b99"),
    "warm": ("#2b1b17", "#c8553d", "#f28f3b", "#ffd5c2"),
    "neutral": ("#101418", "#2b3a55", "#5f8fff", "#e8eefc"),
}


@dataclass(frozen=True)
class FrameRequest:
    width: int
    height: int
    beat_index: int
    beat_count: int
    beat_id: str
    shot_type: str
    position: str
    energy: str
    palette: tuple[str, ...]
    mood: str
    lighting: str
    aesthetic: str
    headline: str
    subline: str
    product_image: np.ndarray | None
    seed: int
    # The wordmark of a frame without a product image: spec.brand, else the product's name.
    brand: str = ""


# ---------------------------------------------------------------------------------------------- colour


def _hex_rgb(value: str) -> np.ndarray | None:
    text = value.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) != 6:
        return None
    try:
        return np.array([int(text[i : i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0
    except ValueError:
        return None


def _linear(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, np.float32)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB values in [0, 1] (last axis = channels)."""
    lin = _linear(rgb)
    return lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722


def contrast_ratio(a: float, b: float) -> float:
    """WCAG contrast ratio between two relative luminances."""
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def _saturation(rgb: np.ndarray) -> float:
    return float(rgb.max() - rgb.min())


def _mix(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return (a * (1.0 - t) + b * t).astype(np.float32)


def _with_value(rgb: np.ndarray, value: float) -> np.ndarray:
    """The colour's hue and saturation at a chosen brightness (HSV value)."""
    peak = float(rgb.max())
    if peak < 1e-4:
        return np.full(3, value, np.float32)
    return np.clip(rgb * (value / peak), 0.0, 1.0).astype(np.float32)


def _words(*texts: str) -> str:
    return " ".join(texts).lower()


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(w in text for w in words)


# ------------------------------------------------------------------------------------------------ look


@dataclass(frozen=True)
class Look:
    """The lighting design of the ad, derived from the style so every beat shares it (a high-energy
    beat only turns up the colour)."""

    low_key: bool
    backdrop_top: np.ndarray
    backdrop_bottom: np.ndarray
    key_colour: np.ndarray
    accent: np.ndarray
    secondary: np.ndarray
    floor: np.ndarray
    vivid: bool
    vignette: float
    key_strength: float


def _palette(req: FrameRequest) -> list[np.ndarray]:
    """The style's colours; with fewer than two (the planner adds colours only when the user gave
    some), a default palette chosen by the style words fills in."""
    colours = [c for c in (_hex_rgb(v) for v in req.palette) if c is not None]
    if len(colours) >= 2:
        return colours
    words = _words(req.aesthetic, req.mood, req.lighting)
    name = next(
        (
            n
            for n, ws in (
                ("luxury", ("luxury", "premium", "elegant")),
                ("energetic", VIVID_WORDS),
                ("minimal", ("minimal", "clean", "simple")),
                ("warm", WARM_WORDS),
            )
            if _has(words, ws)
        ),
        "neutral",
    )
    return colours + [c for v in DEFAULT_PALETTES[name] if (c := _hex_rgb(v)) is not None]


def look_for(req: FrameRequest) -> Look:
    """Assigns the palette roles (backdrop, accent, floor) and the key from the style words."""
    colours = _palette(req)
    by_light = sorted(colours, key=lambda c: float(luminance(c)))
    darkest, brightest = by_light[0], by_light[-1]
    accent = max(colours, key=_saturation)
    others = [c for c in colours if c is not accent] or [brightest]
    secondary = max(others, key=_saturation)
    words = _words(req.lighting, req.mood, req.aesthetic)
    mean_light = float(np.mean([luminance(c) for c in colours]))
    vivid = _has(words, VIVID_WORDS) or req.energy == "high"
    if _has(words, HIGH_KEY_WORDS) and not _has(req.lighting.lower(), LOW_KEY_WORDS):
        low_key = False
    elif _has(words, LOW_KEY_WORDS):
        low_key = True
    else:
        low_key = mean_light < 0.45
    warm = np.array([1.0, 0.86, 0.68], np.float32)
    cool = np.array([0.72, 0.85, 1.0], np.float32)
    key = _with_value(_mix(brightest, np.ones(3, np.float32), 0.55), 1.0)
    if _has(words, WARM_WORDS):
        key = _mix(key, warm, 0.6)
    elif _has(words, COOL_WORDS):
        key = _mix(key, cool, 0.6)
    if low_key:
        top = _with_value(_mix(darkest, secondary, 0.6 if vivid else 0.35), 0.24 if vivid else 0.16)
        bottom = _with_value(_mix(darkest, accent, 0.15), 0.05)
        floor = _with_value(_mix(darkest, brightest, 0.15), 0.16)
    else:
        top = _with_value(_mix(brightest, np.ones(3, np.float32), 0.3), 0.96)
        bottom = _with_value(_mix(brightest, secondary, 0.35), 0.78)
        floor = _with_value(_mix(brightest, np.ones(3, np.float32), 0.5), 0.93)
    dramatic = _has(req.lighting.lower(), ("dramatic", "low-key", "low key", "moody", "noir"))
    return Look(
        low_key=low_key,
        backdrop_top=top,
        backdrop_bottom=bottom,
        key_colour=key,
        accent=_with_value(accent, 1.0),
        secondary=_with_value(secondary, 0.9),
        floor=floor,
        vivid=vivid,
        vignette=0.62 if dramatic else (0.45 if low_key else 0.22),
        key_strength=0.55 if low_key else 0.35,
    )


# --------------------------------------------------------------------------------------------- framing


@dataclass(frozen=True)
class ShotFraming:
    size: float  # subject height as a fraction of the frame's short side
    floor: bool  # whether the set shows the floor (or tabletop) the subject stands on
    tilt_deg: float
    depth_of_field: float  # 0 = everything sharp, 1 = very shallow


SHOTS = {
    "extreme_close_up": ShotFraming(1.55, False, 0.0, 1.0),
    "macro": ShotFraming(1.25, False, 0.0, 1.0),
    "close_up": ShotFraming(0.62, True, 0.0, 0.7),
    "medium_close_up": ShotFraming(0.54, True, 0.0, 0.6),
    "medium": ShotFraming(0.46, True, 0.0, 0.45),
    "medium_wide": ShotFraming(0.38, True, 0.0, 0.35),
    "wide": ShotFraming(0.30, True, 0.0, 0.25),
    "wide_cinematic": ShotFraming(0.28, True, 0.0, 0.25),
    "cinematic_wide_to_close": ShotFraming(0.56, True, 0.0, 0.5),
    "dynamic": ShotFraming(0.50, True, -4.0, 0.55),
    "dynamic_multi": ShotFraming(0.46, True, 4.0, 0.55),
    "tracking": ShotFraming(0.44, True, -3.0, 0.5),
}

# What the beat does with the product (see the module docstring).
HERO, DETAIL, LIFESTYLE, PACKSHOT = "hero", "detail", "lifestyle", "packshot"
DETAIL_SHOTS = frozenset({"extreme_close_up", "macro"})
SET_SHOTS = frozenset({"medium", "medium_wide", "wide", "wide_cinematic", "tracking"})
# Largest subject per role, as a fraction of the short side: a hero fills the frame, a product in
# its setting leaves room for the set, a packshot leaves room for the end card.
ROLE_SIZE = {HERO: 0.64, LIFESTYLE: 0.5, PACKSHOT: 0.46, DETAIL: 1.0}
# A portrait frame has room above and below its short side: sizes grow with its height, by this
# share of the extra length (a 9:16 subject is 31 % larger than a square frame's, not 78 %).
PORTRAIT_GAIN = 0.4


def role_of(req: FrameRequest) -> str:
    """hero | detail | lifestyle | packshot, from the beat's position and shot type."""
    if req.position == "closing":
        return PACKSHOT
    if req.shot_type in DETAIL_SHOTS:
        return DETAIL
    if req.shot_type in SET_SHOTS:
        return LIFESTYLE
    return HERO


@dataclass(frozen=True)
class Composition:
    """Where things go in this beat's frame, in pixels."""

    subject_x: float
    subject_y: float  # centre of the subject
    subject_h: float
    shot: ShotFraming
    horizon_y: float  # where the floor (hero, packshot) or the tabletop's far edge (lifestyle) begins
    key_x: float
    key_y: float
    text_box: tuple[int, int, int, int]  # x0, y0, x1, y1
    text_align: str  # "left" | "center"
    cta: bool
    role: str = HERO


def compose(req: FrameRequest) -> Composition:
    """Frames the beat: the role and shot size from the shot type, placement from the beat's position.

    Middle beats alternate the subject between the thirds so consecutive beats read as different
    shots; the text takes the other side (landscape) or the other end (portrait and square), and the
    subject is kept clear of it. The text's place is kept even when a beat has no text, so the
    framing never depends on the copy.
    """
    w, h = req.width, req.height
    short = min(w, h)
    shot = SHOTS.get(req.shot_type, SHOTS["medium"])
    role = role_of(req)
    landscape = w >= 1.2 * h
    left = req.beat_index % 2 == 0
    ix, iy = TEXT_INSET * w, TEXT_INSET * h
    basis = short * (1 + PORTRAIT_GAIN * max(0.0, h / w - 1))
    subject_h = min(shot.size, ROLE_SIZE[role]) * basis
    room_top, room_bottom = SAFE_MARGIN * h, (1 - SAFE_MARGIN) * h
    if req.position == "middle" and landscape:
        sx = 0.31 * w if left else 0.69 * w
        sy = (0.56 if role == LIFESTYLE else 0.5) * h
        box = (
            (int(0.52 * w), int(iy), int(w - ix), int(h - iy))
            if left
            else (int(ix), int(iy), int(0.48 * w), int(h - iy))
        )
        align = "left"
    elif req.position == "middle":
        top_text = left
        sx = 0.5 * w
        sy = (0.6 if top_text else 0.42) * h
        top_box = (int(ix), int(iy), int(w - ix), int(0.3 * h))
        box = top_box if top_text else (int(ix), int(0.7 * h), int(w - ix), int(h - iy))
        align = "center"
    else:
        sx = 0.5 * w
        sy = 0.4 * h
        top = 0.66 if req.position == "closing" else 0.7
        box = (int(ix), int(top * h), int(w - ix), int(h - iy))
        align = "center"
    if align == "center":  # the subject stays clear of the text above or below it
        if box[1] > h / 2:
            room_bottom = box[1] - 0.02 * h
        else:
            room_top = box[3] + 0.02 * h
    if role != DETAIL:
        subject_h = min(subject_h, 0.9 * (room_bottom - room_top))
        sy = min(max(sy, room_top + 0.5 * subject_h), room_bottom - 0.5 * subject_h)
    base = sy + 0.5 * subject_h
    horizon = base - (0.1 * h + 0.12 * subject_h if role == LIFESTYLE else 0.06 * subject_h)
    rng = np.random.default_rng(_seed(req.seed, 1))
    key_side = -1.0 if (req.beat_index + int(rng.integers(0, 2))) % 2 == 0 else 1.0
    key_x = sx + key_side * (0.18 + 0.1 * float(rng.random())) * w
    key_y = sy - (0.22 + 0.1 * float(rng.random())) * h
    return Composition(
        subject_x=sx,
        subject_y=sy,
        subject_h=subject_h,
        shot=shot,
        horizon_y=min(horizon, 0.92 * h),
        key_x=key_x,
        key_y=key_y,
        text_box=box,
        text_align=align,
        cta=req.position == "closing",
        role=role,
    )


def _seed(seed: int, stream: int) -> list[int]:
    return [seed % (1 << 63), stream]


# ------------------------------------------------------------------------------------------ background


def _grid(w: int, h: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates of a (possibly reduced) canvas, expressed in full-frame pixels."""
    ys = (np.arange(h, dtype=np.float32) + 0.5) * scale
    xs = (np.arange(w, dtype=np.float32) + 0.5) * scale
    return xs[None, :], ys[:, None]


def _background(req: FrameRequest, look: Look, comp: Composition, product: bool) -> np.ndarray:
    """Backdrop, floor sweep or wall light, key light, light streaks and bokeh, drawn at reduced size
    (it is all soft). The floor is drawn only under a product: a frame without one has nothing to stand."""
    s = BACKGROUND_SCALE
    bw, bh = max(8, -(-req.width // s)), max(8, -(-req.height // s))
    x, y = _grid(bw, bh, s)
    w, h = float(req.width), float(req.height)
    rng = np.random.default_rng(_seed(req.seed, 2))
    angle = math.radians(float(rng.uniform(-25, 25)))
    t = np.clip(((x - w / 2) * math.sin(angle) + (y - h / 2) * math.cos(angle)) / h + 0.5, 0.0, 1.0)
    img = look.backdrop_top[None, None, :] * (1 - t[..., None]) + look.backdrop_bottom[None, None, :] * t[..., None]
    if product and comp.role in (HERO, PACKSHOT) and comp.shot.floor:
        # a seamless sweep: the wall bends into the floor, no hard horizon
        floor = _smoothstep(comp.horizon_y - 0.05 * h, comp.horizon_y + 0.04 * h, y)
        depth = np.clip((y - comp.horizon_y) / max(h - comp.horizon_y, 1.0), 0.0, 1.0)
        floor_colour = _mix(look.backdrop_bottom, look.floor, 0.3) * (0.8 if look.low_key else 0.94)
        floor_img = floor_colour[None, None, :] * (1.0 - 0.3 * depth[..., None])
        # the key light pooled on a glossy floor
        pool = np.exp(-(((x - comp.subject_x) / (0.25 * w)) ** 2) - ((y - comp.horizon_y) / (0.16 * h)) ** 2)
        floor_img = floor_img + (0.3 if look.low_key else 0.1) * pool[..., None] * look.key_colour
        img = img * (1 - floor[..., None]) + floor_img * floor[..., None]
    if product and comp.role == LIFESTYLE:
        img = img + _window_light(req, look, comp, x, y)
        img = _screen(img, _set_dressing(req, look, comp, bw, bh, rng))
    glow = np.exp(-(((x - comp.key_x) / (0.42 * w)) ** 2 + ((y - comp.key_y) / (0.55 * h)) ** 2))
    halo = np.exp(-(((x - comp.subject_x) / (0.3 * w)) ** 2 + ((y - comp.subject_y) / (0.4 * h)) ** 2))
    img = img + look.key_strength * glow[..., None] * look.key_colour * 0.55
    halo_gain = (0.25 if look.low_key else 0.1) * (1.0 if product else 0.5)  # type reads better on a darker ground
    img = img + halo_gain * halo[..., None] * _mix(look.key_colour, look.accent, 0.4)
    calm = product and comp.role == PACKSHOT  # the end card's frame: light, no clutter
    img = img + _streaks(req, look, comp, x, y, rng) * (0.4 if calm else 1.0)
    bokeh = _bokeh(req, look, comp, bw, bh, rng) * (0.35 if calm else 1.0)
    img = _screen(img, bokeh + _speed_lines(req, look, comp, bw, bh, rng))
    return cv2.resize(np.clip(img, 0, 1).astype(np.float32), (req.width, req.height), interpolation=cv2.INTER_CUBIC)


def _window_light(req: FrameRequest, look: Look, comp: Composition, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Slanted shafts of window light falling across the back wall from the key's side."""
    w, h = float(req.width), float(req.height)
    side = 1.0 if comp.key_x > comp.subject_x else -1.0
    wall = _smoothstep(comp.horizon_y + 0.01 * h, comp.horizon_y - 0.03 * h, y)
    u = (x - (0.5 + 0.25 * side) * w) + side * 0.55 * (y - 0.0)  # leaning away from the window
    out = np.zeros((*np.broadcast_shapes(x.shape, y.shape), 3), np.float32)
    for offset, width, gain in ((0.0, 0.07, 1.0), (0.13, 0.05, 0.8), (0.24, 0.035, 0.6)):
        pane = _smoothstep(width * w, 0.6 * width * w, np.abs(u + side * offset * w))
        out += (pane * wall * gain)[..., None] * look.key_colour
    falloff = np.exp(-(((x - (0.5 + 0.4 * side) * w) / (0.7 * w)) ** 2))
    return out * falloff[..., None] * (0.16 if look.low_key else 0.1)


def _set_dressing(
    req: FrameRequest, look: Look, comp: Composition, bw: int, bh: int, rng: np.random.Generator
) -> np.ndarray:
    """Out-of-focus shapes on the far side of the table: vases, books, a plant's round leaves."""
    layer = np.zeros((bh, bw, 3), np.float32)
    s = BACKGROUND_SCALE
    horizon = comp.horizon_y / s
    colours = (look.accent, look.secondary, _mix(look.key_colour, look.floor, 0.5))
    strength = 0.22 if look.low_key else 0.16
    for i in range(5):
        cx = float(rng.uniform(0.05, 0.95)) * bw
        if abs(cx - comp.subject_x / s) < 0.12 * bw:
            cx = (cx + 0.3 * bw) % bw
        colour = colours[i % 3] * strength * float(rng.uniform(0.6, 1.0))
        if i % 2 == 0:  # an upright object standing on the table
            half_w = float(rng.uniform(0.02, 0.05)) * bw
            top = horizon - float(rng.uniform(0.12, 0.32)) * bh
            p0 = (int((cx - half_w) * 16), int(top * 16))
            p1 = (int((cx + half_w) * 16), int((horizon + 0.01 * bh) * 16))
            cv2.rectangle(layer, p0, p1, tuple(float(c) for c in colour), -1, cv2.LINE_AA, shift=4)
        else:  # something round, further back
            cy = horizon - float(rng.uniform(0.15, 0.4)) * bh
            radius = float(rng.uniform(0.03, 0.07)) * max(bw, bh)
            cv2.circle(
                layer,
                (int(cx * 16), int(cy * 16)),
                int(radius * 16),
                tuple(float(c) for c in colour),
                -1,
                cv2.LINE_AA,
                shift=4,
            )
    return cv2.GaussianBlur(layer, (0, 0), max(1.5, 0.012 * max(bw, bh)))


def _screen(base: np.ndarray, light: np.ndarray) -> np.ndarray:
    return 1.0 - (1.0 - base) * (1.0 - np.clip(light, 0.0, 1.0))


def _streaks(
    req: FrameRequest, look: Look, comp: Composition, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Light beams from the key light, more and brighter with more energy or drama."""
    w, h = float(req.width), float(req.height)
    count = {"low": 2, "medium": 3, "high": 5}.get(req.energy, 3)
    out = np.zeros((*np.broadcast_shapes(x.shape, y.shape), 3), np.float32)
    base = math.atan2(comp.subject_y - comp.key_y, comp.subject_x - comp.key_x)
    strength = (0.16 if look.low_key else 0.07) * (1.4 if look.vivid else 1.0)
    for i in range(count):
        phi = base + float(rng.uniform(-0.7, 0.7))
        width = float(rng.uniform(0.015, 0.05)) * h
        dx, dy = x - comp.key_x, y - comp.key_y
        along = dx * math.cos(phi) + dy * math.sin(phi)
        perp = np.abs(-dx * math.sin(phi) + dy * math.cos(phi))
        spread = width * (1.0 + np.maximum(along, 0) / (0.35 * w))
        reach = np.maximum(along, 0)
        beam = np.exp(-((perp / spread) ** 2)) * np.exp(-reach / (0.9 * w)) * (1.0 - np.exp(-reach / (0.25 * w)))
        colour = look.key_colour if i % 2 == 0 else _mix(look.key_colour, look.accent, 0.5)
        out += strength * beam[..., None].astype(np.float32) * colour
    if req.shot_type == "wide_cinematic" or req.energy == "high":
        flare = np.exp(-(((y - comp.key_y) / (0.012 * h)) ** 2) - ((x - comp.key_x) / (0.45 * w)) ** 2)
        out += 0.3 * flare[..., None].astype(np.float32) * _mix(look.key_colour, look.accent, 0.6)
    return out


def _speed_lines(
    req: FrameRequest, look: Look, comp: Composition, bw: int, bh: int, rng: np.random.Generator
) -> np.ndarray:
    """Thin streaks along the direction of travel for dynamic and tracking shots; none otherwise."""
    layer = np.zeros((bh, bw, 3), np.float32)
    if comp.shot.tilt_deg == 0.0 and req.energy != "high":
        return layer
    slope = math.tan(math.radians(comp.shot.tilt_deg))
    for _ in range(14 if req.energy == "high" else 8):
        y = float(rng.uniform(0.05, 0.95)) * bh
        x = float(rng.uniform(-0.2, 0.9)) * bw
        length = float(rng.uniform(0.15, 0.45)) * bw
        colour = (look.accent if rng.random() < 0.5 else look.key_colour) * float(rng.uniform(0.15, 0.4))
        p0 = (int(x * 16), int(y * 16))
        p1 = (int((x + length) * 16), int((y - slope * length) * 16))
        cv2.line(layer, p0, p1, tuple(float(c) for c in colour), 1, cv2.LINE_AA, shift=4)
    return cv2.GaussianBlur(layer, (0, 0), 0.7)


def _bokeh(req: FrameRequest, look: Look, comp: Composition, bw: int, bh: int, rng: np.random.Generator) -> np.ndarray:
    """Out-of-focus highlights: bigger and softer the shallower the shot's depth of field."""
    layer = np.zeros((bh, bw, 3), np.float32)
    dof = comp.shot.depth_of_field
    count = int({"low": 14, "medium": 20, "high": 30}.get(req.energy, 20) * (0.6 + 0.6 * dof))
    colours = (look.key_colour, look.accent, look.secondary)
    for _ in range(count):
        cx = float(rng.uniform(0, bw))
        cy = float(rng.uniform(0, bh * (0.75 if comp.shot.floor else 1.0)))
        radius = float(rng.uniform(0.006, 0.02 + 0.035 * dof)) * max(bw, bh)
        colour = colours[int(rng.integers(0, 3))] * float(rng.uniform(0.03, 0.14)) * (1.0 if look.low_key else 0.6)
        cv2.circle(
            layer,
            (int(cx * 16), int(cy * 16)),
            max(1, int(radius * 16)),
            tuple(float(c) for c in colour),
            -1,
            cv2.LINE_AA,
            shift=4,
        )
    blur = 0.6 + 2.0 * dof
    return cv2.GaussianBlur(layer, (0, 0), blur)


# --------------------------------------------------------------------------------------------- subject

MAX_ZOOM = 2.0  # the most a product's pixels are enlarged: more would show the source's blur
MAX_DETAIL_ZOOM = 2.5  # a detail crop may go a little further: it is seen moving, and graded soft at its edges
DETAIL_MIN_SHARE = 0.4  # a detail crop keeps at least this much of the product's short side
CUTOUT_CACHE = 8  # the beats of one video share their product image: it is cut out once per worker


def _smoothstep(e0: float, e1: float, v: np.ndarray) -> np.ndarray:
    t = np.clip((v - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _soft_blur(mask: np.ndarray, sigma: float) -> np.ndarray:
    """A wide Gaussian blur, done at reduced size (the result has no detail to lose)."""
    q = max(1, min(8, int(sigma // 2)))
    h, w = mask.shape[:2]
    small = cv2.resize(mask, (max(1, w // q), max(1, h // q)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), max(0.5, sigma / q))
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _over(canvas: np.ndarray, colour: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> None:
    """Alpha-composites a patch onto the canvas at (x0, y0), clipped to the canvas."""
    h, w = alpha.shape
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x0 + w, canvas.shape[1]), min(y0 + h, canvas.shape[0])
    if cx0 >= cx1 or cy0 >= cy1:
        return
    a = alpha[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0, None]
    c = colour[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0] if colour.ndim == 3 else colour
    region = canvas[cy0:cy1, cx0:cx1]
    region *= 1 - a
    region += a * c


def _shadow(canvas: np.ndarray, cx: float, cy: float, rx: float, ry: float, strength: float) -> None:
    """A soft contact shadow: an ellipse, blurred, multiplied into the canvas."""
    pad = int(rx * 0.8) + 4
    x0, y0 = int(cx - rx - pad), int(cy - ry - pad)
    w, h = int(2 * (rx + pad)) + 1, int(2 * (ry + pad)) + 1
    mask: np.ndarray = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (int(cx - x0), int(cy - y0)), (max(1, int(rx)), max(1, int(ry))), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    mask = _soft_blur(mask, max(1.0, rx * 0.25)) * strength
    _over(canvas, np.zeros(3, np.float32), mask, x0, y0)


def _rotate_rgba(rgba: np.ndarray, degrees: float) -> np.ndarray:
    if abs(degrees) < 0.01:
        return rgba
    h, w = rgba.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(rgba, m, (nw, nh), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


@dataclass(frozen=True)
class Product:
    """The product as this renderer uses it: the cut-out (or framed photo) and the photo itself."""

    cut: Cutout
    photo: np.ndarray  # float32 RGB(A) in [0, 1], the whole image as given
    rgba: np.ndarray  # the cut-out trimmed to its visible pixels, so it stands on the floor, not above it


_cutouts: OrderedDict[bytes, Cutout | str] = OrderedDict()
_cutouts_lock = threading.Lock()


def _as_float(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


def prepare_product(image: np.ndarray) -> Product | str:
    """The cut-out of the product image, or why it cannot be used (cut_out's ValueError, as a sentence).

    Cached by the image's content: every beat of a video shows the same image, and the cut-out is the
    most expensive step of a frame."""
    key = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16).digest() + repr(image.shape).encode()
    with _cutouts_lock:
        cached = _cutouts.get(key)
    if cached is None:
        try:
            cached = cut_out(image)
        except ValueError as error:
            cached = str(error) or "the image cannot be cut out"
        with _cutouts_lock:
            _cutouts[key] = cached
            while len(_cutouts) > CUTOUT_CACHE:
                _cutouts.popitem(last=False)
    if isinstance(cached, str):
        return cached
    return Product(cached, _as_float(image), _trimmed(cached.rgba))


def _trimmed(rgba: np.ndarray) -> np.ndarray:
    x, y, w, h = cv2.boundingRect((rgba[..., 3] > 0.02).astype(np.uint8))
    return rgba[y : y + h, x : x + w] if w and h else rgba


def _resized(rgba: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Colour and alpha of straight-alpha RGBA scaled by `scale` (premultiplied, so edges stay clean)."""
    h0, w0 = rgba.shape[:2]
    nw, nh = max(1, round(w0 * scale)), max(1, round(h0 * scale))
    if rgba.shape[2] == 3:
        rgba = np.dstack([rgba, np.ones((h0, w0), np.float32)])
    premult = np.dstack([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]]).astype(np.float32)
    resized = cv2.resize(premult, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    resized = np.clip(resized, 0.0, 1.0)
    alpha = resized[..., 3]
    colour = np.where(alpha[..., None] > 1e-4, resized[..., :3] / np.maximum(alpha[..., None], 1e-4), 0.0)
    return np.clip(colour, 0, 1).astype(np.float32), alpha.astype(np.float32)


def _lit(colour: np.ndarray, alpha: np.ndarray, look: Look, comp: Composition, cx: float) -> np.ndarray:
    """The key light across the product (brighter on the key's side and at the top) and a rim light
    along its edge on the far side, the separation a studio light gives a product from its backdrop."""
    h, w = alpha.shape
    side = 1.0 if comp.key_x > cx else -1.0
    xs = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
    ys = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
    key = 1.0 + 0.08 * side * xs - 0.05 * ys
    out = colour * key[..., None]
    k = max(1, round(0.012 * max(h, w)))
    inner = cv2.erode(alpha, np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    edge = cv2.GaussianBlur(np.clip(alpha - inner, 0.0, 1.0), (0, 0), max(0.8, 0.5 * k))
    towards = np.clip(0.25 - 0.75 * side * xs, 0.0, 1.0) + np.clip(-ys, 0.0, 1.0) * 0.35
    rim = edge * towards * (0.75 if look.low_key else 0.4)
    rim_colour = _mix(look.key_colour, look.accent, 0.25)
    out = 1.0 - (1.0 - out) * (1.0 - rim[..., None] * rim_colour)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _footprint(alpha: np.ndarray) -> tuple[float, float]:
    """Left and right of the product's lowest solid rows (where it touches the floor), in patch pixels."""
    rows = np.nonzero(alpha.max(axis=1) > 0.5)[0]
    if len(rows) == 0:
        return 0.0, float(alpha.shape[1])
    low = alpha[max(rows[-1] - max(2, alpha.shape[0] // 12), 0) : rows[-1] + 1]
    cols = np.nonzero(low.max(axis=0) > 0.5)[0]
    return float(cols[0]), float(cols[-1] + 1)


def _stand(
    canvas: np.ndarray,
    colour: np.ndarray,
    alpha: np.ndarray,
    look: Look,
    comp: Composition,
    cx: float,
    base_y: float,
    reflection: float,
) -> None:
    """Stands a patch on the floor at (cx, base_y): contact shadow, a reflection, the lit product."""
    ph, pw = alpha.shape
    x0, y0 = round(cx - pw / 2), round(base_y - ph)
    left, right = _footprint(alpha)
    foot_cx, foot_w = x0 + (left + right) / 2, max(right - left, 4.0)
    _shadow(canvas, foot_cx, base_y, 0.62 * foot_w, max(2.0, 0.05 * ph), 0.45)
    _shadow(canvas, foot_cx, base_y, 0.48 * foot_w, max(1.5, 0.014 * ph), 0.6)
    if reflection > 0:
        depth = max(1, int(0.35 * ph))
        fade = np.linspace(reflection, 0.0, depth, dtype=np.float32)[:, None]
        mirrored = alpha[::-1][:depth] * fade
        _over(canvas, cv2.GaussianBlur(colour[::-1][:depth], (0, 0), 1.2), mirrored, x0, round(base_y) - 1)
    _over(canvas, _lit(colour, alpha, look, comp, cx), alpha, x0, y0)


def _print_card(photo: np.ndarray, height: float, max_w: float, look: Look) -> tuple[np.ndarray, np.ndarray]:
    """A photo that cannot be cut out, made a print on purpose: a paper border, the card's thickness
    along its lower edge, at most `height` × `max_w` pixels."""
    rgb = photo[..., :3]
    h0, w0 = rgb.shape[:2]
    border = 0.045
    scale = min(height / (h0 * (1 + 2 * border)), max_w / (w0 + 2 * border * h0), MAX_ZOOM)
    colour, _ = _resized(rgb, scale)
    ph, pw = colour.shape[:2]
    b = max(2, round(border * ph))
    paper = _with_value(_mix(np.ones(3, np.float32), look.key_colour, 0.12), 0.97)
    thick = max(1, round(0.012 * ph))
    card = np.empty((ph + 2 * b + thick, pw + 2 * b, 3), np.float32)
    card[:] = paper
    card[-thick:] = paper * 0.62  # the card's edge, catching less light
    card[b : b + ph, b : b + pw] = colour
    card[b : b + ph, b : b + 1] *= 0.9  # a hairline where the print meets the mount
    alpha = np.ones(card.shape[:2], np.float32)
    return card, alpha


def _drop_shadow(canvas: np.ndarray, alpha: np.ndarray, x0: int, y0: int, dx: float, dy: float, blur: float) -> None:
    pad = int(3 * blur) + 2
    grown = np.pad(alpha, pad)
    soft = _soft_blur(grown, blur) * 0.55
    _over(canvas, np.zeros(3, np.float32), soft, x0 - pad + round(dx), y0 - pad + round(dy))


def _framed(
    canvas: np.ndarray, product: Product, look: Look, comp: Composition, req: FrameRequest, max_w: float
) -> None:
    """The framed treatment: the print, slightly rotated, lifted off the set by a soft drop shadow."""
    rng = np.random.default_rng(_seed(req.seed, 4))
    card, alpha = _print_card(product.photo, comp.subject_h, max_w, look)
    angle = float(rng.uniform(1.5, 3.5)) * (1 if req.beat_index % 2 else -1) + comp.shot.tilt_deg * 0.3
    rgba = _rotate_rgba(np.dstack([card, alpha]), angle)
    colour, alpha = rgba[..., :3], np.clip(rgba[..., 3], 0, 1)
    ph, pw = alpha.shape
    base_y = comp.subject_y + 0.5 * comp.subject_h
    x0, y0 = round(comp.subject_x - pw / 2), round(base_y - ph)
    side = 1.0 if comp.key_x > comp.subject_x else -1.0
    size = max(ph, pw)
    _drop_shadow(canvas, alpha, x0, y0, -side * 0.025 * size, 0.035 * size, 0.03 * size)
    if comp.shot.floor:
        _shadow(canvas, comp.subject_x, base_y, 0.45 * pw, max(2.0, 0.02 * ph), 0.5)
    _over(canvas, _lit(np.clip(colour, 0, 1), alpha, look, comp, comp.subject_x), alpha, x0, y0)


def _object(canvas: np.ndarray, product: Product, look: Look, comp: Composition, req: FrameRequest) -> None:
    """A cut-out (or an image with its own alpha) stood on the set: hero, lifestyle and packshot."""
    w, h = req.width, req.height
    max_w = (0.42 if req.position == "middle" and w >= 1.2 * h else 0.8) * w
    if product.cut.treatment == "framed":
        _framed(canvas, product, look, comp, req, max_w)
        return
    rgba = product.rgba
    h0, w0 = rgba.shape[:2]
    scale = min(comp.subject_h / h0, max_w / w0, MAX_ZOOM * max(1.0, min(w, h) / 720))
    colour, alpha = _resized(rgba, scale)
    if comp.shot.tilt_deg:
        turned = _rotate_rgba(np.dstack([colour, alpha]), comp.shot.tilt_deg)
        colour, alpha = np.clip(turned[..., :3], 0, 1), np.clip(turned[..., 3], 0, 1)
    base_y = comp.subject_y + 0.5 * comp.subject_h
    reflection = {HERO: 0.26, PACKSHOT: 0.3, LIFESTYLE: 0.1}.get(comp.role, 0.0) if comp.shot.floor else 0.0
    if comp.role == LIFESTYLE:
        _cast_shadow(canvas, alpha, comp, base_y)
    _stand(canvas, colour, alpha, look, comp, comp.subject_x, base_y, reflection)


def _cast_shadow(canvas: np.ndarray, alpha: np.ndarray, comp: Composition, base_y: float) -> None:
    """The window's long soft shadow of the product across the tabletop, away from the light: the
    product's silhouette flattened onto the table and sheared back from its base."""
    ph, pw = alpha.shape
    side = 1.0 if comp.key_x > comp.subject_x else -1.0
    squash, lean = 0.3, 1.6
    tall = squash * ph
    shift = lean * tall if side > 0 else 0.0
    m = np.array([[1.0, side * lean * squash, shift - side * lean * tall], [0.0, squash, 0.0]], np.float32)
    size = (pw + int(lean * tall) + 4, int(tall) + 2)
    shadow = cv2.warpAffine(alpha, m, size, flags=cv2.INTER_LINEAR, borderValue=0)
    shadow = _soft_blur(shadow, max(1.5, 0.025 * ph)) * 0.3
    _over(canvas, np.zeros(3, np.float32), shadow, round(comp.subject_x - pw / 2 - shift), round(base_y - tall))


def _tabletop(canvas: np.ndarray, req: FrameRequest, look: Look, comp: Composition) -> None:
    """The lifestyle set's table: a surface in perspective from its far edge to the frame's bottom,
    brighter where the window light falls, its grain running to a vanishing point."""
    h, w = canvas.shape[:2]
    top = int(max(0, min(h - 1, comp.horizon_y)))
    rows = h - top
    if rows <= 1:
        return
    depth = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None]  # 0 far edge, 1 nearest
    tone = _mix(look.floor, look.accent, 0.35 if look.low_key else 0.15)
    tone = _with_value(tone, 0.34 if look.low_key else 0.86)
    surface = np.empty((rows, w, 3), np.float32)
    surface[:] = tone * (0.78 + 0.3 * depth[..., None])
    side = 1.0 if comp.key_x > comp.subject_x else -1.0
    xs = (np.arange(w, dtype=np.float32)[None, :] + 0.5) / w
    light = np.exp(-(((xs - 0.5 - 0.25 * side) / 0.35) ** 2)) * (1.0 - 0.5 * depth)
    surface += (light * (0.22 if look.low_key else 0.08))[..., None] * look.key_colour
    grain = np.zeros((rows, w), np.float32)
    vx = comp.subject_x + side * 0.2 * w
    for i in range(-9, 10):
        x_far = vx + i * 0.05 * w
        x_near = vx + i * 0.22 * w
        cv2.line(grain, (int(x_far * 16), 0), (int(x_near * 16), int(rows * 16)), 1.0, 1, cv2.LINE_AA, shift=4)
    surface *= 1.0 - 0.1 * grain[..., None]
    edge = np.clip(1.0 - np.arange(rows, dtype=np.float32) / max(2.0, 0.006 * h), 0.0, 1.0)[:, None, None]
    surface = surface * (1 - 0.5 * edge) + 0.5 * edge * _mix(tone, look.key_colour, 0.5)  # the lit far edge
    canvas[top:] = surface
    # the wall's shadow line just above the table
    band = slice(max(0, top - int(0.03 * h)), top)
    fade = np.linspace(0.0, 0.25, band.stop - band.start, dtype=np.float32)[:, None, None]
    canvas[band] *= 1.0 - fade


def _detail(canvas: np.ndarray, product: Product, look: Look, comp: Composition, req: FrameRequest) -> None:
    """The detail beat: the product's most detailed region (cutout.detail_region) in the middle of
    the frame, at no more than MAX_DETAIL_ZOOM, so the frame is never a smear of enlarged pixels. A
    cut-out is shown whole at that zoom, cropped only by the frame; a framed photo's crop fills the
    frame, or, from a source too small for that, is a large print of the detail on the set."""
    w, h = req.width, req.height
    cut = product.cut
    source = product.rgba  # a framed photo's is the whole photo, opaque
    # no more zoom than the source supports, and never so tight that the product is not recognisable
    sh, sw = source.shape[:2]
    min_side = min(max(math.ceil(min(w, h) / MAX_DETAIL_ZOOM), round(DETAIL_MIN_SHARE * min(sh, sw))), min(sh, sw))
    try:
        x0, y0, x1, y1 = (int(v) for v in detail_region(source, w / h, min_side))
    except ValueError:  # no window of this aspect: the whole product
        x0, y0, x1, y1 = 0, 0, sw, sh
    x0, y0 = max(0, min(x0, sw - 1)), max(0, min(y0, sh - 1))
    x1, y1 = max(x0 + 1, min(x1, sw)), max(y0 + 1, min(y1, sh))
    crop = source[y0:y1, x0:x1]
    ch, cw = crop.shape[:2]
    cover = max(w / cw, h / ch)
    if cut.treatment != "framed":
        # a cut-out is an object, so the frame's edges crop it, never a box: the whole product at
        # the detail's zoom, its detailed region in the middle of the frame, the set around it
        scale = min(cover, MAX_DETAIL_ZOOM)
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        wx0, wy0 = max(0, math.floor(mx - w / scale / 2)), max(0, math.floor(my - h / scale / 2))
        wx1, wy1 = min(sw, math.ceil(mx + w / scale / 2)), min(sh, math.ceil(my + h / scale / 2))
        colour, alpha = _resized(source[wy0:wy1, wx0:wx1], scale)
        px, py = round(w / 2 - (mx - wx0) * scale), round(h / 2 - (my - wy0) * scale)
        size = max(alpha.shape)
        _drop_shadow(canvas, alpha, px, py, 0, 0.02 * size, 0.03 * size)
        _over(canvas, _lit(colour, alpha, look, comp, w / 2), alpha, px, py)
    elif cover <= MAX_DETAIL_ZOOM:  # the photo's crop, full bleed
        colour, _ = _resized(crop, cover)
        ox, oy = (colour.shape[1] - w) // 2, (colour.shape[0] - h) // 2
        canvas[:] = colour[oy : oy + h, ox : ox + w]
    else:  # a photo too small to fill the frame at this zoom: a print of the detail
        fit = min(MAX_DETAIL_ZOOM, 0.86 * w / cw, 0.86 * h / ch)
        sharp, sharp_alpha = _print_card(crop, fit * ch * 1.1, fit * cw * 1.1, look)
        ph, pw = sharp_alpha.shape
        px, py = round((w - pw) / 2), round((h - ph) / 2)
        _drop_shadow(canvas, sharp_alpha, px, py, 0, 0.02 * max(ph, pw), 0.03 * max(ph, pw))
        _over(canvas, sharp, sharp_alpha, px, py)
    # a macro lens: a light sweep across the surface and the frame's edges falling out of focus,
    # both soft, so they are computed at a quarter of the size
    q = 4
    ys = (np.arange(-(-h // q), dtype=np.float32)[:, None] + 0.5) * q / h - 0.5
    xs = (np.arange(-(-w // q), dtype=np.float32)[None, :] + 0.5) * q / w - 0.5
    side = 1.0 if comp.key_x > comp.subject_x else -1.0
    sweep: np.ndarray = np.exp(-(((xs * side + ys * 0.6 + 0.12) / 0.16) ** 2)) * (0.16 if look.low_key else 0.1)
    edges: np.ndarray = np.clip((xs * xs + ys * ys) / 0.5 - 0.35, 0.0, 1.0)
    sweep = cv2.resize(sweep.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    edges = cv2.resize(edges.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    canvas[:] = 1.0 - (1.0 - canvas) * (1.0 - sweep * look.key_colour)
    half = cv2.resize(canvas, (max(1, w // 3), max(1, h // 3)), interpolation=cv2.INTER_AREA)
    soft = cv2.resize(half, (w, h), interpolation=cv2.INTER_LINEAR)
    canvas[:] = canvas * (1 - edges) + soft * edges


def _subject(canvas: np.ndarray, req: FrameRequest, look: Look, comp: Composition, product: Product) -> None:
    """The product, as the beat's role shows it."""
    if comp.role == DETAIL:
        _detail(canvas, product, look, comp, req)
        return
    if comp.role == LIFESTYLE and comp.shot.floor:
        _tabletop(canvas, req, look, comp)
    _object(canvas, product, look, comp, req)


def product_note(req: FrameRequest, product: Product | str) -> str:
    """The frame's note on the progress stream: how the product was shown, or why it was not."""
    if isinstance(product, str):
        return f"beat {req.beat_index}: the product image cannot be used ({product}); drawn without it"
    cut = product.cut
    default = {"alpha": "product shown with its own transparency", "framed": "product framed as a print"}
    how = cut.note.strip() or default.get(cut.treatment, "product cut out")
    return (
        f"beat {req.beat_index}: {how} [treatment {cut.treatment}, confidence {cut.confidence:.2f}];"
        f" shown as the {comp_role_name(req)}"
    )


def comp_role_name(req: FrameRequest) -> str:
    return {HERO: "hero", DETAIL: "detail crop", LIFESTYLE: "lifestyle set", PACKSHOT: "packshot"}[role_of(req)]


# ------------------------------------------------------------------------------------------ typography


@dataclass(frozen=True)
class TextBlock:
    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    line_height: int


def _font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font (Pillow ≥ 10.1 built with FreeType), so no font files are needed."""
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("Pillow was built without FreeType: the storyboard needs its scalable default font")
    return font


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Greedy word wrap; a word longer than the line is broken between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:
            if font.getlength(current + ch) <= width or not current:
                current += ch
            else:
                lines.append(current)
                current = ch
    if current:
        lines.append(current)
    return lines


def fit_text(text: str, width: float, height: float, size: int, max_lines: int, min_size: int) -> TextBlock | None:
    """The largest font size (≤ size) at which the text wraps into the box; shrinks, never overflows.

    At the smallest size, lines that do not fit are dropped and the last one kept ends in an ellipsis;
    None when there is no text or not even one line fits.
    """
    text = " ".join(text.split())
    if not text or width < 4 or height < 4:
        return None
    size = max(size, min_size)
    while True:
        font = _font(size)
        ascent, descent = font.getmetrics()
        line_height = max(math.ceil(size * 1.18), ascent + descent)
        lines = _wrap(text, font, width)
        fits = len(lines) <= max_lines and len(lines) * line_height <= height
        if fits or size <= min_size:
            break
        size = max(min_size, int(size * 0.9))
    room = min(max_lines, int(height // line_height))
    if room < 1:
        return None
    if len(lines) > room:
        lines = lines[:room]
        last = lines[-1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return TextBlock(tuple(lines), font, line_height)


def _glyph_mask(block: TextBlock, width: int, align: str) -> np.ndarray:
    """Coverage of the block's glyphs, lightly emboldened with a same-colour stroke (one weight ships)."""
    ascent, descent = block.font.getmetrics()
    stroke = max(0, round(block.font.size / 34))
    height = block.line_height * (len(block.lines) - 1) + ascent + descent + 2 * stroke + 2
    img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(block.lines):
        line_w = block.font.getlength(line)
        x = (width - line_w) / 2 if align == "center" else float(stroke)
        draw.text(
            (x, i * block.line_height + stroke), line, font=block.font, fill=255, stroke_width=stroke, stroke_fill=255
        )
    return np.asarray(img, np.float32) / 255.0


def _text_colours(look: Look) -> tuple[np.ndarray, np.ndarray]:
    light = _with_value(_mix(look.key_colour, np.ones(3, np.float32), 0.8), 1.0)
    dark = _with_value(_mix(look.backdrop_bottom, np.zeros(3, np.float32), 0.6), 0.09)
    return light, dark


def _meets(text: np.ndarray, background: np.ndarray) -> bool:
    """Whether every background pixel reaches the target contrast against the text colour."""
    text_l = float(luminance(text))
    lum = luminance(background)
    worst = float(lum.max()) if text_l >= 0.5 else float(lum.min())
    return contrast_ratio(text_l, worst) >= TARGET_CONTRAST


def _scrim_alpha(region: np.ndarray, text: np.ndarray, scrim: np.ndarray) -> float:
    """The least scrim opacity at which every background pixel under the text meets the target contrast."""
    for alpha in np.linspace(0.0, 1.0, 41):
        if _meets(text, region * (1 - alpha) + scrim * alpha):
            return float(alpha)
    return 1.0


def _plate_colour(plate: np.ndarray, text: np.ndarray) -> np.ndarray:
    """The plate colour, darkened or lightened just enough for the text on it to be legible."""
    colour = plate.copy()
    for _ in range(60):
        if _meets(text, colour[None, :]):
            break
        colour = colour * 0.92 if float(luminance(text)) >= 0.5 else colour + (1 - colour) * 0.12
    return colour.astype(np.float32)


def _rounded_rect(shape: tuple[int, int], x0: float, y0: float, x1: float, y1: float, r: float) -> np.ndarray:
    """Anti-aliased coverage of a rounded rectangle (coordinates relative to the patch)."""
    ys = np.arange(shape[0], dtype=np.float32)[:, None] + 0.5
    xs = np.arange(shape[1], dtype=np.float32)[None, :] + 0.5
    r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
    qx = np.abs(xs - (x0 + x1) / 2) - ((x1 - x0) / 2 - r)
    qy = np.abs(ys - (y0 + y1) / 2) - ((y1 - y0) / 2 - r)
    dist = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2) + np.minimum(np.maximum(qx, qy), 0) - r
    return np.clip(0.5 - dist, 0.0, 1.0).astype(np.float32)


def _pad(block: TextBlock) -> int:
    return max(4, int(block.font.size * 0.45))


def _draw_block(
    canvas: np.ndarray,
    coverage: np.ndarray,
    block: TextBlock,
    x0: int,
    width: int,
    y: int,
    align: str,
    look: Look,
    plate: np.ndarray | None,
) -> None:
    """Draws one text block with a soft shadow, over a scrim (or a solid plate) sized for legibility.

    The scrim's opacity is the least that gives every background pixel under the text the target
    contrast, so text stays legible over any backdrop without hiding more of the picture than needed.
    """
    mask = _glyph_mask(block, width, align)
    ys, xs = np.nonzero(mask > 0.02)
    if len(xs) == 0:
        return
    h, w = canvas.shape[:2]
    pad = _pad(block)
    soft = max(2.0, pad * 0.4)
    gx0, gx1, gy0, gy1 = x0 + xs.min(), x0 + xs.max() + 1, y + ys.min(), y + ys.max() + 1
    margin = 2 * pad + int(3 * soft)
    cx0, cy0 = max(0, gx0 - margin), max(0, gy0 - margin)
    cx1, cy1 = min(w, gx1 + margin), min(h, gy1 + margin)
    view = canvas[cy0:cy1, cx0:cx1]
    shape = view.shape[:2]
    glyphs = np.zeros(shape, np.float32)
    mx0, my0 = x0 - cx0, y - cy0
    src = mask[max(0, -my0) : shape[0] - my0, max(0, -mx0) : shape[1] - mx0]
    glyphs[max(0, my0) : max(0, my0) + src.shape[0], max(0, mx0) : max(0, mx0) + src.shape[1]] = src
    side_pad = 2 * pad if plate is not None else pad  # a button gets room for its rounded ends
    bx0, by0, bx1, by1 = gx0 - cx0 - side_pad, gy0 - cy0 - pad * 0.8, gx1 - cx0 + side_pad, gy1 - cy0 + pad * 0.8
    light, dark = _text_colours(look)
    if plate is not None:
        text = max((light, dark), key=lambda c: contrast_ratio(float(luminance(c)), float(luminance(plate))))
        backing, cover = (
            _plate_colour(plate, text),
            _rounded_rect(shape, bx0, by0, bx1, by1, min((by1 - by0) / 2, 1.5 * pad)),
        )
    else:
        inside = view[max(0, int(by0)) : int(by1), max(0, int(bx0)) : int(bx1)]
        white, black = np.ones(3, np.float32), np.zeros(3, np.float32)
        on_dark, on_light = _scrim_alpha(inside, light, black), _scrim_alpha(inside, dark, white)
        # the polarity that needs the lighter scrim hides the least of the picture
        use_dark = on_light + (0.0 if look.low_key else 0.15) < on_dark
        text, backing = (dark, white) if use_dark else (light, black)
        alpha = max(0.18, on_light if use_dark else on_dark)
        solid = _rounded_rect(shape, bx0, by0, bx1, by1, pad * 0.6)
        halo = cv2.GaussianBlur(_rounded_rect(shape, bx0 - soft, by0 - soft, bx1 + soft, by1 + soft, pad), (0, 0), soft)
        cover = np.maximum(solid, halo) * alpha
    view *= 1 - cover[..., None]
    view += cover[..., None] * backing
    offset = max(1, block.font.size // 18)
    shadow = np.zeros_like(glyphs)
    shadow[offset:, offset:] = glyphs[:-offset, :-offset]
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(1.0, offset * 1.2)) * 0.55
    view *= 1 - shadow[..., None]
    view += shadow[..., None] * (np.zeros(3, np.float32) if text is light else np.ones(3, np.float32))
    view *= 1 - glyphs[..., None]
    view += glyphs[..., None] * text
    np.maximum(coverage[cy0:cy1, cx0:cx1], glyphs, out=coverage[cy0:cy1, cx0:cx1])


def _typography(canvas: np.ndarray, req: FrameRequest, look: Look, comp: Composition) -> np.ndarray:
    """Sets the headline and subline in the composition's text box; a closing headline sits on a button.

    Returns the glyphs' coverage (0..1 per pixel).
    """
    coverage = np.zeros(canvas.shape[:2], np.float32)
    x0, y0, x1, y1 = comp.text_box
    short = min(req.width, req.height)
    width, height = x1 - x0, y1 - y0
    head_size = int(short * (0.07 if comp.cta else 0.085))
    button_room = 2 * int(0.9 * head_size) if comp.cta else 0  # the button's rounded ends
    head = fit_text(req.headline, width - button_room, height * 0.68, head_size, 3, max(8, int(short * 0.028)))
    gap = int(short * 0.03) + (_pad(head) if head and comp.cta else 0)
    head_h = head.line_height * len(head.lines) if head else 0
    sub_room = height - (head_h + gap if head else 0)
    sub = fit_text(req.subline, width, sub_room, int(short * 0.042), 2, max(8, int(short * 0.022)))
    sub_h = sub.line_height * len(sub.lines) if sub else 0
    total = head_h + sub_h + (gap if head and sub else 0)
    if comp.text_align == "left":
        y = y0 + (height - total) // 2
    elif y0 > req.height / 2:
        y = y1 - total
    else:
        y = y0
    if head:
        plate = look.accent if comp.cta else None
        _draw_block(canvas, coverage, head, x0 + button_room // 2, width - button_room, y, comp.text_align, look, plate)
        y += head_h + gap
    if sub:
        _draw_block(canvas, coverage, sub, x0, width, y, comp.text_align, look, None)
    return coverage


# ------------------------------------------------------------------------------------- motion design

# The opacity of the wordmark a detail beat sets larger than the frame, behind its super.
GHOST_WORDMARK = 0.3
# Pillow's bundled font has one weight; a wordmark wants a bold one. DejaVu Sans Bold (Debian's
# fonts-dejavu-core, which `make fonts` installs for refine's supers) is found by name on the
# system's font path, or in the folder the settings name (ADGEN_FONT_DIR); without it the bundled
# font is emboldened with a stroke.
DISPLAY_FONT = "DejaVuSans-Bold.ttf"
CALM_TEXT_BOX = 0.85  # how much of the shapes fades out over the text box, kept for refine's supers


@lru_cache(maxsize=64)
def _display_font(size: int, folder: Path | None) -> tuple[ImageFont.FreeTypeFont, int]:
    """The wordmark's font at `size` and the stroke that emboldens it (0 for a real bold)."""
    for name in ([str(folder / DISPLAY_FONT)] if folder else []) + [DISPLAY_FONT]:
        try:
            return ImageFont.truetype(name, size), 0
        except OSError:
            continue
    return _font(size), max(1, round(size / 22))


def _tracked_width(text: str, font: ImageFont.FreeTypeFont, tracking: float) -> float:
    return sum(font.getlength(ch) for ch in text) + tracking * font.size * max(0, len(text) - 1)


def _wordmark_options(brand: str) -> list[list[str]]:
    """The brand on one line, and on two balanced lines when it has several words."""
    words = " ".join(brand.split())
    words = words.upper() if len(words) <= 24 else words
    parts = words.split()
    options = [[words]]
    if len(parts) >= 2:  # the split that makes the longer line shortest
        best = min(range(1, len(parts)), key=lambda i: max(len(" ".join(parts[:i])), len(" ".join(parts[i:]))))
        options.append([" ".join(parts[:best]), " ".join(parts[best:])])
    return options


def _wordmark_mask(
    brand: str, width: float, height: float, w: int, h: int, cx: float, cy: float, fonts: Path | None
) -> np.ndarray:
    """Coverage of the brand set large and letter-spaced, centred on (cx, cy), as big as fits
    width × height, on one line or two, whichever sets it larger (it may be wider than the frame: a
    detail beat crops into the letters)."""
    tracking = 0.06
    best: tuple[int, list[str]] | None = None
    for lines in _wordmark_options(brand):
        size = max(8, int(height / (len(lines) * 1.05)))
        font, _ = _display_font(size, fonts)
        widest = max(_tracked_width(line, font, tracking) for line in lines)
        if widest > width:
            size = max(8, int(size * width / widest))
        if best is None or size > best[0]:
            best = (size, lines)
    assert best is not None
    size, lines = best
    font, stroke = _display_font(size, fonts)
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    ascent, _ = font.getmetrics()
    line_h = int(size * 1.05)
    top = cy - (line_h * (len(lines) - 1) + ascent) / 2
    for i, line in enumerate(lines):
        x = cx - _tracked_width(line, font, tracking) / 2
        y = top + i * line_h
        for ch in line:
            draw.text((x, y), ch, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
            x += font.getlength(ch) + tracking * size
    return np.asarray(mask, np.float32) / 255.0


def _box_mask(shape: tuple[int, int], box: tuple[int, int, int, int], soft: float) -> np.ndarray:
    """A feathered rectangle, drawn at a quarter of the size (it is all soft)."""
    h, w = shape
    q = 4
    x0, y0, x1, y1 = (v / q for v in box)
    small = _rounded_rect((-(-h // q), -(-w // q)), x0, y0, x1, y1, soft / q)
    small = cv2.GaussianBlur(small, (0, 0), max(0.5, soft / q))
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _paint(layer: np.ndarray, mask: np.ndarray, colour: np.ndarray, opacity: float) -> None:
    """Lays `colour` over the layer through the mask (uint8 0..255 or float 0..1), inside its bounds only."""
    x, y, bw, bh = cv2.boundingRect((mask > (0 if mask.dtype == np.uint8 else 1e-3)).astype(np.uint8))
    if bw == 0 or bh == 0:
        return
    m = mask[y : y + bh, x : x + bw]
    m = m.astype(np.float32) / 255.0 if mask.dtype == np.uint8 else m
    a = (m * opacity)[..., None]
    view = layer[y : y + bh, x : x + bw]
    view *= 1 - a
    view += a * colour


def _shape_mask(h: int, w: int, draw_fn: Callable[..., object]) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    draw_fn(mask)
    return mask


def _motion_design(
    canvas: np.ndarray, req: FrameRequest, look: Look, comp: Composition, fonts: Path | None
) -> np.ndarray:
    """A frame without a product: bold shapes in the palette and the brand as the hero. Returns the
    wordmark's coverage (0..1 per pixel)."""
    h, w = canvas.shape[:2]
    short = min(w, h)
    rng = np.random.default_rng(_seed(req.seed, 5))
    role = comp.role
    cx, cy = comp.subject_x, comp.subject_y
    if role != DETAIL and comp.text_align == "center" and comp.text_box[1] > h / 2:
        cy = min(cy, 0.5 * comp.text_box[1] + 0.02 * h)
    design = canvas.copy()
    # on a light ground the shapes are deeper, so they read as graphics and not as haze
    accent = look.accent if look.low_key else _with_value(look.accent, 0.72)
    secondary = look.secondary if look.low_key else _with_value(look.secondary, 0.6)
    band = _mix(look.backdrop_top, accent, 0.35 if look.low_key else 0.25)
    spin = float(rng.uniform(0, 360))
    s16 = 16

    def pt(x: float, y: float) -> tuple[int, int]:
        return int(x * s16), int(y * s16)

    # a broad diagonal band of colour behind everything
    angle = math.radians(float(rng.uniform(-35, -20)) * (1 if req.beat_index % 2 else -1))
    dx, dy = math.cos(angle), math.sin(angle)
    thick = (0.16 if role != PACKSHOT else 0.1) * short
    nx, ny = -dy * thick, dx * thick
    far = 2 * max(w, h)
    quad = np.array(
        [
            pt(cx - dx * far + nx, cy - dy * far + ny),
            pt(cx + dx * far + nx, cy + dy * far + ny),
            pt(cx + dx * far - nx, cy + dy * far - ny),
            pt(cx - dx * far - nx, cy - dy * far - ny),
        ],
        np.int32,
    )
    _paint(design, _shape_mask(h, w, lambda m: cv2.fillPoly(m, [quad], 255, cv2.LINE_AA, shift=4)), band, 0.55)
    if role == HERO:
        radius, ring = 0.42 * short, 0.055 * short
        arc = _shape_mask(
            h,
            w,
            lambda m: cv2.ellipse(
                m, pt(cx, cy), pt(radius, radius), spin, 0, 250, 255, max(1, int(ring)), cv2.LINE_AA, shift=4
            ),
        )
        _paint(design, arc, accent, 0.92)
        thin = _shape_mask(
            h,
            w,
            lambda m: cv2.circle(
                m, pt(cx, cy), int(0.5 * short * s16), 255, max(1, int(0.006 * short)), cv2.LINE_AA, 4
            ),
        )
        _paint(design, thin, look.key_colour, 0.45)
        for k, fade in ((3, 0.18), (2, 0.3), (1, 0.5), (0, 0.95)):  # a ball running along the arc, with trails
            back = math.radians(spin + 250 - 9 * k)
            bx, by = cx + radius * math.cos(back), cy + radius * math.sin(back)
            dot = _shape_mask(
                h,
                w,
                lambda m, bx=bx, by=by: cv2.circle(m, pt(bx, by), int(0.07 * short * s16), 255, -1, cv2.LINE_AA, 4),
            )
            _paint(design, dot, secondary, fade)
    elif role == DETAIL:
        ox = cx + (0.35 if req.beat_index % 2 else -0.35) * w
        for k in range(4):
            r = (0.95 - 0.2 * k) * short
            arc = _shape_mask(
                h,
                w,
                lambda m, r=r, k=k: cv2.ellipse(
                    m, pt(ox, cy), pt(r, r), spin + 20 * k, 0, 200, 255, max(1, int(0.045 * short)), cv2.LINE_AA, 4
                ),
            )
            _paint(design, arc, accent if k % 2 == 0 else secondary, 0.8 - 0.12 * k)
    elif role == LIFESTYLE:
        big = _shape_mask(h, w, lambda m: cv2.circle(m, pt(cx, cy), int(0.36 * short * s16), 255, -1, cv2.LINE_AA, 4))
        _paint(design, big, accent, 0.85)
        for k in range(5):  # a row of dots, like a loader mid-animation
            r = 0.014 * short * (1 + 0.35 * k)
            px = cx - 0.3 * short + k * 0.15 * short
            py = cy + 0.47 * short
            dot = _shape_mask(
                h, w, lambda m, px=px, py=py, r=r: cv2.circle(m, pt(px, py), int(r * s16), 255, -1, cv2.LINE_AA, 4)
            )
            _paint(design, dot, secondary, 0.5 + 0.1 * k)
    else:  # packshot: calm, one ring framing the wordmark and a rule under it
        ring = _shape_mask(
            h,
            w,
            lambda m: cv2.circle(m, pt(cx, cy), int(0.3 * short * s16), 255, max(1, int(0.01 * short)), cv2.LINE_AA, 4),
        )
        _paint(design, ring, accent, 0.6)
    calm = _box_mask((h, w), comp.text_box, 0.03 * short) * CALM_TEXT_BOX
    x, y, bw, bh = cv2.boundingRect((calm > 1e-3).astype(np.uint8))
    c = calm[y : y + bh, x : x + bw, None]
    design[y : y + bh, x : x + bw] = design[y : y + bh, x : x + bw] * (1 - c) + canvas[y : y + bh, x : x + bw] * c
    canvas[:] = design
    if not req.brand.strip():
        return np.zeros((h, w), np.float32)
    # the brand as the hero
    room_x0, room_x1 = SAFE_MARGIN * w, (1 - SAFE_MARGIN) * w
    if comp.text_align == "left":
        room_x0, room_x1 = (SAFE_MARGIN * w, 0.5 * w) if comp.text_box[0] > w / 2 else (0.5 * w, (1 - SAFE_MARGIN) * w)
    room_w = room_x1 - room_x0
    mark_h = {HERO: 0.3, DETAIL: 0.62, LIFESTYLE: 0.22, PACKSHOT: 0.17}[role] * short
    mark_w = room_w * (2.6 if role == DETAIL else 0.88)
    mx = cx if role != DETAIL else cx + (0.18 if req.beat_index % 2 else -0.18) * room_w
    mask = _wordmark_mask(req.brand, mark_w, mark_h, w, h, mx, cy, fonts)
    if role == DETAIL:
        mask *= 1 - calm
    bx, by, bw, bh = cv2.boundingRect((mask > 0.02).astype(np.uint8))
    if bw == 0 or bh == 0:
        return mask
    # the letters' effects (trail, glow, shadow) are worked out around the letters only
    pad = int(0.1 * short)
    x0, y0, x1, y1 = max(0, bx - pad), max(0, by - pad), min(w, bx + bw + pad), min(h, by + bh + pad)
    view, letters = canvas[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    lum = float(luminance(view[letters > 0.5].mean(axis=0))) if (letters > 0.5).any() else 0.5
    light, dark = _text_colours(look)
    on_light, on_dark = contrast_ratio(float(luminance(light)), lum), contrast_ratio(float(luminance(dark)), lum)
    ink = light if on_light >= 3.0 or on_light >= on_dark else dark  # light type reads as the brighter mark
    offset = max(2, int(0.012 * short))
    if role == DETAIL:
        # Set larger than the frame, the name is texture behind the beat's super, not a second line
        # to read: tone on tone, without the glow and trail that make a hero of it elsewhere.
        _paint(view, letters, ink, GHOST_WORDMARK)
        return mask
    echo = np.zeros_like(letters)
    echo[:, : echo.shape[1] - 2 * offset] = letters[:, 2 * offset :]  # a trail, as if the word had just slid in
    _paint(view, _soft_blur(echo, offset * 0.8), accent if role != LIFESTYLE else secondary, 0.45)
    glow = _soft_blur(letters, 0.03 * short) * (0.5 if look.low_key else 0.2)
    view[:] = 1.0 - (1.0 - view) * (1.0 - glow[..., None] * look.key_colour)
    shade = np.zeros_like(letters)
    shade[offset:, offset:] = letters[:-offset, :-offset]
    black, white = np.zeros(3, np.float32), np.ones(3, np.float32)
    _paint(view, _soft_blur(shade, offset), black if ink is light else white, 0.35)
    _paint(view, letters, ink, 1.0)
    if role == PACKSHOT:
        rows = np.nonzero(mask.max(axis=1) > 0.5)[0]
        cols = np.nonzero(mask.max(axis=0) > 0.5)[0]
        if len(rows) and len(cols):
            y = rows[-1] + int(0.05 * short)
            x0, x1 = cols[0] + 0.3 * (cols[-1] - cols[0]), cols[-1] - 0.3 * (cols[-1] - cols[0])
            rule = _shape_mask(
                h, w, lambda m: cv2.line(m, pt(x0, y), pt(x1, y), 255, max(1, int(0.006 * short)), cv2.LINE_AA, 4)
            )
            _paint(canvas, rule, accent, 0.95)
    return mask


# ---------------------------------------------------------------------------------------------- finish


def _vignette(canvas: np.ndarray, look: Look, comp: Composition) -> None:
    """Darkens the edges around the subject; applied before the text so the text keeps its colour."""
    h, w = canvas.shape[:2]
    ys = (np.arange(h, dtype=np.float32)[:, None] + 0.5 - comp.subject_y) / (0.75 * h)
    xs = (np.arange(w, dtype=np.float32)[None, :] + 0.5 - comp.subject_x) / (0.75 * w)
    canvas *= (1.0 - look.vignette * np.clip(xs * xs + ys * ys, 0.0, 1.6) / 1.6)[..., None]


def _to_uint8(canvas: np.ndarray) -> np.ndarray:
    """Rounds to 8 bits. No film grain: per-pixel noise would multiply the size of every lossless
    intermediate clip and the bitrate the final encode spends on it."""
    return np.clip(canvas * 255.0 + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Drawing:
    image: np.ndarray  # RGB uint8 (height, width, 3)
    text_coverage: np.ndarray  # float32 (height, width): how much of each pixel is glyph, 0..1
    # float32 (height, width): the brand wordmark of a frame without a product, 0..1
    wordmark_coverage: np.ndarray | None = None
    notes: tuple[str, ...] = field(default=())  # how the product was shown, or why it was not


def draw(req: FrameRequest, fonts: Path | None = None) -> Drawing:
    """The frame, where its text (and wordmark) landed, so legibility and safe margins can be checked
    on the pixels, and the notes on how the product was shown. `fonts` is a folder to look for the
    display face in before the system's font path."""
    if req.width < 16 or req.height < 16:
        raise ValueError(f"frame size {req.width}x{req.height} is too small to draw on (min 16x16)")
    look = look_for(req)
    comp = compose(req)
    product = prepare_product(req.product_image) if req.product_image is not None else None
    notes = (product_note(req, product),) if product is not None else ()
    if isinstance(product, Product):
        canvas = _background(req, look, comp, product=True)
        _subject(canvas, req, look, comp, product)
        wordmark = np.zeros(canvas.shape[:2], np.float32)
    else:
        canvas = _background(req, look, comp, product=False)
        wordmark = _motion_design(canvas, req, look, comp, fonts)
    _vignette(canvas, look, comp)
    coverage = _typography(canvas, req, look, comp)
    return Drawing(_to_uint8(canvas), coverage, wordmark, notes)


def render_frame(req: FrameRequest) -> np.ndarray:
    """Draws the beat's storyboard image: RGB uint8, shape (height, width, 3), deterministic."""
    return draw(req).image


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of an RGB or RGBA uint8 image."""
    code = cv2.COLOR_RGBA2BGRA if image.ndim == 3 and image.shape[2] == 4 else cv2.COLOR_RGB2BGR
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, code))
    if not ok:
        raise ValueError("could not encode the image as PNG")
    return data.tobytes()


def decode_image(data: bytes) -> np.ndarray:
    """PNG, JPEG or WebP bytes as RGB (or RGBA when the image has an alpha channel) uint8."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError("the bytes are not a readable PNG, JPEG or WebP image")
    if image.dtype != np.uint8:
        image = (image / 257.0 + 0.5).astype(np.uint8) if image.dtype == np.uint16 else image.astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
