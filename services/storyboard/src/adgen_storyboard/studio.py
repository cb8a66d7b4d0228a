"""The studio storyboard renderer: a draft-quality ad frame per beat, drawn locally without any model.

A frame is a lit studio set in the style's palette (gradient backdrop, key light, bokeh, light
streaks, vignette), a subject (the user's product image, or a glossy rendered bottle on a
pedestal when there is none) framed by the beat's shot type and position, and the beat's text set
in a real scalable font with a contrast the renderer checks before it draws. Everything random is
drawn from the request's seed, so the same request always gives the same pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

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
    body: np.ndarray
    metal: np.ndarray
    pedestal: np.ndarray
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
    """Assigns the palette roles (backdrop, accent, subject, metal) and the key from the style words."""
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
        pedestal = _with_value(_mix(darkest, brightest, 0.15), 0.16)
    else:
        top = _with_value(_mix(brightest, np.ones(3, np.float32), 0.3), 0.96)
        bottom = _with_value(_mix(brightest, secondary, 0.35), 0.78)
        pedestal = _with_value(_mix(brightest, np.ones(3, np.float32), 0.5), 0.93)
    body = accent if _saturation(accent) > 0.15 else secondary
    body = _with_value(body, 0.62 if low_key else 0.55)
    metal = _with_value(_mix(brightest, np.array([0.95, 0.85, 0.6], np.float32), 0.4), 0.92)
    dramatic = _has(req.lighting.lower(), ("dramatic", "low-key", "low key", "moody", "noir"))
    return Look(
        low_key=low_key,
        backdrop_top=top,
        backdrop_bottom=bottom,
        key_colour=key,
        accent=_with_value(accent, 1.0),
        secondary=_with_value(secondary, 0.9),
        body=body,
        metal=metal,
        pedestal=pedestal,
        vivid=vivid,
        vignette=0.62 if dramatic else (0.45 if low_key else 0.22),
        key_strength=0.55 if low_key else 0.35,
    )


# --------------------------------------------------------------------------------------------- framing


@dataclass(frozen=True)
class ShotFraming:
    size: float  # subject height as a fraction of the frame's short side
    floor: bool
    pedestal: bool
    tilt_deg: float
    depth_of_field: float  # 0 = everything sharp, 1 = very shallow


SHOTS = {
    "extreme_close_up": ShotFraming(1.55, False, False, 0.0, 1.0),
    "macro": ShotFraming(1.25, False, False, 0.0, 1.0),
    "close_up": ShotFraming(0.62, False, True, 0.0, 0.7),
    "medium_close_up": ShotFraming(0.54, False, True, 0.0, 0.6),
    "medium": ShotFraming(0.46, True, True, 0.0, 0.45),
    "medium_wide": ShotFraming(0.38, True, True, 0.0, 0.35),
    "wide": ShotFraming(0.30, True, True, 0.0, 0.25),
    "wide_cinematic": ShotFraming(0.28, True, True, 0.0, 0.25),
    "dynamic": ShotFraming(0.50, False, False, -9.0, 0.55),
    "dynamic_multi": ShotFraming(0.46, False, False, 8.0, 0.55),
    "tracking": ShotFraming(0.44, True, False, -5.0, 0.5),
}


@dataclass(frozen=True)
class Composition:
    """Where things go in this beat's frame, in pixels."""

    subject_x: float
    subject_y: float  # centre of the subject
    subject_h: float
    shot: ShotFraming
    horizon_y: float
    key_x: float
    key_y: float
    text_box: tuple[int, int, int, int]  # x0, y0, x1, y1
    text_align: str  # "left" | "center"
    cta: bool


def compose(req: FrameRequest) -> Composition:
    """Frames the beat: shot size from the shot type, placement from the beat's position in the ad.

    Middle beats alternate the subject between the thirds so consecutive beats read as different
    shots; the text takes the other side (landscape) or the other end (portrait and square). The
    text's place is kept even when a beat has no text, so the framing never depends on the copy.
    """
    w, h = req.width, req.height
    short = min(w, h)
    shot = SHOTS.get(req.shot_type, SHOTS["medium"])
    landscape = w >= 1.2 * h
    left = req.beat_index % 2 == 0
    ix, iy = TEXT_INSET * w, TEXT_INSET * h
    subject_h = shot.size * short
    if req.position == "middle" and landscape:
        sx = 0.31 * w if left else 0.69 * w
        sy = 0.5 * h
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
    if shot.size > 1.0 and req.product_image is None:
        sy += 0.22 * subject_h  # extreme close-ups sit low so the bottle's lit shoulder fills the frame
    horizon = sy + 0.5 * subject_h - (0.02 if shot.pedestal else 0.0) * h
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
    )


