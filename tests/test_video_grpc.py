"""The gateway's gRPC VideoService: the same videos, validation and limits as REST, over gRPC."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
from gateways import extra_gateway_addresses

from adgen.common.v1 import common_pb2 as c
from adgen.video.v1 import video_service_pb2 as v
from adgen.video.v1 import video_service_pb2_grpc

pytestmark = pytest.mark.xdist_group("stack")


def auth(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


async def code_of(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    return raised.value.code(), raised.value.details() or ""


async def test_video_service_creates_reads_and_streams_a_video(stack) -> None:
    key = await stack.new_user(f"grpc-{uuid.uuid4().hex[:8]}")
    stranger = await stack.new_user(f"grpc-stranger-{uuid.uuid4().hex[:8]}")
    async with grpc.aio.insecure_channel(stack.address("gateway")) as channel:
        stub = video_service_pb2_grpc.VideoServiceStub(channel)
        good = c.VideoRequest(prompt="10 second ad for a linen shirt", duration_s=10, aspect_ratio=c.ASPECT_RATIO_1_1)

        assert (await code_of(stub.CreateVideo(v.CreateVideoRequest(request=good))))[0] == (
            grpc.StatusCode.UNAUTHENTICATED
        )
        assert (await code_of(stub.GetVideo(v.GetVideoRequest(video_id=str(uuid.uuid4())), metadata=auth("adg_x"))))[
            0
        ] == grpc.StatusCode.UNAUTHENTICATED
        bad = c.VideoRequest(prompt="", duration_s=7, creativity=2, video_model="nope", asset_ids=["x"])
        code, details = await code_of(stub.CreateVideo(v.CreateVideoRequest(request=bad), metadata=auth(key)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        for field in ("prompt", "duration_s", "creativity", "aspect_ratio", "asset_ids[0]"):
            assert f"request.{field}: " in details, details
        # A well-formed model key passes the contract; the registry behind the servicer does not know it.
        unknown_model = c.VideoRequest(
            prompt="an ad", duration_s=10, aspect_ratio=c.ASPECT_RATIO_1_1, video_model="nope"
        )
        code, details = await code_of(stub.CreateVideo(v.CreateVideoRequest(request=unknown_model), metadata=auth(key)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "request.video_model: unknown model" in details, details
        code, details = await code_of(stub.GetVideo(v.GetVideoRequest(video_id="abc"), metadata=auth(key)))
        assert (code, details.split(":")[0]) == (grpc.StatusCode.INVALID_ARGUMENT, "video_id")

        created = await stub.CreateVideo(v.CreateVideoRequest(request=good), metadata=auth(key))
        video_id = created.video.video_id
        assert created.video.status == c.VIDEO_STATUS_QUEUED
        assert created.video.request.prompt == good.prompt and created.video.request.seed > 0
        code, details = await code_of(stub.CreateVideo(v.CreateVideoRequest(request=good), metadata=auth(key)))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and video_id in details
        code, _ = await code_of(stub.GetVideo(v.GetVideoRequest(video_id=video_id), metadata=auth(stranger)))
        assert code == grpc.StatusCode.NOT_FOUND
        watch = stub.WatchVideo(v.WatchVideoRequest(video_id=video_id), metadata=auth(stranger))
        assert (await code_of(watch.read()))[0] == grpc.StatusCode.NOT_FOUND

        streamed = [r async for r in stub.WatchVideo(v.WatchVideoRequest(video_id=video_id), metadata=auth(key))]
        resume_after = streamed[len(streamed) // 2].sequence
        resumed = [
            r
            async for r in stub.WatchVideo(
                v.WatchVideoRequest(video_id=video_id, after_sequence=resume_after), metadata=auth(key)
            )
        ]
        after_end = [
            r
            async for r in stub.WatchVideo(
                v.WatchVideoRequest(video_id=video_id, after_sequence=streamed[-1].sequence), metadata=auth(key)
            )
        ]
        final = (await stub.GetVideo(v.GetVideoRequest(video_id=video_id), metadata=auth(key))).video

    sequences = [r.sequence for r in streamed]
    assert sequences == sorted(set(sequences))
    assert streamed[0].event.WhichOneof("kind") == "phase_started"
    assert streamed[-1].event.WhichOneof("kind") == "video_completed"
    assert streamed[-1].progress.status == c.VIDEO_STATUS_COMPLETED and streamed[-1].progress.percent == 100.0
    percents = [r.progress.percent for r in streamed]
    assert percents == sorted(percents), "progress never goes backwards"
    assert [r.sequence for r in resumed] == [s for s in sequences if s > resume_after]
    assert after_end == []
    assert final.status == c.VIDEO_STATUS_COMPLETED
    assert final.spec.duration_s == 10 and len(final.spec.beats) >= 1
    assert final.cost.lines and final.cost.total_micros == sum(line.usd_micros for line in final.cost.lines)
    assert final.completed_at.ToDatetime() >= final.created_at.ToDatetime()


async def refusal(call) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    """The status, message and trailing metadata of a call that must fail."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    error = raised.value
    return error.code(), error.details() or "", dict(error.trailing_metadata() or ())


async def test_video_service_shares_the_rest_rate_limits(stack) -> None:
    """One bucket per user across REST and gRPC (burst 3, a token per 1000 s): two gRPC calls and one
    REST call pass, the next call on either surface is refused with a retry-after; another user is
    not affected; calls without a valid key are charged to the caller's address."""
    limits = {
        "rate_limit_per_s": 0.001,
        "rate_limit_burst": 3,
        "rate_limit_anonymous_per_s": 0.001,
        "rate_limit_anonymous_burst": 2,
    }
    async with extra_gateway_addresses(stack, **limits) as (url, address):
        alice, bob = await stack.new_user(f"grpc-rl-{uuid.uuid4().hex[:8]}"), await stack.new_user("grpc-rl-bob")
        async with grpc.aio.insecure_channel(address) as channel, httpx.AsyncClient(base_url=url) as rest:
            stub = video_service_pb2_grpc.VideoServiceStub(channel)
            for _ in range(2):
                await stub.ListVideos(v.ListVideosRequest(), metadata=auth(alice))
            assert (await rest.get("/v1/videos", headers={"Authorization": f"Bearer {alice}"})).status_code == 200
            code, details, trailers = await refusal(stub.ListVideos(v.ListVideosRequest(), metadata=auth(alice)))
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "too many requests" in details, details
            assert int(trailers["retry-after"]) >= 1
            limited = await rest.get("/v1/videos", headers={"Authorization": f"Bearer {alice}"})
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            await stub.ListVideos(v.ListVideosRequest(), metadata=auth(bob))

            for guess in ("adg_guess", "adg_guess2"):
                code, _, _ = await refusal(stub.ListVideos(v.ListVideosRequest(), metadata=auth(guess)))
                assert code == grpc.StatusCode.UNAUTHENTICATED
            code, _, trailers = await refusal(stub.ListVideos(v.ListVideosRequest(), metadata=auth("adg_guess3")))
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and int(trailers["retry-after"]) >= 1
