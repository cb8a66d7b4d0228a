"""Retrying a video: a new run that renders only the units with no stored output, over REST and gRPC,
and the newest-first list of a user's videos."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import grpc
import httpx
import pytest
from media_checks import decode
from test_cancel import settled_rows
from test_streams import read_events
from test_video_grpc import auth, code_of

from adgen.common.v1 import common_pb2 as c
from adgen.video.v1 import video_service_pb2 as v
from adgen.video.v1 import video_service_pb2_grpc

pytestmark = pytest.mark.xdist_group("stack")


async def unit_attempts(db: asyncpg.Connection, video_id: str) -> dict[str, int]:
    frames = await db.fetch("SELECT beat_index, attempts FROM frames WHERE video_id = $1", uuid.UUID(video_id))
    chunks = await db.fetch("SELECT chunk_index, attempts FROM chunks WHERE video_id = $1", uuid.UUID(video_id))
    return {f"frame {r[0]}": r[1] for r in frames} | {f"chunk {r[0]}": r[1] for r in chunks}


async def test_a_retried_video_renders_only_what_is_missing(stack, tmp_path: Path) -> None:
    key = await stack.new_user(f"retry-{uuid.uuid4().hex[:8]}")
    stranger = await stack.new_user(f"retry-stranger-{uuid.uuid4().hex[:8]}")
    db = await asyncpg.connect(stack.endpoints.database_url)
    try:
        async with stack.client(key) as client, stack.client(stranger) as other:
            created = await client.post("/v1/videos", json={"prompt": "20 second ad for a road bike", "duration_s": 20})
            assert created.status_code == 202, created.text
            video_id = created.json()["id"]
            path = f"/v1/videos/{video_id}/events"
            running = await client.post(f"/v1/videos/{video_id}/retry")
            assert running.status_code == 409 and "only a failed or cancelled video" in running.json()["detail"]

            await asyncio.wait_for(read_events(client, path, stop_on="chunk_ready"), 90)
            assert (await client.post(f"/v1/videos/{video_id}/cancel")).status_code == 202
            settled = await settled_rows(db, video_id)
            done_before = {i for i, status, _, _ in settled if status == "done"}
            assert 1 <= len(done_before) < len(settled)

            assert (await other.post(f"/v1/videos/{video_id}/retry")).status_code == 404
            assert (await client.post(f"/v1/videos/{uuid.uuid4()}/retry")).status_code == 404
            retried = await client.post(f"/v1/videos/{video_id}/retry")
            assert retried.status_code == 202, retried.text
            assert retried.json()["run"] == 2 and retried.json()["status"] == "rendering"

            # A watcher from the start sees the first run end, the retry, and the second run finish.
            events = await asyncio.wait_for(read_events(client, path, terminal=("video_completed",)), 120)
            kinds = [e.kind for e in events]
            assert kinds[-1] == "video_completed", kinds
            assert kinds.index("video_cancelled") < kinds.index("video_retried") < len(kinds) - 1
            retry_event = events[kinds.index("video_retried")].data["event"]["video_retried"]
            assert retry_event["run"] == 2
            assert retry_event["units"], "the retry names the units it enqueued"
            assert not any(u in retry_event["units"] for u in (f"chunk {i}" for i in done_before))

            video = (await client.get(f"/v1/videos/{video_id}")).json()
            again = await client.post(f"/v1/videos/{video_id}/retry")
            link = await client.get(f"/v1/videos/{video_id}/download", follow_redirects=False)
            async with httpx.AsyncClient() as plain:
                (tmp_path / "retried.mp4").write_bytes((await plain.get(link.headers["location"])).content)

        assert video["status"] == "completed" and video["run"] == 2, video
        assert video["progress"]["status"] == "VIDEO_STATUS_COMPLETED" and video["progress"]["percent"] == 100
        assert again.status_code == 409 and "completed" in again.json()["detail"]
        # Every frame and chunk was rendered once over both runs: the retry reused what the first made.
        attempts = await unit_attempts(db, video_id)
        assert attempts and set(attempts.values()) == {1}, attempts
        assert decode(tmp_path / "retried.mp4").duration_s == pytest.approx(20.0, abs=1 / 24)
    finally:
        await db.close()


async def test_videos_are_listed_newest_first_in_pages(stack) -> None:
    key = await stack.new_user(f"list-{uuid.uuid4().hex[:8]}")
    stranger = await stack.new_user(f"list-stranger-{uuid.uuid4().hex[:8]}")
    made: list[str] = []
    async with stack.client(key) as client, stack.client(stranger) as other:
        for n in range(3):
            created = await client.post("/v1/videos", json={"prompt": f"10 second ad for bell {n}", "duration_s": 10})
            assert created.status_code == 202, created.text
            made.append(created.json()["id"])
            assert (await client.post(f"/v1/videos/{made[-1]}/cancel")).status_code == 202
        first = (await client.get("/v1/videos", params={"page_size": 2})).json()
        second = (
            await client.get("/v1/videos", params={"page_size": 2, "page_token": first["next_page_token"]})
        ).json()
        theirs = (await other.get("/v1/videos")).json()
        bad_token = await client.get("/v1/videos", params={"page_token": "not-a-token"})
        bad_size = await client.get("/v1/videos", params={"page_size": 0})

    assert [x["id"] for x in first["videos"]] == made[:0:-1]
    assert [x["id"] for x in second["videos"]] == made[:1] and second["next_page_token"] is None
    assert first["videos"][0]["status"] == "cancelled" and first["videos"][0]["run"] == 1
    assert theirs == {"videos": [], "next_page_token": None}
    assert bad_token.status_code == 400 and bad_token.headers["content-type"] == "application/problem+json"
    assert "page_token" in bad_token.text
    assert 400 <= bad_size.status_code < 500 and "page_size" in bad_size.text


async def test_grpc_lists_cancels_and_retries(stack) -> None:
    key = await stack.new_user(f"grpc-retry-{uuid.uuid4().hex[:8]}")
    stranger = await stack.new_user(f"grpc-retry-stranger-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        created = await client.post("/v1/videos", json={"prompt": "10 second ad for a kettle", "duration_s": 10})
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
    async with grpc.aio.insecure_channel(stack.address("gateway")) as channel:
        stub = video_service_pb2_grpc.VideoServiceStub(channel)
        code, _ = await code_of(stub.RetryVideo(v.RetryVideoRequest(video_id=video_id), metadata=auth(key)))
        assert code == grpc.StatusCode.FAILED_PRECONDITION
        code, _ = await code_of(stub.CancelVideo(v.CancelVideoRequest(video_id=video_id), metadata=auth(stranger)))
        assert code == grpc.StatusCode.NOT_FOUND
        code, details = await code_of(stub.CancelVideo(v.CancelVideoRequest(video_id="nope"), metadata=auth(key)))
        assert (code, details.split(":")[0]) == (grpc.StatusCode.INVALID_ARGUMENT, "video_id")

        cancelled = await stub.CancelVideo(v.CancelVideoRequest(video_id=video_id), metadata=auth(key))
        code, details = await code_of(stub.CancelVideo(v.CancelVideoRequest(video_id=video_id), metadata=auth(key)))
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "already cancelled" in details
        retried = await stub.RetryVideo(v.RetryVideoRequest(video_id=video_id), metadata=auth(key))
        listed = await stub.ListVideos(v.ListVideosRequest(page_size=1), metadata=auth(key))
        code, details = await code_of(stub.ListVideos(v.ListVideosRequest(page_size=101), metadata=auth(key)))
        watched = [
            item.event.WhichOneof("kind")
            async for item in stub.WatchVideo(v.WatchVideoRequest(video_id=video_id), metadata=auth(key), timeout=120)
        ]

    assert cancelled.video.status == c.VIDEO_STATUS_CANCELLED and cancelled.video.run == 1
    assert retried.video.run == 2
    assert [x.video_id for x in listed.videos] == [video_id] and listed.next_page_token == ""
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("page_size")
    assert watched[-1] == "video_completed" and "video_retried" in watched
