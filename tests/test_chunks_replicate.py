"""The chunks worker rendering through Replicate (the local fake) on real NATS, Postgres and S3: the
prediction id is in the chunk's row before the clip is done, a crashed worker's successor polls the
prediction already paid for, and a 25 s plan on hailuo_fast comes out 25 s long, every beat started
from its own storyboard image, charged exactly clips × $0.19."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import cv2
import grpc
import numpy as np
import pytest
import seeding
from driven import driven_chunks
from fakes.replicate_api import FakeReplicate, Script, data_uri_image
from fixtures.replicate import video_config
from media_checks import decode

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen.planner.v1 import planner_service_pb2 as planner_pb
from adgen.planner.v1 import planner_service_pb2_grpc
from adgen_chunks.model_registry import REGISTRY
from adgen_chunks.worker import Chunks, decode_png
from adgen_kernel.jetstream import WorkContext
from adgen_kernel.storage import ObjectStore
from adgen_providers.replicate_tags import TAG_INPUT
from adgen_video import keys

pytestmark = pytest.mark.xdist_group("stack")

HAILUO = REGISTRY["hailuo_fast"]
MODEL = HAILUO.replicate_model
WIDTH, HEIGHT = 160, 90


@pytest.fixture(scope="module")
async def chunks(stack, fake: FakeReplicate) -> AsyncIterator[Chunks]:
    """A Chunks with Replicate and no worker of its own: the stack's chunks service keeps the queue,
    this one is driven by the tests."""
    config = dataclasses.replace(video_config(fake), request_timeout_s=0.5)
    async with driven_chunks(stack, config) as chunks:
        yield chunks


def store(stack) -> ObjectStore:
    e = stack.endpoints
    return ObjectStore(
        endpoint=e.s3_endpoint,
        access_key=e.s3_access_key,
        secret_key=e.s3_secret_key,
        region=e.s3_region,
        bucket=e.s3_bucket,
    )


async def planned_spec(stack, duration_s: int) -> common_pb2.Spec:
    async with grpc.aio.insecure_channel(stack.address("planner")) as channel:
        request = common_pb2.VideoRequest(
            prompt=f"{duration_s} second ad for a titanium watch, luxury feel",
            duration_s=duration_s,
            creativity=0.5,
            aspect_ratio=common_pb2.ASPECT_RATIO_16_9,
            video_model="hailuo_fast",
        )
        stub = planner_service_pb2_grpc.PlannerServiceStub(channel)
        spec = (await stub.Plan(planner_pb.PlanRequest(request=request))).spec
    spec.output.width, spec.output.height = WIDTH, HEIGHT  # small frames keep the test fast
    return spec


def storyboard_png(beat: int) -> bytes:
    """A different picture per beat, so each chunk's init image says which beat it came from."""
    image = np.full((HEIGHT, WIDTH, 3), (40 + 50 * beat, 90, 200 - 40 * beat), np.uint8)
    cv2.rectangle(image, (10 + 30 * beat, 20), (40 + 30 * beat, 70), (250, 250, 250), -1)
    return cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))[1].tobytes()


async def new_video(stack, db: asyncpg.Pool, spec: common_pb2.Spec) -> tuple[str, str]:
    """A user and a video in the rendering phase with its chunk rows and storyboard images."""
    user_id = (await seeding.user(db)).user_id
    video_id = await seeding.video(db, user_id=user_id, status="rendering", spec=spec, chunks=True)
    s3 = store(stack)
    for beat in range(len(spec.beats)):
        await s3.put_bytes(keys.storyboard_key(user_id, video_id, beat), storyboard_png(beat), "image/png")
    return user_id, video_id


def creates_for(fake: FakeReplicate, video_id: str, chunk_index: int) -> list[dict]:
    return [i for i in fake.created(MODEL) if i.get(TAG_INPUT) == f"{video_id}:chunk:{chunk_index}"]


async def chunk_ledger(db: asyncpg.Pool, video_id: str) -> list[tuple[str, str, str, int, int]]:
    rows = await db.fetch(
        "SELECT idempotency_key, provider, model, units, usd_micros FROM cost_ledger"
        " WHERE video_id = $1 AND phase = 'PHASE_CHUNKS' ORDER BY idempotency_key",
        uuid.UUID(video_id),
    )
    return [tuple(r) for r in rows]


