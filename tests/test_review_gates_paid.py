"""Review gates and versions with the paid providers: real processes, with Replicate's images, clips
and music from the fake Replicate, so every paid call is counted where it is made. A storyboard gate
on a 4-beat ad pays for 4 images and no clip; drawing beat 2 again pays for exactly one more image,
whose pixels the beat's clips then start from; approval pays for each clip once, and what the rest
cost is the quote the gate showed, to the micro-dollar. Then a prompt edit of beat 2 of the finished
ad makes version 2, paying for exactly that beat's image and clips again, nothing else."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import numpy as np
import pytest
from fakes.replicate_api import FakeReplicate, data_uri_image
from fixtures.replicate import replicate_fake
from test_streams import read_events

from adgen_chunks.model_registry import REGISTRY
from adgen_cli.stack import DevStack
from adgen_embedded.ports import free_port
from adgen_refine.musicgen import MUSICGEN
from adgen_storyboard.replicate_images import FLUX_DEV

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("processes")]

HAILUO = REGISTRY["hailuo_fast"]
REDRAWN_SEED = 4242


def paid_env(fake: FakeReplicate) -> dict[str, str]:
    """Images, clips and music at the fake; polls in tenths of a second."""
    return {
        "ADGEN_REPLICATE_API_TOKEN": fake.token,
        "ADGEN_REPLICATE_BASE_URL": fake.url,
        "ADGEN_REPLICATE_POLL_INTERVAL_S": "0.1",
        "ADGEN_REPLICATE_LONGEST_POLL_S": "0.5",
        "ADGEN_REPLICATE_BACKOFF_S": "0.1",
        "ADGEN_MUSIC_PROVIDER": "replicate",
    }


def creates(fake: FakeReplicate, model: str, video_id: str) -> list[dict]:
    """The inputs of every create of `model` for this video, in order."""
    return [i for i in fake.created(model) if str(i.get("adgen_tag", "")).startswith(f"{video_id}:")]


def seed_colour(seed: int) -> np.ndarray:
    """The flat colour the fake's image models paint for a seed (fakes/replicate_api.png_output)."""
    return np.array([seed * 53 % 256, seed * 97 % 256, seed * 193 % 256], dtype=float)


async def ledger_micros(database_url: str, video_id: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT phase, sum(usd_micros)::bigint AS micros, count(*) AS calls FROM cost_ledger"
            " WHERE video_id = $1 GROUP BY phase",
            uuid.UUID(video_id),
        )
    finally:
        await conn.close()
    return {row["phase"]: int(row["micros"]) for row in rows} | {
        f"{row['phase']} calls": int(row["calls"]) for row in rows
    }


async def test_a_storyboard_gate_pays_for_images_only_and_the_rest_costs_its_quote(tmp_path: Path) -> None:
    with replicate_fake() as fake:
        stack = DevStack(tmp_path / "stack", extra_env=paid_env(fake))
        info = await asyncio.to_thread(stack.up, http_port=free_port())
        try:
            headers = {"Authorization": f"Bearer {info.api_key}"}
            async with httpx.AsyncClient(base_url=info.url, headers=headers, timeout=30) as client:
                await run_the_gated_video(client, fake, info.endpoints.database_url)
        finally:
            await asyncio.to_thread(stack.down)


