"""The fleet-wide in-flight limit: several processes' SharedSlots on one real Postgres never hold more
than the limit between them, a waiter gets a slot as soon as one frees, and a crashed holder's slots
free themselves."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from adgen_kernel.shared_slots import SharedSlots

pytestmark = pytest.mark.xdist_group("stack")


async def until(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(400):
        if predicate():
            return
        await asyncio.sleep(0.025)
    pytest.fail(f"never happened: {what}")


async def test_replicas_share_one_limit(infra) -> None:  # type: ignore[no-untyped-def]
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


async def test_a_crashed_holder_frees_its_slots_and_unlimited_names_pass(infra) -> None:  # type: ignore[no-untyped-def]
    name = f"provider-{uuid.uuid4().hex[:8]}"
    crashed, survivor = (SharedSlots(infra.database_url, {name: 1}, poll_s=0.02) for _ in range(2))
    try:
        held = crashed.hold(name)
        await held.__aenter__()
        waiting = asyncio.create_task(survivor.hold(name).__aenter__())
        await asyncio.sleep(0.2)
        assert not waiting.done(), "the only slot is taken"
        crashed._conn.terminate()  # the process dies: its session, and its locks, end
        assert await asyncio.wait_for(waiting, 10) == 0
        async with survivor.hold("no-limit-here") as slot:
            assert slot is None
    finally:
        await crashed.aclose()
        await survivor.aclose()
