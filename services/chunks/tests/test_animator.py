"""The studio animator and the lossless clip store: motion, continuity across chunks, exact storage."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adgen_chunks.animator import animate, camera_path, transform
from adgen_chunks.clip_io import frame_at, read_frames, write_clip

MOVEMENTS = (
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
    "a_movement_nobody_defined",
)
MOVING = tuple(m for m in MOVEMENTS if m not in ("static", "static_hold"))
FPS = 12


def storyboard(width: int = 320, height: int = 180, seed: int = 0) -> np.ndarray:
    """A storyboard-like picture: soft lit backdrop, a few shapes with edges and some fine detail."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    glow = np.exp(-(((xs - 0.6 * width) / (0.4 * width)) ** 2 + ((ys - 0.4 * height) / (0.5 * height)) ** 2))
    img = np.dstack([60 + 150 * glow, 50 + 120 * glow, 80 + 90 * glow * (ys / height)])
    for _ in range(12):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        colour = tuple(float(c) for c in rng.integers(40, 255, 3))
        cv2.circle(img, centre, int(rng.integers(4, height // 4)), colour, -1, cv2.LINE_AA)
    img = np.clip(img, 0, 255).astype(np.uint8)
    cv2.putText(img, "ADGEN", (width // 5, height // 2), cv2.FONT_HERSHEY_SIMPLEX, width / 260, (250, 250, 250), 2)
    return cv2.GaussianBlur(img, (0, 0), 0.8)


def render(
    init: np.ndarray, movement: str, *, count: int, beat_frames: int, offset: int = 0, seed: int = 5
) -> list[np.ndarray]:
    return list(
        animate(
            init,
            camera_movement=movement,
            fps=FPS,
            frame_count=count,
            beat_frames=beat_frames,
            beat_offset_frames=offset,
            seed=seed,
        )
    )


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.mark.parametrize("count", [0, 1, 13, 60])
def test_frame_count_is_exact(count: int) -> None:
    frames = render(storyboard(), "slow_pan", count=count, beat_frames=60)
    assert len(frames) == count
    assert all(f.shape == (180, 320, 3) and f.dtype == np.uint8 for f in frames)


@pytest.mark.parametrize("movement", MOVEMENTS)
def test_first_frame_is_the_init_frame(movement: str) -> None:
    init = storyboard()
    assert psnr(render(init, movement, count=1, beat_frames=60)[0], init) >= 35
    later = render(init, movement, count=1, beat_frames=120, offset=47)[0]
    assert psnr(later, init) >= 35


@pytest.mark.parametrize("movement", MOVING)
def test_moving_cameras_never_repeat_a_frame(movement: str) -> None:
    frames = render(storyboard(), movement, count=60, beat_frames=60)
    for before, after in pairwise(frames):
        assert not np.array_equal(before, after)
    assert np.abs(frames[0].astype(float) - frames[-1].astype(float)).mean() > 3


@pytest.mark.parametrize("movement", ["static", "static_hold"])
def test_a_held_shot_still_breathes(movement: str) -> None:
    frames = render(storyboard(), movement, count=60, beat_frames=60)
    assert not np.array_equal(frames[0], frames[-1])
    assert psnr(frames[0], frames[-1]) > 20  # barely moves


@pytest.mark.parametrize("movement", MOVEMENTS)
def test_two_chunks_continue_one_camera_move(movement: str) -> None:
    """A 10 s beat as one pass vs. as chunks of 6 s with a 25 % overlap, each started from the hand-off frame."""
    init = storyboard(seed=1)
    beat_frames, chunk, overlap = 10 * FPS, 6 * FPS, int(1.5 * FPS)
    handoff = chunk - overlap
    overrun = 2 * chunk - overlap - beat_frames
    one_pass = render(init, movement, count=beat_frames + overrun, beat_frames=beat_frames)
    first = render(init, movement, count=chunk, beat_frames=beat_frames)
    second = render(first[handoff], movement, count=chunk, beat_frames=beat_frames, offset=handoff)
    for u, frame in enumerate(first):
        assert np.array_equal(frame, one_pass[u])
    for i, frame in enumerate(second):
        assert psnr(frame, one_pass[handoff + i]) >= 30, f"frame {handoff + i} of the beat"


@pytest.mark.parametrize("movement", ["handheld_follow", "slow_orbit", "fast_cuts", "pan_across"])
def test_a_chain_of_chunks_stays_on_the_path(movement: str) -> None:
    """A 15 s beat in three chunks, each started from the previous one's hand-off frame."""
    init = storyboard(seed=2)
    beat_frames, chunk, handoff = 15 * FPS, 6 * FPS, 5 * FPS
    one_pass = render(init, movement, count=beat_frames, beat_frames=beat_frames)
    start, frame = 0, init
    while start < beat_frames:
        count = min(chunk, beat_frames - start)
        frames = render(frame, movement, count=count, beat_frames=beat_frames, offset=start)
        for i, f in enumerate(frames):
            assert psnr(f, one_pass[start + i]) >= 30, f"frame {start + i} of the beat"
        start, frame = start + handoff, frames[min(handoff, count - 1)]


def edge_darkness(frame: np.ndarray) -> float:
    """How much darker the darkest outer row or column is than the line just inside it (0 = not at all)."""
    f = frame.astype(float).mean(axis=2)
    pairs = [(f[0], f[3]), (f[-1], f[-4]), (f[:, 0], f[:, 3]), (f[:, -1], f[:, -4])]
    return max(float(inner.mean() - edge.mean()) / max(float(inner.mean()), 1.0) for edge, inner in pairs)


@pytest.mark.parametrize("movement", MOVEMENTS)
def test_no_borders_show(movement: str) -> None:
    ys, xs = np.mgrid[0:180, 0:320]
    init = np.repeat((170 + 30 * np.sin(xs / 40.0) * np.cos(ys / 30.0))[..., None], 3, axis=2).astype(np.uint8)
    for frame in render(init, movement, count=80, beat_frames=60, seed=9):
        assert edge_darkness(frame) < 0.1


@settings(max_examples=300, deadline=None)
@given(
    movement=st.sampled_from(MOVEMENTS),
    size=st.sampled_from([(1280, 720), (720, 1280), (720, 720), (320, 180)]),
    beat_seconds=st.sampled_from([5, 10, 15]),
    seed=st.integers(0, 2**31),
    times=st.tuples(st.floats(0, 1.3), st.floats(0, 1.3)).map(sorted),
)
def test_every_view_lies_inside_every_earlier_view(
    movement: str, size: tuple[int, int], beat_seconds: int, seed: int, times: list[float]
) -> None:
    """Why chunks join and borders never show: frame u needs only pixels that frame t ≤ u still holds."""
    width, height = size
    path = camera_path(movement, beat_seconds=beat_seconds, aspect=width / height, seed=seed)
    earlier, later = (transform(path.pose(t), width, height) for t in times)
    corners = np.array(
        [[-0.5, -0.5, 1], [width - 0.5, -0.5, 1], [-0.5, height - 0.5, 1], [width - 0.5, height - 0.5, 1]]
    )
    inside = earlier @ np.linalg.inv(later) @ corners.T
    tolerance = 1e-6 * width
    assert (inside[0] >= -0.5 - tolerance).all() and (inside[0] <= width - 0.5 + tolerance).all()
    assert (inside[1] >= -0.5 - tolerance).all() and (inside[1] <= height - 0.5 + tolerance).all()


@settings(max_examples=60, deadline=None)
@given(movement=st.sampled_from(MOVEMENTS), seed=st.integers(0, 2**31), aspect=st.floats(0.5, 2.0))
def test_every_path_starts_at_the_storyboard_framing(movement: str, seed: int, aspect: float) -> None:
    path = camera_path(movement, beat_seconds=5, aspect=aspect, seed=seed)
    assert np.allclose(transform(path.pose(0.0), 320, 180), np.eye(3))


@pytest.mark.parametrize("movement", MOVEMENTS)
def test_camera_path_is_smooth_across_the_beat_end(movement: str) -> None:
    """Chunks that overrun the beat keep moving the same way: no jump, no sudden stop at t = 1."""
    path = camera_path(movement, beat_seconds=10, aspect=16 / 9, seed=3)
    ts = np.linspace(0, 1.25, 1501)
    poses = np.array([[p.scale, p.dx, p.dy, p.roll] for p in map(path.pose, ts)])
    steps = np.abs(np.diff(poses, axis=0))
    assert steps.max() < 0.01
    accel = np.abs(np.diff(poses, n=2, axis=0))
    assert accel.max() < 5e-4


def test_unknown_movement_is_a_gentle_push_in() -> None:
    path = camera_path("spin_the_camera_wildly", beat_seconds=5, aspect=16 / 9, seed=1)
    end = path.pose(1.0)
    assert 1.02 < end.scale < 1.2
    assert end.dx == end.dy == end.roll == 0.0


def test_clip_round_trip_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    frames = [rng.integers(0, 256, (64, 96, 3), dtype=np.uint8) for _ in range(7)]
    frames += render(storyboard(96, 64), "whip_pan", count=5, beat_frames=10)
    path = tmp_path / "clip.mp4"
    assert write_clip(iter(frames), 24, path) == len(frames)
    back = list(read_frames(path))
    assert len(back) == len(frames)
    assert all(np.array_equal(a, b) for a, b in zip(frames, back, strict=True))
    assert np.array_equal(frame_at(path, 8), frames[8])
    with pytest.raises(IndexError):
        frame_at(path, len(frames))


@pytest.mark.parametrize("fps", [8, 24, 30])
def test_clip_has_the_frame_rate_and_length_asked_for(tmp_path: Path, fps: int) -> None:
    path = tmp_path / "clip.mp4"
    write_clip(render(storyboard(), "push_in", count=2 * fps, beat_frames=2 * fps), fps, path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == fps
        assert stream.codec_context.name == "h264"
        assert stream.duration * stream.time_base == pytest.approx(2.0, abs=0.5 / fps)
    assert sum(1 for _ in read_frames(path)) == 2 * fps


def test_clip_rejects_frames_of_another_size(tmp_path: Path) -> None:
    frames = [np.zeros((64, 96, 3), np.uint8), np.zeros((32, 96, 3), np.uint8)]
    with pytest.raises(ValueError, match="96x32"):
        write_clip(frames, 24, tmp_path / "clip.mp4")
