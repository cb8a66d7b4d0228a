from __future__ import annotations

from pydantic import Field

from adgen_kernel.settings import ServiceSettings


class RefineSettings(ServiceSettings):
    crf: int = Field(default=20, ge=0, le=51, description="quality of the one lossy H.264 encode")
    preset: str = Field(default="veryfast", description="x264 preset of the final encode")
