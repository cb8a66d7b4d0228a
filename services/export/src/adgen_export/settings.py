from __future__ import annotations

from pydantic import Field

from adgen_kernel.settings import ServiceSettings


class ExportSettings(ServiceSettings):
    url_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600, description="lifetime of download links")
    keep_intermediates: bool = Field(
        default=False, description="keep chunks, hand-off frames and the refined video after export"
    )
