"""A limit on calls in flight shared by every replica: at most N holders of a name across the fleet,
and the order in which a process's waiters get the slots.

A provider's concurrency is a property of the account, not of one process, so four chunks replicas
each allowed four predictions would run sixteen. Each slot is a Postgres session advisory lock
`(name's key, slot number)`, taken with `pg_try_advisory_lock` on one dedicated connection per
process: a crashed process's connection closes and its slots free themselves, with no lease to
expire. Postgres lets one session take the same lock twice, so the process also keeps the set of
slots it holds and never asks for those.

Order (the scheduler benchmark's 4-video batch, docs/architecture.md "Scheduling"): a makespan is
set by the longest chains of clips, so the slots go to the waiter with the most work behind it
(`priority`: the clips left in its beat), not to the first come. Two small waits make that order
possible online, where work arrives a few milliseconds apart:

* `gather_s`: a slot is granted that long after the first waiter of an idle moment arrives, so that a
  burst (four videos planned within 15 ms) is ranked together instead of served in arrival order.
* `hold_over_s`: a holder that names its `successor` (the next chunk of the beat, which starts from
  this one's hand-off frame) passes its slot on to it: the slot stays taken for up to that long
  instead of going to a shorter chain that happened to be waiting when the clip ended. It is not kept
  when a waiter ranked as high as the successor is here (that one takes it), nor when every handler
  of the process (`handlers`) holds or waits for a slot, so that none is left for the successor to
  arrive on. A successor that another replica picks up lets the hold lapse.

Both cost a few tens of milliseconds against provider calls of 8-45 s.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from adgen_kernel.logs import get_logger

log = get_logger(__name__)

GATHER_S = 0.05
HOLD_OVER_S = 0.5


def lock_key(name: str) -> int:
    """A stable signed 32-bit key for the name (advisory locks take two int4s)."""
    return zlib.crc32(f"adgen.slots.{name}".encode()) - 2**31


@dataclass(order=True)
class _Waiter:
    rank: tuple[int, int]  # (-priority, arrival): the most work behind it first, then first come
    granted: asyncio.Future[int] = field(compare=False)


@dataclass
class _Reservation:
    name: str
    slot: int
    priority: int  # the successor's
    lapse: asyncio.TimerHandle


class SharedSlots:
    def __init__(
        self,
        database_url: str,
        limits: Mapping[str, int],
        *,
        poll_s: float = 0.25,
        gather_s: float = GATHER_S,
        hold_over_s: float = HOLD_OVER_S,
        handlers: int | None = None,
    ) -> None:
        """`handlers`: how many calls this process runs at once that may wait here (its worker
        concurrency). When all of them hold or wait for a slot, a successor cannot arrive, so no slot
        is kept for one."""
        self._url = database_url
        self._limits = dict(limits)
        self._poll_s = poll_s
        self._gather_s = gather_s
        self._hold_over_s = hold_over_s
        self._handlers = handlers
        self._holding: Counter[str] = Counter()  # blocks running now, by name
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one query at a time on the connection
        self._held: set[tuple[str, int]] = set()  # every slot this process has locked, reserved ones too
        self._freed = asyncio.Condition()  # wakes this process's dispatchers as soon as one of its slots frees
        self._waiters: dict[str, list[_Waiter]] = {}
        self._dispatchers: dict[str, asyncio.Task[None]] = {}
        self._reserved: dict[str, _Reservation] = {}  # by the successor unit it is kept for
        self._arrivals = itertools.count()
        self._background: set[asyncio.Task[None]] = set()

    def limit(self, name: str) -> int | None:
        return self._limits.get(name)

    def waiting(self, name: str) -> int:
        """This process's calls waiting for a slot of `name`."""
        return sum(1 for waiter in self._waiters.get(name, ()) if not waiter.granted.done())

    @asynccontextmanager
    async def hold(
        self,
        name: str,
        *,
        priority: int = 0,
        unit: str | None = None,
        successor: str | None = None,
        successor_priority: int | None = None,
    ) -> AsyncIterator[int | None]:
        """Waits for a slot of `name` and holds it for the block; a name without a limit passes
        straight through (yields None). `unit` takes the slot a predecessor kept for it, if any. When
        the block ends without an error and names a `successor` (ranked `successor_priority`, by
        default as this one), the slot is kept for that unit unless a waiter ranked as high or higher
        is here already."""
        limit = self._limits.get(name)
        if not limit:
            yield None
            return
        slot = self._take_reserved(name, unit)
        if slot is None:
            slot = await self._wait_for_slot(name, limit, priority)
        self._holding[name] += 1
        kept_for = None
        try:
            yield slot
            kept_for = successor
        finally:
            self._holding[name] -= 1
            rank = priority if successor_priority is None else successor_priority
            if kept_for is not None and self._may_keep(name, rank):
                self._reserve(name, slot, kept_for, rank)
            else:
                await self._release(name, slot)

    def _may_keep(self, name: str, priority: int) -> bool:
        """Whether a freed slot may wait for a successor ranked `priority`: no waiter here ranks as
        high, and a handler is left for the successor to arrive on."""
        if self._hold_over_s <= 0:
            return False
        if any(-w.rank[0] >= priority for w in self._waiters.get(name, ()) if not w.granted.done()):
            return False
        return self._handlers is None or self.waiting(name) + self._holding[name] < self._handlers

    async def _wait_for_slot(self, name: str, limit: int, priority: int) -> int:
        waiter = _Waiter((-priority, next(self._arrivals)), asyncio.get_running_loop().create_future())
        heapq.heappush(self._waiters.setdefault(name, []), waiter)
        for successor, reservation in list(self._reserved.items()):  # does a kept slot still wait?
            if reservation.name == name and not self._may_keep(name, reservation.priority):
                self._lapse(successor)
        dispatcher = self._dispatchers.get(name)
        if dispatcher is None or dispatcher.done():
            self._dispatchers[name] = asyncio.create_task(self._dispatch(name, limit))
        try:
            return await waiter.granted
        except asyncio.CancelledError:
            if waiter.granted.done() and not waiter.granted.cancelled():  # granted as it was cancelled
                self._in_background(self._release(name, waiter.granted.result()))
            raise

    async def _dispatch(self, name: str, limit: int) -> None:
        """Grants `name`'s free slots to this process's waiters, best rank first, until none waits."""
        waiters = self._waiters[name]
        if self._gather_s > 0:
            await asyncio.sleep(self._gather_s)
        waited = False
        while True:
            while waiters and waiters[0].granted.done():  # cancelled while waiting
                heapq.heappop(waiters)
            if not waiters:
                return
            slot = await self._try_lock(name, limit)
            if slot is not None:
                waiter = heapq.heappop(waiters)
                if waiter.granted.done():
                    await self._release(name, slot)
                    continue
                if waited:
                    log.info("shared slot free after waiting", name=name, slot=slot, limit=limit)
                waiter.granted.set_result(slot)
                continue
            waited = True
            async with self._freed:  # another process's release is seen at the next poll
                try:
                    await asyncio.wait_for(self._freed.wait(), timeout=self._poll_s * random.uniform(0.5, 1.5))
                except TimeoutError:
                    pass

    async def _try_lock(self, name: str, limit: int) -> int | None:
        key = lock_key(name)
        async with self._lock:
            conn = await self._connection()
            # A random start spreads processes over the slots instead of all racing for slot 0.
            start = random.randrange(limit)
            for slot in ((start + i) % limit for i in range(limit)):
                if (name, slot) in self._held:
                    continue
                if await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", key, slot):
                    self._held.add((name, slot))
                    return slot
        return None

    def _reserve(self, name: str, slot: int, successor: str, priority: int) -> None:
        lapse = asyncio.get_running_loop().call_later(self._hold_over_s, self._lapse, successor)
        self._reserved[successor] = _Reservation(name, slot, priority, lapse)

    def _take_reserved(self, name: str, unit: str | None) -> int | None:
        reservation = self._reserved.get(unit) if unit is not None else None
        if reservation is None or reservation.name != name:
            return None
        del self._reserved[unit]  # type: ignore[arg-type]
        reservation.lapse.cancel()
        return reservation.slot

    def _lapse(self, successor: str) -> None:
        """The successor did not come here in time, or a better waiter did: the slot goes to the best."""
        reservation = self._reserved.pop(successor, None)
        if reservation is not None:
            self._in_background(self._release(reservation.name, reservation.slot))

    def _in_background(self, release: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(release)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
                self._forget_held()
            self._conn = await asyncpg.connect(self._url)
        return self._conn

    async def _drop(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None
            self._forget_held()

    def _forget_held(self) -> None:
        self._held.clear()
        for reservation in self._reserved.values():
            reservation.lapse.cancel()
        self._reserved.clear()

    async def aclose(self) -> None:
        for dispatcher in self._dispatchers.values():
            dispatcher.cancel()
        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                await self._conn.close()
            self._conn = None
            self._forget_held()
