"""The voices on the REST surface, over the real stack: `GET /v1/voices` with a sample link that plays
without the API key, the sample made once at its fixed key (no ledger row, nothing else stored, one
object however many ask at once), a 404 for an unknown voice's sample, and an unknown voice refused
up front by every surface that creates or plans a video."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import grpc
import httpx
import pytest
from conftest import Stack

from adgen.common.v1 import common_pb2 as c
from adgen.video.v1 import video_service_pb2 as video_pb
from adgen.video.v1 import video_service_pb2_grpc
from adgen.voice.v1 import voice_service_pb2 as voice_pb
from adgen.voice.v1 import voice_service_pb2_grpc
from adgen_voice.speech import read_wav

pytestmark = pytest.mark.xdist_group("stack")

SAMPLES = "voices/samples/"


async def _ledger_rows(db: asyncpg.Pool) -> int:
    return int(await db.fetchval("SELECT count(*) FROM cost_ledger"))


async def test_concurrent_first_asks_make_one_sample_and_charge_nothing(stack: Stack, db: asyncpg.Pool) -> None:
    store = stack.store()
    await store.delete_prefix(SAMPLES)  # as on a fresh deployment
    rows = await _ledger_rows(db)
    async with grpc.aio.insecure_channel(stack.address("voice")) as channel:
        voice = voice_service_pb2_grpc.VoiceServiceStub(channel)
        asks = [voice.GetVoiceSample(voice_pb.GetVoiceSampleRequest(voice="piper-joe")) for _ in range(6)]
        answers = await asyncio.gather(*asks)
        assert {a.audio_key for a in answers} == {"voices/samples/piper-joe.wav"}
        assert answers[0].text
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await voice.GetVoiceSample(voice_pb.GetVoiceSampleRequest(voice="no-such-voice"))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND and "piper-joe" in (unknown.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as empty:
            await voice.GetVoiceSample(voice_pb.GetVoiceSampleRequest())
        assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "voice: " in (empty.value.details() or "")
    assert await store.list_keys(SAMPLES) == ["voices/samples/piper-joe.wav"], "one object, nothing beside it"
    samples, rate = read_wav(await store.get_bytes("voices/samples/piper-joe.wav"))
    assert len(samples) / rate > 1.0
    assert await _ledger_rows(db) == rows, "a sample is nobody's cost"


async def test_the_voices_are_listed_with_a_sample_that_plays_without_the_key(stack: Stack, db: asyncpg.Pool) -> None:
    key = await stack.new_user(f"voices-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        listed = await client.get("/v1/voices")
        again = await client.get("/v1/voices")
        redirected = await client.get("/v1/voices/piper-joe/sample", follow_redirects=False)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["default"] == "piper-joe"
    (joe,) = body["voices"]
    assert {k: joe[k] for k in ("key", "provider", "language")} == {
        "key": "piper-joe",
        "provider": "piper",
        "language": "en-US",
    }
    assert joe["label"] and joe["sample_url"]
    async with httpx.AsyncClient() as anonymous:  # a pre-signed link: what an <audio> element fetches
        sample = await anonymous.get(joe["sample_url"])
        followed = await anonymous.get(redirected.headers["location"])
    assert sample.status_code == 200 and sample.headers["content-type"] == "audio/wav"
    samples, rate = read_wav(sample.content)
    assert rate == 48_000 and 1.0 < len(samples) / rate < 15.0
    assert again.json()["voices"][0]["key"] == "piper-joe"
    assert redirected.status_code == 302 and followed.content == sample.content, "the one stored sample"
    assert await stack.store().list_keys(SAMPLES) == ["voices/samples/piper-joe.wav"]


async def test_an_unknown_voice_sample_is_a_404_problem(stack: Stack) -> None:
    key = await stack.new_user(f"voices-404-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        for path in ("/v1/voices/no-such-voice/sample", "/v1/voices/PIPER-JOE/sample"):
            missing = await client.get(path, follow_redirects=False)
            assert missing.status_code == 404, (path, missing.text)
            assert missing.headers["content-type"] == "application/problem+json"
            assert "piper-joe" in missing.json()["detail"], "the answer names the voices that exist"
        escaping = await client.get("/v1/voices/..%2F..%2Fetc/sample", follow_redirects=False)
        assert escaping.status_code == 404 and escaping.headers["content-type"] == "application/problem+json"
    async with httpx.AsyncClient(base_url=stack.url) as anonymous:
        assert (await anonymous.get("/v1/voices")).status_code == 401
        assert (await anonymous.get("/v1/voices/piper-joe/sample")).status_code == 401


@pytest.mark.parametrize("path", ["/v1/videos", "/v1/plans", "/v1/quotes"])
async def test_an_unknown_voice_is_refused_before_anything_starts(stack: Stack, db: asyncpg.Pool, path: str) -> None:
    key = await stack.new_user(f"voices-422-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        refused = await client.post(path, json={"prompt": "ad for a kettle", "duration_s": 10, "voice": "nobody"})
        listed = await client.get("/v1/videos")
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    (error,) = refused.json()["errors"]
    assert error["field"] == "voice" and "piper-joe" in error["message"], error
    assert listed.json()["videos"] == [], "no video was made"


async def test_a_known_voice_is_carried_by_the_video_on_rest_and_grpc(stack: Stack) -> None:
    key = await stack.new_user(f"voices-ok-{uuid.uuid4().hex[:8]}")
    auth = (("authorization", f"Bearer {key}"),)
    request = c.VideoRequest(prompt="ad for a kettle", duration_s=10, aspect_ratio=c.ASPECT_RATIO_16_9)
    async with grpc.aio.insecure_channel(stack.address("gateway")) as channel:
        videos = video_service_pb2_grpc.VideoServiceStub(channel)
        request.voice = "nobody"
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await videos.CreateVideo(video_pb.CreateVideoRequest(request=request), metadata=auth)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "request.voice: unknown voice; choose one of piper-joe" in (raised.value.details() or "")
        request.voice = "piper-joe"
        made = await videos.CreateVideo(video_pb.CreateVideoRequest(request=request), metadata=auth)
        await videos.CancelVideo(video_pb.CancelVideoRequest(video_id=made.video.video_id), metadata=auth)
    async with stack.client(key) as client:
        created = await client.post(
            "/v1/videos", json={"prompt": "ad for a kettle", "duration_s": 10, "voice": "piper-joe", "voiceover": False}
        )
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        shown = (await client.get(f"/v1/videos/{video_id}")).json()
        await client.post(f"/v1/videos/{video_id}/cancel")
        grpc_made = (await client.get(f"/v1/videos/{made.video.video_id}")).json()
    assert shown["request"]["voice"] == "piper-joe" and shown["request"]["voiceover"] is False
    assert grpc_made["request"]["voice"] == "piper-joe"
