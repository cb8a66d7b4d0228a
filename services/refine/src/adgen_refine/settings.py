from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from adgen_providers.replicate_predictions import ReplicateSettings
from adgen_refine.supers import DEFAULT_FONT_DIR


class RefineSettings(ReplicateSettings):
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
    musicgen_version: str = Field(
        default="meta/musicgen:671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb",
        description="the pinned MusicGen model version",
    )
    replicate_concurrency: int = Field(default=2, ge=1, description="MusicGen predictions running at once")

    @model_validator(mode="after")
    def _token_for_replicate(self) -> RefineSettings:
        if self.music_provider == "replicate" and self.replicate_api_token is None:
            raise ValueError("ADGEN_MUSIC_PROVIDER=replicate needs ADGEN_REPLICATE_API_TOKEN")
        return self
