from __future__ import annotations

from pydantic import Field, SecretStr

from adgen_kernel.settings import ServiceSettings


class StoryboardSettings(ServiceSettings):
    assets_addr: str = Field(description="gRPC address of the assets service (product images)")
    replicate_api_token: SecretStr | None = Field(
        default=None, description="Replicate API token; without one the studio renderer draws the storyboard"
    )
    replicate_base_url: str | None = Field(default=None, description="Replicate API base URL (a local fake in tests)")
    replicate_concurrency: int = Field(default=4, ge=1, description="Replicate predictions running at once")
    replicate_max_in_flight: int = Field(
        default=16, ge=1, description="image predictions running at once across every storyboard replica"
    )
    replicate_timeout_s: float = Field(default=180.0, gt=0, description="a prediction not done by then is canceled")
    replicate_request_timeout_s: float = Field(
        default=30.0, gt=0, description="one HTTP request; a create that times out is looked up by its tag"
    )
    replicate_max_attempts: int = Field(default=4, ge=1, description="tries per request on 429, 5xx and network errors")
    replicate_backoff_s: float = Field(default=1.0, gt=0, description="first retry wait; doubles, with jitter")
    replicate_poll_interval_s: float = Field(default=0.5, gt=0, description="how often a running prediction is polled")
