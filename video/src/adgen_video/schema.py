"""The schema of the shared tables: the versioned, forward-only migrations in `migrations/` and the
migrator that applies them, one migrator at a time under an advisory lock."""

from __future__ import annotations

import hashlib
from importlib import resources

import asyncpg

_MIGRATION_LOCK = 0x0AD6E11  # advisory lock id: one migrator at a time


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) in order, from the package's migrations folder."""
    folder = resources.files("adgen_video") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text()))
    return sorted(found)


def checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


class MigrationChanged(RuntimeError):
    """An applied migration's file is not the one that was applied: migrations are forward-only."""


async def _has_checksums(conn: asyncpg.Connection) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM information_schema.columns"
            " WHERE table_name = 'schema_migrations' AND column_name = 'checksum' AND table_schema = current_schema()"
        )
    )


async def migrate(url: str, *, until: int | None = None) -> list[str]:
    """Applies the migrations not applied yet (up to version `until`, when given: a database at an
    earlier version, as the migration tests build), each in its own transaction; returns their names.

    Forward-only: each applied migration's sha256 is kept (from 0009 on, which adds the column;
    earlier ones get theirs the first time this runs after it), and a file that no longer matches
    its checksum stops the migrator with `MigrationChanged` before anything is applied."""
    conn = await asyncpg.connect(url)
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        files = migration_files()
        if await _has_checksums(conn):
            recorded = {
                r["version"]: r["checksum"] for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")
            }
            changed = [name for version, name, sql in files if recorded.get(version) not in (None, checksum(sql))]
            if changed:
                raise MigrationChanged(
                    f"applied migrations were edited: {', '.join(changed)};"
                    " restore them and add a new migration instead"
                )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, name, sql in files:
            if version in done or (until is not None and version > until):
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name)
            applied.append(name)
        if await _has_checksums(conn):
            await conn.executemany(
                "UPDATE schema_migrations SET checksum = $2 WHERE version = $1 AND checksum IS NULL",
                [(version, checksum(sql)) for version, _, sql in files],
            )
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        await conn.close()
    return applied
