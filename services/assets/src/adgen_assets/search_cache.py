"""In-memory search indexes for the largest libraries (library_index), per replica; Postgres stays the
source of truth.

A library of at least `min_rows` embedded assets gets a LibraryIndex when the replica starts (`warm`:
the largest that fit in the memory) or the first time it is searched (the search that asks for it
still runs in Postgres; the build runs beside it). The index only *proposes*
rows: search.nearest re-scores its candidates in Postgres, filtered to the caller (a deleted row, or
one that is not the caller's, drops out there), together with every row the index may not know: the
build reads the library in one snapshot and keeps that snapshot's xmin, and a row whose embedding was
written since (migration 0011: `embedded_xid >= xmin`) is scanned exactly by every search until the
next build. So a search through the cache never returns a row Postgres would not, and never misses
one the index has not seen.

`refresh` (the maintenance loop, every replica) rebuilds a library whose fresh rows passed
`fresh_rows` (each search scans them exactly) or whose count moved by more than REBUILD_DRIFT (deletes:
their candidates are slots lost), and forgets one that fell below `min_rows`. The indexes of a replica
share `memory_mb`; the least recently searched go first, and a library that would not fit alone is not
kept (nor built again for TOO_LARGE_RETRY_S).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import asyncpg
import numpy as np

from adgen_assets.library_index import BYTES_PER_ROW, LibraryIndex
from adgen_kernel.logs import get_logger
from adgen_kernel.metrics import ASSET_SEARCH_CACHE_BYTES

log = get_logger(__name__)

BUILD_PREFETCH = 5_000  # rows a build reads per round trip
TOO_LARGE_RETRY_S = 3_600.0  # a library that did not fit alone is not tried again for this long
REBUILD_DRIFT = 0.05  # share of a library deleted (or added) since the build that triggers a rebuild
# The snapshot (its xmin), then the library's embeddings, both in one REPEATABLE READ transaction.
# halfvec_send is the type's binary output: 2 bytes of dimensions, 2 unused, then big-endian float16s.
SNAPSHOT_SQL = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text"
VECTORS_SQL = (
    "SELECT asset_id, halfvec_send(embedding_half) AS half FROM assets"
    " WHERE user_id = $1 AND embedding_half IS NOT NULL"
)
# Libraries to build at start, largest first: the per-user HNSW records carry their sizes.
WARM_SQL = "SELECT user_id, rows_indexed FROM asset_search_indexes WHERE rows_indexed >= $1 ORDER BY rows_indexed DESC"
DRIFT_SQL = (
    "SELECT count(*) FILTER (WHERE embedding_half IS NOT NULL) AS rows,"
    " count(*) FILTER (WHERE embedded_xid >= $2::text::xid8) AS fresh FROM assets WHERE user_id = $1"
)


@dataclass(frozen=True)
class CachedLibrary:
    index: LibraryIndex
    xmin: int  # rows with embedded_xid >= xmin may be missing from the index
    built_at: float


class SearchCache:
    def __init__(self, db: asyncpg.Pool, *, min_rows: int, memory_mb: int, fresh_rows: int) -> None:
        self._db = db
        self.min_rows = min_rows
        self._budget = memory_mb * 2**20
        self._fresh_rows = fresh_rows
        self._libraries: OrderedDict[uuid.UUID, CachedLibrary] = OrderedDict()
        self._building: dict[uuid.UUID, asyncio.Task[CachedLibrary | None]] = {}
        self._too_large: dict[uuid.UUID, float] = {}  # not built again before this monotonic time

    @property
    def libraries(self) -> dict[uuid.UUID, CachedLibrary]:
        """What this replica holds, least recently searched first."""
        return dict(self._libraries)

    @property
    def building(self) -> set[uuid.UUID]:
        """The libraries whose index is being built."""
        return set(self._building)

    def get(self, user: uuid.UUID) -> CachedLibrary | None:
        library = self._libraries.get(user)
        if library is not None:
            self._libraries.move_to_end(user)
        return library

    def want(self, user: uuid.UUID, rows: int) -> None:
        """A search of a library of `rows` missed the cache: build its index in the background if it is
        large enough and no build is under way."""
        if rows < self.min_rows or user in self._building or user in self._libraries:
            return
        if self._too_large.get(user, 0.0) > time.monotonic():
            return
        self._start(user)

    def _start(self, user: uuid.UUID) -> asyncio.Task[CachedLibrary | None]:
        task = asyncio.get_running_loop().create_task(self._build_logged(user))
        self._building[user] = task
        task.add_done_callback(lambda _: self._building.pop(user, None))
        return task

    async def _build_logged(self, user: uuid.UUID) -> CachedLibrary | None:
        try:
            return await self.build(user)
        except Exception as error:  # Postgres away for a moment: searches stay in Postgres, the next one asks again
            log.warning("search cache build failed", user_id=str(user), error=repr(error))
            return None

    async def build(self, user: uuid.UUID) -> CachedLibrary | None:
        """Reads the library in one snapshot and indexes it; None (and nothing cached) when it has fewer
        than `min_rows` embedded rows or would not fit in the memory alone. Replaces the previous index
        of the library once done."""
        started = time.perf_counter()
        ids: list[uuid.UUID] = []
        halves = bytearray()
        async with self._db.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            xmin = int(await conn.fetchval(SNAPSHOT_SQL))
            async for record in conn.cursor(VECTORS_SQL, user, prefetch=BUILD_PREFETCH):
                ids.append(record["asset_id"])
                halves += record["half"][4:]
        if len(ids) < self.min_rows:
            self._libraries.pop(user, None)
            self._fit()
            return None
        vectors = np.frombuffer(halves, dtype=">f2").reshape(len(ids), -1).astype(np.float16)
        del halves
        index = await asyncio.to_thread(LibraryIndex.build, ids, vectors)
        if index.nbytes > self._budget:
            self._too_large[user] = time.monotonic() + TOO_LARGE_RETRY_S
            log.warning("library larger than the search cache", user_id=str(user), mb=round(index.nbytes / 2**20))
            return None
        library = CachedLibrary(index, xmin, time.time())
        self._libraries[user] = library
        self._libraries.move_to_end(user)
        self._fit()
        log.info(
            "search cache built",
            user_id=str(user),
            rows=index.rows,
            nlist=index.tuning.nlist,
            margin=index.tuning.margin,
            scanned=round(index.tuning.scanned, 3),
            calibrated_recall=round(index.tuning.recall, 3),
            mb=round(index.nbytes / 2**20, 1),
            seconds=round(time.perf_counter() - started, 2),
        )
        return library

    def _fit(self) -> None:
        """Evicts the least recently searched libraries past the memory; the gauge follows what is held."""
        while (held := sum(lib.index.nbytes for lib in self._libraries.values())) > self._budget:
            user, _ = self._libraries.popitem(last=False)
            log.info("search cache evicted", user_id=str(user))
        ASSET_SEARCH_CACHE_BYTES.set(held)

    async def warm(self) -> list[uuid.UUID]:
        """Builds the indexes of the largest libraries that fit in the memory together, largest first, and
        returns them: what a replica does once at start, so that a restart does not send the largest
        libraries down the slow path until each is searched."""
        room, planned = self._budget, []
        for record in await self._db.fetch(WARM_SQL, self.min_rows):
            need = record["rows_indexed"] * BYTES_PER_ROW
            if need <= room:
                room -= need
                planned.append(record["user_id"])
        for user in planned:
            if user not in self._libraries and user not in self._building:
                await self._start(user)
        return planned

    async def refresh(self) -> list[uuid.UUID]:
        """Rebuilds the libraries that drifted and forgets the ones that shrank; returns the rebuilt."""
        rebuilt = []
        for user, library in list(self._libraries.items()):
            drift = await self._db.fetchrow(DRIFT_SQL, user, str(library.xmin))
            assert drift is not None  # an aggregate without GROUP BY answers one row
            if drift["rows"] < self.min_rows:
                self._libraries.pop(user, None)
                self._fit()
                continue
            moved = abs(drift["rows"] - library.index.rows) > REBUILD_DRIFT * library.index.rows
            if (drift["fresh"] > self._fresh_rows or moved) and user not in self._building:
                await self._start(user)
                rebuilt.append(user)
        return rebuilt

    async def close(self) -> None:
        for task in list(self._building.values()):
            task.cancel()
        await asyncio.gather(*self._building.values(), return_exceptions=True)
