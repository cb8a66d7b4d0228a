"""PostgreSQL: the pool, traced, and the versioned, forward-only migrations.

Every statement on a pool connection is a CLIENT span `"{operation} {database}"` under the current
span (db.system.name / db.system = postgresql, db.operation.name, db.query.text with the SQL as
written, `$n` placeholders and never their values, db.namespace, server.address, server.port; on
failure the SQLSTATE in db.response.status_code). A statement run outside any span (pool set-up,
background loops) is not traced, so it cannot start a trace of its own, nor is the pool's reset of
a released connection. The OpenTelemetry asyncpg
instrumentation would need other opentelemetry-api/sdk versions than ours, hence this small class.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any, TypeVar

import asyncpg
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled, suppress_instrumentation
from opentelemetry.trace import SpanKind, Status, StatusCode

_MIGRATION_LOCK = 0x0AD6E11  # advisory lock id: one migrator at a time

T = TypeVar("T")
_tracer = trace.get_tracer("adgen.db")


def operation_name(query: str) -> str:
    """The statement's leading keyword, upper-cased (SELECT, INSERT, WITH, BEGIN, …)."""
    words = query.lstrip(" \t\r\n(").split(None, 1)
    return words[0].upper().rstrip(";") if words else "QUERY"


class TracedConnection(asyncpg.Connection):
    """An asyncpg connection whose statements are spans (see the module's docstring)."""

    async def _traced(self, query: str, run: Callable[[], Awaitable[T]], batch: int | None = None) -> T:
        if not trace.get_current_span().get_span_context().is_valid or not is_instrumentation_enabled():
            return await run()
        operation = operation_name(query)
        database = self._params.database
        attributes: dict[str, Any] = {
            "db.system.name": "postgresql",
            "db.system": "postgresql",
            "db.operation.name": operation,
            "db.query.text": query,
            "db.namespace": database,
        }
        address = self._addr
        if isinstance(address, tuple):
            attributes["server.address"], attributes["server.port"] = address[0], address[1]
        else:
            attributes["server.address"] = str(address)
        if batch is not None:
            attributes["db.operation.batch.size"] = batch
        with _tracer.start_as_current_span(
            f"{operation} {database}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return await run()
            except asyncpg.PostgresError as error:
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                span.set_attribute("error.type", type(error).__name__)
                if error.sqlstate:
                    span.set_attribute("db.response.status_code", error.sqlstate)
                raise
            except (OSError, TimeoutError, asyncpg.InterfaceError) as error:
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                span.set_attribute("error.type", type(error).__name__)
                raise

    async def reset(self, **options: Any) -> None:
        """The pool's clean-up of a released connection is its housekeeping, not the caller's statement."""
        with suppress_instrumentation():
            await super().reset(**options)

    async def execute(self, query: str, *args: Any, **options: Any) -> str:
        return await self._traced(query, lambda: super(TracedConnection, self).execute(query, *args, **options))

    async def executemany(self, command: str, args: Any, **options: Any) -> None:
        size = len(args) if hasattr(args, "__len__") else None
        return await self._traced(
            command, lambda: super(TracedConnection, self).executemany(command, args, **options), size
        )

    async def fetch(self, query: str, *args: Any, **options: Any) -> list:
        return await self._traced(query, lambda: super(TracedConnection, self).fetch(query, *args, **options))

    async def fetchrow(self, query: str, *args: Any, **options: Any) -> Any:
        return await self._traced(query, lambda: super(TracedConnection, self).fetchrow(query, *args, **options))

    async def fetchval(self, query: str, *args: Any, **options: Any) -> Any:
        return await self._traced(query, lambda: super(TracedConnection, self).fetchval(query, *args, **options))


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection, connection_class=TracedConnection
    )


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) in order, from the package's migrations folder."""
    folder = resources.files("adgen_kernel") / "migrations"
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
