"""The JetStream worker loop on a real NATS: ack, retry with redelivery, dead letter, dedup, drain."""

from __future__ import annotations

import asyncio

import nats
import pytest

from adgen.events.v1 import events_pb2
from adgen_kernel.errors import InvalidArgument
from adgen_kernel.jetstream import WorkContext, WorkerLoop, WorkHandler, ensure_topology, publish_work


@pytest.fixture
async def js(infra):
    nc = await nats.connect(infra.nats_url)
    js = nc.jetstream()
    await ensure_topology(js)
    yield js
    await nc.drain()


async def run_until(loop: WorkerLoop, condition, timeout: float = 20.0) -> None:
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.05)
    finally:
        await loop.stop(grace_s=2)
        await task


async def test_a_failing_item_is_redelivered_then_succeeds(js) -> None:
    deliveries: list[int] = []
    dead: list[str] = []

    async def handle(item: events_pb2.PlanWork, ctx: WorkContext) -> None:
        deliveries.append(ctx.delivery)
        if ctx.delivery < 2:
            raise RuntimeError("provider hiccup")

    async def dead_letter(item: events_pb2.PlanWork, error: BaseException) -> None:
        dead.append(str(error))

    handler = WorkHandler("test-retry", events_pb2.PlanWork, handle, dead_letter)
    await publish_work(js, "test-retry", events_pb2.PlanWork(video_id="v1"), "v1:retry")
    await run_until(WorkerLoop(js, handler, concurrency=1, ack_wait_s=5), lambda: len(deliveries) >= 2)
    assert deliveries == [1, 2]
    assert dead == []


async def test_a_permanent_error_dead_letters_once_without_retry(js) -> None:
    deliveries: list[int] = []
    dead: list[str] = []

    async def handle(item: events_pb2.PlanWork, ctx: WorkContext) -> None:
        deliveries.append(ctx.delivery)
        raise InvalidArgument("duration_s: must be a multiple of 5")

    async def dead_letter(item: events_pb2.PlanWork, error: BaseException) -> None:
        dead.append(f"{item.video_id}: {error}")

    handler = WorkHandler("test-dead", events_pb2.PlanWork, handle, dead_letter)
    await publish_work(js, "test-dead", events_pb2.PlanWork(video_id="v2"), "v2:dead")
    await run_until(WorkerLoop(js, handler, concurrency=1, ack_wait_s=5), lambda: bool(dead))
    await asyncio.sleep(0.5)
    assert deliveries == [1]
    assert dead == ["v2: duration_s: must be a multiple of 5"]


async def test_duplicate_publishes_are_dropped(js) -> None:
    seen: list[str] = []

    async def handle(item: events_pb2.PlanWork, ctx: WorkContext) -> None:
        seen.append(item.video_id)

    async def dead_letter(item: events_pb2.PlanWork, error: BaseException) -> None:
        raise AssertionError("unexpected dead letter")

    handler = WorkHandler("test-dedup", events_pb2.PlanWork, handle, dead_letter)
    for _ in range(3):
        await publish_work(js, "test-dedup", events_pb2.PlanWork(video_id="v3"), "v3:plan")
    await publish_work(js, "test-dedup", events_pb2.PlanWork(video_id="v4"), "v4:plan")
    await run_until(WorkerLoop(js, handler, concurrency=2, ack_wait_s=5), lambda: len(seen) >= 2)
    await asyncio.sleep(0.5)
    assert sorted(seen) == ["v3", "v4"]


async def test_long_work_keeps_its_item_with_heartbeats(js) -> None:
    deliveries: list[int] = []

    async def handle(item: events_pb2.PlanWork, ctx: WorkContext) -> None:
        deliveries.append(ctx.delivery)
        await asyncio.sleep(4)  # twice the ack wait: only heartbeats keep it from being redelivered

    async def dead_letter(item: events_pb2.PlanWork, error: BaseException) -> None:
        raise AssertionError("unexpected dead letter")

    handler = WorkHandler("test-long", events_pb2.PlanWork, handle, dead_letter)
    await publish_work(js, "test-long", events_pb2.PlanWork(video_id="v5"), "v5:long")
    loop = WorkerLoop(js, handler, concurrency=2, ack_wait_s=2)
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(6)
    await loop.stop(grace_s=2)
    await task
    assert deliveries == [1]


async def test_stop_hands_back_unfinished_work(js) -> None:
    started = asyncio.Event()
    deliveries: list[int] = []

    async def slow(item: events_pb2.PlanWork, ctx: WorkContext) -> None:
        deliveries.append(ctx.delivery)
        started.set()
        await asyncio.sleep(60)

    async def quick(item: events_pb2.PlanWork, ctx: WorkContext) -> None:
        deliveries.append(ctx.delivery)

    async def dead_letter(item: events_pb2.PlanWork, error: BaseException) -> None:
        raise AssertionError("unexpected dead letter")

    await publish_work(js, "test-drain", events_pb2.PlanWork(video_id="v6"), "v6:drain")
    first = WorkerLoop(
        js, WorkHandler("test-drain", events_pb2.PlanWork, slow, dead_letter), concurrency=1, ack_wait_s=30
    )
    task = asyncio.create_task(first.run())
    await asyncio.wait_for(started.wait(), 10)
    await first.stop(grace_s=0.5)
    await task
    # The item was naked on stop, so a new worker gets it at once rather than after the 30 s ack wait.
    second = WorkerLoop(
        js, WorkHandler("test-drain", events_pb2.PlanWork, quick, dead_letter), concurrency=1, ack_wait_s=30
    )
    await run_until(second, lambda: len(deliveries) >= 2, timeout=10)
    assert deliveries == [1, 2]
