"""Service tier: each gRPC API on a real server built by its production factory, real infrastructure."""

from __future__ import annotations

import io
import uuid

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from adgen.assets.v1 import assets_service_pb2 as assets_pb
from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.chunks.v1 import chunks_service_pb2 as chunks_pb
from adgen.chunks.v1 import chunks_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen.export.v1 import export_service_pb2 as export_pb
from adgen.export.v1 import export_service_pb2_grpc
from adgen.planner.v1 import planner_service_pb2 as planner_pb
from adgen.planner.v1 import planner_service_pb2_grpc
from adgen.storyboard.v1 import storyboard_service_pb2 as storyboard_pb
from adgen.storyboard.v1 import storyboard_service_pb2_grpc
from adgen_gateway.auth import key_digest

pytestmark = pytest.mark.xdist_group("stack")

SERVICE_NAMES = {
    "assets": "adgen.assets.v1.AssetsService",
    "chunks": "adgen.chunks.v1.ChunksService",
    "export": "adgen.export.v1.ExportService",
    "planner": "adgen.planner.v1.PlannerService",
    "storyboard": "adgen.storyboard.v1.StoryboardService",
    "refine": "adgen.refine.v1.RefineService",
}


async def test_every_service_reports_serving(stack) -> None:
    for name in [*SERVICE_NAMES, "gateway"]:
        async with grpc.aio.insecure_channel(stack.address(name)) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            overall = await health.Check(health_pb2.HealthCheckRequest(service=""))  # type: ignore[attr-defined]  # the stub's HealthStub lacks its methods
            assert overall.status == health_pb2.HealthCheckResponse.SERVING, name
            if name in SERVICE_NAMES:
                named = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAMES[name]))  # type: ignore[attr-defined]  # the stub's HealthStub lacks its methods
                assert named.status == health_pb2.HealthCheckResponse.SERVING, name


