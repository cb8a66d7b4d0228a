"""The studio animator: the beat's storyboard image under its camera movement, with a living picture.

A beat's camera is a path over *beat-local* time: T(u) maps the beat's storyboard image to the frame
u frames into the beat, with T(0) the identity. Every studio chunk renders from the beat's storyboard
image at absolute beat time: frame u = effects(u) ∘ breathing(u) ∘ T(u) applied to the storyboard, a
pure function of (storyboard, movement, seed, u). A chunk that starts `offset` frames into the beat
therefore renders frames offset, offset + 1, … exactly as one long pass over the beat would, so
consecutive chunks join without a jump by construction, and the picture may carry layers that are
not part of the camera (light, dust): nothing is rendered twice, because no chunk starts from
another chunk's output. The hand-off frame is still returned and stored, and still gates the beat's
next chunk (the chunk graph is the same for every provider); the studio just does not need its
pixels. Replicate models cannot work that way and keep animating from the hand-off frame.

The paths are built from *margin*: zooming in by s = 1 / (1 − 2m) opens a margin m on each side (as a
fraction of the frame), and the camera may pan, tilt or roll only within the margin it has opened so
far. Each view then lies inside every earlier view of the beat, so no border ever shows (and the
paths stay valid for a provider that does start from a hand-off frame). That is also why `reveal`
is a rising push rather than a pull-back: pulling back needs the picture beyond the storyboard.

Nothing may stand still, `static` included: a run of frames the final H.264 encode turns into one
frozen picture reads as a stalled video. So every path has a floor of constant-speed drift funded
by its own margin, measured in frame fractions per *second* (a stroke's margin is per beat, and a
15 s beat would otherwise move a third as fast as a 5 s one), and on top of the camera:

* **breathing**, a slow zoom of a few per cent about the frame centre. It only ever zooms *in* from
  what the path shows (factor ≥ 1), so it never reaches past the storyboard's edge;
* **light**, one soft warm bloom (a Gaussian sprite computed once per clip, added with saturation)
  drifting on a slow Lissajous path, and **dust**: a few dozen soft motes rising and swaying, each
  brighter the nearer it is to the light. Both are seeded by the request's seed, fade in over the
  beat's first `EFFECTS_FADE_S` (so frame 0 of a beat is its storyboard image), and cost a few
  small uint8 region adds per frame: no full-frame float work.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

# Share of the opened margin that translation and roll may use together; the rest absorbs the
# second-order terms (a rolled window is not quite axis-aligned) so the nesting holds exactly.
MARGIN_USE = 0.88
# The floor every path moves at: margin opened per second of the beat by a constant-speed stroke.
FLOOR_MARGIN_PER_S = 0.0025
# Breathing: a zoom in of up to BREATH_AMOUNT and back, once every BREATH_PERIOD_S (phase seeded).
BREATH_AMOUNT = 0.025
BREATH_PERIOD_S = 7.0
# Light and dust fade in over the beat's first seconds, so a beat's first frame is its storyboard.
EFFECTS_FADE_S = 0.75


@dataclass(frozen=True)
class Stroke:
    """One eased part of a camera move: it opens `margin` and spends it on drift and roll.

    `drift` is the share of the margin the look-at point travels along x and y (each |·| ≤ 1);
    `roll_deg` the roll it adds in total. The stroke runs from `start` to `end` in beat time (0..1)
    along `ease`: smoothstep blended with a constant speed `linear` (0 = pure smoothstep, 1 = linear),
    continuing at that constant speed past its end so chunks that overrun the beat keep moving smoothly.
    """

    margin: float
    drift: tuple[float, float] = (0.0, 0.0)
    roll_deg: float = 0.0
    start: float = 0.0
    end: float = 1.0
    linear: float = 0.3

    def progress(self, t: float) -> float:
        x = (t - self.start) / (self.end - self.start)
        if x <= 0.0:
            return 0.0
        if x >= 1.0:
            return 1.0 + self.linear * (x - 1.0)
        return (1.0 - self.linear) * x * x * (3.0 - 2.0 * x) + self.linear * x


@dataclass(frozen=True)
class Shake:
    """Handheld sway: the look-at point and the roll wander, paid for by a constant-speed zoom.

    The sway's speed along x and y is at most `amount` of the zoom's margin rate, and the roll spends
    what is left, so the sway integrates in closed form and never outruns the margin.
    """

    margin: float
    amount: tuple[float, float]
    waves: tuple[tuple[float, float], ...]  # (frequency in Hz, phase) per sine; x, y, roll interleaved


@dataclass(frozen=True)
class Pose:
    margin: float
    dx: float  # look-at offset, fraction of the frame width
    dy: float  # fraction of the frame height
    roll: float  # radians

    @property
    def scale(self) -> float:
        return 1.0 / (1.0 - 2.0 * self.margin)


@dataclass(frozen=True)
class Breath:
    """A zoom in by up to `amount` and back, every `period_s` seconds: 1 at the beat's start, never below."""

    amount: float
    period_s: float

    def factor(self, seconds: float) -> float:
        return 1.0 + self.amount * 0.5 * (1.0 - math.cos(2.0 * math.pi * max(seconds, 0.0) / self.period_s))


