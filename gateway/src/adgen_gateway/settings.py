from __future__ import annotations

from pydantic import Field

from adgen_kernel.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, description="REST + SSE port; 0 picks a free port (tests)")
    chunks_addr: str = Field(description="gRPC address of the chunks service (video models)")
    export_addr: str = Field(description="gRPC address of the export service (download links)")
    planner_addr: str = Field(description="gRPC address of the planner service (plan previews, quotes)")
    public_url: str = Field(default="", description="base URL used in links; empty means relative links")