async def expect_status(call, code: grpc.StatusCode, *words: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() == code, raised.value.details()
    details = raised.value.details() or ""
    assert "Traceback" not in details
    for word in words:
        assert word in details, details


async def test_planner_plans_and_refuses_bad_requests(stack) -> None:
    async with grpc.aio.insecure_channel(stack.address("planner")) as channel:
        planner = planner_service_pb2_grpc.PlannerServiceStub(channel)
        request = common_pb2.VideoRequest(
            prompt="20 second ad for trail running sneakers",
            duration_s=20,
            creativity=0.5,
            aspect_ratio=common_pb2.ASPECT_RATIO_9_16,
        )
        spec = (await planner.Plan(planner_pb.PlanRequest(request=request))).spec
        assert sum(b.duration_s for b in spec.beats) == 20
        assert (spec.output.width, spec.output.height) == (720, 1280)
        assert spec.chunk_plan.total_frames == 20 * spec.output.fps
        assert {s.beat_index for s in spec.chunk_plan.slots} == set(range(len(spec.beats)))
        bad = common_pb2.VideoRequest(prompt="", duration_s=7, creativity=2, aspect_ratio=common_pb2.ASPECT_RATIO_16_9)
        await expect_status(
            planner.Plan(planner_pb.PlanRequest(request=bad)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "prompt",
            "duration_s",
            "creativity",
        )


async def test_chunks_lists_models_and_refuses_unknown_ones(stack) -> None:
    async with grpc.aio.insecure_channel(stack.address("chunks")) as channel:
        chunks = chunks_service_pb2_grpc.ChunksServiceStub(channel)
        models = await chunks.ListVideoModels(chunks_pb.ListVideoModelsRequest())
        keys = {m.key for m in models.models}
        assert {"studio", "hailuo_fast", "wan", "pixverse"} <= keys
        assert models.default_model == "studio"
        await expect_status(
            chunks.PlanChunks(
                chunks_pb.PlanChunksRequest(
                    beats=[chunks_pb.BeatSpan(start_s=0, duration_s=10)], video_model="nope", fps=24
                )
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "nope",
        )
        plan = await chunks.PlanChunks(
            chunks_pb.PlanChunksRequest(
                beats=[chunks_pb.BeatSpan(start_s=0, duration_s=5), chunks_pb.BeatSpan(start_s=5, duration_s=10)],
                video_model="hailuo_fast",
                fps=24,
            )
        )
        assert plan.chunk_plan.total_frames == 15 * 24
        assert plan.chunk_plan.price_per_clip_micros == 190_000


async def test_storyboard_refuses_a_beat_outside_the_plan(stack) -> None:
    async with grpc.aio.insecure_channel(stack.address("storyboard")) as channel:
        storyboard = storyboard_service_pb2_grpc.StoryboardServiceStub(channel)
        spec = common_pb2.Spec(beats=[common_pb2.Beat(index=0, beat_id="hero_shot", duration_s=5)])
        await expect_status(
            storyboard.RenderFrame(
                storyboard_pb.RenderFrameRequest(
                    video_id=str(uuid.uuid4()), user_id=str(uuid.uuid4()), spec=spec, beat_index=3
                )
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "beat_index",
        )


async def test_export_download_of_unknown_video_is_not_found(stack) -> None:
    async with grpc.aio.insecure_channel(stack.address("export")) as channel:
        export = export_service_pb2_grpc.ExportServiceStub(channel)
        await expect_status(
            export.GetDownloadUrl(
                export_pb.GetDownloadUrlRequest(video_id=str(uuid.uuid4()), user_id=str(uuid.uuid4()))
            ),
            grpc.StatusCode.NOT_FOUND,
        )
        await expect_status(
            export.GetDownloadUrl(export_pb.GetDownloadUrlRequest(video_id="x", user_id=str(uuid.uuid4()))),
            grpc.StatusCode.INVALID_ARGUMENT,
            "video_id",
        )


def png_bytes(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


async def upload(stub, user_id: str, filename: str, data: bytes):
    async def parts():
        yield assets_pb.UploadAssetRequest(metadata=assets_pb.UploadAssetMetadata(user_id=user_id, filename=filename))
        for start in range(0, len(data), 16_384):
            yield assets_pb.UploadAssetRequest(chunk=data[start : start + 16_384])

    return await stub.UploadAsset(parts())


async def test_assets_upload_is_owned_checked_and_deleted_cleanly(stack) -> None:
    e = stack.endpoints
    store = stack.store()
    key = await stack.new_user(f"assets-{uuid.uuid4().hex[:8]}")
    other = await stack.new_user(f"assets-other-{uuid.uuid4().hex[:8]}")
    conn = await asyncpg.connect(e.database_url)
    owner_id = str(await conn.fetchval("SELECT user_id FROM users WHERE api_key_hash = $1", key_digest(key)))
    other_id = str(await conn.fetchval("SELECT user_id FROM users WHERE api_key_hash = $1", key_digest(other)))
    await conn.close()
    async with grpc.aio.insecure_channel(stack.address("assets")) as channel:
        assets = assets_service_pb2_grpc.AssetsServiceStub(channel)
        first = (await upload(assets, owner_id, "../../etc/logo.png", png_bytes((200, 30, 30)))).asset
        second = (await upload(assets, owner_id, "logo.png", png_bytes((30, 200, 30)))).asset
        assert first.original_key != second.original_key
        assert first.original_key.startswith(f"{owner_id}/assets/") and ".." not in first.original_key
        assert (first.width, first.height) == (64, 48)
        for k in (first.original_key, first.thumbnail_key, first.edges_key):
            assert await store.exists(k)
        fetched = await assets.GetAsset(assets_pb.GetAssetRequest(user_id=owner_id, asset_id=first.asset_id))
        assert fetched.asset.name == "../../etc/logo.png"
        await expect_status(
            assets.GetAsset(assets_pb.GetAssetRequest(user_id=other_id, asset_id=first.asset_id)),
            grpc.StatusCode.NOT_FOUND,
        )
        await expect_status(
            upload(assets, owner_id, "notes.png", b"this is text, not an image"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "PNG",
        )
        await expect_status(upload(assets, owner_id, "empty.png", b""), grpc.StatusCode.INVALID_ARGUMENT, "empty")
        listed = await assets.ListAssets(assets_pb.ListAssetsRequest(user_id=owner_id))
        assert {a.asset_id for a in listed.assets} == {first.asset_id, second.asset_id}
        await assets.DeleteAsset(assets_pb.DeleteAssetRequest(user_id=owner_id, asset_id=first.asset_id))
        for k in (first.original_key, first.thumbnail_key, first.edges_key):
            assert not await store.exists(k)


async def test_health_watch_streams_the_status(stack) -> None:
    async with grpc.aio.insecure_channel(stack.address("planner")) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))  # type: ignore[attr-defined]  # the stub's HealthStub lacks its methods
        first = await watch.read()
        watch.cancel()
    assert first.status == health_pb2.HealthCheckResponse.SERVING
