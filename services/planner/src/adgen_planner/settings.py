from __future__ import annotations

from pydantic import Field

from adgen_kernel.settings import ServiceSettings


class PlannerSettings(ServiceSettings):
    chunks_addr: str = Field(description="gRPC address of the chunks service (chunk plans)")
