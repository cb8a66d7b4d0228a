"""The worker path of the OpenAI composer: its tokens reach the cost ledger once per video, and a
fallback plan still records the tokens of the answer it threw away."""

from __future__ import annotations

import asyncpg
import grpc
import nats
import openai
import pytest
import seeding
from fakes.openai_api import answer, fake_openai, malformed

from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.chunks.v1 import chunks_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_kernel.db import create_pool
from adgen_kernel.serve import Connections
from adgen_kernel.storage import ObjectStore
from adgen_planner.llm_composer import OpenAiComposer, TokenPrices
from adgen_planner.settings import PlannerSettings
from adgen_planner.worker import Planner

pytestmark = pytest.mark.xdist_group("stack")

PLAN = {
    "archetype_id": "minimalist_reveal",
    "product_name": "ceramic mug",
    "brand": "",
    "call_to_action": "Order yours",
    "style": {"aesthetic": "clean, modern", "mood": "minimal"},
    "beats": [
        {
            "beat_id": "hero_shot",
            "duration_s": 5,
            "prompt": "a white ceramic mug on oak, soft light",
            "headline": "Mug",
            "subline": "",
        },
        {
            "beat_id": "call_to_action",
            "duration_s": 5,
            "prompt": "the mug centred, space for text",
            "headline": "Order",
            "subline": "",
        },
    ],
}


async def _plan_one(stack, reply, planner_label: str) -> list[asyncpg.Record]:
    e = stack.endpoints
    settings = PlannerSettings(
        nats_url=e.nats_url,
        database_url=e.database_url,
        s3_endpoint=e.s3_endpoint,
        s3_access_key=e.s3_access_key,
        s3_secret_key=e.s3_secret_key,
        chunks_addr=stack.address("chunks"),
        assets_addr=stack.address("assets"),
    )
    nc = await nats.connect(stack.endpoints.nats_url)
    pool = await create_pool(stack.endpoints.database_url, max_size=2)
    channel = grpc.aio.insecure_channel(stack.address("chunks"))
    try:
        with fake_openai() as server:
            server.script(reply)
            client = openai.AsyncOpenAI(api_key="k", base_url=server.base_url, max_retries=0, timeout=5)
            planner = Planner(
                Connections(settings, nc, nc.jetstream(), pool, ObjectStore.from_settings(settings)),
                chunks_service_pb2_grpc.ChunksServiceStub(channel),
                assets_service_pb2_grpc.AssetsServiceStub(channel),  # never called: the request names no assets
                OpenAiComposer(client, "gpt-4o-mini", TokenPrices(0.15, 0.60)),
            )
            user_id = (await seeding.user(pool)).user_id
            request = common_pb2.VideoRequest(
                prompt="ad for a ceramic mug", duration_s=10, seed=1, aspect_ratio=common_pb2.ASPECT_RATIO_16_9
            )
            video_id = await seeding.video(pool, user_id=user_id, status="queued", request=request)
            work = events_pb2.PlanWork(video_id=video_id, user_id=user_id, request=request)
            await planner.handle(work, None)  # type: ignore[arg-type]
            # Nothing downstream is needed here: stop the fan-out from rendering.
            await pool.execute("UPDATE videos SET status = 'failed' WHERE video_id = $1", video_id)
            await planner.handle(work, None)  # type: ignore[arg-type]
            spec = await pool.fetchval("SELECT spec FROM videos WHERE video_id = $1", video_id)
            assert spec["planner"].startswith(planner_label)
            assert len(server.requests) == 1  # the redelivered item did not plan again
            return await pool.fetch("SELECT * FROM cost_ledger WHERE video_id = $1", video_id)
    finally:
        await channel.close()
        await pool.close()
        await nc.drain()


async def test_openai_tokens_are_recorded_once_in_the_ledger(stack) -> None:
    (row,) = await _plan_one(stack, answer(PLAN, usage=(2000, 500)), "openai gpt-4o-mini")
    assert row["idempotency_key"].endswith(":plan")
    assert (row["phase"], row["provider"], row["model"]) == ("PHASE_PLAN", "openai", "gpt-4o-mini")
    assert row["units"] == 2500 and row["usd_micros"] == 2000 * 0.15 + 500 * 0.60


async def test_a_fallback_still_records_the_tokens_it_spent(stack) -> None:
    (row,) = await _plan_one(stack, malformed(), "rules (openai fallback: malformed answer")
    assert row["provider"] == "openai" and row["units"] == 1500
