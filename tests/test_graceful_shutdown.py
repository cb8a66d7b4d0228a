"""Real processes: SIGTERM to the chunks worker while a clip renders. It turns NOT_SERVING, finishes
or hands back the clip within the grace and exits 0; restarted, it completes the video with every
chunk rendered and charged exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import asyncpg
import grpc
import httpx
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from adgen_cli.stack import DevStack
from adgen_embedded.ports import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("processes")]

GRACE_S = 10


async def _health_statuses(port: int, into: list[str]) -> None:
    """Records each change of the process's health until its server goes away."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)  # type: ignore[attr-defined]  # the stub's HealthStub lacks its methods
            except grpc.aio.AioRpcError:
                return
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            if not into or into[-1] != status:
                into.append(status)
            await asyncio.sleep(0.02)


async def _chunk_rendering(conn: asyncpg.Connection, video_id: str) -> set[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = await conn.fetch(
            "SELECT chunk_index FROM chunks WHERE video_id = $1 AND status = 'pending' AND attempts >= 1", video_id
        )
        if rows:
            return {r["chunk_index"] for r in rows}
        await asyncio.sleep(0.02)
    status = await conn.fetchval("SELECT status FROM videos WHERE video_id = $1", video_id)
    raise AssertionError(f"no chunk started rendering; the video is {status}")


async def test_sigterm_mid_chunk_drains_and_loses_nothing(tmp_path_factory: pytest.TempPathFactory) -> None:
    stack = DevStack(
        tmp_path_factory.mktemp("drain-stack"),
        extra_env={"ADGEN_DRAIN_GRACE_S": str(GRACE_S), "ADGEN_WORKER_CONCURRENCY": "1", "ADGEN_ACK_WAIT_S": "5"},
    )
    info = await asyncio.to_thread(stack.up, http_port=free_port())
    conn = await asyncpg.connect(info.endpoints.database_url)
    try:
        headers = {"Authorization": f"Bearer {info.api_key}"}
        async with httpx.AsyncClient(base_url=info.url, headers=headers, timeout=30) as client:
            created = await client.post("/v1/videos", json={"prompt": "15 second ad for a desk lamp", "duration_s": 15})
            assert created.status_code == 202, created.text
            video_id = created.json()["id"]

            chunks = info.services["chunks"]
            statuses: list[str] = []
            watch = asyncio.create_task(_health_statuses(chunks.grpc_port, statuses))
            in_flight = await _chunk_rendering(conn, video_id)
            process = psutil.Process(chunks.pid)
            started = time.monotonic()
            os.killpg(chunks.pid, signal.SIGTERM)
            exit_code = await asyncio.to_thread(process.wait, GRACE_S + 15)
            drained_in = time.monotonic() - started
            await asyncio.wait_for(watch, 5)
            assert exit_code == 0
            assert drained_in < GRACE_S + 5
            assert statuses[0] == "SERVING" and "NOT_SERVING" in statuses, statuses

            await asyncio.to_thread(stack.start_service, "chunks")
            await asyncio.to_thread(stack.wait_ready, ("chunks",))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                video = (await client.get(f"/v1/videos/{video_id}")).json()
                if video["status"] in ("completed", "failed"):
                    break
                await asyncio.sleep(0.5)
            assert video["status"] == "completed", video

        rows = await conn.fetch("SELECT chunk_index, status, attempts FROM chunks WHERE video_id = $1", video_id)
        ledger = await conn.fetch(
            "SELECT idempotency_key FROM cost_ledger WHERE video_id = $1 AND phase = 'PHASE_CHUNKS'", video_id
        )
    finally:
        await conn.close()
        await asyncio.to_thread(stack.down)

    assert len(rows) == len(video["spec"]["chunk_plan"]["slots"]) and all(r["status"] == "done" for r in rows)
    keys = [r["idempotency_key"] for r in ledger]
    assert sorted(keys) == sorted(f"{video_id}:chunk:{r['chunk_index']}" for r in rows), "one charge per chunk"

    lines = [json.loads(line) for line in (stack.logs / "chunks.log").read_text().splitlines()]
    first_run = lines[: next(i for i, r in enumerate(lines) if r["event"] == "service stopped") + 1]
    events = [r["event"] for r in first_run]
    assert "shutting down" in events
    finished = any(r["event"] == "work item acked" and r.get("video_id") == video_id for r in first_run)
    handed_back = "work item handed back" in events
    assert finished or handed_back, "the clip in flight was finished or handed back before the exit"
    attempts = {r["chunk_index"]: r["attempts"] for r in rows}
    assert all(a == 1 for i, a in attempts.items() if i not in in_flight), attempts
