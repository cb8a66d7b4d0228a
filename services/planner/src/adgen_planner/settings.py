from __future__ import annotations

from pydantic import Field, SecretStr

from adgen_kernel.settings import ServiceSettings


class PlannerSettings(ServiceSettings):
    chunks_addr: str = Field(description="gRPC address of the chunks service (chunk plans)")
    assets_addr: str = Field(description="gRPC address of the assets service (the request's product images)")
    voice_addr: str = Field(description="gRPC address of the voice service (the voices and their prices)")
    reconcile_interval_s: float = Field(default=30.0, gt=0, description="how often lost work is looked for")
    reconcile_stale_s: float = Field(
        default=120.0, gt=0, description="a live video unchanged this long, with no work queued, has lost its work"
    )
    openai_api_key: SecretStr | None = Field(default=None, description="no key: the rule-based composer only")
    openai_base_url: str | None = Field(default=None, description="None: the SDK's own endpoint")
    openai_model: str = "gpt-4o-mini"
    openai_timeout_s: float = Field(default=20.0, gt=0, description="per attempt; past it the plan falls back")
    openai_max_retries: int = Field(default=2, ge=0, description="SDK retries of 429/5xx, honouring Retry-After")
    # gpt-4o-mini list prices, US dollars per million tokens.
    openai_input_usd_per_mtok: float = Field(default=0.15, ge=0)
    openai_output_usd_per_mtok: float = Field(default=0.60, ge=0)
