"""PostgreSQL: the pool and its traced connections (the schema and its migrations are the shared video
domain's, `adgen_video.schema`).

Every statement on a pool connection is a CLIENT span `"{operation} {database}"` under the current
span (db.system.name / db.system = postgresql, db.operation.name, db.query.text with the SQL as
written, `$n` placeholders and never their values, db.namespace, server.address, server.port; on
failure the SQLSTATE in db.response.status_code). A statement run outside any span (pool set-up,
background loops) is not traced, so it cannot start a trace of its own, nor is the pool's reset of
a released connection. The OpenTelemetry asyncpg
instrumentation would need other opentelemetry-api/sdk versions than ours, hence this small class.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled, suppress_instrumentation
from opentelemetry.trace import SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from asyncpg.connect_utils import _ConnectionParameters

T = TypeVar("T")
_tracer = trace.get_tracer("adgen.db")

# One connection: a pool's (as `pool.acquire()` hands it out) or a plain one; what a transaction runs on.
Connection = asyncpg.Connection | PoolConnectionProxy
# Whatever runs a statement: the pool itself, or one connection.
Db = asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy


def operation_name(query: str) -> str:
    """The statement's leading keyword, upper-cased (SELECT, INSERT, WITH, BEGIN, …)."""
    words = query.lstrip(" \t\r\n(").split(None, 1)
    return words[0].upper().rstrip(";") if words else "QUERY"


class TracedConnection(asyncpg.Connection):
    """An asyncpg connection whose statements are spans (see the module's docstring)."""

    # Set by asyncpg's Connection.__init__; asyncpg-stubs name them in __slots__ but give no types.
    _params: _ConnectionParameters
    _addr: tuple[str, int] | str

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
