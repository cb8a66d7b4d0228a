"""The studio animator and the lossless clip store: motion in every frame (after the final encode too),
continuity across chunks, light and dust that stay in range, exact storage."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from media_checks import FROZEN_LUMA_LEVELS, encode_decode_luma, frozen_runs, luma_steps

from adgen_chunks.animator import (
    EFFECTS_FADE_S,
    KNOWN_MOVEMENTS,
    Atmosphere,
    _sprites,
    animate,
    camera_path,
    transform,
)
from adgen_chunks.clip_io import frame_at, read_frames, write_clip
from adgen_chunks.model_registry import get_model
from adgen_chunks.providers import ClipRequest, StudioClips
from adgen_kernel.errors import FailedPrecondition
from adgen_providers.prediction_record import NoRecord

MOVEMENTS = (*sorted(KNOWN_MOVEMENTS), "a_movement_nobody_defined")
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
def test_a_beat_starts_on_its_storyboard_image(movement: str) -> None:
    init = storyboard()
    assert psnr(render(init, movement, count=1, beat_frames=60)[0], init) >= 35


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
    # It moves, but gently: over a whole 15 s beat the view zooms by under 10 % and drifts under 4 %.
    path = camera_path(movement, beat_seconds=15, aspect=16 / 9, seed=5)
    for t in np.linspace(0, 1, 61):
        pose = path.pose(float(t))
        assert 1.0 <= pose.scale * path.breathing(float(t)) < 1.1
        assert abs(pose.dx) < 0.04 and abs(pose.dy) < 0.04


@pytest.mark.parametrize("movement", MOVEMENTS)
def test_two_chunks_continue_one_camera_move(movement: str) -> None:
    """A 10 s beat as one pass vs. as chunks of 6 s with a 25 % overlap, each rendered from the storyboard."""
    init = storyboard(seed=1)
    beat_frames, chunk, overlap = 10 * FPS, 6 * FPS, int(1.5 * FPS)
    handoff = chunk - overlap
    overrun = 2 * chunk - overlap - beat_frames
    one_pass = render(init, movement, count=beat_frames + overrun, beat_frames=beat_frames)
    first = render(init, movement, count=chunk, beat_frames=beat_frames)
    second = render(init, movement, count=chunk, beat_frames=beat_frames, offset=handoff)
    for u, frame in enumerate(first):
        assert np.array_equal(frame, one_pass[u]), f"frame {u} of the beat"
    for i, frame in enumerate(second):
        assert np.array_equal(frame, one_pass[handoff + i]), f"frame {handoff + i} of the beat"


@settings(max_examples=25, deadline=None)
@given(
    movement=st.sampled_from(MOVEMENTS),
    seed=st.integers(0, 2**31),
    beat_seconds=st.sampled_from([5, 10, 15]),
    offset=st.integers(0, 15 * FPS),
)
def test_a_chunk_from_any_offset_is_the_one_pass_render(
    movement: str, seed: int, beat_seconds: int, offset: int
) -> None:
    """Frames are a pure function of beat time: where a chunk starts makes no difference, overruns included."""
    init = storyboard(96, 54, seed=3)
    beat_frames = beat_seconds * FPS
    offset = min(offset, beat_frames)
    one_pass = render(init, movement, count=offset + 6, beat_frames=beat_frames, seed=seed)
    chunk = render(init, movement, count=6, beat_frames=beat_frames, offset=offset, seed=seed)
    assert all(np.array_equal(a, b) for a, b in zip(chunk, one_pass[offset:], strict=True))


@pytest.mark.parametrize("movement", ["handheld_follow", "slow_orbit", "fast_cuts", "pan_across"])
def test_a_chain_of_chunks_is_one_pass(movement: str) -> None:
    """A 15 s beat in three chunks with hand-offs, each rendered from the storyboard, is the one-pass beat."""
    init = storyboard(seed=2)
    beat_frames, chunk, handoff = 15 * FPS, 6 * FPS, 5 * FPS
    one_pass = render(init, movement, count=beat_frames, beat_frames=beat_frames)
    start = 0
    while start < beat_frames:
        count = min(chunk, beat_frames - start)
        frames = render(init, movement, count=count, beat_frames=beat_frames, offset=start)
        for i, f in enumerate(frames):
            assert np.array_equal(f, one_pass[start + i]), f"frame {start + i} of the beat"
        start += handoff


@pytest.mark.parametrize("movement", ["static", "slow_pan", "handheld_follow"])
def test_the_same_seed_gives_the_same_frames_and_another_seed_other_ones(movement: str) -> None:
    init = storyboard(seed=4)
    a = render(init, movement, count=30, beat_frames=60, offset=20, seed=77)
    b = render(init, movement, count=30, beat_frames=60, offset=20, seed=77)
    c = render(init, movement, count=30, beat_frames=60, offset=20, seed=78)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, z) for x, z in zip(a, c, strict=True))


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
        assert stream.duration is not None and stream.time_base is not None
        assert stream.duration * stream.time_base == pytest.approx(2.0, abs=0.5 / fps)
    assert sum(1 for _ in read_frames(path)) == 2 * fps


def test_clip_rejects_frames_of_another_size(tmp_path: Path) -> None:
    frames = [np.zeros((64, 96, 3), np.uint8), np.zeros((32, 96, 3), np.uint8)]
    with pytest.raises(ValueError, match="96x32"):
        write_clip(frames, 24, tmp_path / "clip.mp4")


FINAL_FPS = 24  # the final video's rate: per-frame motion is smallest there
ASPECTS = {"16:9": (480, 270), "9:16": (270, 480), "1:1": (360, 360)}
LONGEST_STILL_S = 0.5


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("movement", MOVEMENTS)
def test_no_still_runs_after_the_final_encode(movement: str, aspect: str) -> None:
    """A 15 s beat (the slowest a stroke moves) through refine's H.264 encode: no frozen picture for 0.5 s."""
    width, height = ASPECTS[aspect]
    beat = 15 * FINAL_FPS
    frames = render_at(storyboard(width, height, seed=1), movement, count=beat, beat_frames=beat, seed=3)
    runs = frozen_runs(luma_steps(encode_decode_luma(frames, FINAL_FPS)))
    longest = max((length for _, length in runs), default=0)
    assert longest < LONGEST_STILL_S * FINAL_FPS, f"{movement} {aspect}: frozen for {longest} frames at {runs}"


