from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from adgen_kernel.settings import ServiceSettings


class VoiceSettings(ServiceSettings):
    piper_model_path: Path | None = Field(
        default=None, description="a Piper voice .onnx (its .onnx.json beside it); default: the packaged joe voice"
    )
    openai_api_key: SecretStr | None = Field(default=None, description="no key: Piper only")
    openai_base_url: str | None = Field(default=None, description="None: the SDK's own endpoint")
    openai_tts_model: str = Field(default="tts-1", description="a model priced in adgen_voice.tts_prices")
    openai_tts_voice: str = Field(default="alloy", description="the OpenAI voice spoken when a line names none")
    openai_tts_timeout_s: float = Field(default=30.0, gt=0, description="per attempt")
    openai_tts_max_attempts: int = Field(default=4, ge=1, description="tries of a 429/5xx/timeout before failing")
    openai_tts_max_in_flight: int = Field(default=4, ge=1, description="speech calls at once per process")
