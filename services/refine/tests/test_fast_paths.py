"""The render loop's fast paths give the same pictures as the plain ones they replace."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest
from av.video.reformatter import ColorRange, Colorspace

from adgen_refine.encoding import yuv420_frame
from adgen_refine.luts import GRADES, shipped_table
from adgen_refine.seams import ExposureMatch, apply_match


@pytest.mark.parametrize("name", sorted(GRADES))
def test_grading_the_decoders_bgra_equals_grading_rgb(name: str) -> None:
    rgb = np.random.default_rng(3).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    bgra = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGRA)
    table = shipped_table(name)
    assert np.array_equal(table.apply_bgra(bgra), table.apply(rgb))


def test_the_exposure_match_leaves_the_fourth_channel_alone() -> None:
    rgba = np.random.default_rng(4).integers(0, 256, (9, 11, 4), dtype=np.uint8)
    match = ExposureMatch(gain=(1.2, 0.9, 1.0), offset=(-5.0, 3.0, 0.0))
    out = apply_match(rgba, match, 0.5)
    assert out.shape == rgba.shape and np.array_equal(out[..., 3], rgba[..., 3])
    assert np.array_equal(out[..., :3], apply_match(rgba[..., :3], match, 0.5))


@pytest.mark.parametrize("channels", [3, 4])
def test_the_yuv_conversion_is_bt709_limited_range_like_swscale(channels: int) -> None:
    """Smooth content (as video is): the frame decodes back to the picture within a level or two,
    and matches swscale's own BT.709 conversion."""
    y, x = np.mgrid[0:64, 0:96].astype(np.float32)
    rgb = np.stack([128 + 100 * np.sin(x / 15), 128 + 100 * np.cos(y / 11), 40 + x + y / 2], axis=-1)
    rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    image = np.concatenate([rgb, np.zeros((64, 96, 1), np.uint8)], axis=-1) if channels == 4 else rgb
    frame = yuv420_frame(image)
    assert frame.format.name == "yuv420p" and (frame.width, frame.height) == (96, 64)
    theirs = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
    )

    def round_trip_error(yuv: av.VideoFrame) -> np.ndarray:
        back = yuv.reformat(format="rgb24", src_colorspace=Colorspace.ITU709, src_color_range=ColorRange.MPEG)
        return np.abs(back.to_ndarray().astype(int) - rgb.astype(int))

    ours, reference = round_trip_error(frame), round_trip_error(theirs)
    assert ours.mean() <= reference.mean() + 0.25 and ours.max() <= max(12, reference.max())
    luma = np.abs(frame.to_ndarray()[:64].astype(int) - theirs.to_ndarray()[:64].astype(int))
    assert luma.max() <= 1, "the same luma, to rounding"
    grey = yuv420_frame(np.full((4, 4, channels), 255, np.uint8)).to_ndarray()
    assert grey[:4].min() == 235 and set(grey[4:].reshape(-1)) == {128}, "white is Y'=235, neutral chroma"
