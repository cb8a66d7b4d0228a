"""One typed settings object per service, read once from the environment (prefix ADGEN_).

Connection settings are required and fail fast with the variable's name; everything else has a
working local default. Telemetry uses the standard OTEL_* variables, read by OpenTelemetry itself.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings every adgen process shares. Services subclass it to add their own."""

    model_config = SettingsConfigDict(env_prefix="ADGEN_", extra="ignore", frozen=True)

    nats_url: str = Field(description="NATS server with JetStream, e.g. nats://127.0.0.1:4222")
    database_url: str = Field(description="PostgreSQL with pgvector, e.g. postgresql://u@h:5432/adgen")
    s3_endpoint: str = Field(description="S3-compatible endpoint URL")
    s3_access_key: SecretStr
    s3_secret_key: SecretStr
    s3_region: str = "us-east-1"
    s3_bucket: str = "adgen"

    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=0, description="0 picks a free port (tests)")
    metrics_port: int = Field(default=0, description="Prometheus endpoint; 0 disables it")
    drain_grace_s: float = Field(default=20.0, description="SIGTERM grace before in-flight work is handed back")
    ack_wait_s: float = Field(default=30.0, gt=0, description="a silent worker's item is redelivered after this")
    worker_concurrency: int = Field(default=2, ge=1, description="work items handled at once per process")
    log_level: str = "info"
    log_json: bool = True


def missing_settings_message(error: Exception) -> str:
    """A one-line message naming the environment variables that are missing or invalid."""
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return str(error)
    names = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "?"
        names.append(f"ADGEN_{field.upper()} ({item['msg'].lower()})")
    return "configuration error: " + ", ".join(names)
