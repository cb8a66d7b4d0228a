"""The per-video budget cap (`max_cost_usd` / `max_cost_micros`) on real Postgres, NATS and S3 with
Replicate's clips ($0.19 each) and flux-dev images ($0.025) from the local fake: a cap that allows
exactly N clips lets N start and refuses the rest before their provider call, even when they all
start at once; the ledger never exceeds the cap; the refused unit fails the video with the reason.
Creation refuses a cap below the plan's quote over REST (422 naming max_cost_usd) and gRPC
(INVALID_ARGUMENT)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import cv2
import grpc
import numpy as np
import pytest
import seeding
from driven import driven_chunks, driven_storyboard
from fakes.replicate_api import FakeReplicate
from fixtures.replicate import images_config, video_config

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen.planner.v1 import planner_service_pb2 as planner_pb
from adgen.planner.v1 import planner_service_pb2_grpc
from adgen.video.v1 import video_service_pb2 as video_pb
from adgen.video.v1 import video_service_pb2_grpc
from adgen_chunks.model_registry import REGISTRY
from adgen_chunks.worker import Chunks
from adgen_kernel.errors import is_retryable
from adgen_kernel.serve import Connections
from adgen_providers.replicate_tags import TAG_INPUT
from adgen_storyboard.replicate_images import FLUX_DEV, PRICE_MICROS, ReplicateImages
from adgen_storyboard.worker import Storyboard
from adgen_video import keys
from adgen_video.budget import BudgetExceeded
from adgen_video.video_state import record_cost, reserve_budget

pytestmark = pytest.mark.xdist_group("stack")

HAILUO = REGISTRY["hailuo_fast"]
MODEL = HAILUO.replicate_model
CLIP = HAILUO.price_per_clip_micros  # 190_000
WIDTH, HEIGHT = 160, 90


@pytest.fixture(scope="module")
async def chunks(stack, fake: FakeReplicate) -> AsyncIterator[Chunks]:
    """Chunks on the stack's infrastructure, paying Replicate (the fake); driven by the tests."""
    async with driven_chunks(stack, video_config(fake), "chunks-budget") as chunks:
        yield chunks


@pytest.fixture(scope="module")
async def storyboard(stack, fake: FakeReplicate) -> AsyncIterator[Storyboard]:
    """A Storyboard drawing with Replicate's flux-dev (the fake), driven by the tests."""
    images = ReplicateImages(images_config(fake))
    async with driven_storyboard(stack, images, "storyboard-budget") as storyboard:
        yield storyboard


def request(duration_s: int, cap_micros: int | None) -> common_pb2.VideoRequest:
    made = common_pb2.VideoRequest(
        prompt=f"{duration_s} second ad for a titanium watch, luxury feel",
        duration_s=duration_s,
        creativity=0.5,
        aspect_ratio=common_pb2.ASPECT_RATIO_16_9,
        video_model="hailuo_fast",
        seed=7,
    )
    if cap_micros is not None:
        made.max_cost_micros = cap_micros
    return made


async def planned_spec(stack, wanted: common_pb2.VideoRequest) -> common_pb2.Spec:
    async with grpc.aio.insecure_channel(stack.address("planner")) as channel:
        stub = planner_service_pb2_grpc.PlannerServiceStub(channel)
        spec = (await stub.Plan(planner_pb.PlanRequest(request=wanted))).spec
    spec.output.width, spec.output.height = WIDTH, HEIGHT
    return spec


async def capped_video(
    stack, db: asyncpg.Pool, spec: common_pb2.Spec, wanted: common_pb2.VideoRequest
) -> tuple[str, str]:
    """A user and a rendering video whose stored request carries the cap, with its storyboards."""
    user_id = (await seeding.user(db)).user_id
    video_id = await seeding.video(db, user_id=user_id, status="rendering", request=wanted, spec=spec, chunks=True)
    store = stack.store()
    image = np.full((HEIGHT, WIDTH, 3), 120, np.uint8)
    png = cv2.imencode(".png", image)[1].tobytes()
    for beat in range(len(spec.beats)):
        await store.put_bytes(keys.storyboard_key(user_id, video_id, beat), png, "image/png")
    return user_id, video_id


