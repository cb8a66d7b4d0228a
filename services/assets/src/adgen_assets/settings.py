"""The assets service's settings: which CLIP model embeds images and texts, and where its weights are."""

from __future__ import annotations

from pydantic import Field

from adgen_kernel.settings import ServiceSettings


class AssetsSettings(ServiceSettings):
    clip_model: str = Field(default="ViT-B-32", description="an open_clip architecture with 512-dim embeddings")
    clip_pretrained: str = Field(
        default="",
        description="a weights file, or an open_clip pretrained tag already in the local cache; empty = none",
    )
    clip_random_weights: bool = Field(
        default=False, description="tests only: the real model with randomly initialised weights"
    )


def assets_settings(settings: ServiceSettings) -> AssetsSettings:
    """The assets settings of a process started with the plain shared settings (defaults for CLIP)."""
    if isinstance(settings, AssetsSettings):
        return settings
    return AssetsSettings(**settings.model_dump())
