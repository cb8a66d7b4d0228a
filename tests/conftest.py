"""Fixtures for the service and end-to-end tiers: a real NATS, Postgres and S3 started on free
loopback ports for this test session, the services built by the same factories as production, a
pool and service connections on that infrastructure, and the fake Replicate. Rows are seeded
through tests/seeding.py."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import pytest
from fakes.replicate_api import FakeReplicate
from fixtures.replicate import replicate_fake
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adgen_assets.server import build as build_assets
from adgen_chunks.server import build as build_chunks
from adgen_chunks.settings import ChunksSettings
from adgen_cli.stack import create_user, object_store, prepare
from adgen_embedded.infra import EmbeddedInfra, InfraEndpoints
from adgen_embedded.ports import free_port
from adgen_export.server import build as build_export
from adgen_export.settings import ExportSettings
from adgen_gateway.server import build as build_gateway
from adgen_gateway.settings import GatewaySettings
from adgen_kernel.db import create_pool
from adgen_kernel.logs import configure_logging
from adgen_kernel.serve import Connections, RunningService, start_service
from adgen_kernel.settings import ServiceSettings
from adgen_kernel.storage import ObjectStore
from adgen_kernel.telemetry import setup_tracing
from adgen_planner.server import build as build_planner
from adgen_planner.settings import PlannerSettings
from adgen_refine.server import build as build_refine
from adgen_refine.settings import RefineSettings
from adgen_storyboard.server import build as build_storyboard
from adgen_storyboard.settings import StoryboardSettings
from adgen_voice.server import build as build_voice
from adgen_voice.settings import VoiceSettings

SPANS = InMemorySpanExporter()


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    return SPANS


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfraEndpoints]:
    """NATS + Postgres + S3 of this session only; migrations, streams and bucket in place."""
    stack = EmbeddedInfra(tmp_path_factory.mktemp("infra"))
    endpoints = stack.start()
    try:
        asyncio.run(prepare(endpoints))
        yield endpoints
    finally:
        stack.stop()


@pytest.fixture(scope="session")
async def db(infra: InfraEndpoints) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the session's Postgres, made as the services make theirs (traced, jsonb as Python values)."""
    pool = await create_pool(infra.database_url, max_size=12)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeReplicate]:
    """One test module's fake Replicate (fixtures.replicate): its tests script it and read what it was sent."""
    with replicate_fake() as server:
        yield server


# The session's tests share one gateway and one client address: limits far above what they send, so
# that no test (the fuzzer least of all) is answered 429 for another's traffic. Rate limits are tested
# on gateways of their own (tests/gateways.py).
TEST_RATE_LIMITS: dict[str, Any] = {
    "rate_limit_per_s": 10_000.0,
    "rate_limit_burst": 10_000,
    "rate_limit_anonymous_per_s": 10_000.0,
    "rate_limit_anonymous_burst": 10_000,
}


def base_settings(endpoints: InfraEndpoints) -> dict[str, Any]:
    return {
        "nats_url": endpoints.nats_url,
        "database_url": endpoints.database_url,
        "s3_endpoint": endpoints.s3_endpoint,
        "s3_access_key": endpoints.s3_access_key,
        "s3_secret_key": endpoints.s3_secret_key,
        "s3_region": endpoints.s3_region,
        "s3_bucket": endpoints.s3_bucket,
        "grpc_port": 0,
        "drain_grace_s": 5.0,
        "ack_wait_s": 10.0,
        "log_json": True,
    }


@dataclass
class Stack:
    """Every service and the gateway, in this process, on real infrastructure."""

    endpoints: InfraEndpoints
    services: dict[str, RunningService]
    url: str

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.services[name].port}"

    async def new_user(self, name: str) -> str:
        return await create_user(self.endpoints.database_url, name)

    def store(self) -> ObjectStore:
        return object_store(self.endpoints)

    def client(self, api_key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60)


@pytest.fixture(scope="session")
async def connections(infra: InfraEndpoints, db: asyncpg.Pool) -> AsyncIterator[Connections]:
    """What a service's objects are built on (settings, NATS, the pool, the store), for tests that build one."""
    settings = ServiceSettings(**base_settings(infra))
    nc = await nats.connect(infra.nats_url)
    try:
        yield Connections(settings=settings, nc=nc, js=nc.jetstream(), db=db, store=ObjectStore.from_settings(settings))
    finally:
        await nc.drain()


@pytest.fixture(scope="session")
async def stack(infra: InfraEndpoints) -> AsyncIterator[Stack]:
    configure_logging("tests", level=os.environ.get("ADGEN_TEST_LOG_LEVEL", "info"))
    setup_tracing("adgen-tests", processor=SimpleSpanProcessor(SPANS))
    base = base_settings(infra)
    services: dict[str, RunningService] = {}

    def addr(name: str) -> str:
        return f"127.0.0.1:{services[name].port}"

    try:
        services["assets"] = await start_service("assets", ServiceSettings(**base), build_assets)
        services["chunks"] = await start_service("chunks", ChunksSettings(**base), build_chunks)
        services["export"] = await start_service("export", ExportSettings(**base), build_export)
        services["voice"] = await start_service("voice", VoiceSettings(**base), build_voice)
        services["planner"] = await start_service(
            "planner",
            PlannerSettings(**base, chunks_addr=addr("chunks"), assets_addr=addr("assets"), voice_addr=addr("voice")),
            build_planner,
        )
        services["storyboard"] = await start_service(
            "storyboard", StoryboardSettings(**base, assets_addr=addr("assets")), build_storyboard
        )
        services["refine"] = await start_service("refine", RefineSettings(**base), build_refine)
        http_port = free_port()
        services["gateway"] = await start_service(
            "gateway",
            GatewaySettings(
                **base,
                http_port=http_port,
                chunks_addr=addr("chunks"),
                export_addr=addr("export"),
                planner_addr=addr("planner"),
                assets_addr=addr("assets"),
                voice_addr=addr("voice"),
                **TEST_RATE_LIMITS,
            ),
            build_gateway,
        )
        url = f"http://127.0.0.1:{http_port}"
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
        yield Stack(infra, services, url)
    finally:
        for service in reversed(list(services.values())):
            await service.stop()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
