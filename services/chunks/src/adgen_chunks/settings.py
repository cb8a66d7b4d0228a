from __future__ import annotations

from pydantic import Field

from adgen_kernel.settings import ServiceSettings


class ChunksSettings(ServiceSettings):
    default_video_model: str = Field(default="studio", description="model used when a request names none")
    overlap_fraction: float = Field(default=0.25, ge=0.0, le=0.4, description="share of a clip cross-faded")