async def ledger(db: asyncpg.Pool, video_id: str) -> list[int]:
    rows = await db.fetch("SELECT usd_micros FROM cost_ledger WHERE video_id = $1", uuid.UUID(video_id))
    return [r["usd_micros"] for r in rows]


async def test_a_cap_for_exactly_n_clips_stops_at_n_even_when_all_start_at_once(
    stack, fake: FakeReplicate, chunks: Chunks, db: asyncpg.Pool
) -> None:
    allowed = 2
    cap = allowed * CLIP + CLIP // 2  # room for two clips and half of a third
    wanted = request(30, cap)
    spec = await planned_spec(stack, wanted)
    firsts = [s.index for s in spec.chunk_plan.slots if s.index_in_beat == 0]  # each starts from its storyboard
    assert len(firsts) > allowed
    user_id, video_id = await capped_video(stack, db, spec, wanted)
    assert await db.fetchval("SELECT max_cost_micros FROM videos WHERE video_id = $1", uuid.UUID(video_id)) == cap
    try:
        results = await asyncio.gather(
            *(chunks.render(video_id, user_id, spec, index) for index in firsts), return_exceptions=True
        )
        done = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(done) == allowed, results
        assert all(isinstance(r, BudgetExceeded) for r in refused), refused
        assert str(refused[0]) == "budget of $0.475 reached: spent $0.38, next unit $0.19"
        assert not is_retryable(refused[0])
        paid = [i for i in fake.created(MODEL) if str(i.get(TAG_INPUT, "")).startswith(f"{video_id}:")]
        assert len(paid) == allowed, "a refused clip never reaches the provider"
        assert await ledger(db, video_id) == [CLIP] * allowed
        assert sum(await ledger(db, video_id)) <= cap

        # The refused unit fails the video with the reason, as the worker's dead letter does.
        refused_index = firsts[[isinstance(r, BaseException) for r in results].index(True)]
        work = events_pb2.ChunkWork(video_id=video_id, user_id=user_id, spec=spec, chunk_index=refused_index)
        await chunks.dead_letter(work, refused[0])
        row = await db.fetchrow(
            "SELECT status, error, failed_phase FROM videos WHERE video_id = $1", uuid.UUID(video_id)
        )
        assert row is not None
        assert (row["status"], row["failed_phase"]) == ("failed", "PHASE_CHUNKS")
        assert row["error"] == f"chunk {refused_index}: budget of $0.475 reached: spent $0.38, next unit $0.19"
    finally:
        await db.execute("UPDATE videos SET status = 'failed' WHERE video_id = $1", uuid.UUID(video_id))


async def test_reservations_are_race_free_idempotent_and_the_ledger_replaces_them(
    stack, db: asyncpg.Pool, connections: Connections
) -> None:
    wanted = request(30, 5 * CLIP)  # exactly five units: the boundary is allowed
    spec = await planned_spec(stack, wanted)
    _, video_id = await capped_video(stack, db, spec, wanted)
    units = [f"{video_id}:chunk:{i}" for i in range(20)]
    results = await asyncio.gather(*(reserve_budget(db, video_id, u, CLIP) for u in units), return_exceptions=True)
    reserved = [u for u, r in zip(units, results, strict=True) if r is None]
    assert len(reserved) == 5
    assert all(isinstance(r, BudgetExceeded) for r in results if r is not None)
    held = await db.fetchval("SELECT sum(usd_micros) FROM budget_reservations WHERE video_id = $1", uuid.UUID(video_id))
    assert held == 5 * CLIP

    await reserve_budget(db, video_id, reserved[0], CLIP)  # a redelivered unit goes on with its reservation
    with pytest.raises(BudgetExceeded):
        await reserve_budget(db, video_id, units[-1] + ":new", 1)
    # A unit whose call cost less than reserved frees the difference once its ledger row lands.
    await record_cost(
        db,
        connections.js,
        idempotency_key=reserved[0],
        video_id=video_id,
        phase=common_pb2.PHASE_CHUNKS,
        provider="replicate",
        model=MODEL,
        units=1,
        usd_micros=CLIP - 1000,
    )
    await reserve_budget(db, video_id, "one-more", 1000)
    with pytest.raises(BudgetExceeded):
        await reserve_budget(db, video_id, "and-another", 1)
    await db.execute("UPDATE videos SET status = 'failed' WHERE video_id = $1", uuid.UUID(video_id))


