"""A limit on calls in flight shared by every replica: at most N holders of a name across the fleet.

A provider's concurrency is a property of the account, not of one process, so four chunks replicas
each allowed four predictions would run sixteen. Each slot is a Postgres session advisory lock
`(name's key, slot number)`, taken with `pg_try_advisory_lock` on one dedicated connection per
process: a crashed process's connection closes and its slots free themselves, with no lease to
expire. Postgres lets one session take the same lock twice, so the process also keeps the set of
slots it holds and never asks for those.
"""

from __future__ import annotations

import asyncio
import random
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import asyncpg

from adgen_kernel.logs import get_logger

log = get_logger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 32-bit key for the name (advisory locks take two int4s)."""
    return zlib.crc32(f"adgen.slots.{name}".encode()) - 2**31


class SharedSlots:
    def __init__(self, database_url: str, limits: Mapping[str, int], *, poll_s: float = 0.25) -> None:
        self._url = database_url
        self._limits = dict(limits)
        self._poll_s = poll_s
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one query at a time on the connection
        self._held: set[tuple[str, int]] = set()
        self._freed = asyncio.Condition()  # wakes this process's waiters as soon as one of its slots frees

    def limit(self, name: str) -> int | None:
        return self._limits.get(name)

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[int | None]:
        """Waits for a free slot of `name` and holds it for the block; a name without a limit
        passes straight through (yields None)."""
        limit = self._limits.get(name)
        if not limit:
            yield None
            return
        slot = await self._acquire(name, limit)
        try:
            yield slot
        finally:
            await self._release(name, slot)

    async def _acquire(self, name: str, limit: int) -> int:
        key, waited = lock_key(name), False
        while True:
            async with self._lock:
                conn = await self._connection()
                # A random start spreads processes over the slots instead of all racing for slot 0.
                start = random.randrange(limit)
                for slot in ((start + i) % limit for i in range(limit)):
                    if (name, slot) in self._held:
                        continue
                    if await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", key, slot):
                        self._held.add((name, slot))
                        if waited:
                            log.info("shared slot free after waiting", name=name, slot=slot, limit=limit)
                        return slot
            waited = True
            async with self._freed:  # another process's release is seen at the next poll
                try:
                    await asyncio.wait_for(self._freed.wait(), timeout=self._poll_s * random.uniform(0.5, 1.5))
                except TimeoutError:
                    pass

    async def _release(self, name: str, slot: int) -> None:
        try:
            await self._unlock(name, slot)
        finally:
            async with self._freed:
                self._freed.notify_all()

    async def _unlock(self, name: str, slot: int) -> None:
        async with self._lock:
            self._held.discard((name, slot))
            conn = self._conn
            if conn is None or conn.is_closed():
                return  # the session ended, and its locks with it
            try:
                await conn.execute("SELECT pg_advisory_unlock($1, $2)", lock_key(name), slot)
            except (asyncpg.PostgresError, OSError) as error:
                log.warning("could not release a shared slot; closing the session frees it", error=str(error))
                await self._drop()

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            if self._held:
                # The session that held these ended (Postgres restarted or the link broke): they are gone.
                log.warning("shared slots lost with their session", held=sorted(self._held))
                self._held.clear()
            self._conn = await asyncpg.connect(self._url)
        return self._conn

    async def _drop(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None
            self._held.clear()

    async def aclose(self) -> None:
        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                await self._conn.close()
            self._conn = None
            self._held.clear()
