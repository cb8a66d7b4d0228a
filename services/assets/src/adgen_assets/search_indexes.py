"""Keeps a partial HNSW index for each large asset library (search_plan decides which and why).

One pass: count each user's embedded assets, read the per-user indexes in the catalog, and apply
`search_plan.index_changes`: build the missing ones (largest library first, with the graph parameters
of `search_plan.INDEX_BUILD`) with CREATE INDEX CONCURRENTLY, outside any transaction, so uploads,
renames and deletes carry on while it runs; then record the index in `asset_search_indexes`, which is
what sends searches down the index path. Drops go the other way round: the record first (searches go
back to the exact plan), then DROP INDEX CONCURRENTLY. An interrupted build leaves an INVALID index,
which the next pass drops and builds again. An index built with other parameters (its name carries
them) is replaced: the new one is built and recorded, then the old one dropped.
Each pass also sets every record's `rows_indexed` to the library's current count: it picks ef_search.

Every replica runs the loop; a session advisory lock lets one pass run at a time across them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from adgen_assets import search_plan
from adgen_assets.search_cache import SearchCache
from adgen_kernel.logs import get_logger
from adgen_kernel.serve import ServiceTask

log = get_logger(__name__)

_LOCK = 0x0AD6E5EA  # advisory lock id: one maintenance pass at a time


@dataclass
class Pass:
    built: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    skipped: bool = False  # another replica held the lock


class SearchIndexes:
    def __init__(self, db: asyncpg.Pool, *, build_rows: int, drop_rows: int, build_memory_mb: int = 1024) -> None:
        self._db = db
        self._build_rows = build_rows
        self._drop_rows = drop_rows
        self._build_memory_mb = build_memory_mb

    async def maintain(self) -> Pass:
        done = Pass()
        async with self._db.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK):
                done.skipped = True
                return done
            try:
                # An HNSW graph that outgrows maintenance_work_mem is built on disk, several times slower.
                # Session-wide on this connection; the pool's reset puts it back on release.
                await conn.execute("SELECT set_config('maintenance_work_mem', $1, false)", f"{self._build_memory_mb}MB")
                counts = {
                    r["user_id"]: r["rows"]
                    for r in await conn.fetch(
                        "SELECT user_id, count(*) AS rows FROM assets WHERE embedding_half IS NOT NULL"
                        " GROUP BY user_id HAVING count(*) >= $1",
                        self._drop_rows,
                    )
                }
                existing = {
                    r["name"]: r["valid"]
                    for r in await conn.fetch(
                        "SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i"
                        " JOIN pg_class c ON c.oid = i.indexrelid"
                        " WHERE i.indrelid = 'assets'::regclass AND c.relname LIKE $1",
                        search_plan.INDEX_PREFIX + "%",
                    )
                }
                changes = search_plan.index_changes(counts, existing, self._build_rows, self._drop_rows)
                for name in changes.drop:
                    await self._drop(conn, name)
                    done.dropped.append(name)
                for user in changes.build:
                    done.built.append(await self._build(conn, user))
                for name in changes.retire:  # their replacements are recorded: no search waits on these
                    await self._drop(conn, name)
                    done.dropped.append(name)
                # Libraries grow: their ef_search follows the count of this pass.
                await conn.execute(
                    "UPDATE asset_search_indexes r SET rows_indexed = c.rows"
                    " FROM unnest($1::uuid[], $2::bigint[]) AS c(user_id, rows)"
                    " WHERE r.user_id = c.user_id AND r.rows_indexed <> c.rows",
                    list(counts),
                    list(counts.values()),
                )
                # Records whose index is gone (dropped by hand): the exact plan again.
                await conn.execute("DELETE FROM asset_search_indexes r WHERE to_regclass(r.index_name) IS NULL")
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK)
        return done

    async def _build(self, conn: PoolConnectionProxy, user: uuid.UUID) -> str:
        name = search_plan.index_name(user)
        started = time.perf_counter()
        # Identifiers and the literal cannot be parameters in DDL: both come from a uuid.UUID.
        await conn.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON assets"
            f" USING hnsw (embedding_half halfvec_cosine_ops) WITH ({search_plan.INDEX_BUILD.options})"
            f" WHERE user_id = '{user}'"
        )
        rows = await conn.fetchval(
            "SELECT count(*) FROM assets WHERE user_id = $1 AND embedding_half IS NOT NULL", user
        )
        recorded = await conn.fetchval(
            "INSERT INTO asset_search_indexes (user_id, index_name, rows_indexed)"
            " SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM users WHERE user_id = $1)"
            " ON CONFLICT (user_id) DO UPDATE SET index_name = $2, rows_indexed = $3, built_at = now() RETURNING true",
            user,
            name,
            rows,
        )
        if not recorded:  # the user was deleted while the index was built
            await self._drop(conn, name)
        else:
            log.info("search index built", index=name, rows=rows, seconds=round(time.perf_counter() - started, 1))
        return name

    async def _drop(self, conn: PoolConnectionProxy, name: str) -> None:
        await conn.execute("DELETE FROM asset_search_indexes WHERE index_name = $1", name)
        await conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        log.info("search index dropped", index=name)


def maintenance_task(
    indexes: SearchIndexes, cache: SearchCache, interval_s: float, *, warm: bool = True
) -> ServiceTask:
    """A ServiceApp task: a pass now and every `interval_s` until the service stops: the per-user
    indexes (one replica at a time), then this replica's in-memory ones (built for the largest
    libraries after the first pass when `warm`, kept fresh after every pass)."""

    async def run(stopping: asyncio.Event) -> None:
        warming = warm
        try:
            while not stopping.is_set():
                try:
                    await indexes.maintain()
                except Exception as error:  # Postgres away for a moment: the next pass catches up
                    log.warning("search index maintenance failed", error=repr(error))
                try:
                    if warming:
                        await cache.warm()
                        warming = False
                    else:
                        await cache.refresh()
                except Exception as error:
                    log.warning("search cache maintenance failed", error=repr(error))
                try:
                    await asyncio.wait_for(stopping.wait(), timeout=interval_s)
                except TimeoutError:
                    pass
        finally:
            await cache.close()

    return run