@dataclass(frozen=True)
class CameraPath:
    strokes: tuple[Stroke, ...]
    shake: Shake | None
    beat_seconds: float
    aspect: float  # width / height
    breath: Breath | None = None

    def breathing(self, t: float) -> float:
        """Extra zoom (≥ 1, about the frame centre) on top of the pose at beat time t."""
        return 1.0 if self.breath is None else self.breath.factor(t * self.beat_seconds)

    def pose(self, t: float) -> Pose:
        """The camera at beat time t (0 = beat start, 1 = beat end; later for an overrun)."""
        margin = dx = dy = roll = 0.0
        for stroke in self.strokes:
            e = stroke.progress(t)
            rate = _roll_rate(stroke, self.aspect)
            margin += stroke.margin * e
            dx += stroke.margin * stroke.drift[0] * e
            dy += stroke.margin * stroke.drift[1] * e
            roll += stroke.margin * rate * e
        if self.shake is not None:
            sway = _sway(self.shake, max(t, 0.0), self.beat_seconds)
            margin += self.shake.margin * max(t, 0.0)
            dx += sway[0]
            dy += sway[1]
            roll += sway[2] * _roll_budget(self.shake.amount, self.aspect)
        return Pose(margin, dx, dy, roll)


def _roll_budget(drift: tuple[float, float], aspect: float) -> float:
    """Roll (radians per unit of margin) a window can afford once its drift is paid for.

    Rolling a window by dθ moves its corners by half its height·dθ along x and half its width·dθ
    along y, in fractions of the frame: 0.5·dθ/aspect and 0.5·dθ·aspect per unit of margin.
    """
    room_x = MARGIN_USE - abs(drift[0])
    room_y = MARGIN_USE - abs(drift[1])
    return max(0.0, min(room_x / (0.5 / aspect), room_y / (0.5 * aspect)))


def _roll_rate(stroke: Stroke, aspect: float) -> float:
    wanted = math.radians(stroke.roll_deg) / stroke.margin
    budget = _roll_budget(stroke.drift, aspect)
    return math.copysign(min(abs(wanted), budget), wanted)


def _sway(shake: Shake, t: float, beat_seconds: float) -> tuple[float, float, float]:
    """∫₀ᵗ margin-rate · noise(τ) dτ per axis, in closed form; noise is a mix of slow sines in [-1, 1]."""
    out = [0.0, 0.0, 0.0]
    amounts = (shake.amount[0], shake.amount[1], 1.0)
    per_axis = len(shake.waves) // 3
    for i, (hz, phase) in enumerate(shake.waves):
        axis = i % 3
        omega = 2.0 * math.pi * hz * beat_seconds  # radians per unit of beat time
        weight = amounts[axis] / per_axis
        out[axis] += shake.margin * weight * (math.cos(phase) - math.cos(omega * t + phase)) / omega
    return out[0], out[1], out[2]


def _side(seed: int, stream: int) -> float:
    return 1.0 if np.random.default_rng([seed % (1 << 63), stream]).random() < 0.5 else -1.0


