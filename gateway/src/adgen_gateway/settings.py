from __future__ import annotations

import secrets

from pydantic import Field

from adgen_kernel.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, description="REST + SSE port; 0 picks a free port (tests)")
    chunks_addr: str = Field(description="gRPC address of the chunks service (video models)")
    export_addr: str = Field(description="gRPC address of the export service (download links)")
    planner_addr: str = Field(description="gRPC address of the planner service (plan previews, quotes)")
    assets_addr: str = Field(description="gRPC address of the assets service (uploads, library, search)")
    voice_addr: str = Field(description="gRPC address of the voice service (the voices and their samples)")
    public_url: str = Field(default="", description="base URL used in links; empty means relative links")
    stream_token_secret: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        description="HMAC key of EventSource stream tokens; random per process unless set (set it when several"
        " gateways serve one API)",
        repr=False,
    )
    review_ttl_s: int = Field(
        default=7 * 24 * 3600, ge=60, description="how long a video waits at its review gate before it expires"
    )
    stream_token_ttl_s: int = Field(default=300, ge=10, le=3600, description="lifetime of a stream token")
    rate_limit_per_s: float = Field(
        default=20.0, gt=0, description="requests per second per API key (token bucket refill), per gateway replica"
    )
    rate_limit_burst: int = Field(default=40, ge=1, description="requests an API key may make at once")
    rate_limit_anonymous_per_s: float = Field(
        default=5.0, gt=0, description="requests per second per client address without a valid API key"
    )
    rate_limit_anonymous_burst: int = Field(default=20, ge=1, description="burst per client address without a key")
    http_max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="largest JSON body (uploads have their own limit)"
    )
    http_body_idle_timeout_s: float = Field(
        default=15.0, gt=0, description="a request body that sends nothing for this long is answered 408"
    )
    http_body_timeout_s: float = Field(
        default=300.0, gt=0, description="a request body not complete after this long is answered 408"
    )
