from __future__ import annotations

from pathlib import Path

from pydantic import Field

from adgen_providers.replicate_predictions import ReplicateSettings


class StoryboardSettings(ReplicateSettings):
    assets_addr: str = Field(description="gRPC address of the assets service (product images)")
    replicate_max_in_flight: int = Field(
        default=16, ge=1, description="image predictions running at once across every storyboard replica"
    )
    replicate_timeout_s: float = Field(default=180.0, gt=0, description="a prediction not done by then is canceled")
    replicate_poll_interval_s: float = Field(default=0.5, gt=0, description="how often a running prediction is polled")
    font_dir: Path | None = Field(
        default=None, description="folder holding DejaVuSans-Bold.ttf for the wordmark; default: the system's fonts"
    )
