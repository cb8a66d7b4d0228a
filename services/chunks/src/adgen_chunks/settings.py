from __future__ import annotations

from pydantic import Field, SecretStr

from adgen_kernel.settings import ServiceSettings


class ChunksSettings(ServiceSettings):
    default_video_model: str = Field(default="studio", description="model used when a request names none")
    overlap_fraction: float = Field(default=0.25, ge=0.0, le=0.4, description="share of a clip cross-faded")
    replicate_api_token: SecretStr | None = Field(
        default=None, description="Replicate API token; without one only the studio animator can render chunks"
    )
    replicate_base_url: str | None = Field(default=None, description="Replicate API base URL (a local fake in tests)")
    replicate_concurrency: int = Field(default=4, ge=1, description="predictions running at once, per video model")
    replicate_max_in_flight: int = Field(
        default=16, ge=1, description="predictions running at once across every chunks replica (the account's limit)"
    )
    replicate_timeout_s: float = Field(
        default=600.0, ge=5, description="a prediction's deadline: Replicate cancels it (Cancel-After), we stop waiting"
    )
    replicate_request_timeout_s: float = Field(
        default=30.0, gt=0, description="one HTTP request; a create that times out is looked up by its tag"
    )
    replicate_max_attempts: int = Field(default=4, ge=1, description="tries per request on 429, 5xx and network errors")
    replicate_backoff_s: float = Field(default=1.0, gt=0, description="first retry wait; doubles, with jitter")
    replicate_poll_interval_s: float = Field(default=2.0, gt=0, description="first wait between polls; it grows")
    replicate_longest_poll_s: float = Field(default=15.0, gt=0, description="the longest wait between two polls")
