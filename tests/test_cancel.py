"""Cancelling a video: it stops, says so on every stream, frees the user's slot, and no worker
schedules anything more for it."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from test_streams import read_events

pytestmark = pytest.mark.xdist_group("stack")


async def chunk_rows(db: asyncpg.Connection, video_id: str) -> list[tuple]:
    rows = await db.fetch(
        "SELECT chunk_index, status, attempts, updated_at FROM chunks WHERE video_id = $1 ORDER BY chunk_index",
        uuid.UUID(video_id),
    )
    return [tuple(r) for r in rows]


async def settled_rows(db: asyncpg.Connection, video_id: str) -> list[tuple]:
    """The chunk rows once the units already running when the cancel landed have finished: no row
    is started (attempts > 0) and still pending."""
    for _ in range(120):
        rows = await chunk_rows(db, video_id)
        if not any(status == "pending" and attempts for _, status, attempts, _ in rows):
            return rows
        await asyncio.sleep(0.5)
    pytest.fail(f"chunks of {video_id} still rendering a minute after the cancel")


async def test_cancel_mid_render_stops_every_worker(stack) -> None:
    key = await stack.new_user(f"cancel-{uuid.uuid4().hex[:8]}")
    db = await asyncpg.connect(stack.endpoints.database_url)
    try:
        async with stack.client(key) as client:
            created = await client.post("/v1/videos", json={"prompt": "30 second ad for a road bike", "duration_s": 30})
            assert created.status_code == 202, created.text
            video_id = created.json()["id"]
            path = f"/v1/videos/{video_id}/events"
            watching = asyncio.create_task(read_events(client, path))
            # Cancel once the first chunk is animated: the video is mid-render.
            before = await asyncio.wait_for(read_events(client, path, stop_on="chunk_ready"), 90)
            assert before[-1].kind == "chunk_ready", [e.kind for e in before]
            cancelled = await client.post(f"/v1/videos/{video_id}/cancel")
            events = await asyncio.wait_for(watching, 60)
            video = (await client.get(f"/v1/videos/{video_id}")).json()
            again = await client.post(f"/v1/videos/{video_id}/cancel")
            unknown = await client.post(f"/v1/videos/{uuid.uuid4()}/cancel")
            # A cancelled video no longer counts against the one-active-video limit.
            next_one = await client.post("/v1/videos", json={"prompt": "10 second ad for a bell", "duration_s": 10})
            if next_one.status_code == 202:
                await client.post(f"/v1/videos/{next_one.json()['id']}/cancel")

        assert cancelled.status_code == 202, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert events[-1].kind == "video_cancelled"
        assert events[-1].data["event"]["video_cancelled"]["previous_status"] == "VIDEO_STATUS_RENDERING"
        assert events[-1].data["progress"]["status"] == "VIDEO_STATUS_CANCELLED"
        assert video["status"] == "cancelled" and video["progress"]["status"] == "VIDEO_STATUS_CANCELLED"
        assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
        assert unknown.status_code == 404
        assert next_one.status_code == 202, next_one.text

        settled = await settled_rows(db, video_id)
        done = sum(1 for row in settled if row[1] == "done")
        assert 1 <= done < len(settled), f"{done} of {len(settled)} chunks rendered: the cancel stopped the rest"
        for _ in range(4):
            await asyncio.sleep(1)
            assert await chunk_rows(db, video_id) == settled, "a chunk changed after the cancel settled"
        assert await db.fetchval("SELECT status FROM videos WHERE video_id = $1", uuid.UUID(video_id)) == "cancelled"
    finally:
        await db.close()
