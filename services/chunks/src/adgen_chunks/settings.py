from __future__ import annotations

from pydantic import Field

from adgen_providers.replicate_predictions import ReplicateSettings


class ChunksSettings(ReplicateSettings):
    default_video_model: str = Field(default="studio", description="model used when a request names none")
    overlap_fraction: float = Field(default=0.25, ge=0.0, le=0.4, description="share of a clip cross-faded")
    replicate_max_in_flight: int = Field(
        default=16, ge=1, description="predictions running at once across every chunks replica (the account's limit)"
    )
    replicate_timeout_s: float = Field(
        default=600.0, ge=5, description="a prediction's deadline: Replicate cancels it (Cancel-After), we stop waiting"
    )
    replicate_poll_interval_s: float = Field(default=2.0, gt=0, description="first wait between polls; it grows")
    replicate_longest_poll_s: float | None = Field(default=15.0, gt=0, description="the longest wait between two polls")