async def test_uncapped_videos_and_free_units_reserve_nothing(stack, db: asyncpg.Pool) -> None:
    wanted = request(10, None)
    spec = await planned_spec(stack, wanted)
    _, video_id = await capped_video(stack, db, spec, wanted)
    await reserve_budget(db, video_id, f"{video_id}:chunk:0", 10**12)
    capped = request(10, CLIP)
    _, capped_id = await capped_video(stack, db, spec, capped)
    await reserve_budget(db, capped_id, f"{capped_id}:chunk:0", 0)  # a studio unit costs nothing
    count = await db.fetchval(
        "SELECT count(*) FROM budget_reservations WHERE video_id = ANY($1::uuid[])", [video_id, capped_id]
    )
    assert count == 0
    await db.execute("UPDATE videos SET status = 'failed' WHERE video_id = ANY($1::uuid[])", [video_id, capped_id])


async def test_creation_refuses_a_cap_below_the_quote(stack) -> None:
    key = await stack.new_user(f"budget-rest-{uuid.uuid4().hex[:8]}")
    body = {"prompt": "a 10 second ad for a kettle", "duration_s": 10, "video_model": "hailuo_fast", "seed": 3}
    async with stack.client(key) as client:
        quote = (await client.post("/v1/quotes", json=body)).json()
        quoted = quote["cost"]["total_usd"]
        assert quoted > 0.1
        low = await client.post("/v1/videos", json={**body, "max_cost_usd": 0.1})
        assert low.status_code == 422, low.text
        assert low.headers["content-type"].startswith("application/problem+json")
        (error,) = low.json()["errors"]
        assert error["field"] == "max_cost_usd" and "below this video's quoted cost" in error["message"], error
        for nonsense in (0, -1, "lots", 10**9):
            answer = await client.post("/v1/videos", json={**body, "max_cost_usd": nonsense})
            assert answer.status_code == 422 and "max_cost_usd" in answer.text, answer.text

        studio = {"prompt": "a 10 second ad for a kettle", "duration_s": 10, "max_cost_usd": 1.25}
        created = await client.post("/v1/videos", json=studio)  # the studio model is free: any cap covers it
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        shown = (await client.get(f"/v1/videos/{video_id}")).json()
        assert shown["max_cost_usd"] == 1.25
        await client.post(f"/v1/videos/{video_id}/cancel")

    async with grpc.aio.insecure_channel(stack.address("gateway")) as channel:
        stub = video_service_pb2_grpc.VideoServiceStub(channel)
        low_cap = request(10, 100_000)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.CreateVideo(
                video_pb.CreateVideoRequest(request=low_cap), metadata=(("authorization", f"Bearer {key}"),)
            )
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "request.max_cost_micros: $0.10 is below this video's quoted cost" in (raised.value.details() or "")


async def test_storyboard_images_reserve_their_price_before_the_provider_call(
    stack, fake: FakeReplicate, storyboard: Storyboard, db: asyncpg.Pool
) -> None:
    image = PRICE_MICROS[FLUX_DEV]  # 25_000
    wanted = request(10, image + image // 2)  # one image and a half
    spec = await planned_spec(stack, wanted)
    user_id, video_id = await capped_video(stack, db, spec, wanted)
    # capped_video stores the storyboards the chunk tests start from; here they are to be drawn.
    await stack.store().delete(*(keys.storyboard_key(user_id, video_id, b) for b in range(len(spec.beats))))
    before = len(fake.created(FLUX_DEV))
    try:
        drawn = await storyboard.render(video_id, user_id, spec, 0)
        assert not drawn.reused
        with pytest.raises(BudgetExceeded, match=r"budget of \$0\.0375 reached: spent \$0\.025, next unit \$0\.025"):
            await storyboard.render(video_id, user_id, spec, 1)
        assert len(fake.created(FLUX_DEV)) == before + 1, "the refused image never reaches the provider"
        assert await ledger(db, video_id) == [image]
    finally:
        await db.execute("UPDATE videos SET status = 'failed' WHERE video_id = $1", uuid.UUID(video_id))