def render_at(init: np.ndarray, movement: str, *, count: int, beat_frames: int, seed: int) -> list[np.ndarray]:
    return list(
        animate(
            init,
            camera_movement=movement,
            fps=FINAL_FPS,
            frame_count=count,
            beat_frames=beat_frames,
            beat_offset_frames=0,
            seed=seed,
        )
    )


def test_an_unchanging_picture_is_frozen_after_the_encode() -> None:
    """The threshold sits above what the encoder does to a picture that does not change."""
    lumas = encode_decode_luma([storyboard(480, 270)] * 48, FINAL_FPS)
    assert frozen_runs(luma_steps(lumas)) == [(0, 48)]
    assert max(luma_steps(lumas)) < FROZEN_LUMA_LEVELS / 2, "the encoder's own noise is well under the threshold"


@settings(max_examples=300, deadline=None)
@given(
    movement=st.sampled_from(MOVEMENTS),
    size=st.sampled_from([(1280, 720), (720, 1280), (720, 720), (320, 180)]),
    beat_seconds=st.sampled_from([5, 10, 15]),
    seed=st.integers(0, 2**31),
    t=st.floats(0, 1.3),
)
def test_breathing_never_reaches_past_the_storyboard(
    movement: str, size: tuple[int, int], beat_seconds: int, seed: int, t: float
) -> None:
    width, height = size
    path = camera_path(movement, beat_seconds=beat_seconds, aspect=width / height, seed=seed)
    assert path.breathing(t) >= 1.0
    frame_to_storyboard = np.linalg.inv(transform(path.pose(t), width, height, path.breathing(t)))
    corners = np.array(
        [[-0.5, -0.5, 1], [width - 0.5, -0.5, 1], [-0.5, height - 0.5, 1], [width - 0.5, height - 0.5, 1]]
    )
    inside = frame_to_storyboard @ corners.T
    tolerance = 1e-6 * width
    assert (inside[0] >= -0.5 - tolerance).all() and (inside[0] <= width - 0.5 + tolerance).all()
    assert (inside[1] >= -0.5 - tolerance).all() and (inside[1] <= height - 0.5 + tolerance).all()


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (320, 180), (64, 36)])
def test_light_and_dust_only_brighten_and_saturate(size: tuple[int, int]) -> None:
    """Added with saturation: white stays white (nothing wraps round to dark), and no pixel gets darker."""
    width, height = size
    atmosphere = Atmosphere(width, height, seed=7)
    for seconds in (0.0, 0.3, 2.0, 9.5, 17.0):
        white = np.full((height, width, 3), 255, np.uint8)
        atmosphere.apply(white, seconds)
        assert (white == 255).all()
        base = storyboard(width, height)
        lit = base.copy()
        atmosphere.apply(lit, seconds)
        assert (lit >= base).all()
        if seconds == 0.0:
            assert np.array_equal(lit, base)  # faded in from nothing: a beat starts on its storyboard


