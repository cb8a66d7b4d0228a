"""The final render, checked by decoding it: length, rate, size, audio, blends and cuts."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest

from adgen_refine.encoding import OutputFormat
from adgen_refine.framing import fit_to_cover
from adgen_refine.stitch import render_final, sample_frames
from adgen_refine.timeline import Placement, Transition

FPS = 24
RED, BLUE, GREEN = (220, 30, 30), (30, 30, 220), (30, 200, 60)


def write_chunk(path: Path, frames: list[np.ndarray], fps: int = FPS, key_every: int = 24) -> Path:
    """A lossless chunk as the chunks service stores them (libx264rgb, crf 0, a key frame every 24)."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        options = {"crf": "0", "preset": "ultrafast", "g": str(key_every)}
        stream = out.add_stream("libx264rgb", rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb24"
        for image in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def solid(colour: tuple[int, int, int], count: int, size: tuple[int, int] = (160, 90)) -> list[np.ndarray]:
    width, height = size
    return [np.full((height, width, 3), colour, np.uint8) for _ in range(count)]


@dataclass(frozen=True)
class Decoded:
    frames: list[np.ndarray]
    pts: list[int]
    average_rate: Fraction
    duration_s: float
    size: tuple[int, int]
    pix_fmt: str
    codec: str
    audio_s: float | None


def decode(path: Path) -> Decoded:
    """Every video frame (RGB) with its pts, the stream's facts, and the decoded audio length."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames, pts = [], []
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            assert frame.pts is not None
            pts.append(frame.pts)
        assert stream.average_rate is not None and stream.codec_context.pix_fmt is not None
        assert stream.duration is not None and stream.time_base is not None
        facts = (
            stream.average_rate,
            float(stream.duration * stream.time_base),
            (stream.codec_context.width, stream.codec_context.height),
            stream.codec_context.pix_fmt,
            stream.codec_context.name,
        )
    with av.open(str(path)) as container:
        audio_s = None
        if container.streams.audio:
            samples = sum(frame.samples for frame in container.decode(audio=0))
            audio_s = samples / container.streams.audio[0].rate
    return Decoded(frames, pts, *facts, audio_s)


def mean_colour(image: np.ndarray) -> np.ndarray:
    return image.reshape(-1, 3).mean(axis=0)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    """Beat 0: a red chunk then a blue chunk overlapping by 12 frames; beat 1: green, after a cut."""
    folder = tmp_path_factory.mktemp("render")
    paths = {
        0: write_chunk(folder / "red.mp4", solid(RED, 48)),
        1: write_chunk(folder / "blue.mp4", solid(BLUE, 48)),
        2: write_chunk(folder / "green.mp4", solid(GREEN, 40)),
    }
    placements = [Placement(0, 0, 0, 48, 0), Placement(1, 0, 36, 40, 12), Placement(2, 1, 76, 32, 0)]
    total = 108
    seconds = total / FPS
    t = np.arange(round(seconds * 44_100) - 500) / 44_100
    audio = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    fmt = OutputFormat(320, 180, FPS, crf=18)
    out = folder / "final.mp4"
    # Red and blue stand for two different pictures here, so the seam's exposure match (which
    # would pull blue toward red) is off: this fixture checks the blend itself.
    render_final(paths, placements, total, {}, audio, 44_100, fmt, out, match_seams=False)
    return out, total, decode(out)


def test_exactly_the_planned_frames_at_a_constant_rate(rendered) -> None:
    _, total, out = rendered
    assert len(out.frames) == total
    assert out.average_rate == FPS
    assert len({b - a for a, b in pairwise(out.pts)}) == 1
    assert abs(out.duration_s - total / FPS) <= 1 / FPS / 2


def test_output_size_and_pixel_format(rendered) -> None:
    out = rendered[2]
    assert out.size == (320, 180) and out.pix_fmt == "yuv420p" and out.codec == "h264"
    assert out.frames[0].shape == (180, 320, 3)


def test_audio_lasts_as_long_as_the_video(rendered) -> None:
    path, total, out = rendered
    assert out.audio_s is not None
    assert abs(out.audio_s - total / FPS) <= 1 / FPS
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        assert audio.rate == 48_000 and audio.codec_context.name == "aac"
        assert audio.codec_context.channels == 2


def test_moov_atom_comes_first(rendered) -> None:
    data = rendered[0].read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")


def test_the_overlap_blends_both_chunks(rendered) -> None:
    frames = rendered[2].frames
    red, blue = mean_colour(frames[30]), mean_colour(frames[60])
    assert red[0] > 180 and red[2] < 60 and blue[2] > 180 and blue[0] < 60
    middle = mean_colour(frames[41])  # overlap frames 36..47; frame 41 is its middle
    assert 80 < middle[0] < 170 and 80 < middle[2] < 170, middle
    ramp = [mean_colour(frames[t])[2] for t in range(35, 49)]
    assert ramp == sorted(ramp), "blue rises steadily through the overlap"


def test_a_cut_shows_no_black_frame(rendered) -> None:
    frames = rendered[2].frames
    assert all(mean_colour(f).max() > 110 for f in frames)
    assert mean_colour(frames[75])[2] > 180 and mean_colour(frames[76])[1] > 150


def test_a_dip_to_black_darkens_the_boundary(tmp_path: Path) -> None:
    paths = {0: write_chunk(tmp_path / "a.mp4", solid(RED, 24)), 1: write_chunk(tmp_path / "b.mp4", solid(BLUE, 24))}
    placements = [Placement(0, 0, 0, 24, 0), Placement(1, 1, 24, 24, 0)]
    out = tmp_path / "dip.mp4"
    render_final(
        paths, placements, 48, {1: Transition("dip_to_black", 12)}, None, 48_000, OutputFormat(160, 90, FPS), out
    )
    decoded = decode(out)
    frames = decoded.frames
    assert len(frames) == 48 and decoded.audio_s is None
    brightness = [mean_colour(f).max() for f in frames]
    assert brightness[23] < 25, "the last outgoing frame is black"
    assert brightness[17] > 150 and brightness[30] > 150
    assert brightness[18:24] == sorted(brightness[18:24], reverse=True)


def test_a_dissolve_between_beats_keeps_the_duration(tmp_path: Path) -> None:
    paths = {0: write_chunk(tmp_path / "a.mp4", solid(RED, 30)), 1: write_chunk(tmp_path / "b.mp4", solid(BLUE, 30))}
    placements = [Placement(0, 0, 0, 24, 0), Placement(1, 1, 24, 24, 0)]
    out = tmp_path / "dissolve.mp4"
    render_final(paths, placements, 48, {1: Transition("dissolve", 12)}, None, 48_000, OutputFormat(160, 90, FPS), out)
    frames = decode(out).frames
    assert len(frames) == 48
    blue = [mean_colour(f)[2] for f in frames[17:31]]
    assert blue == sorted(blue) and blue[0] < 60 and blue[-1] > 180
    assert 80 < mean_colour(frames[23])[2] < 170


def test_clip_frames_are_taken_by_time_and_trimmed_at_the_end(tmp_path: Path) -> None:
    # A 48 fps clip whose frame k has grey level 4k: at 24 fps the output shows clip frames 0, 2, 4...
    clip = [np.full((90, 160, 3), 4 * k, np.uint8) for k in range(60)]
    paths = {0: write_chunk(tmp_path / "fast.mp4", clip, fps=48)}
    out = tmp_path / "rate.mp4"
    render_final(paths, [Placement(0, 0, 0, 24, 0)], 24, {}, None, 48_000, OutputFormat(160, 90, FPS, crf=0), out)
    frames = decode(out).frames
    grey = [float(mean_colour(f).mean()) for f in frames]
    assert np.allclose(grey, [8 * k for k in range(24)], atol=2.5)


def test_a_clip_too_short_for_its_placement_is_an_error(tmp_path: Path) -> None:
    paths = {0: write_chunk(tmp_path / "short.mp4", solid(RED, 10))}
    out = tmp_path / "short_out.mp4"
    with pytest.raises(ValueError, match="chunk 0 ends after 10 frames"):
        render_final(paths, [Placement(0, 0, 0, 12, 0)], 12, {}, None, 48_000, OutputFormat(160, 90, FPS), out)
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_a_missing_chunk_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no file for chunks \[0\]"):
        render_final(
            {}, [Placement(0, 0, 0, 12, 0)], 12, {}, None, 48_000, OutputFormat(160, 90, FPS), tmp_path / "x.mp4"
        )


def test_fit_to_cover_scales_and_crops_the_centre() -> None:
    wide = np.zeros((90, 160, 3), np.uint8)
    wide[:, 35:125] = 255  # a centred 90x90 white square
    square = fit_to_cover(wide, 180, 180)
    assert square.shape == (180, 180, 3)
    assert square[:, 5:-5].min() == 255 and square.mean() > 240
    assert fit_to_cover(wide, 80, 44).shape == (44, 80, 3)
    assert fit_to_cover(wide, 160, 90) is wide


def test_output_format_is_validated() -> None:
    with pytest.raises(ValueError, match="even"):
        OutputFormat(161, 90, 24)
    assert Fraction(OutputFormat(160, 90, 30).fps) == 30


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


def test_audio_still_in_the_making_joins_the_video_as_if_it_had_been_ready(tmp_path: Path) -> None:
    """A Future resolved while the video encodes gives the same audio as the finished array; one
    that resolves to None leaves no audio stream."""
    paths = {0: write_chunk(tmp_path / "a.mp4", solid(RED, 48))}
    placements = [Placement(0, 0, 0, 48, 0)]
    fmt = OutputFormat(160, 90, FPS)
    t = np.arange(2 * 48_000) / 48_000
    tone = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    ready, later, missing = tmp_path / "ready.mp4", tmp_path / "later.mp4", tmp_path / "missing.mp4"
    render_final(paths, placements, 48, {}, tone, 48_000, fmt, ready)

    in_the_making: Future[np.ndarray | None] = Future()
    timer = threading.Timer(0.3, in_the_making.set_result, args=(tone,))
    timer.start()
    render_final(paths, placements, 48, {}, in_the_making, 48_000, fmt, later)
    timer.join()
    never: Future[np.ndarray | None] = Future()
    never.set_result(None)
    render_final(paths, placements, 48, {}, never, 48_000, fmt, missing)

    assert audio_packets(later) == audio_packets(ready)
    assert decode(later).audio_s == pytest.approx(decode(ready).audio_s)
    assert decode(missing).audio_s is None and len(decode(missing).frames) == 48


def numbered(count: int, size: tuple[int, int] = (64, 36)) -> list[np.ndarray]:
    """Frames that say their own number: frame k is k, 2k and 3k (mod 256) in its three channels."""
    width, height = size
    return [np.full((height, width, 3), (k % 256, 2 * k % 256, 3 * k % 256), np.uint8) for k in range(count)]


@pytest.mark.parametrize(("clip_fps", "key_every"), [(24, 24), (30, 24), (24, 250)])
def test_samples_far_into_a_chunk_are_the_frames_rendered(tmp_path: Path, clip_fps: int, key_every: int) -> None:
    """Samples reached by seeking (or, with no key frame near, by decoding on) are exactly those frames."""
    clip = numbered(150 * clip_fps // FPS)
    paths = {0: write_chunk(tmp_path / "c0.mp4", clip, fps=clip_fps, key_every=key_every)}
    placements = [Placement(0, 0, 0, 150, 0)]
    fmt = OutputFormat(64, 36, FPS)
    wanted = [3, 70, 71, 149, 100]  # out of order, one behind another, and far apart
    samples = sample_frames(paths, placements, 150, {}, fmt, wanted)
    assert sorted(samples) == sorted(wanted)
    for t in wanted:
        expected = clip[t * clip_fps // FPS]
        assert np.array_equal(samples[t], expected), f"output frame {t}"
