"""Work that NATS lost (acknowledged, then gone, as after a crash that wiped its data) is found from
Postgres and enqueued again: the video completes, each unit ran once, nothing is charged twice."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import httpx
import nats
import pytest
from media_checks import decode
from test_streams import read_events

from adgen_kernel.db import create_pool
from adgen_kernel.jetstream import WORK_STREAM, queued_work, work_subject
from adgen_planner.reconciler import reconcile_once

pytestmark = pytest.mark.xdist_group("stack")


async def lose_all_work(js, db: asyncpg.Connection, video_id: str) -> None:
    """Purges the video's work until none is queued and no unit is running: the handlers that were
    running finish and publish their successors, which are purged in turn."""
    vid = uuid.UUID(video_id)
    for _ in range(240):
        await js.purge_stream(WORK_STREAM, subject=work_subject("*", video_id))
        await asyncio.sleep(0.5)
        running = await db.fetchval(
            "SELECT (SELECT count(*) FROM frames WHERE video_id = $1 AND status = 'pending' AND attempts > 0)"
            " + (SELECT count(*) FROM chunks WHERE video_id = $1 AND status = 'pending' AND attempts > 0)"
            " + (SELECT count(*) FROM voice_lines WHERE video_id = $1 AND status = 'pending' AND attempts > 0)",
            vid,
        )
        if not running and not await queued_work(js, video_id):
            return
    pytest.fail("the video's work never stopped")


async def test_lost_work_is_enqueued_again_from_postgres(stack, tmp_path: Path) -> None:
    key = await stack.new_user(f"reconcile-{uuid.uuid4().hex[:8]}")
    db = await asyncpg.connect(stack.endpoints.database_url)
    pool = await create_pool(stack.endpoints.database_url, max_size=2)  # with the service's jsonb codec
    nc = await nats.connect(stack.endpoints.nats_url)
    js = nc.jetstream()
    try:
        async with stack.client(key) as client:
            created = await client.post("/v1/videos", json={"prompt": "20 second ad for a desk lamp", "duration_s": 20})
            assert created.status_code == 202, created.text
            video_id = created.json()["id"]
            path = f"/v1/videos/{video_id}/events"
            await asyncio.wait_for(read_events(client, path, stop_on="video_planned"), 90)
            await lose_all_work(js, db, video_id)
            stuck = await db.fetchval("SELECT status FROM videos WHERE video_id = $1", uuid.UUID(video_id))
            pending = await db.fetchval(
                "SELECT count(*) FROM chunks WHERE video_id = $1 AND status = 'pending'", uuid.UUID(video_id)
            )
            assert stuck == "rendering" and pending > 0, (stuck, pending)

            # A video that changed recently is left alone; one unchanged past the threshold is requeued.
            assert video_id not in await reconcile_once(pool, js, stale_after_s=3600)
            requeued = await reconcile_once(pool, js, stale_after_s=0)
            assert requeued[video_id] and {u.kind for u in requeued[video_id]} <= {"frame", "voice", "chunk"}, requeued

            events = await asyncio.wait_for(read_events(client, path), 180)
            link = await client.get(f"/v1/videos/{video_id}/download", follow_redirects=False)
            async with httpx.AsyncClient() as plain:
                (tmp_path / "reconciled.mp4").write_bytes((await plain.get(link.headers["location"])).content)

        assert events[-1].kind == "video_completed", [e.kind for e in events]
        attempts = await db.fetch("SELECT attempts FROM chunks WHERE video_id = $1", uuid.UUID(video_id))
        assert {r["attempts"] for r in attempts} == {1}, "every chunk rendered once, the lost ones included"
        units = await db.fetchval(
            "SELECT (SELECT count(*) FROM frames WHERE video_id = $1)"
            " + (SELECT count(*) FROM chunks WHERE video_id = $1)"
            " + (SELECT count(*) FROM voice_lines WHERE video_id = $1)",
            uuid.UUID(video_id),
        )
        ledger = await db.fetchval("SELECT count(*) FROM cost_ledger WHERE video_id = $1", uuid.UUID(video_id))
        assert ledger == units, "one ledger line per unit: nothing charged twice"
        assert decode(tmp_path / "reconciled.mp4").duration_s == pytest.approx(20.0, abs=1 / 24)
    finally:
        await nc.close()
        await pool.close()
        await db.close()