def test_light_and_dust_are_atmosphere_not_noise() -> None:
    """Subtle on average, visible where they are, and moving."""
    width, height = 1280, 720
    atmosphere = Atmosphere(width, height, seed=11)
    black = np.zeros((height, width, 3), np.uint8)
    shots = []
    for seconds in (EFFECTS_FADE_S, 4.0, 8.0):
        frame = black.copy()
        atmosphere.apply(frame, seconds)
        shots.append(frame)
        assert 0.5 < float(frame.mean()) < 6.0
        assert 8 <= int(frame.max()) <= 80
    assert not np.array_equal(shots[1], shots[2])


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (320, 180)])
def test_light_and_dust_show_no_border(size: tuple[int, int]) -> None:
    """Each sprite fades out to nothing before its edge, so no rectangle ever shows where one ends."""
    sprites = _sprites(*size)
    edges = [sprites.light] + [s for c in sprites.motes for level in c for row in level for s in row]
    for sprite in edges:
        assert not sprite[0].any() and not sprite[-1].any() and not sprite[:, 0].any() and not sprite[:, -1].any()


def clip_request(
    init: np.ndarray, storyboard_image: np.ndarray | None, offset: int, handoff: int, used: int = 24
) -> ClipRequest:
    return ClipRequest(
        unit="v:chunk:1",
        model=get_model("studio"),
        init=init,
        prompt="",
        camera_movement="slow_orbit",
        fps=12,
        clip_frames=24,
        used_frames=used,
        handoff_frame=handoff,
        beat_frames=60,
        beat_offset_frames=offset,
        seed=9,
        record=NoRecord(),
        storyboard=storyboard_image,
    )


def test_the_studio_renders_a_later_chunk_from_the_storyboard(tmp_path: Path) -> None:
    """Its init frame (the hand-off) is not what it draws from: the clip is the one-pass beat at its offset."""
    board = storyboard(seed=6)
    one_pass = render(board, "slow_orbit", count=24 + 18, beat_frames=60, seed=9)
    junk = np.zeros_like(board)
    clip = StudioClips._render(clip_request(junk, board, 18, 20), tmp_path / "clip.mp4")
    frames = list(read_frames(tmp_path / "clip.mp4"))
    assert all(np.array_equal(a, b) for a, b in zip(frames, one_pass[18:], strict=True))
    assert clip.handoff is not None and np.array_equal(clip.handoff, one_pass[18 + 20])
    assert (clip.provider, clip.usd_micros) == ("studio", 0)


def test_the_studio_renders_only_the_frames_the_timeline_uses(tmp_path: Path) -> None:
    board = storyboard(seed=6)
    StudioClips._render(clip_request(board, board, 46, -1, used=14), tmp_path / "clip.mp4")  # a beat's last chunk
    frames = list(read_frames(tmp_path / "clip.mp4"))
    one_pass = render(board, "slow_orbit", count=60, beat_frames=60, seed=9)
    assert len(frames) == 14 and all(np.array_equal(a, b) for a, b in zip(frames, one_pass[46:], strict=True))


def test_the_studio_needs_the_storyboard(tmp_path: Path) -> None:
    board = storyboard()
    with pytest.raises(FailedPrecondition, match="storyboard"):
        StudioClips._render(clip_request(board, None, 0, -1), tmp_path / "clip.mp4")
