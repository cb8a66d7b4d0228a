from __future__ import annotations

import asyncpg
import pytest

from adgen_kernel.db import migrate, migration_files
from adgen_kernel.settings import ServiceSettings, missing_settings_message


async def test_migrations_apply_once_and_record_their_versions(infra) -> None:  # type: ignore[no-untyped-def]
    assert await migrate(infra.database_url) == []  # the session fixture applied them already
    conn = await asyncpg.connect(infra.database_url)
    try:
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")]
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    finally:
        await conn.close()
    assert versions == [v for v, _, _ in migration_files()]
    assert {"users", "videos", "frames", "chunks", "assets", "cost_ledger"} <= tables


def test_missing_settings_name_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ADGEN_NATS_URL",
        "ADGEN_DATABASE_URL",
        "ADGEN_S3_ENDPOINT",
        "ADGEN_S3_ACCESS_KEY",
        "ADGEN_S3_SECRET_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(Exception) as raised:
        ServiceSettings()  # type: ignore[call-arg]
    message = missing_settings_message(raised.value)
    assert "ADGEN_NATS_URL" in message and "ADGEN_DATABASE_URL" in message and "ADGEN_S3_ENDPOINT" in message
