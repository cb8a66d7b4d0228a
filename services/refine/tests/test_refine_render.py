"""The whole refine render on real files: seams matched, grade applied, supers drawn, shapes, loudness."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly

from adgen.common.v1 import common_pb2
from adgen_refine.captions import Caption
from adgen_refine.encoding import OutputFormat
from adgen_refine.luts import shipped_table
from adgen_refine.stitch import render_final
from adgen_refine.supers import render_caption
from adgen_refine.timeline import Placement, Transition
from adgen_refine.worker import music_for

FPS = 24
SIZE = (192, 108)


def texture(step: int, brightness: int = 0, size: tuple[int, int] = SIZE) -> np.ndarray:
    """A moving textured scene: frame ``step`` of a slow pan across a fixed pattern."""
    width, height = size
    x = np.arange(width)[None, :] + 2 * step
    y = np.arange(height)[:, None]
    base = 100 + 40 * np.sin(x / 9.0) + 30 * np.cos(y / 7.0)
    image = np.stack([base, base * 0.9 + 10, base * 0.8 + 20], axis=-1) + brightness
    return np.clip(image, 0, 255).astype(np.uint8)


def write_chunk(path: Path, frames: list[np.ndarray]) -> Path:
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264rgb", rate=FPS, options={"crf": "0", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb24"
        for image in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


OVERLAP = 3


@pytest.fixture(scope="module")
def seam_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One beat of two chunks; the second continues the first's motion but is 30 levels brighter."""
    folder = tmp_path_factory.mktemp("seams")
    first = [texture(k) for k in range(40)]
    second = [texture(40 - OVERLAP + k, brightness=30) for k in range(60)]
    paths = {0: write_chunk(folder / "a.mp4", first), 1: write_chunk(folder / "b.mp4", second)}
    placements = [Placement(0, 0, 0, 40, 0), Placement(1, 0, 40 - OVERLAP, 60, OVERLAP)]
    total = 97
    rendered = []
    for match in (True, False):
        out = folder / f"match_{match}.mp4"
        fmt = OutputFormat(*SIZE, FPS, crf=10)
        render_final(paths, placements, total, {}, None, 48_000, fmt, out, match_seams=match)
        rendered.append(frames_of(out))
    return rendered[0], rendered[1]


def steps(frames: list[np.ndarray]) -> np.ndarray:
    """Frame-to-frame change of brightness beyond the scene's own (the pan changes it a little)."""
    drift = np.array([f.mean() - texture(t).mean() for t, f in enumerate(frames)])
    return np.abs(np.diff(drift))


def test_a_brighter_second_chunk_no_longer_jumps(seam_pair) -> None:
    matched, plain = seam_pair
    assert len(matched) == len(plain) == 97
    seam = slice(40 - OVERLAP - 1, 40 + 1)
    assert steps(plain)[seam].max() > 6, "without matching the cross-fade still jumps"
    assert steps(matched).max() < 2.2, "with matching every frame-to-frame change is gentle"
    # The correction eases out: a second later the chunk shows its own exposure again.
    assert abs(matched[-1].mean() - plain[-1].mean()) < 1.0


def test_no_frozen_or_black_frames_at_the_seam(seam_pair) -> None:
    matched, _ = seam_pair
    assert min(f.mean() for f in matched) > 60
    assert min(np.abs(a.astype(int) - b).mean() for a, b in itertools.pairwise(matched)) > 1.0


