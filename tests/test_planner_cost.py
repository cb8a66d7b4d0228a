"""The worker path of the OpenAI composer: its tokens reach the cost ledger once per video, and a
fallback plan still records the tokens of the answer it threw away; and the quote's voice line."""

from __future__ import annotations

from typing import Any

import asyncpg
import grpc
import nats
import openai
import pytest
import seeding
from conftest import base_settings
from fakes.openai_api import answer, fake_openai, malformed
from pydantic import SecretStr

from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.chunks.v1 import chunks_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen.voice.v1 import voice_service_pb2_grpc
from adgen_kernel.db import create_pool
from adgen_kernel.errors import InvalidArgument
from adgen_kernel.serve import Connections, start_service
from adgen_kernel.storage import ObjectStore
from adgen_planner.llm_composer import OpenAiComposer, TokenPrices
from adgen_planner.settings import PlannerSettings
from adgen_planner.worker import Planner
from adgen_voice.server import build as build_voice
from adgen_voice.settings import VoiceSettings
from adgen_voice.tts_prices import USD_MICROS_PER_CHAR

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
        voice_addr=stack.address("voice"),
    )
    nc = await nats.connect(stack.endpoints.nats_url)
    pool = await create_pool(stack.endpoints.database_url, max_size=2)
    channel = grpc.aio.insecure_channel(stack.address("chunks"))
    voice_channel = grpc.aio.insecure_channel(stack.address("voice"))
    try:
        with fake_openai() as server:
            server.script(reply)
            client = openai.AsyncOpenAI(api_key="k", base_url=server.base_url, max_retries=0, timeout=5)
            planner = Planner(
                Connections(settings, nc, nc.jetstream(), pool, ObjectStore.from_settings(settings)),
                chunks_service_pb2_grpc.ChunksServiceStub(channel),
                assets_service_pb2_grpc.AssetsServiceStub(channel),  # never called: the request names no assets
                voice_service_pb2_grpc.VoiceServiceStub(voice_channel),
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
        await voice_channel.close()
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


async def test_a_quote_prices_the_script_at_the_voice_that_speaks_it(stack, connections: Connections) -> None:
    """With an OpenAI key the voice service lists OpenAI's voices at their price per character, and
    the planner's quote (and so the budget check) prices the script with the request's voice."""
    with fake_openai() as server:
        voice_settings = VoiceSettings(
            **base_settings(stack.endpoints), openai_api_key=SecretStr("sk-test"), openai_base_url=server.base_url
        )
        voice = await start_service("voice-openai", voice_settings, build_voice)
        chunks = grpc.aio.insecure_channel(stack.address("chunks"))
        voices = grpc.aio.insecure_channel(f"127.0.0.1:{voice.port}")
        try:
            planner = Planner(
                connections,
                chunks_service_pb2_grpc.ChunksServiceStub(chunks),
                assets_service_pb2_grpc.AssetsServiceStub(chunks),  # never called: the request names no assets
                voice_service_pb2_grpc.VoiceServiceStub(voices),
            )
            user_id = (await seeding.user(connections.db)).user_id

            def request(**fields: Any) -> common_pb2.VideoRequest:
                return common_pb2.VideoRequest(
                    prompt="ad for a ceramic mug", duration_s=15, aspect_ratio=common_pb2.ASPECT_RATIO_16_9, **fields
                )

            quoted = await planner.quote(request(voice="openai-nova"), user_id)
            script = sum(len(b.voiceover) for b in quoted.spec.beats)
            [line] = [line for line in quoted.lines if line.phase == common_pb2.PHASE_VOICE]
            assert (line.provider, line.model, line.units) == ("openai", "tts-1", script)
            assert line.usd_micros == USD_MICROS_PER_CHAR["tts-1"] * script > 0
            assert quoted.cost_micros == line.usd_micros  # the studio providers cost nothing
            silent = await planner.quote(request(voiceover=False), user_id)
            assert not any(line.phase == common_pb2.PHASE_VOICE for line in silent.lines)
            with pytest.raises(InvalidArgument, match=r"^voice: 'openai-nobody' is not a voice"):
                await planner.quote(request(voice="openai-nobody"), user_id)
            assert not server.requests  # a quote speaks nothing
        finally:
            await chunks.close()
            await voices.close()
            await voice.stop()
