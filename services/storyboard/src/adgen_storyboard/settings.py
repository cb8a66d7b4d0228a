from __future__ import annotations

from pydantic import Field

from adgen_kernel.settings import ServiceSettings


class StoryboardSettings(ServiceSettings):
    assets_addr: str = Field(description="gRPC address of the assets service (product images)")
