"""GET /v1/videos/{id}/frames: the storyboard as it is drawn, owner-checked, links that still work
after export has deleted the intermediates."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import cv2
import httpx
import numpy as np
import pytest
import seeding

from adgen_video import keys

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]


def png(colour: tuple[int, int, int]) -> bytes:
    image = np.full((36, 64, 3), colour, np.uint8)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


async def new_user(db: asyncpg.Pool) -> tuple[str, str]:
    """(API key, user id) of a fresh user."""
    user = await seeding.user(db)
    return user.api_key, user.user_id


async def forget(db: asyncpg.Pool, video_id: str) -> None:
    """Seeded videos never ran: they are removed so that nothing else finds them."""
    await db.execute("DELETE FROM videos WHERE video_id = $1", video_id)


async def test_pending_frames_have_no_link_and_done_frames_link_to_their_image(stack, db: asyncpg.Pool) -> None:
    key, user_id = await new_user(db)
    video_id = str(uuid.uuid4())
    drawn = png((30, 90, 200))
    image_key = keys.storyboard_key(user_id, video_id, 1)
    await stack.store().put_bytes(image_key, drawn, "image/png")
    await seeding.video(db, user_id=user_id, status="rendering", request={"prompt": "seeded"}, video_id=video_id)
    # Seeded out of order: the answer is in beat order.
    await seeding.frame(db, video_id=video_id, beat_index=2)
    await seeding.frame(db, video_id=video_id, beat_index=1, status="done", image_key=image_key)
    await seeding.frame(db, video_id=video_id, beat_index=0)

    try:
        async with stack.client(key) as client:
            response = await client.get(f"/v1/videos/{video_id}/frames")
    finally:
        await forget(db, video_id)
    assert response.status_code == 200, response.text
    frames = response.json()["frames"]
    assert [(f["beat_index"], f["status"]) for f in frames] == [(0, "pending"), (1, "done"), (2, "pending")]
    assert frames[0]["url"] is None and frames[2]["url"] is None
    async with httpx.AsyncClient() as plain:
        image = await plain.get(frames[1]["url"])
    assert image.status_code == 200
    assert image.content == drawn


async def test_another_users_video_is_not_found(stack, db: asyncpg.Pool) -> None:
    owner_key, owner_id = await new_user(db)
    stranger_key, _ = await new_user(db)
    video_id = await seeding.video(db, user_id=owner_id, status="planning")
    try:
        async with stack.client(owner_key) as owner:
            mine = await owner.get(f"/v1/videos/{video_id}/frames")
        async with stack.client(stranger_key) as stranger:
            theirs = await stranger.get(f"/v1/videos/{video_id}/frames")
            malformed = await stranger.get("/v1/videos/not-a-video/frames")
        async with httpx.AsyncClient(base_url=stack.url) as anonymous:
            unsigned = await anonymous.get(f"/v1/videos/{video_id}/frames")
    finally:
        await forget(db, video_id)
    assert mine.status_code == 200 and mine.json() == {"frames": []}, "not planned yet: no beats, no frames"
    for answer in (theirs, malformed):
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert "not found" in answer.json()["detail"]
    assert unsigned.status_code == 401


async def test_storyboard_outlives_the_clean_up_of_a_completed_video(stack, db: asyncpg.Pool) -> None:
    key, user_id = await new_user(db)
    async with stack.client(key) as client:
        created = await client.post(
            "/v1/videos", json={"prompt": "10 second ad for a ceramic coffee mug", "duration_s": 10, "seed": 11}
        )
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        video: dict = {}
        for _ in range(1200):  # at most ~4 minutes
            video = (await client.get(f"/v1/videos/{video_id}")).json()
            if video["status"] in ("completed", "failed", "cancelled"):
                break
            await asyncio.sleep(0.2)
        assert video["status"] == "completed", video
        frames = (await client.get(f"/v1/videos/{video_id}/frames")).json()["frames"]
    left = set(await stack.store().list_keys(keys.chunks_prefix(user_id, video_id)))
    assert not left & set(keys.refined_keys(user_id, video_id, [""])), "the refined video is deleted"
    assert [f["beat_index"] for f in frames] == list(range(len(video["spec"]["beats"])))
    assert {f["status"] for f in frames} == {"done"}
    async with httpx.AsyncClient() as plain:
        for frame in frames:
            image = await plain.get(frame["url"])
            assert image.status_code == 200
            assert image.content.startswith(b"\x89PNG"), "a storyboard image"
