"""The assets service's settings: which CLIP model embeds images and texts, and where its weights are;
when a library gets its own search index; how much a user may store."""

from __future__ import annotations

from pydantic import Field

from adgen_assets import search_plan
from adgen_kernel.settings import ServiceSettings
from adgen_video.asset_limits import QUOTA_ASSETS, QUOTA_BYTES


class AssetsSettings(ServiceSettings):
    clip_model: str = Field(default="ViT-B-32", description="an open_clip architecture with 512-dim embeddings")
    clip_pretrained: str = Field(
        default="",
        description="a weights file, or an open_clip pretrained tag already in the local cache; empty = none",
    )
    clip_random_weights: bool = Field(
        default=False, description="tests only: the real model with randomly initialised weights"
    )
    search_index_build_rows: int = Field(
        default=search_plan.INDEX_BUILD_ROWS, ge=1, description="embedded assets from which a user gets an HNSW index"
    )
    search_index_drop_rows: int = Field(
        default=search_plan.INDEX_DROP_ROWS, ge=0, description="below this many, the user's index is dropped"
    )
    search_index_build_memory_mb: int = Field(
        default=1024, ge=64, description="maintenance_work_mem of an index build (a 180k-row graph needs ~400)"
    )
    search_index_interval_s: float = Field(default=60.0, gt=0, description="seconds between index maintenance passes")
    search_cache_min_rows: int = Field(
        default=search_plan.MEMORY_MIN_ROWS,
        ge=1,
        description="embedded assets from which a library is searched in memory (per replica)",
    )
    search_cache_memory_mb: int = Field(
        default=512, ge=1, description="memory of a replica's in-memory library indexes (~540 bytes per asset)"
    )
    search_cache_warm: bool = Field(
        default=True, description="build the largest libraries' in-memory indexes at start-up, not on first search"
    )
    search_cache_fresh_rows: int = Field(
        default=1_000,
        ge=0,
        description="assets embedded since a library's in-memory index was built that trigger a rebuild",
    )
    asset_quota_count: int = Field(default=QUOTA_ASSETS, ge=1, description="assets one user may store")
    asset_quota_bytes: int = Field(default=QUOTA_BYTES, ge=1, description="bytes one user may store (all objects)")


def assets_settings(settings: ServiceSettings) -> AssetsSettings:
    """The assets settings of a process started with the plain shared settings (defaults for CLIP)."""
    if isinstance(settings, AssetsSettings):
        return settings
    return AssetsSettings(**settings.model_dump())
