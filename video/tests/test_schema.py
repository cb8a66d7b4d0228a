"""The migrations apply once, in order, and create the shared tables."""

from __future__ import annotations

import asyncpg

from adgen_video.schema import migrate, migration_files


async def test_migrations_apply_once_and_record_their_versions(infra) -> None:
    assert await migrate(infra.database_url) == []  # the session fixture applied them already
    conn = await asyncpg.connect(infra.database_url)
    try:
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")]
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    finally:
        await conn.close()
    assert versions == [v for v, _, _ in migration_files()]
    assert {"users", "videos", "frames", "chunks", "assets", "cost_ledger"} <= tables
