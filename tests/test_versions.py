"""Versions on the session stack (studio providers): an edit of a completed ad's on-screen words makes
version 2 from the clips it has. Nothing before refine is made or paid for again, the picture
changes only around the edited beat, and both versions stay downloadable, each with its own cost.

Judged as a viewer would: both delivered MP4s are decoded and compared frame by frame. Away from the
edited beat (its transitions, ±0.6 s, included) every frame of version 2 must match version 1 at
PSNR ≥ 35 dB; inside it the new headline must change the picture. A voiceover edit then makes
version 3, which speaks that one line again (a take of its own) and makes no picture again.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import av
import grpc
import httpx
import numpy as np
import pytest
from test_video_e2e import follow
from test_video_grpc import auth, code_of

from adgen.video.v1 import video_service_pb2 as v
from adgen.video.v1 import video_service_pb2_grpc

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

EDITED = 1
TRANSITION_S = 0.6
SAME_DB = 35.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def frames_of(path: Path) -> tuple[float, list[np.ndarray]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate is not None
        return float(stream.average_rate), [f.to_ndarray(format="rgb24") for f in container.decode(stream)]


async def fetch(client: httpx.AsyncClient, url: str, path: Path) -> Path:
    link = await client.get(url, follow_redirects=False)
    assert link.status_code == 302, link.text
    async with httpx.AsyncClient() as plain:
        await asyncio.to_thread(path.write_bytes, (await plain.get(link.headers["location"])).content)
    return path


async def made_units(db: asyncpg.Pool, video_id: str) -> list[tuple]:
    """Every frame, chunk and line row as it stands: what was made, when, in how many tries."""
    vid = uuid.UUID(video_id)
    rows = []
    for table, index in (("frames", "beat_index"), ("chunks", "chunk_index"), ("voice_lines", "beat_index")):
        for r in await db.fetch(
            f"SELECT {index} AS i, status, attempts, updated_at FROM {table} WHERE video_id = $1", vid
        ):
            rows.append((table, r["i"], r["status"], r["attempts"], r["updated_at"]))
    return sorted(rows)


async def ledger(db: asyncpg.Pool, video_id: str) -> list[tuple[int, str]]:
    rows = await db.fetch(
        "SELECT version, phase FROM cost_ledger WHERE video_id = $1 ORDER BY version, phase", uuid.UUID(video_id)
    )
    return [(r["version"], r["phase"]) for r in rows]


async def test_a_headline_edit_of_a_finished_ad_makes_version_2_from_its_clips(stack, db, tmp_path: Path) -> None:
    key = await stack.new_user(f"versions-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        body = {"prompt": "20 second ad for Morning Roast espresso, warm and inviting", "duration_s": 20, "seed": 4}
        created = await client.post("/v1/videos", json=body)
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        await follow(client, video_id)
        first = (await client.get(f"/v1/videos/{video_id}")).json()
        assert first["status"] == "completed" and first["version"] == 1, first
        beat = first["spec"]["beats"][EDITED]
        made, paid = await made_units(db, video_id), await ledger(db, video_id)
        plan = f"/v1/videos/{video_id}/plan"

        # What a finished ad cannot change, and what no plan may carry: refused, naming the field.
        bad = {"plan_revision": 1, "beats": [{"index": EDITED, "shot_type": "sideways"}]}
        moved = await client.patch(plan, json=bad)
        assert moved.status_code == 422 and moved.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in moved.json()["errors"]] == ["beats.0.shot_type"], moved.text
        reordered = await client.patch(plan, json={"plan_revision": 1, "order": [0, 2, 1, 3]})
        assert reordered.status_code == 422 and reordered.json()["errors"][0]["field"] == "order", reordered.text
        assert (await client.get(f"/v1/videos/{video_id}")).json()["version"] == 1, "refused edits change nothing"

        # Two edits at once: one makes version 2, the other is told what happened.
        edit = {"plan_revision": 1, "beats": [{"index": EDITED, "headline": "Slow mornings, done right"}]}
        answers = await asyncio.gather(client.patch(plan, json=edit), client.patch(plan, json=edit))
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        won = next(a for a in answers if a.status_code == 200).json()
        assert won["version"] == 2 and won["plan_revision"] == 2 and won["status"] != "completed", won
        lost = next(a for a in answers if a.status_code == 409).json()
        assert "revision" in lost["detail"] or "version 2 is being made" in lost["detail"], lost
        # The first version stays downloadable while the second is made.
        assert (
            await client.get(f"/v1/videos/{video_id}/download?version=1", follow_redirects=False)
        ).status_code == 302

        # A new watcher follows version 2 from its start, never shown version 1's ending.
        events = await follow(client, video_id)
        kinds = [next(k for k in e["event"] if k not in ("video_id", "occurred_at")) for e in events]
        assert kinds[0] == "video_versioned" and kinds[-1] == "video_completed", kinds
        assert kinds.count("video_completed") == 1, kinds
        second = (await client.get(f"/v1/videos/{video_id}")).json()
        assert second["status"] == "completed" and second["version"] == 2, second
        assert second["spec"]["beats"][EDITED]["headline"] == "Slow mornings, done right"
        assert second["progress"]["percent"] == 100

        # Nothing before refine was made or paid for again.
        assert await made_units(db, video_id) == made, "no frame, clip or line was made again"
        again = await ledger(db, video_id)
        assert again[: len(paid)] == paid and all(version == 1 for version, _ in paid)
        assert {phase for version, phase in again if version == 2} <= {"PHASE_REFINE", "PHASE_EXPORT"}

        versions = (await client.get(f"/v1/videos/{video_id}/versions")).json()["versions"]
        assert [(x["version"], x["plan_revision"]) for x in versions] == [(1, 1), (2, 2)]
        assert versions[0]["cost"]["total_usd"] == first["cost"]["total_usd"], "each version its own cost"
        unknown = await client.get(f"/v1/videos/{video_id}/download?version=3", follow_redirects=False)
        assert unknown.status_code == 404 and "versions 1, 2" in unknown.json()["detail"], unknown.text
        zero = await client.get(f"/v1/videos/{video_id}/download?version=0", follow_redirects=False)
        assert zero.status_code == 422 and zero.json()["errors"][0]["field"] == "version", zero.text

        old = await fetch(client, f"/v1/videos/{video_id}/download?version=1", tmp_path / "v1.mp4")
        new = await fetch(client, f"/v1/videos/{video_id}/download", tmp_path / "v2.mp4")

    async with grpc.aio.insecure_channel(stack.address("gateway")) as channel:
        stub = video_service_pb2_grpc.VideoServiceStub(channel)
        listed = await stub.ListVersions(v.ListVersionsRequest(video_id=video_id), metadata=auth(key))
        assert [x.version for x in listed.versions] == [1, 2]
        stranger = await stack.new_user(f"versions-other-{uuid.uuid4().hex[:8]}")
        code, _ = await code_of(stub.ListVersions(v.ListVersionsRequest(video_id=video_id), metadata=auth(stranger)))
        assert code == grpc.StatusCode.NOT_FOUND

    fps, before = frames_of(old)
    _, after = frames_of(new)
    assert len(before) == len(after) > 0
    start, end = beat["start_s"] - TRANSITION_S, beat["start_s"] + beat["duration_s"] + TRANSITION_S
    away = [n for n in range(len(before)) if not start <= n / fps < end]
    inside = [n for n in range(len(before)) if beat["start_s"] + 0.5 <= n / fps < beat["start_s"] + beat["duration_s"]]
    worst = min(psnr(before[n], after[n]) for n in away)
    assert worst >= SAME_DB, f"a frame away from the edited beat changed: {worst:.1f} dB"
    changed = sum(psnr(before[n], after[n]) < SAME_DB for n in inside)
    assert changed >= len(inside) // 2, f"the new headline changed only {changed} of {len(inside)} frames of its beat"

    # Version 3: a new line for the edited beat is spoken again, alone; no picture is made again.
    async with stack.client(key) as client:
        line = {"plan_revision": 2, "beats": [{"index": EDITED, "voiceover": "Slow mornings start here."}]}
        third = await client.patch(f"/v1/videos/{video_id}/plan", json=line)
        assert third.status_code == 200 and third.json()["version"] == 3, third.text
        await follow(client, video_id)
        assert (await client.get(f"/v1/videos/{video_id}")).json()["status"] == "completed"
    vid = uuid.UUID(video_id)
    takes = {
        r["beat_index"]: r["takes"]
        for r in await db.fetch("SELECT beat_index, takes FROM voice_lines WHERE video_id = $1", vid)
    }
    assert takes[EDITED] == 1 and {b: t for b, t in takes.items() if b != EDITED} == dict.fromkeys(
        set(takes) - {EDITED}, 0
    )
    audio = await db.fetchval("SELECT audio_key FROM voice_lines WHERE video_id = $1 AND beat_index = $2", vid, EDITED)
    assert audio.endswith(f"voice/beat_{EDITED:02d}_take1.wav"), "version 3 mixes the line spoken again"
    spoken = await db.fetch("SELECT idempotency_key, phase FROM cost_ledger WHERE video_id = $1 AND version = 3", vid)
    voiced = [r["idempotency_key"] for r in spoken if r["phase"] == "PHASE_VOICE"]
    assert voiced and all(k.startswith(f"{video_id}:voice:{EDITED}:take1") for k in voiced), voiced
    assert {r["phase"] for r in spoken} <= {"PHASE_VOICE", "PHASE_REFINE", "PHASE_EXPORT"}
    pictures = [u for u in await made_units(db, video_id) if u[0] != "voice_lines"]
    assert pictures == [u for u in made if u[0] != "voice_lines"], "no frame or clip was made again"
