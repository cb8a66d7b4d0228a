"""The image-to-video models adgen can animate with, described by what they really return.

Chunk planning and cost depend on the clip a model *actually* delivers (length, frame rate) and
on its price per clip, not on what is asked of it: several models ignore the duration parameter.
Prices are per clip, never per second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

DEFAULT_VIDEO_MODEL = "studio"


class UnknownVideoModel(LookupError):
    def __init__(self, key: str, known: list[str]) -> None:
        super().__init__(f"unknown video model {key!r}; valid keys: {', '.join(known)}")
        self.key = key


@dataclass(frozen=True)
class VideoModel:
    """One image-to-video model. `clip_s` is the length of the clip it returns whatever is
    requested; `image_input` is the input field that takes the init frame ("" when the model has
    none and can only be prompted with text); `is_local` models run in-process at no cost.
    `seamless` models render any frame of a beat exactly, whichever chunk asks (the studio renders
    from the storyboard at beat time), so a beat's chunks join without a cross-fade and need share
    only the hand-off frame."""

    key: str
    replicate_model: str
    clip_s: float
    fps: int
    width: int
    height: int
    price_per_clip_usd: Decimal
    image_input: str
    is_local: bool = False
    seamless: bool = False

    @property
    def provider(self) -> str:
        """Who renders it: the name its fleet-wide in-flight limit is kept under."""
        return "studio" if self.is_local else "replicate"

    @property
    def price_per_clip_micros(self) -> int:
        return int(self.price_per_clip_usd * 1_000_000)


def _model(
    key: str, replicate_model: str, clip_s: float, fps: int, size: tuple[int, int], price: str, image_input: str
) -> VideoModel:
    return VideoModel(key, replicate_model, clip_s, fps, size[0], size[1], Decimal(price), image_input)


_MODELS: tuple[VideoModel, ...] = (
    _model("hailuo_fast", "minimax/hailuo-2.3-fast", 6.0, 30, (1366, 768), "0.19", "first_frame_image"),
    _model("hailuo_23", "minimax/hailuo-2.3", 6.0, 30, (1366, 768), "0.28", "first_frame_image"),
    _model("wan", "wavespeedai/wan-2.1-i2v-480p", 5.0, 16, (832, 480), "0.09", "image"),
    _model("wan_25_i2v", "wan-video/wan-2.5-i2v-fast", 5.0, 24, (1280, 720), "0.09", "image"),
    _model("seedance", "bytedance/seedance-1-pro-fast", 5.0, 24, (1280, 720), "0.06", "image"),
    _model("pixverse", "pixverse/pixverse-v5", 4.2, 24, (1280, 720), "0.07", "image"),
    _model("kling_21", "kwaivgi/kling-v2.1", 5.0, 24, (1280, 720), "0.25", "start_image"),
    _model("veo_fast", "google/veo-3.1-fast", 5.0, 24, (1280, 720), "0.75", "image"),
    # 24 frames at 8 fps and 16 frames at 8 fps: text-to-video models without an init-frame input.
    _model("zeroscope", "anotherjesse/zeroscope-v2-xl", 3.0, 8, (1024, 576), "0.10", ""),
    _model("animatediff", "lucataco/animate-diff", 2.0, 8, (512, 512), "0.20", ""),
    VideoModel(DEFAULT_VIDEO_MODEL, "", 5.0, 24, 1280, 720, Decimal("0"), "", is_local=True, seamless=True),
)


def _validated(models: tuple[VideoModel, ...]) -> Mapping[str, VideoModel]:
    problems = []
    keys = [m.key for m in models]
    if len(set(keys)) != len(keys):
        problems.append("duplicate model keys")
    for m in models:
        if not (m.clip_s > 0 and m.fps > 0 and m.width > 0 and m.height > 0 and m.price_per_clip_usd >= 0):
            problems.append(f"{m.key}: clip length, fps, size must be positive and price not negative")
        if m.is_local == bool(m.replicate_model):
            problems.append(f"{m.key}: exactly the remote models name a Replicate model")
    if DEFAULT_VIDEO_MODEL not in keys:
        problems.append(f"the default model {DEFAULT_VIDEO_MODEL!r} is missing")
    if problems:
        raise ValueError("invalid video model registry: " + "; ".join(problems))
    return MappingProxyType({m.key: m for m in models})


REGISTRY: Mapping[str, VideoModel] = _validated(_MODELS)


def get_model(key: str) -> VideoModel:
    """The model for `key`; "" means the default (as in VideoRequest.video_model)."""
    try:
        return REGISTRY[key or DEFAULT_VIDEO_MODEL]
    except KeyError:
        raise UnknownVideoModel(key, sorted(REGISTRY)) from None