def _seed(seed: int, stream: int) -> list[int]:
    return [seed % (1 << 63), stream]


# ------------------------------------------------------------------------------------------ background


def _grid(w: int, h: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates of a (possibly reduced) canvas, expressed in full-frame pixels."""
    ys = (np.arange(h, dtype=np.float32) + 0.5) * scale
    xs = (np.arange(w, dtype=np.float32) + 0.5) * scale
    return xs[None, :], ys[:, None]


def _background(req: FrameRequest, look: Look, comp: Composition) -> np.ndarray:
    """Backdrop, floor, key light, light streaks and bokeh, drawn at reduced size (it is all soft)."""
    s = BACKGROUND_SCALE
    bw, bh = max(8, -(-req.width // s)), max(8, -(-req.height // s))
    x, y = _grid(bw, bh, s)
    w, h = float(req.width), float(req.height)
    rng = np.random.default_rng(_seed(req.seed, 2))
    angle = math.radians(float(rng.uniform(-25, 25)))
    t = np.clip(((x - w / 2) * math.sin(angle) + (y - h / 2) * math.cos(angle)) / h + 0.5, 0.0, 1.0)
    img = look.backdrop_top[None, None, :] * (1 - t[..., None]) + look.backdrop_bottom[None, None, :] * t[..., None]
    if comp.shot.floor:
        floor = np.clip((y - comp.horizon_y) / (0.02 * h), 0.0, 1.0)
        depth = np.clip((y - comp.horizon_y) / max(h - comp.horizon_y, 1.0), 0.0, 1.0)
        floor_colour = _mix(look.backdrop_bottom, look.pedestal, 0.25) * (0.8 if look.low_key else 0.92)
        floor_img = floor_colour[None, None, :] * (1.0 - 0.25 * depth[..., None])
        # the key light pooled on a glossy floor
        pool = np.exp(-(((x - comp.subject_x) / (0.35 * w)) ** 2) - ((y - comp.horizon_y) / (0.25 * h)) ** 2)
        floor_img = floor_img + (0.35 if look.low_key else 0.12) * pool[..., None] * look.key_colour
        img = img * (1 - floor[..., None]) + floor_img * floor[..., None]
    glow = np.exp(-(((x - comp.key_x) / (0.42 * w)) ** 2 + ((y - comp.key_y) / (0.55 * h)) ** 2))
    halo = np.exp(-(((x - comp.subject_x) / (0.3 * w)) ** 2 + ((y - comp.subject_y) / (0.4 * h)) ** 2))
    img = img + look.key_strength * glow[..., None] * look.key_colour * 0.55
    img = img + (0.25 if look.low_key else 0.1) * halo[..., None] * _mix(look.key_colour, look.accent, 0.4)
    img = img + _streaks(req, look, comp, x, y, rng)
    img = _screen(img, _bokeh(req, look, comp, bw, bh, rng) + _speed_lines(req, look, comp, bw, bh, rng))
    return cv2.resize(np.clip(img, 0, 1).astype(np.float32), (req.width, req.height), interpolation=cv2.INTER_CUBIC)


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


def _smoothstep(e0: float, e1: float, v: np.ndarray) -> np.ndarray:
    t = np.clip((v - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


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
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (int(cx - x0), int(cy - y0)), (max(1, int(rx)), max(1, int(ry))), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, rx * 0.25)) * strength
    _over(canvas, np.zeros(3, np.float32), mask, x0, y0)


def _capsule(
    canvas: np.ndarray,
    look: Look,
    comp: Composition,
    a: tuple[float, float],
    b: tuple[float, float],
    radius: float,
    colour: np.ndarray,
    gloss: float,
) -> None:
    """A capsule around the segment a–b rendered as a real 3-D shape: normals from the nearest axis point."""
    x0, x1 = int(min(a[0], b[0]) - radius) - 1, int(max(a[0], b[0]) + radius) + 2
    y0, y1 = int(min(a[1], b[1]) - radius) - 1, int(max(a[1], b[1]) + radius) + 2
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
    length = max(math.hypot(b[0] - a[0], b[1] - a[1]), 1e-6)
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    t = np.clip((xs - a[0]) * ux + (ys - a[1]) * uy, 0.0, length)
    dx, dy = xs - (a[0] + t * ux), ys - (a[1] + t * uy)
    cover = np.clip(radius - np.sqrt(dx * dx + dy * dy) + 0.5, 0.0, 1.0)
    nx, ny = dx / radius, dy / radius
    nz = np.sqrt(np.clip(1.0 - nx * nx - ny * ny, 0.0, 1.0))
    across, along = nx * -uy + ny * ux, nx * ux + ny * uy
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    lx, ly, lz = comp.key_x - mid[0], comp.key_y - mid[1], 3.2 * radius
    norm = math.sqrt(lx * lx + ly * ly + lz * lz)
    lx, ly, lz = lx / norm, ly / norm, lz / norm
    diffuse = np.clip(nx * lx + ny * ly + nz * lz, 0.0, 1.0)
    hx, hy, hz = lx, ly, lz + 1.0
    hn = math.sqrt(hx * hx + hy * hy + hz * hz)
    spec = np.clip((nx * hx + ny * hy + nz * hz) / hn, 0.0, 1.0) ** 60
    side = 1.0 if lx * -uy + ly * ux > 0 else -1.0
    # the long vertical highlight of a studio softbox, the signature of a product render
    softbox = _smoothstep(0.16, 0.04, np.abs(across - 0.5 * side)) * _smoothstep(0.9, 0.3, np.abs(along)) * nz
    rim = (1.0 - nz) ** 3
    up = _smoothstep(-1.0, 1.0, -ny)[..., None]
    env = up * look.backdrop_top + (1.0 - up) * look.pedestal
    shade = colour * (0.22 + 0.95 * diffuse[..., None] * look.key_colour)
    shade = shade + 0.12 * env + gloss * (0.9 * spec[..., None] + 0.55 * softbox[..., None]) * look.key_colour
    shade = shade + 0.45 * rim[..., None] * _mix(look.accent, look.key_colour, 0.3)
    _over(canvas, np.clip(shade, 0, 1).astype(np.float32), cover.astype(np.float32), x0, y0)


def _pedestal(
    canvas: np.ndarray, look: Look, comp: Composition, cx: float, top_y: float, radius: float, height: float
) -> None:
    """A round plinth: shaded cylinder body with a lighter elliptical top face."""
    e = radius * 0.16
    x0, x1 = int(cx - radius) - 1, int(cx + radius) + 2
    y0, y1 = int(top_y - e) - 1, int(top_y + height + e) + 2
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
    u = (xs - cx) / radius
    inside_x = np.clip((1.0 - np.abs(u)) * radius + 0.5, 0.0, 1.0)
    arc = e * np.sqrt(np.clip(1.0 - u * u, 0.0, 1.0))
    body_cover = inside_x * np.clip(top_y + height + arc - ys + 0.5, 0.0, 1.0) * np.clip(ys - top_y + 0.5, 0.0, 1.0)
    side = 1.0 if comp.key_x > cx else -1.0
    lambert = np.clip(0.55 + 0.45 * u * side, 0.0, 1.0) * np.sqrt(np.clip(1 - u * u, 0.0, 1.0)) ** 0.3
    band = _smoothstep(0.12, 0.0, np.abs(u - 0.55 * side))
    body = look.pedestal * (0.35 + 0.6 * lambert[..., None]) + 0.18 * band[..., None] * look.key_colour
    body = np.broadcast_to(body, (*body_cover.shape, 3))
    _over(canvas, np.clip(body, 0, 1).astype(np.float32), body_cover.astype(np.float32), x0, y0)
    top_d = np.sqrt(u * u + ((ys - top_y) / e) ** 2)
    top_cover = np.clip((1.0 - top_d) * e + 0.5, 0.0, 1.0)
    top = _mix(look.pedestal, look.key_colour, 0.25) * (1.05 if look.low_key else 1.0)
    top_img = top * (0.85 + 0.15 * np.clip(-u * side + 1, 0, 1))[..., None]
    top_img = np.broadcast_to(top_img, (*top_cover.shape, 3))
    _over(canvas, np.clip(top_img, 0, 1).astype(np.float32), top_cover.astype(np.float32), x0, y0)


def _hero_object(canvas: np.ndarray, look: Look, comp: Composition) -> None:
    """A glossy bottle with a metal cap: a generic product so that a frame always has a subject."""
    height = comp.subject_h
    radius, cap_r = 0.2 * height, 0.084 * height
    cx, cy = comp.subject_x, comp.subject_y
    tilt = math.radians(comp.shot.tilt_deg)

    def at(offset: float) -> tuple[float, float]:
        """A point on the bottle's axis, `offset` below its centre, with the shot's tilt applied."""
        return cx - offset * math.sin(tilt), cy + offset * math.cos(tilt)

    body_top = -0.26 * height
    _capsule(canvas, look, comp, at(body_top + radius), at(0.5 * height - radius), radius, look.body, 1.0)
    _capsule(canvas, look, comp, at(-0.5 * height + cap_r), at(body_top + 0.35 * radius), cap_r, look.metal, 1.3)


def _product_rgba(image: np.ndarray) -> np.ndarray:
    """The product as float RGBA; a plain studio backdrop around an opaque photo is keyed out."""
    img = image.astype(np.float32) / 255.0
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.shape[2] == 4:
        return img
    rgb = img[..., :3]
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    colour = np.median(border, axis=0)
    alpha = np.ones(rgb.shape[:2], np.float32)
    if float(np.abs(border - colour).max(axis=1).mean()) < 0.04 and min(rgb.shape[:2]) >= 8:
        near = (np.abs(rgb - colour).max(axis=2) < 0.08).astype(np.uint8)
        _, labels = cv2.connectedComponents(near, connectivity=4)
        edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        background = np.isin(labels, edge[edge > 0]) & (near > 0)
        alpha = cv2.GaussianBlur(1.0 - background.astype(np.float32), (0, 0), 0.7)
        alpha = np.maximum(alpha, 1.0 - background.astype(np.float32))
    return np.dstack([rgb, alpha])


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


def _product(canvas: np.ndarray, image: np.ndarray, look: Look, comp: Composition, req: FrameRequest) -> None:
    """Composites the product, scaled by shot size, with a contact shadow and a faint floor reflection."""
    rgba = _product_rgba(image)
    h0, w0 = rgba.shape[:2]
    w, h = req.width, req.height
    target_h = min(comp.subject_h, 0.8 * min(w, h))
    max_w = (0.42 if req.position == "middle" and w >= 1.2 * h else 0.8) * w
    scale = min(target_h / h0, max_w / w0)
    nw, nh = max(1, round(w0 * scale)), max(1, round(h0 * scale))
    premult = np.dstack([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]])
    resized = cv2.resize(premult, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    resized = _rotate_rgba(np.clip(resized, 0.0, 1.0), comp.shot.tilt_deg)
    alpha = resized[..., 3]
    colour = np.where(alpha[..., None] > 1e-4, resized[..., :3] / np.maximum(alpha[..., None], 1e-4), 0.0)
    ph, pw = alpha.shape
    x0 = round(comp.subject_x - pw / 2)
    y0 = round(comp.subject_y - ph / 2)
    _shadow(canvas, comp.subject_x, y0 + ph * 0.98, pw * 0.42, max(2.0, ph * 0.05), 0.55)
    if comp.shot.floor and not comp.shot.pedestal:
        fade = np.linspace(0.22, 0.0, ph, dtype=np.float32)[:, None]
        _over(canvas, colour[::-1], alpha[::-1] * fade, x0, y0 + ph)
    _over(canvas, np.clip(colour, 0, 1).astype(np.float32), alpha.astype(np.float32), x0, y0)


def _subject(canvas: np.ndarray, req: FrameRequest, look: Look, comp: Composition) -> None:
    height = comp.subject_h if req.product_image is None else min(comp.subject_h, 0.8 * min(req.width, req.height))
    base_y = comp.subject_y + 0.5 * height
    if comp.shot.pedestal:
        radius = 0.5 * height * (1.1 if req.product_image is None else 0.9)
        _pedestal(canvas, look, comp, comp.subject_x, base_y, radius, 0.45 * height)
        _shadow(canvas, comp.subject_x, base_y, 0.24 * height, 0.035 * height, 0.7)
    elif comp.shot.size <= 1.0:
        _shadow(canvas, comp.subject_x, base_y + 0.08 * height, 0.3 * height, 0.04 * height, 0.45)
    if req.product_image is not None:
        _product(canvas, req.product_image, look, comp, req)
    else:
        _hero_object(canvas, look, comp)


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


def draw(req: FrameRequest) -> Drawing:
    """The frame and where its text landed, so legibility and safe margins can be checked on the pixels."""
    if req.width < 16 or req.height < 16:
        raise ValueError(f"frame size {req.width}x{req.height} is too small to draw on (min 16x16)")
    look = look_for(req)
    comp = compose(req)
    canvas = _background(req, look, comp)
    _subject(canvas, req, look, comp)
    _vignette(canvas, look, comp)
    coverage = _typography(canvas, req, look, comp)
    return Drawing(_to_uint8(canvas), coverage)


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