def camera_path(movement: str, *, beat_seconds: float, aspect: float, seed: int) -> CameraPath:
    """The beat library's camera movements as margin-funded strokes; unknown names get a gentle push-in.

    Every path also gets a constant-speed floor stroke (FLOOR_MARGIN_PER_S of margin a second,
    drifting on a diagonal picked by the seed; a plain zoom for unknown names) and breathing.
    """
    side = _side(seed, 11)
    lift = _side(seed, 14)
    shake = None
    strokes: tuple[Stroke, ...]
    match movement:
        case "slow_dolly_in":
            strokes = (Stroke(0.07, (0.0, -0.2)),)
        case "slow_push_in":
            strokes = (Stroke(0.06, linear=0.45),)
        case "push_in":
            strokes = (Stroke(0.11, (0.0, -0.1), linear=0.2),)
        case "slow_pan":
            strokes = (Stroke(0.06, (0.85 * side, 0.0), linear=0.6),)
        case "pan_across":
            strokes = (Stroke(0.09, (0.85 * side, 0.1), linear=0.5),)
        case "whip_pan":
            strokes = (Stroke(0.02, linear=1.0), Stroke(0.1, (0.86 * side, 0.0), 1.5 * side, 0.4, 0.56, 0.0))
        case "tracking_shot":
            strokes = (Stroke(0.08, (0.8 * side, 0.05), linear=1.0),)
        case "handheld_follow":
            rng = np.random.default_rng([seed % (1 << 63), 12])
            waves = tuple((float(rng.uniform(0.12, 0.45)), float(rng.uniform(0, 2 * math.pi))) for _ in range(6))
            strokes = ()
            shake = Shake(0.09, (0.6, 0.55), waves)
        case "crane_down":
            strokes = (Stroke(0.08, (0.0, 0.85)),)
        case "crane_up":
            strokes = (Stroke(0.08, (0.0, -0.85)),)
        case "slow_orbit":
            strokes = (Stroke(0.09, (0.55 * side, 0.0), 3.0 * side, linear=0.45),)
        case "fast_cuts":
            rng = np.random.default_rng([seed % (1 << 63), 13])
            punches = tuple(
                Stroke(
                    0.045,
                    (float(rng.uniform(-0.7, 0.7)), float(rng.uniform(-0.6, 0.6))),
                    float(rng.uniform(-1.2, 1.2)),
                    start,
                    start + 0.07,
                    0.0,
                )
                for start in (0.16, 0.42, 0.68)
            )
            strokes = (Stroke(0.025, linear=1.0), *punches)
        case "reveal":
            strokes = (Stroke(0.08, (0.15 * side, -0.6), 1.2 * side, linear=0.15),)
        case "static" | "static_hold":
            strokes = ()  # the floor drift and the breathing alone
        case _:
            strokes = (Stroke(0.05, linear=0.45),)
    known = movement in KNOWN_MOVEMENTS
    floor = Stroke(FLOOR_MARGIN_PER_S * beat_seconds, (0.75 * side, 0.45 * lift) if known else (0.0, 0.0), linear=1.0)
    return CameraPath((*strokes, floor), shake, beat_seconds, aspect, Breath(BREATH_AMOUNT, BREATH_PERIOD_S))


KNOWN_MOVEMENTS = frozenset(
    {
        "slow_dolly_in",
        "slow_push_in",
        "push_in",
        "slow_pan",
        "pan_across",
        "whip_pan",
        "tracking_shot",
        "handheld_follow",
        "crane_down",
        "crane_up",
        "slow_orbit",
        "fast_cuts",
        "reveal",
        "static",
        "static_hold",
    }
)


def transform(pose: Pose, width: int, height: int, breathing: float = 1.0) -> np.ndarray:
    """3×3 matrix taking storyboard pixels to the frame's pixels for this pose (pixel-centre coordinates),
    zoomed in by `breathing` (≥ 1) about the frame centre: a smaller window about the same look-at point."""
    s = pose.scale * breathing
    c, si = math.cos(pose.roll), math.sin(pose.roll)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    lx, ly = cx + pose.dx * width, cy + pose.dy * height
    a = np.array([[s * c, -s * si], [s * si, s * c]])
    t = np.array([cx, cy]) - a @ np.array([lx, ly])
    return np.array([[a[0, 0], a[0, 1], t[0]], [a[1, 0], a[1, 1], t[1]], [0.0, 0.0, 1.0]])


