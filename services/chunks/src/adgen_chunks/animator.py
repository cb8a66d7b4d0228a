"""The studio animator: the beat's camera movement applied to an init frame, with real motion.

A beat's camera is a path over *beat-local* time: T(u) maps the beat's storyboard image to the frame
u frames into the beat, with T(0) the identity. A chunk that starts `offset` frames into the beat is
given that beat's frame at `offset` as its init (the storyboard image, or the previous chunk's hand-off
frame) and renders T(u)·T(offset)⁻¹ applied to it, so consecutive chunks of a beat join without a jump.

That only works if every later frame shows a part of the picture the earlier frames still hold: a
hand-off frame has lost whatever lay outside it. So every path is built from *margin*: zooming in by
s = 1 / (1 − 2m) opens a margin m on each side (as a fraction of the frame), and the camera may pan,
tilt or roll only within the margin it has opened so far. Each view then lies inside every earlier
view of the beat; no chunk ever needs pixels its init frame does not have, and no border ever shows.
(That is also why `reveal` is a rising push rather than a pull-back: pulling back needs the picture
beyond the storyboard's edges.) Nothing is layered on top of the camera for the same reason: a hand-
off frame would carry the effect into the next chunk, which would then apply it a second time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

# Share of the opened margin that translation and roll may use together; the rest absorbs the
# second-order terms (a rolled window is not quite axis-aligned) so the nesting holds exactly.
MARGIN_USE = 0.88


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
class CameraPath:
    strokes: tuple[Stroke, ...]
    shake: Shake | None
    beat_seconds: float
    aspect: float  # width / height

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
    """The beat library's camera movements as margin-funded strokes; unknown names get a gentle push-in."""
    side = _side(seed, 11)
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
            strokes = (Stroke(0.008, (0.5 * side, -0.3), linear=1.0),)
        case _:
            strokes = (Stroke(0.05, linear=0.45),)
    return CameraPath(strokes, shake, beat_seconds, aspect)


def transform(pose: Pose, width: int, height: int) -> np.ndarray:
    """3×3 matrix taking storyboard pixels to the frame's pixels for this pose (pixel-centre coordinates)."""
    s = pose.scale
    c, si = math.cos(pose.roll), math.sin(pose.roll)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    lx, ly = cx + pose.dx * width, cy + pose.dy * height
    a = np.array([[s * c, -s * si], [s * si, s * c]])
    t = np.array([cx, cy]) - a @ np.array([lx, ly])
    return np.array([[a[0, 0], a[0, 1], t[0]], [a[1, 0], a[1, 1], t[1]], [0.0, 0.0, 1.0]])


def animate(
    init: np.ndarray,
    *,
    camera_movement: str,
    fps: int,
    frame_count: int,
    beat_frames: int,
    beat_offset_frames: int,
    seed: int,
) -> Iterator[np.ndarray]:
    """Frames offset … offset+frame_count−1 of the beat, rendered from `init` = the beat's frame at offset.

    Frame u is T(u)·T(offset)⁻¹ applied to init, so the first frame is init itself and a chunk that
    starts from the previous chunk's hand-off frame continues the same camera path.
    """
    if fps <= 0 or frame_count < 0 or beat_offset_frames < 0:
        raise ValueError(
            f"fps {fps}, frame_count {frame_count}, beat offset {beat_offset_frames}: "
            "fps must be positive and the counts non-negative"
        )
    height, width = init.shape[:2]
    span = max(beat_frames, 1)
    path = camera_path(camera_movement, beat_seconds=span / fps, aspect=width / height, seed=seed)
    start = np.linalg.inv(transform(path.pose(beat_offset_frames / span), width, height))
    source = np.ascontiguousarray(init[..., :3])
    for u in range(beat_offset_frames, beat_offset_frames + frame_count):
        matrix = transform(path.pose(u / span), width, height) @ start
        yield cv2.warpAffine(
            source, matrix[:2], (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101
        )
