from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from adgen_kernel.settings import ServiceSettings
from adgen_refine.supers import DEFAULT_FONT_DIR


class RefineSettings(ServiceSettings):
    crf: int = Field(default=20, ge=0, le=51, description="quality of the one lossy H.264 encode")
    preset: str = Field(default="veryfast", description="x264 preset of the final encode")
    font_dir: Path = Field(
        default=DEFAULT_FONT_DIR,
        description="folder with DejaVuSans-Bold.ttf and DejaVuSans.ttf for the supers (Debian's fonts-dejavu-core); "
        "a missing file means Pillow's bundled font, with a warning",
    )
    music_provider: Literal["synth", "replicate"] = Field(
        default="synth",
        description="where the music bed comes from: the built-in synthesiser, or Replicate's MusicGen "
        "(the synthesiser still plays when MusicGen fails)",
    )
    replicate_api_token: SecretStr | None = Field(default=None, description="Replicate API token (MusicGen)")
    replicate_base_url: str | None = Field(default=None, description="Replicate API base URL (a local fake in tests)")
    musicgen_version: str = Field(
        default="meta/musicgen:671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb",
        description="the pinned MusicGen model version",
    )
    replicate_timeout_s: float = Field(default=300.0, gt=0, description="a track not done by then is canceled")
    replicate_max_attempts: int = Field(default=4, ge=1, description="tries per request on 429, 5xx and network errors")
    replicate_backoff_s: float = Field(default=1.0, gt=0, description="first retry wait; doubles, with jitter")
    replicate_poll_interval_s: float = Field(default=1.0, gt=0, description="how often a running prediction is polled")

    @model_validator(mode="after")
    def _token_for_replicate(self) -> RefineSettings:
        if self.music_provider == "replicate" and self.replicate_api_token is None:
            raise ValueError("ADGEN_MUSIC_PROVIDER=replicate needs ADGEN_REPLICATE_API_TOKEN")
        return self