@pytest.mark.parametrize(("width", "height"), [(108, 192), (144, 144), (192, 108)])
def test_every_shape_has_its_size_and_keeps_a_centred_subject(tmp_path: Path, width: int, height: int) -> None:
    scene = np.full((108, 192, 3), 30, np.uint8)
    scene[34:74, 76:116] = 240  # a 40x40 subject in the middle of a 16:9 chunk
    paths = {0: write_chunk(tmp_path / "subject.mp4", [scene] * 12)}
    out = tmp_path / "shape.mp4"
    render_final(paths, [Placement(0, 0, 0, 12, 0)], 12, {}, None, 48_000, OutputFormat(width, height, FPS), out)
    frame = frames_of(out)[5]
    assert frame.shape == (height, width, 3)
    ys, xs = np.nonzero(frame.mean(axis=-1) > 135)
    assert xs.min() > 0 and ys.min() > 0 and xs.max() < width - 1 and ys.max() < height - 1, "whole subject in frame"
    assert abs((xs.min() + xs.max()) / 2 - (width - 1) / 2) <= 1.5
    assert abs((ys.min() + ys.max()) / 2 - (height - 1) / 2) <= 1.5


def test_the_grade_and_the_supers_are_in_the_encoded_frames(tmp_path: Path) -> None:
    grey = np.full((108, 192, 3), 128, np.uint8)
    paths = {0: write_chunk(tmp_path / "grey.mp4", [grey] * 24), 1: write_chunk(tmp_path / "grey2.mp4", [grey] * 24)}
    placements = [Placement(0, 0, 0, 24, 0), Placement(1, 1, 24, 24, 0)]
    caption = Caption(1, (("headline", "Hello"),), first_frame=30, end_frame=46, fade_frames=4)
    layer = render_caption(caption, 192, 108, FPS, [grey])
    out = tmp_path / "graded.mp4"
    render_final(
        paths, placements, 48, {1: Transition("dissolve", 6)}, None, 48_000, OutputFormat(192, 108, FPS, crf=4), out,
        grade=shipped_table("cinematic_warm"), supers=[layer],
    )  # fmt: skip
    frames = frames_of(out)
    assert len(frames) == 48
    r, _, b = frames[5][:20, :20].reshape(-1, 3).mean(axis=0)
    assert r / b > 1.15, "warm grade"
    box = layer.box
    mask = layer.glyph_mask(108, 192)[box.top : box.bottom, box.left : box.right]
    inside = frames[38][box.top : box.bottom, box.left : box.right][mask].mean()
    before = frames[20][box.top : box.bottom, box.left : box.right][mask].mean()
    assert abs(inside - before) > 60, "the glyphs stand out from the grey while the caption shows"
    assert abs(frames[47][box.top : box.bottom, box.left : box.right].mean() - before) < 3, "and are gone after"

    identity = tmp_path / "identity.mp4"
    fmt = OutputFormat(192, 108, FPS, crf=0)
    render_final(paths, placements, 48, {}, None, 48_000, fmt, identity, grade=shipped_table("identity"))
    assert np.abs(frames_of(identity)[5].astype(int) - 128).max() <= 2


def test_the_delivered_music_is_at_minus_14_lufs_under_minus_1_dbtp(tmp_path: Path) -> None:
    spec = common_pb2.Spec(
        archetype_id="luxury_showcase", duration_s=10, seed=5,
        beats=[common_pb2.Beat(index=0, start_s=0, duration_s=5, energy=common_pb2.ENERGY_MEDIUM),
               common_pb2.Beat(index=1, start_s=5, duration_s=5, energy=common_pb2.ENERGY_HIGH)],
    )  # fmt: skip
    paths = {0: write_chunk(tmp_path / "a.mp4", [texture(k) for k in range(240)])}
    out = tmp_path / "music.mp4"
    render_final(paths, [Placement(0, 0, 0, 240, 0)], 240, {}, music_for(spec), 48_000, OutputFormat(*SIZE, FPS), out)
    with av.open(str(out)) as container:
        audio = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1).T.astype(np.float64)
    assert abs(len(audio) / 48_000 - 10.0) <= 1 / FPS
    loudness = pyloudnorm.Meter(48_000).integrated_loudness(audio)
    assert abs(loudness - -14.0) <= 1.0, loudness
    peak_db = 20 * np.log10(np.abs(resample_poly(audio, 4, 1, axis=0)).max())
    assert peak_db <= -1.0, peak_db
