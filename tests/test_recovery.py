"""Real processes: a chunks worker killed with SIGKILL mid-clip; the video still completes from the
redelivered message and nothing that had finished is done again."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from media_checks import decode

from adgen_cli.stack import DevStack
from adgen_embedded.ports import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("processes")]


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory):
    stack = DevStack(
        tmp_path_factory.mktemp("proc-stack"),
        extra_env={"ADGEN_ACK_WAIT_S": "3", "ADGEN_DRAIN_GRACE_S": "3", "ADGEN_WORKER_CONCURRENCY": "1"},
    )
    info = stack.up(http_port=free_port())
    try:
        yield stack, info
    finally:
        stack.down()


async def _wait_for_chunk_in_flight(database_url: str, video_id: str, timeout: float = 120) -> set[int]:
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = await conn.fetch(
                "SELECT chunk_index FROM chunks WHERE video_id = $1 AND status = 'pending' AND attempts >= 1", video_id
            )
            if rows:
                return {r["chunk_index"] for r in rows}
            video = await conn.fetchrow("SELECT status, error FROM videos WHERE video_id = $1", video_id)
            assert video is not None
            if video["status"] in ("completed", "failed"):
                raise AssertionError(f"the video ended ({video['status']}: {video['error']}) before a chunk was seen")
            await asyncio.sleep(0.02)
        video = await conn.fetchrow("SELECT status, error FROM videos WHERE video_id = $1", video_id)
        assert video is not None
    finally:
        await conn.close()
    raise AssertionError(f"no chunk started rendering; the video is {video['status']} ({video['error']})")


async def test_killing_a_chunks_worker_mid_clip_loses_and_repeats_nothing(processes, tmp_path: Path) -> None:
    stack, info = processes
    headers = {"Authorization": f"Bearer {info.api_key}"}
    async with httpx.AsyncClient(base_url=info.url, headers=headers, timeout=30) as client:
        created = await client.post(
            "/v1/videos", json={"prompt": "15 second ad for a citrus energy drink", "duration_s": 15}
        )
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]

        in_flight = await _wait_for_chunk_in_flight(info.endpoints.database_url, video_id)
        victim = info.services["chunks"].pid
        await asyncio.to_thread(stack.kill_service, "chunks", signal.SIGKILL)
        assert not psutil.pid_exists(victim) or psutil.Process(victim).status() == psutil.STATUS_ZOMBIE
        await asyncio.to_thread(stack.start_service, "chunks")
        await asyncio.to_thread(stack.wait_ready, ("chunks",))

        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            video = (await client.get(f"/v1/videos/{video_id}")).json()
            if video["status"] in ("completed", "failed"):
                break
            await asyncio.sleep(0.5)
        assert video["status"] == "completed", video
        link = await client.get(f"/v1/videos/{video_id}/download", follow_redirects=False)
        path = tmp_path / "recovered.mp4"
        async with httpx.AsyncClient() as plain:
            path.write_bytes((await plain.get(link.headers["location"])).content)

    decoded = decode(path)
    assert decoded.frame_count == video["spec"]["chunk_plan"]["total_frames"]

    conn = await asyncpg.connect(info.endpoints.database_url)
    try:
        attempts = {
            r["chunk_index"]: r["attempts"]
            for r in await conn.fetch("SELECT chunk_index, attempts FROM chunks WHERE video_id = $1", video_id)
        }
        frames = [r["attempts"] for r in await conn.fetch("SELECT attempts FROM frames WHERE video_id = $1", video_id)]
        lines = [
            r["attempts"] for r in await conn.fetch("SELECT attempts FROM voice_lines WHERE video_id = $1", video_id)
        ]
        ledger = await conn.fetch("SELECT idempotency_key FROM cost_ledger WHERE video_id = $1", video_id)
    finally:
        await conn.close()
    assert all(a == 1 for a in frames), "no storyboard image was drawn twice"
    assert {i for i, a in attempts.items() if a == 2} == in_flight, attempts
    assert all(a == 1 for i, a in attempts.items() if i not in in_flight), attempts
    keys = [r["idempotency_key"] for r in ledger]
    assert lines and all(a == 1 for a in lines), "no voiceover line was spoken twice"
    assert len(keys) == len(set(keys)) == len(attempts) + len(frames) + len(lines), "one charge per unit, none twice"


def test_up_twice_is_harmless_and_writes_the_dev_env(processes) -> None:
    stack, info = processes
    again = stack.up()
    assert again.url == info.url and again.api_key == info.api_key
    assert {n: s.pid for n, s in again.services.items()} == {n: s.pid for n, s in stack.running().services.items()}
    assert all(psutil.pid_exists(s.pid) for s in again.services.values())
    env = dict(line.split("=", 1) for line in (stack.state_dir / "dev.env").read_text().splitlines())
    assert env["ADGEN_URL"] == info.url and env["ADGEN_API_KEY"] == info.api_key
    assert {"ADGEN_NATS_URL", "ADGEN_DATABASE_URL", "ADGEN_S3_ENDPOINT"} <= env.keys()
