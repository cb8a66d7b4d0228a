"""The shapes one video is delivered in: the plan's ``output`` first (the primary, generated at that
shape), then its ``extra_outputs`` in the order they were asked for. Refine renders each of them,
export publishes each of them, and both name the objects with ``tag`` (empty for the primary, so
its keys are the plain ones)."""

from __future__ import annotations

from dataclasses import dataclass

from adgen.common.v1 import common_pb2
from adgen_video import keys
from adgen_video.request_limits import ASPECT_RATIOS

_NAMES = {value: name for name, value in ASPECT_RATIOS.items()}


@dataclass(frozen=True)
class Rendition:
    aspect_ratio: str
    """"16:9", "9:16" or "1:1"."""
    output: common_pb2.OutputFormat
    primary: bool

    @property
    def tag(self) -> str:
        return "" if self.primary else keys.rendition_tag(self.aspect_ratio)

    @property
    def enum(self) -> common_pb2.AspectRatio:
        return ASPECT_RATIOS[self.aspect_ratio]


def aspect_name(output: common_pb2.OutputFormat) -> str:
    """The shape's name; an output without one (a hand-built Spec) is named by its nearest shape."""
    if output.aspect_ratio in _NAMES:
        return _NAMES[output.aspect_ratio]
    ratio = output.width / output.height if output.height else 16 / 9

    def distance(name: str) -> float:
        w, h = name.split(":")
        return abs(ratio - int(w) / int(h))

    return min(ASPECT_RATIOS, key=distance)


def renditions(spec: common_pb2.Spec) -> list[Rendition]:
    primary = Rendition(aspect_name(spec.output), spec.output, primary=True)
    return [primary] + [Rendition(aspect_name(o), o, primary=False) for o in spec.extra_outputs]