async def run_the_gated_video(client: httpx.AsyncClient, fake: FakeReplicate, database_url: str) -> None:
    created = await client.post(
        "/v1/videos",
        json={
            "prompt": "20 second ad for a titanium watch, luxury feel",
            "duration_s": 20,
            "video_model": "hailuo_fast",
            "review": "storyboard",
            "seed": 6,  # the rules plan four 5 s beats for this prompt and seed
        },
    )
    assert created.status_code == 202, created.text
    video_id = created.json()["id"]
    events = f"/v1/videos/{video_id}/events"
    reached = await asyncio.wait_for(read_events(client, events, stop_on="review_reached"), 120)
    assert reached[-1].kind == "review_reached", [e.kind for e in reached]

    video = (await client.get(f"/v1/videos/{video_id}")).json()
    spec = video["spec"]
    assert len(spec["beats"]) == 4, [b["duration_s"] for b in spec["beats"]]
    slots = spec["chunk_plan"]["slots"]
    assert len(creates(fake, FLUX_DEV, video_id)) == 4, "one image per beat"
    assert creates(fake, HAILUO.replicate_model, video_id) == [], "no clip before the approval"
    paid = await ledger_micros(database_url, video_id)
    assert paid["PHASE_STORYBOARD calls"] == 4 and "PHASE_CHUNKS" not in paid, paid

    # Beat 2 drawn again, with a seed of its own: exactly one more image, still no clip.
    drawn = await client.post(f"/v1/videos/{video_id}/frames/2/regenerate", json={"seed": REDRAWN_SEED})
    assert drawn.status_code == 202, drawn.text
    redrawn = await asyncio.wait_for(
        read_events(client, events, stop_on="frame_ready", last_event_id=reached[-1].id), 60
    )
    assert redrawn[-1].data["event"]["frame_ready"]["beat_index"] == 2
    images = creates(fake, FLUX_DEV, video_id)
    assert len(images) == 5 and images[-1]["seed"] == REDRAWN_SEED, [i["adgen_tag"] for i in images]
    assert images[-1]["adgen_tag"].startswith(f"{video_id}:frame:2:take1")
    assert creates(fake, HAILUO.replicate_model, video_id) == []

    review = (await client.get(f"/v1/videos/{video_id}")).json()["review"]
    spent_at_gate = await ledger_micros(database_url, video_id)
    assert round(review["spent_usd"] * 1e6) == sum(v for k, v in spent_at_gate.items() if not k.endswith("calls"))
    clips = len(slots)
    quoted = {line["phase"]: round(line["usd"] * 1e6) for line in review["quote"]}
    assert quoted["chunks"] == clips * HAILUO.price_per_clip_micros, review
    assert "storyboard" not in quoted and "plan" not in quoted, "what is made is not quoted again"

    approved = await client.post(f"/v1/videos/{video_id}/approve")
    assert approved.status_code == 202, approved.text
    finished = await asyncio.wait_for(read_events(client, events, last_event_id=redrawn[-1].id), 240)
    assert finished[-1].kind == "video_completed", [e.kind for e in finished]

    clip_creates = creates(fake, HAILUO.replicate_model, video_id)
    per_chunk = Counter(str(i["adgen_tag"]).split(":")[2] for i in clip_creates)
    assert sorted(per_chunk) == sorted(str(s.get("index", 0)) for s in slots), per_chunk
    assert set(per_chunk.values()) == {1}, "each clip paid once"
    assert len(creates(fake, FLUX_DEV, video_id)) == 5, "no image made again after the approval"

    # Beat 2's first clip starts from the redrawn image (the fake paints each seed its own colour).
    first_of_beat_2 = next(s for s in slots if s.get("beat_index") == 2 and not s.get("index_in_beat"))
    start = next(i for i in clip_creates if str(i["adgen_tag"]).split(":")[2] == str(first_of_beat_2.get("index", 0)))
    pixels = data_uri_image(start[HAILUO.image_input]).reshape(-1, 3).astype(float)
    assert np.abs(np.median(pixels, axis=0) - seed_colour(REDRAWN_SEED)).max() <= 12, np.median(pixels, axis=0)

    # What followed the gate cost exactly what the gate quoted.
    after = await ledger_micros(database_url, video_id)
    rest = {
        phase.removeprefix("PHASE_").lower(): after[phase] - spent_at_gate.get(phase, 0)
        for phase in after
        if not phase.endswith("calls")
    }
    assert {k: v for k, v in rest.items() if v} == {k: v for k, v in quoted.items() if v}, (rest, quoted)

    await edit_beat_2_of_the_finished_ad(client, fake, database_url, video_id, slots)


async def edit_beat_2_of_the_finished_ad(
    client: httpx.AsyncClient, fake: FakeReplicate, database_url: str, video_id: str, slots: list[dict]
) -> None:
    images, clips = creates(fake, FLUX_DEV, video_id), creates(fake, HAILUO.replicate_model, video_id)
    music = creates(fake, MUSICGEN, video_id)
    revision = (await client.get(f"/v1/videos/{video_id}")).json()["plan_revision"]
    edit = {"plan_revision": revision, "beats": [{"index": 2, "prompt": "the watch on wet dark slate, rain light"}]}
    edited = await client.patch(f"/v1/videos/{video_id}/plan", json=edit)
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2 and edited.json()["status"] == "rendering", edited.json()
    video: dict = {}
    for _ in range(1200):
        video = (await client.get(f"/v1/videos/{video_id}")).json()
        if video["status"] in ("completed", "failed"):
            break
        await asyncio.sleep(0.2)
    assert video["status"] == "completed" and video["version"] == 2, video

    again = creates(fake, FLUX_DEV, video_id)[len(images) :]
    tags = [str(i["adgen_tag"]) for i in again]
    assert len(tags) == 1 and tags[0].startswith(f"{video_id}:frame:2:take2:"), ("exactly beat 2's image again", tags)
    assert "rain light" in again[0]["prompt"]
    beat_2 = sorted(str(s.get("index", 0)) for s in slots if s.get("beat_index") == 2)
    redone = creates(fake, HAILUO.replicate_model, video_id)[len(clips) :]
    assert sorted(str(i["adgen_tag"]).split(":")[2] for i in redone) == beat_2, "exactly beat 2's clips again"
    assert all(str(i["adgen_tag"]).split(":")[3] == "take1" for i in redone), [i["adgen_tag"] for i in redone]
    assert creates(fake, MUSICGEN, video_id) == music, "the music bed is reused"
    conn = await asyncpg.connect(database_url)
    try:
        paid = await conn.fetch(
            "SELECT phase, count(*) AS calls FROM cost_ledger WHERE video_id = $1 AND version = 2 GROUP BY phase",
            uuid.UUID(video_id),
        )
    finally:
        await conn.close()
    assert {r["phase"]: r["calls"] for r in paid} == {"PHASE_STORYBOARD": 1, "PHASE_CHUNKS": len(beat_2)}