def animate(
    storyboard: np.ndarray,
    *,
    camera_movement: str,
    fps: int,
    frame_count: int,
    beat_frames: int,
    beat_offset_frames: int,
    seed: int,
) -> Iterator[np.ndarray]:
    """Frames offset … offset+frame_count−1 of the beat, each rendered from the beat's storyboard image.

    Frame u is the light and dust at u over the storyboard under the camera (and breathing) at u, so
    any chunk of the beat gives the same frames as one pass over the whole beat.
    """
    if fps <= 0 or frame_count < 0 or beat_offset_frames < 0:
        raise ValueError(
            f"fps {fps}, frame_count {frame_count}, beat offset {beat_offset_frames}: "
            "fps must be positive and the counts non-negative"
        )
    height, width = storyboard.shape[:2]
    span = max(beat_frames, 1)
    path = camera_path(camera_movement, beat_seconds=span / fps, aspect=width / height, seed=seed)
    source = np.ascontiguousarray(storyboard[..., :3])
    atmosphere = Atmosphere(width, height, seed)
    for u in range(beat_offset_frames, beat_offset_frames + frame_count):
        t = u / span
        matrix = transform(path.pose(t), width, height, path.breathing(t))
        # Bilinear: at the camera's strongest zoom (about 1.3x) bicubic differs from it by less than
        # the final encode's own error (43 dB PSNR on a product frame), at 2.5 times the cost.
        frame = cv2.warpAffine(
            source, matrix[:2], (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
        )
        atmosphere.apply(frame, u / fps)
        yield frame


def _gaussian(size: int, sigma: float, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    """A size×size Gaussian of peak 1, centred on the middle pixel shifted by (dx, dy)."""
    axis = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    gx = np.exp(-0.5 * ((axis - dx) / sigma) ** 2)
    gy = np.exp(-0.5 * ((axis - dy) / sigma) ** 2)
    return gy[:, None] * gx[None, :]


def _add_at(frame: np.ndarray, sprite: np.ndarray, x: int, y: int) -> None:
    """Adds `sprite` with its top-left corner at (x, y), saturating at 255; the part off the frame is dropped."""
    height, width = frame.shape[:2]
    sh, sw = sprite.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + sw, width), min(y + sh, height)
    if x0 >= x1 or y0 >= y1:
        return
    roi = frame[y0:y1, x0:x1]
    cv2.add(roi, sprite[y0 - y : y1 - y, x0 - x : x1 - x], dst=roi)


LIGHT_PEAK = 13.0  # code values the bloom adds at its centre
LIGHT_TINT = (1.0, 0.9, 0.72)  # warm
MOTE_TINT = (1.0, 0.97, 0.9)
MOTES = 36
MOTE_LEVELS = 6  # brightness steps of a mote as it nears the light
MOTE_PHASES = 4  # sub-pixel positions per axis, so slow motes glide instead of stepping a pixel at a time


@dataclass(frozen=True)
class _Sprites:
    light: np.ndarray  # the bloom, uint8 RGB, (2·light_half + 1)² pixels
    light_sigma: float
    light_half: int
    motes: tuple[tuple[tuple[tuple[np.ndarray, ...], ...], ...], ...]  # [size class][level][phase y][phase x]
    mote_half: tuple[int, ...]  # per size class


@functools.lru_cache(maxsize=8)
def _sprites(width: int, height: int) -> _Sprites:
    """The bloom and the motes for a frame size: the same for every clip of that size, so made once."""
    unit = min(width, height) / 720.0
    sigma = 0.2 * min(width, height)
    half = math.ceil(2.7 * sigma)
    light = _gaussian(2 * half + 1, sigma)[..., None] * LIGHT_PEAK * np.array(LIGHT_TINT)
    motes = []
    mote_half = []
    for k in range(4):
        mote_sigma = max(0.7, (0.7 + 0.55 * k) * unit)
        r = math.ceil(3.0 * mote_sigma) + 1
        peak = 26.0 + 16.0 * k
        motes.append(
            tuple(
                tuple(
                    tuple(
                        _to_uint8(
                            _gaussian(2 * r + 1, mote_sigma, px / MOTE_PHASES, py / MOTE_PHASES)[..., None]
                            * peak
                            * (0.3 + 0.7 * level / (MOTE_LEVELS - 1))
                            * np.array(MOTE_TINT)
                        )
                        for px in range(MOTE_PHASES)
                    )
                    for py in range(MOTE_PHASES)
                )
                for level in range(MOTE_LEVELS)
            )
        )
        mote_half.append(r)
    return _Sprites(_to_uint8(light), sigma, half, tuple(motes), tuple(mote_half))


def _to_uint8(image: np.ndarray) -> np.ndarray:
    out = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    out.flags.writeable = False  # shared between clips
    return out


class Atmosphere:
    """Light and dust over a frame, a pure function of beat time; everything costly is computed once here.

    The bloom is a warm Gaussian sprite (σ a fifth of the short side) whose centre drifts on a slow
    Lissajous path; the motes are small soft sprites in four size classes, each in MOTE_LEVELS
    brightnesses and MOTE_PHASES² sub-pixel offsets, drifting up and sideways with a slow sway and
    wrapping around outside the frame. All sprites are uint8 and added with saturation, so no value
    leaves [0, 255]; both fade in over EFFECTS_FADE_S.
    """

    def __init__(self, width: int, height: int, seed: int) -> None:
        rng = np.random.default_rng([seed % (1 << 63), 21])
        unit = min(width, height) / 720.0  # sizes and speeds scale with the picture
        self._width, self._height = width, height
        sprites = _sprites(width, height)
        self._light, self._light_sigma, self._motes = sprites.light, sprites.light_sigma, sprites.motes
        self._light_half, self._mote_half = sprites.light_half, sprites.mote_half
        self._orbit = (
            (0.5, 0.3, 2 * math.pi / rng.uniform(16.0, 24.0), rng.uniform(0, 2 * math.pi)),  # x: centre, reach, ω, φ
            (0.38, 0.2, 2 * math.pi / rng.uniform(10.0, 15.0), rng.uniform(0, 2 * math.pi)),
        )
        # The dust: four size classes, nearer motes bigger, brighter and faster.
        depth = rng.uniform(0.0, 1.0, MOTES)
        self._size_class = np.minimum((depth * 4).astype(int), 3)
        pad = 2 * self._mote_half[-1] + 2
        self._wrap = (width + 2 * pad, height + 2 * pad, pad)
        self._start = np.stack([rng.uniform(0, width + 2 * pad, MOTES), rng.uniform(0, height + 2 * pad, MOTES)])
        speed = (3.0 + 9.0 * depth) * unit  # pixels a second
        heading = rng.uniform(-0.9, 0.9, MOTES)  # mostly rising
        self._velocity = np.stack([speed * np.sin(heading), -speed * np.cos(heading)])
        self._sway = np.stack([(2.0 + 5.0 * depth) * unit, 2 * math.pi * rng.uniform(0.08, 0.25, MOTES)])
        self._sway_phase = rng.uniform(0, 2 * math.pi, MOTES)

    def light_centre(self, seconds: float) -> tuple[float, float]:
        (cx, ax, wx, px), (cy, ay, wy, py) = self._orbit
        return (
            self._width * (cx + ax * math.sin(wx * seconds + px)),
            self._height * (cy + ay * math.sin(wy * seconds + py)),
        )

    def apply(self, frame: np.ndarray, seconds: float) -> None:
        """Adds the light and dust at `seconds` into the beat to `frame` (RGB uint8), in place."""
        x = seconds / EFFECTS_FADE_S
        fade = 1.0 if x >= 1.0 else max(x, 0.0) ** 2 * (3.0 - 2.0 * max(x, 0.0))
        if fade <= 0.0:
            return
        lx, ly = self.light_centre(seconds)
        light = self._light if fade >= 1.0 else cv2.convertScaleAbs(self._light, alpha=fade)
        _add_at(frame, light, round(lx) - self._light_half, round(ly) - self._light_half)
        # The motes: where they are, and how near the light.
        w, h, pad = self._wrap
        sway = self._sway[0] * np.sin(self._sway[1] * seconds + self._sway_phase)
        xs = np.mod(self._start[0] + self._velocity[0] * seconds + sway, w) - pad
        ys = np.mod(self._start[1] + self._velocity[1] * seconds, h) - pad
        near = np.exp(-0.5 * ((xs - lx) ** 2 + (ys - ly) ** 2) / (1.6 * self._light_sigma) ** 2)
        levels = np.minimum((near * MOTE_LEVELS).astype(int), MOTE_LEVELS - 1)
        cells_x = np.floor(xs * MOTE_PHASES).astype(int)
        cells_y = np.floor(ys * MOTE_PHASES).astype(int)
        for i in range(MOTES):
            k = self._size_class[i]
            r = self._mote_half[k]
            sprite = self._motes[k][levels[i]][cells_y[i] % MOTE_PHASES][cells_x[i] % MOTE_PHASES]
            if fade < 1.0:
                sprite = cv2.convertScaleAbs(sprite, alpha=fade)
            _add_at(frame, sprite, cells_x[i] // MOTE_PHASES - r, cells_y[i] // MOTE_PHASES - r)
