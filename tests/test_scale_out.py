"""Real processes: four chunks workers on the one durable consumer share eight videos' clips, and no
clip is rendered or charged twice. Each replica's share is counted from its own log."""

from __future__ import annotations

import asyncio
import json
import time

import asyncpg
import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from adgen_cli.stack import DevStack, ServiceProcess, create_user, terminate
from adgen_embedded.ports import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("processes")]

VIDEOS = 8
EXTRA_REPLICAS = 3


def acked_chunks(log: str) -> int:
    return sum(
        1
        for line in log.splitlines()
        if (record := json.loads(line))["event"] == "work item acked" and record.get("worker") == "chunk"
    )


async def _wait_serving(port: int) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)  # type: ignore[attr-defined]  # the stub's HealthStub lacks its methods
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)


async def test_four_chunks_workers_share_eight_videos(tmp_path_factory: pytest.TempPathFactory) -> None:
    stack = DevStack(tmp_path_factory.mktemp("scale-stack"), extra_env={"ADGEN_WORKER_CONCURRENCY": "1"})
    info = await asyncio.to_thread(stack.up, http_port=free_port())
    replicas: list[ServiceProcess] = []
    try:
        replicas = [stack.start_replica("chunks", n) for n in range(1, EXTRA_REPLICAS + 1)]
        async with asyncio.timeout(60):
            for replica in replicas:
                await _wait_serving(replica.grpc_port)

        keys = [await create_user(info.endpoints.database_url, f"scale-{n}") for n in range(VIDEOS)]
        ids = []
        async with httpx.AsyncClient(base_url=info.url, timeout=30) as client:
            for n, key in enumerate(keys):
                created = await client.post(
                    "/v1/videos",
                    json={"prompt": f"10 second ad for a ceramic mug, colour {n}", "duration_s": 10},
                    headers={"Authorization": f"Bearer {key}"},
                )
                assert created.status_code == 202, created.text
                ids.append((key, created.json()["id"]))
            # A guard against a hang, not a speed target (that is bench/): 8 studio videos on 2 cores.
            deadline = time.monotonic() + 240
            pending = dict(ids)
            while pending and time.monotonic() < deadline:
                for key, video_id in list(pending.items()):
                    video = (
                        await client.get(f"/v1/videos/{video_id}", headers={"Authorization": f"Bearer {key}"})
                    ).json()
                    if video["status"] in ("completed", "failed"):
                        assert video["status"] == "completed", video
                        del pending[key]
                await asyncio.sleep(0.5)
            stuck = {
                v: (await client.get(f"/v1/videos/{v}", headers={"Authorization": f"Bearer {k}"})).json()["status"]
                for k, v in pending.items()
            }
            assert not pending, f"videos that did not finish, by status: {stuck}"

        video_ids = [video_id for _, video_id in ids]
        conn = await asyncpg.connect(info.endpoints.database_url)
        try:
            chunks = await conn.fetch(
                "SELECT video_id, chunk_index, status, attempts FROM chunks WHERE video_id = ANY($1::uuid[])", video_ids
            )
            charges = await conn.fetch(
                "SELECT idempotency_key FROM cost_ledger WHERE video_id = ANY($1::uuid[]) AND phase = 'PHASE_CHUNKS'",
                video_ids,
            )
        finally:
            await conn.close()
    finally:
        for replica in replicas:
            await asyncio.to_thread(terminate, replica.pid)
        await asyncio.to_thread(stack.down)

    assert chunks and all(r["status"] == "done" and r["attempts"] == 1 for r in chunks), "no clip done twice"
    keys_charged = sorted(r["idempotency_key"] for r in charges)
    assert keys_charged == sorted(f"{r['video_id']}:chunk:{r['chunk_index']}" for r in chunks), "one charge per clip"

    logs = ["chunks.log", *(f"chunks-{n}.log" for n in range(1, EXTRA_REPLICAS + 1))]
    shares = {name: acked_chunks((stack.logs / name).read_text()) for name in logs}
    print(f"\nclips per chunks replica ({len(chunks)} clips, {VIDEOS} videos): {shares}")
    assert sum(shares.values()) == len(chunks)
    assert sum(1 for count in shares.values() if count > 0) >= 3, shares
