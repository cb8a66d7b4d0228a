"""A rendition of another shape keeps the subject in frame where a centre crop would lose it."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from adgen_refine.encoding import OutputFormat
from adgen_refine.framing import CENTRE, crop_centre, fit_to_cover, subject_focus
from adgen_refine.stitch import render_final
from adgen_refine.timeline import Placement

FPS = 24


def backdrop(width: int, height: int) -> np.ndarray:
    """A soft studio backdrop: a smooth vertical gradient, nothing in particular."""
    ramp = np.linspace(40, 90, height, dtype=np.float32)[:, None, None]
    return np.broadcast_to(ramp + np.array([0, 4, 10], np.float32), (height, width, 3)).astype(np.uint8).copy()


def with_subject(image: np.ndarray, cx: float, cy: float, size: int) -> np.ndarray:
    """A bright, detailed square product centred at (cx, cy) (fractions of the frame)."""
    h, w = image.shape[:2]
    x0, y0 = round(cx * w - size / 2), round(cy * h - size / 2)
    yy, xx = np.mgrid[0:size, 0:size]
    detail = 200 + 40 * np.sign(np.sin(xx / 2.0) * np.sin(yy / 2.0))
    image[y0 : y0 + size, x0 : x0 + size] = np.clip(detail, 0, 255).astype(np.uint8)[..., None]
    return image


def bright_box(frame: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(frame.mean(axis=-1) > 150)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def write_chunk(path: Path, frames: list[np.ndarray]) -> Path:
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264rgb", rate=FPS, options={"crf": "0", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb24"
        for image in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))
    return path


@pytest.mark.parametrize("cx", [0.3, 0.7])
def test_a_subject_on_a_third_stays_whole_in_a_9_16_crop_of_16_9(cx: float) -> None:
    scene = with_subject(backdrop(384, 216), cx, 0.5, 40)
    focus = crop_centre(scene, 108, 192)
    assert abs(focus[0] - cx) < 0.12 and focus[1] == 0.5
    x0, _, x1, _ = bright_box(fit_to_cover(scene, 108, 192, focus))
    assert x0 > 0 and x1 < 107, "the whole subject is inside the 9:16 frame"
    centred = fit_to_cover(scene, 108, 192)
    assert (centred.mean(axis=-1) > 150).sum() < 0.5 * (
        fit_to_cover(scene, 108, 192, focus).mean(axis=-1) > 150
    ).sum(), "a centre crop would have cut the subject (the case is a real one)"


def test_a_subject_high_in_a_portrait_frame_stays_in_a_16_9_crop() -> None:
    scene = with_subject(backdrop(216, 384), 0.5, 0.22, 40)
    focus = crop_centre(scene, 192, 108)
    assert focus[0] == 0.5 and focus[1] < 0.4
    _, y0, _, y1 = bright_box(fit_to_cover(scene, 192, 108, focus))
    assert y0 > 0 and y1 < 107


def test_nothing_in_particular_stays_centred_and_same_shape_is_not_cropped() -> None:
    assert crop_centre(backdrop(384, 216), 108, 192) == pytest.approx(CENTRE, abs=0.02)
    assert crop_centre(with_subject(backdrop(384, 216), 0.3, 0.5, 40), 192, 108) == CENTRE
    centred = with_subject(backdrop(384, 216), 0.5, 0.5, 40)
    assert crop_centre(centred, 108, 192)[0] == pytest.approx(0.5, abs=0.03)


def test_the_render_keeps_one_window_per_beat(tmp_path: Path) -> None:
    """Beat 0 has its subject on the left third, beat 1 on the right: each beat's 9:16 frames show
    their subject whole, and the window does not move inside a beat (both chunks of beat 0)."""
    left = [with_subject(backdrop(384, 216), 0.3 + 0.002 * k, 0.5, 40) for k in range(24)]
    right = [with_subject(backdrop(384, 216), 0.7, 0.5, 40) for _ in range(12)]
    paths = {
        0: write_chunk(tmp_path / "a.mp4", left[:16]),
        1: write_chunk(tmp_path / "b.mp4", left[12:]),
        2: write_chunk(tmp_path / "c.mp4", right),
    }
    placements = [Placement(0, 0, 0, 16, 0), Placement(1, 0, 12, 12, 4), Placement(2, 1, 24, 12, 0)]
    focus = subject_focus(paths, placements, 108, 192)
    assert focus[0] == focus[1] != focus[2]
    out = tmp_path / "portrait.mp4"
    render_final(paths, placements, 36, {}, None, 48_000, OutputFormat(108, 192, FPS), out, focus=focus)
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 36 and frames[0].shape == (192, 108, 3)
    for t in (2, 14, 22, 30):
        x0, _, x1, _ = bright_box(frames[t])
        assert x0 > 0 and x1 < 107, f"frame {t}: subject cut at the edge"