async def test_a_crashed_worker_resumes_polling_the_prediction_it_paid_for(
    stack, fake: FakeReplicate, chunks: Chunks, db: asyncpg.Pool
) -> None:
    spec = await planned_spec(stack, 10)
    first_slot = spec.chunk_plan.slots[0]
    assert (spec.beats[0].duration_s, first_slot.handoff_frame) == (5, -1)  # one 6 s clip covers the 5 s beat
    user_id, video_id = await new_video(stack, db, spec)
    try:
        fake.script(MODEL, Script("succeed", polls=40))
        work = events_pb2.ChunkWork(video_id=video_id, user_id=user_id, spec=spec, chunk_index=0)
        first = asyncio.create_task(chunks.handle(work, WorkContext(delivery=1, subject="adgen.work.chunk")))
        row = None
        while row is None or row["prediction_id"] is None:
            assert not first.done(), first
            await asyncio.sleep(0.01)
            row = await db.fetchrow("SELECT prediction_id, prediction_tag FROM chunks WHERE video_id = $1", video_id)
        paid = row["prediction_id"]
        assert row["prediction_tag"] == f"{video_id}:chunk:0"
        assert fake.polls(paid) < 40, "the id is recorded before the prediction is finished"
        first.cancel()  # the worker dies mid-poll
        with pytest.raises(asyncio.CancelledError):
            await first

        await chunks.handle(work, WorkContext(delivery=2, subject="adgen.work.chunk"))

        assert len(creates_for(fake, video_id, 0)) == 1
        assert fake.polls(paid) == 40
        row = await db.fetchrow(
            "SELECT status, attempts, prediction_id FROM chunks WHERE video_id = $1", uuid.UUID(video_id)
        )
        assert row is not None
        assert (row["status"], row["attempts"], row["prediction_id"]) == ("done", 2, paid)
        assert await chunk_ledger(db, video_id) == [(f"{video_id}:chunk:0", "replicate", MODEL, 1, 190_000)]
    finally:
        await db.execute("UPDATE videos SET status = 'failed', error = 'test over' WHERE video_id = $1", video_id)


async def test_a_create_whose_answer_is_lost_is_reconciled_by_its_tag(
    stack, fake: FakeReplicate, chunks: Chunks, db: asyncpg.Pool
) -> None:
    spec = await planned_spec(stack, 10)
    user_id, video_id = await new_video(stack, db, spec)
    try:
        fake.script(MODEL, Script("succeed", answer_delay_s=1.5))  # past the client's 0.5 s
        rendered = await chunks.render(video_id, user_id, spec, 0)
        assert not rendered.reused
        [created] = creates_for(fake, video_id, 0)
        row = await db.fetchrow("SELECT prediction_id FROM chunks WHERE video_id = $1", uuid.UUID(video_id))
        assert row is not None
        assert row["prediction_id"] is not None
        assert await chunk_ledger(db, video_id) == [(f"{video_id}:chunk:0", "replicate", MODEL, 1, 190_000)]
        assert np.array_equal(data_uri_image(created["first_frame_image"]), decode_png(storyboard_png(0)))
    finally:
        await db.execute("UPDATE videos SET status = 'failed', error = 'test over' WHERE video_id = $1", video_id)


async def test_a_25_second_plan_on_hailuo_fast_is_25_seconds_and_costs_clips_times_19_cents(
    stack, fake: FakeReplicate, chunks: Chunks, db: asyncpg.Pool, tmp_path: Path
) -> None:
    spec = await planned_spec(stack, 25)
    assert [b.duration_s for b in spec.beats] == [5, 5, 10, 5]
    plan = spec.chunk_plan
    assert (plan.video_model, plan.fps, plan.clip_frames, plan.total_frames) == ("hailuo_fast", 24, 144, 600)
    slots = list(plan.slots)
    assert [s.beat_index for s in slots] == [0, 1, 2, 2, 3]
    user_id, video_id = await new_video(stack, db, spec)
    s3 = store(stack)
    # Render every clip first, then deliver the work items: the stack's own chunks service (which
    # has no Replicate token) then only ever finds clips that already exist.
    for slot in slots:
        await chunks.render(video_id, user_id, spec, slot.index)
    for slot in slots:
        [sent] = creates_for(fake, video_id, slot.index)
        init = data_uri_image(sent["first_frame_image"])
        if slot.index_in_beat == 0:
            expected = decode_png(storyboard_png(slot.beat_index))  # its own beat's storyboard image
        else:
            expected = decode_png(await s3.get_bytes(keys.handoff_key(user_id, video_id, slot.index - 1)))
        assert np.array_equal(init, expected), slot.index
        assert sent["prompt"] == spec.beats[slot.beat_index].prompt
    for slot in slots:
        work = events_pb2.ChunkWork(video_id=video_id, user_id=user_id, spec=spec, chunk_index=slot.index)
        await chunks.handle(work, WorkContext(delivery=1, subject="adgen.work.chunk"))

    ledger = await chunk_ledger(db, video_id)
    assert ledger == sorted((f"{video_id}:chunk:{s.index}", "replicate", MODEL, 1, 190_000) for s in slots)
    assert sum(row[4] for row in ledger) == len(slots) * 190_000 == 950_000

    # The stack refines and exports the clips; the final video is the planned 25 s to the frame.
    final_key = None
    for _ in range(600):
        row = await db.fetchrow("SELECT status, error, final_key FROM videos WHERE video_id = $1", video_id)
        assert row is not None
        assert row["status"] != "failed", row["error"]
        if row["status"] == "completed":
            final_key = row["final_key"]
            break
        await asyncio.sleep(0.1)
    assert final_key, "the video did not complete"
    await s3.download_file(final_key, tmp_path / "final.mp4")
    video = decode(tmp_path / "final.mp4")
    assert (video.frame_count, video.fps, video.width, video.height) == (600, 24.0, WIDTH, HEIGHT)
    assert video.duration_s == 25.0
