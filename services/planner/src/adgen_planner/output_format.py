"""The delivered frame size and rate for each aspect ratio (720p-class, 24 fps)."""

from __future__ import annotations

from adgen.common.v1 import common_pb2

FPS = 24
_SIZES = {
    common_pb2.ASPECT_RATIO_16_9: (1280, 720),
    common_pb2.ASPECT_RATIO_9_16: (720, 1280),
    common_pb2.ASPECT_RATIO_1_1: (720, 720),
}


def output_format(aspect_ratio: common_pb2.AspectRatio) -> common_pb2.OutputFormat:
    width, height = _SIZES.get(aspect_ratio, _SIZES[common_pb2.ASPECT_RATIO_16_9])
    ratio = aspect_ratio if aspect_ratio in _SIZES else common_pb2.ASPECT_RATIO_16_9
    return common_pb2.OutputFormat(aspect_ratio=ratio, width=width, height=height, fps=FPS)
