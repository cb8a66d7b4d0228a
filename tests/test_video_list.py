"""The list of videos and one video read alike: GET /v1/videos shows each video's progress, phase and
counts exactly as GET /v1/videos/{id} does, from the moment it finishes to long after its live
snapshot has expired."""

from __future__ import annotations

import asyncio
import uuid

import nats
import pytest

from adgen_kernel.jetstream import PROGRESS_BUCKET

pytestmark = pytest.mark.xdist_group("stack")

SHOWN = ("status", "phase", "percent", "message", "beats_total", "frames_done", "chunks_total", "chunks_done")


def shown(progress: dict) -> dict:
    return {name: progress.get(name) for name in SHOWN}


async def test_the_list_shows_what_the_video_shows(stack) -> None:
    key = await stack.new_user(f"list-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        created = await client.post("/v1/videos", json={"prompt": "ad for a ceramic mug", "duration_s": 10, "seed": 1})
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        # The page lists the videos the moment one finishes, while the projector may not yet have
        # folded the last events in: that read must neither show zeros nor make them stick.
        for _ in range(2400):
            listed = (await client.get("/v1/videos")).json()["videos"][0]
            if listed["status"] in ("completed", "failed"):
                break
            await asyncio.sleep(0.05)
        assert listed["status"] == "completed", listed
        video = (await client.get(f"/v1/videos/{video_id}")).json()
        spec = video["spec"]
        real = {
            "status": "VIDEO_STATUS_COMPLETED",
            "phase": "PHASE_EXPORT",
            "percent": 100.0,
            "message": "done",
            "beats_total": len(spec["beats"]),
            "frames_done": len(spec["beats"]),
            "chunks_total": len(spec["chunk_plan"]["slots"]),
            "chunks_done": len(spec["chunk_plan"]["slots"]),
        }
        assert shown(listed["progress"]) == shown(video["progress"]) == real
        await asyncio.sleep(1)  # the projector catches up: still the same figures
        listed = (await client.get("/v1/videos")).json()["videos"][0]
        video = (await client.get(f"/v1/videos/{video_id}")).json()
        assert shown(listed["progress"]) == shown(video["progress"]) == real
        assert int(listed["progress"]["cost_micros"]) == round(video["cost"]["total_usd"] * 1e6)

        # An hour later the live snapshot has expired: Postgres still has the figures.
        nc = await nats.connect(stack.endpoints.nats_url)
        try:
            await (await nc.jetstream().key_value(PROGRESS_BUCKET)).purge(video_id)
        finally:
            await nc.close()
        listed = (await client.get("/v1/videos")).json()["videos"][0]
        video = (await client.get(f"/v1/videos/{video_id}")).json()
        assert shown(listed["progress"]) == shown(video["progress"]) == real
