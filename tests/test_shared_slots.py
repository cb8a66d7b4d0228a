"""The fleet-wide in-flight limit: several processes' SharedSlots on one real Postgres never hold more
than the limit between them, a waiter gets a slot as soon as one frees, and a crashed holder's slots
free themselves."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from adgen_providers.shared_slots import SharedSlots

pytestmark = pytest.mark.xdist_group("stack")


async def until(predicate, what: str) -> None:
    for _ in range(400):
        if predicate():
            return
        await asyncio.sleep(0.025)
    pytest.fail(f"never happened: {what}")


async def test_replicas_share_one_limit(infra) -> None:
    name = f"provider-{uuid.uuid4().hex[:8]}"  # a fresh name: no other test's locks
    replicas = [SharedSlots(infra.database_url, {name: 3}, poll_s=0.02) for _ in range(3)]
    holding: set[int] = set()
    peak = 0
    release = {n: asyncio.Event() for n in range(9)}

    async def call(n: int) -> None:
        nonlocal peak
        async with replicas[n % 3].hold(name):
            holding.add(n)
            peak = max(peak, len(holding))
            await release[n].wait()
            holding.discard(n)

    tasks = [asyncio.create_task(call(n)) for n in range(9)]
    try:
        await until(lambda: len(holding) == 3, "three calls in flight")
        await asyncio.sleep(0.3)  # the other six keep polling; none may get in
        assert len(holding) == 3
        first = set(holding)
        for n in first:
            release[n].set()
        await until(lambda: len(holding) == 3 and not holding & first, "the next three took the freed slots")
        for event in release.values():
            event.set()
        await asyncio.gather(*tasks)
        assert peak == 3
    finally:
        for event in release.values():
            event.set()
        for replica in replicas:
            await replica.aclose()


async def test_a_crashed_holder_frees_its_slots_and_unlimited_names_pass(infra) -> None:
    name = f"provider-{uuid.uuid4().hex[:8]}"
    crashed, survivor = (SharedSlots(infra.database_url, {name: 1}, poll_s=0.02) for _ in range(2))
    try:
        held = crashed.hold(name)
        await held.__aenter__()
        waiting = asyncio.create_task(survivor.hold(name).__aenter__())
        await asyncio.sleep(0.2)
        assert not waiting.done(), "the only slot is taken"
        assert crashed._conn is not None
        crashed._conn.terminate()  # the process dies: its session, and its locks, end
        assert await asyncio.wait_for(waiting, 10) == 0
        async with survivor.hold("no-limit-here") as slot:
            assert slot is None
    finally:
        await crashed.aclose()
        await survivor.aclose()


async def test_a_freed_slot_goes_to_the_longest_chain_not_the_first_come(infra) -> None:
    name = f"provider-{uuid.uuid4().hex[:8]}"
    slots = SharedSlots(infra.database_url, {name: 1}, poll_s=0.02, gather_s=0)
    order: list[int] = []
    try:
        async with slots.hold(name):

            async def call(priority: int) -> None:
                async with slots.hold(name, priority=priority):
                    order.append(priority)

            tasks = [asyncio.create_task(call(p)) for p in (1, 3, 2)]
            await until(lambda: slots.waiting(name) == 3, "three calls waiting")
        await asyncio.gather(*tasks)
        assert order == [3, 2, 1]
    finally:
        await slots.aclose()


async def test_a_burst_is_ranked_together_before_the_first_grant(infra) -> None:
    name = f"provider-{uuid.uuid4().hex[:8]}"
    slots = SharedSlots(infra.database_url, {name: 1}, poll_s=0.02, gather_s=0.05)
    order: list[str] = []

    async def call(what: str, priority: int) -> None:
        async with slots.hold(name, priority=priority):
            order.append(what)

    try:
        # The short chain asks first, on a free slot; the long one a moment later wins the slot.
        await asyncio.gather(call("short", 1), call("long", 4))
        assert order == ["long", "short"]
    finally:
        await slots.aclose()


async def test_a_beats_next_chunk_inherits_the_slot_unless_a_longer_chain_waits(infra) -> None:
    name = f"provider-{uuid.uuid4().hex[:8]}"
    slots = SharedSlots(infra.database_url, {name: 1}, poll_s=0.02, gather_s=0, hold_over_s=30)
    try:
        async with slots.hold(name, priority=3, unit="v:chunk:0", successor="v:chunk:1", successor_priority=2):
            short = asyncio.create_task(slots.hold(name, priority=1).__aenter__())
            await until(lambda: slots.waiting(name) == 1, "a shorter chain waiting")
        # The clip ended; its slot is kept for the beat's next chunk, not given to the shorter chain.
        async with slots.hold(name, priority=2, unit="v:chunk:1", successor="v:chunk:2", successor_priority=1) as kept:
            assert kept == 0
            assert not short.done()
            longer = asyncio.create_task(slots.hold(name, priority=4).__aenter__())
            await until(lambda: slots.waiting(name) == 2, "a longer chain waiting too")
        # A waiter ranked above the successor takes the slot at once; the successor waits its turn.
        assert await asyncio.wait_for(longer, 10) == 0
        assert slots.waiting(name) == 1 and not short.done()
    finally:
        await slots.aclose()


async def test_no_slot_waits_for_a_successor_that_cannot_arrive(infra) -> None:
    name = f"provider-{uuid.uuid4().hex[:8]}"
    # Two handlers. The first holds the slot and hands it on; the second waits with a shorter chain.
    slots = SharedSlots(infra.database_url, {name: 1}, poll_s=0.02, gather_s=0, hold_over_s=30, handlers=2)
    try:
        async with slots.hold(name, priority=3, successor="v:chunk:1", successor_priority=2):
            waiter = asyncio.create_task(slots.hold(name, priority=1).__aenter__())
            await until(lambda: slots.waiting(name) == 1, "the other handler waiting")
        # The first handler is free again, so the successor may still come on it: the slot waits.
        assert not waiter.done()
        # It took other work instead, which waits too: both handlers wait, no successor can arrive.
        other = asyncio.create_task(slots.hold(name, priority=0).__aenter__())
        assert await asyncio.wait_for(waiter, 10) == 0
        assert not other.done()
    finally:
        await slots.aclose()

    lapsing = SharedSlots(infra.database_url, {name: 1}, poll_s=0.02, gather_s=0, hold_over_s=0.05)
    try:
        async with lapsing.hold(name, unit="w:chunk:0", successor="w:chunk:1"):
            pass
        # The successor went to another replica: the hold lapses and anyone may take the slot.
        async with lapsing.hold(name) as slot:
            assert slot == 0
        with pytest.raises(RuntimeError):
            async with lapsing.hold(name, unit="w:chunk:2", successor="w:chunk:3"):
                raise RuntimeError("the provider failed")
        # A failed call keeps nothing for its successor.
        assert await asyncio.wait_for(lapsing.hold(name).__aenter__(), 10) == 0
    finally:
        await lapsing.aclose()
