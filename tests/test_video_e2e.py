"""End to end: a prompt in through the gateway, live progress out, an MP4 we decode and judge."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import asyncpg
import httpx
import numpy as np
import pytest
from media_checks import decode

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]


async def follow(client: httpx.AsyncClient, video_id: str, deadline_s: float = 240) -> list[dict]:
    """Reads the SSE stream until its terminal event; returns every event's data. If the video does
    not finish in time, fails with where it stood, not with a bare timeout."""
    seen: list[dict] = []

    async def read() -> None:
        async with client.stream("GET", f"/v1/videos/{video_id}/events", timeout=300) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line[5:]))
                    if seen[-1]["progress"].get("status") in ("VIDEO_STATUS_COMPLETED", "VIDEO_STATUS_FAILED"):
                        return

    try:
        await asyncio.wait_for(read(), deadline_s)
    except TimeoutError:
        status = (await client.get(f"/v1/videos/{video_id}")).json()
        last = [next(iter(k for k in e["event"] if k not in ("video_id", "occurred_at")), "?") for e in seen[-5:]]
        pytest.fail(f"not finished after {deadline_s} s: {status['status']} {status['progress']}; last events {last}")
    return seen


@pytest.fixture(scope="module")
async def finished(stack, tmp_path_factory):
    """One 15-second video rendered through the whole stack, shared by the checks below."""
    key = await stack.new_user("e2e-owner")
    async with stack.client(key) as client:
        created = await client.post(
            "/v1/videos",
            json={"prompt": "15 second ad for a matte-black titanium watch, luxury feel", "duration_s": 15, "seed": 7},
        )
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        events = await follow(client, video_id)
        video = (await client.get(f"/v1/videos/{video_id}")).json()
        link = await client.get(f"/v1/videos/{video_id}/download", follow_redirects=False)
        assert link.status_code == 302
        path = Path(tmp_path_factory.mktemp("e2e")) / "ad.mp4"
        async with httpx.AsyncClient() as plain:
            path.write_bytes((await plain.get(link.headers["location"])).content)
    return {"id": video_id, "events": events, "video": video, "path": path, "key": key}


async def test_video_completes_with_progress_that_only_moves_forward(finished) -> None:
    assert finished["video"]["status"] == "completed", finished["video"]
    percents = [e["progress"].get("percent", 0.0) for e in finished["events"]]
    assert percents == sorted(percents)
    assert percents[-1] == 100.0
    kinds = {
        next(iter(k for k in e["event"] if k not in ("video_id", "occurred_at")), None) for e in finished["events"]
    }
    assert {"video_planned", "frame_ready", "chunk_ready", "video_completed"} <= kinds


async def test_mp4_has_the_planned_length_size_rate_and_sound(finished) -> None:
    spec = finished["video"]["spec"]
    decoded = decode(finished["path"])
    fps = spec["output"]["fps"]
    assert (decoded.width, decoded.height) == (1280, 720)
    assert decoded.fps == fps
    assert len(decoded.pts_steps) == 1, "constant frame rate: every frame one step apart"
    assert decoded.frame_count == spec["duration_s"] * fps == spec["chunk_plan"]["total_frames"]
    assert abs(decoded.duration_s - 15.0) <= 1 / fps
    assert decoded.audio_streams == 1
    assert abs(decoded.audio_duration_s - 15.0) <= 0.1
    assert decoded.audio_rms > 0.01, "the music bed is audible"


async def test_each_beat_looks_different(finished) -> None:
    spec = finished["video"]["spec"]
    decoded = decode(finished["path"])
    # A sample from the middle of each beat (one sampled frame per second).
    middles = [decoded.frames[b["start_s"] + b["duration_s"] // 2] for b in spec["beats"]]
    for a, b in itertools.pairwise(middles):
        difference = np.abs(a.astype(int) - b.astype(int)).mean()
        assert difference > 8, f"consecutive beats look alike (mean difference {difference:.1f})"


async def test_cost_is_one_ledger_row_per_unit(stack, finished) -> None:
    spec = finished["video"]["spec"]
    conn = await asyncpg.connect(stack.endpoints.database_url)
    try:
        rows = await conn.fetch("SELECT idempotency_key FROM cost_ledger WHERE video_id = $1", finished["id"])
        attempts = await conn.fetch("SELECT attempts FROM chunks WHERE video_id = $1", finished["id"])
    finally:
        await conn.close()
    lines = [b for b in spec["beats"] if b["voiceover"]]
    assert lines, "the ad has a voiceover by default"
    units = len(spec["beats"]) + len(spec["chunk_plan"]["slots"]) + len(lines)
    assert len(rows) == units
    assert {r["attempts"] for r in attempts} == {1}


async def test_one_trace_spans_every_phase(spans, finished) -> None:
    posts = [s for s in spans.get_finished_spans() if s.name == "POST /v1/videos"]
    assert posts
    traces: dict[int, set[str]] = {}
    for span in spans.get_finished_spans():
        traces.setdefault(span.context.trace_id, set()).add(span.name)
    wanted = {f"process adgen.work.{unit}" for unit in ("plan", "frame", "voice", "chunk", "refine", "export")}
    assert any(
        "POST /v1/videos" in names and wanted <= names and "/adgen.chunks.v1.ChunksService/PlanChunks" in names
        for names in traces.values()
    ), "no single trace goes gateway → planner → storyboard and voice → chunks → refine → export"


async def test_the_refined_video_is_gone_the_clips_stay_and_the_poster_exists(stack, finished) -> None:
    from adgen_video import keys

    store = stack.store()
    video_id = finished["id"]
    user_id = await _user_id(stack, video_id)
    left = set(await store.list_keys(keys.chunks_prefix(user_id, video_id)))
    assert not left & set(keys.refined_keys(user_id, video_id, [""])), "the refined video and its sidecar are gone"
    slots = finished["video"]["spec"]["chunk_plan"]["slots"]
    assert {keys.chunk_key(user_id, video_id, s.get("index", 0)) for s in slots} <= left, "the clips stay for versions"
    assert await store.exists(keys.poster_key(user_id, finished["id"]))
    assert await store.exists(keys.final_key(user_id, finished["id"]))


async def _user_id(stack, video_id: str) -> str:
    conn = await asyncpg.connect(stack.endpoints.database_url)
    try:
        return str(await conn.fetchval("SELECT user_id FROM videos WHERE video_id = $1", video_id))
    finally:
        await conn.close()
