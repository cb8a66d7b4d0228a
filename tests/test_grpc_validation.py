"""The one gRPC validation layer, over real gRPC to every service of the stack: invalid messages are
INVALID_ARGUMENT naming each field path before a servicer runs (unary, server-streaming, and each
message of the UploadAsset client stream); and every RPC's request type has a rule set."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from adgen.assets.v1 import assets_service_pb2 as assets_pb
from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.chunks.v1 import chunks_service_pb2 as chunks_pb
from adgen.chunks.v1 import chunks_service_pb2_grpc
from adgen.common.v1 import common_pb2 as c
from adgen.export.v1 import export_service_pb2 as export_pb
from adgen.export.v1 import export_service_pb2_grpc
from adgen.planner.v1 import planner_service_pb2 as planner_pb
from adgen.planner.v1 import planner_service_pb2_grpc
from adgen.refine.v1 import refine_service_pb2 as refine_pb
from adgen.refine.v1 import refine_service_pb2_grpc
from adgen.storyboard.v1 import storyboard_service_pb2 as storyboard_pb
from adgen.storyboard.v1 import storyboard_service_pb2_grpc
from adgen.video.v1 import video_service_pb2 as video_pb
from adgen.video.v1 import video_service_pb2_grpc
from adgen.voice.v1 import voice_service_pb2 as voice_pb
from adgen.voice.v1 import voice_service_pb2_grpc
from adgen_video.contract_rules import rules_for, violations

pytestmark = pytest.mark.xdist_group("stack")

SERVICE_MODULES = [assets_pb, chunks_pb, export_pb, planner_pb, refine_pb, storyboard_pb, video_pb, voice_pb]


def test_every_rpc_of_every_service_has_a_rule_set() -> None:
    walked, missing = [], []
    for module in SERVICE_MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                walked.append(method.full_name)
                if rules_for(method.input_type) is None:
                    missing.append(f"{method.full_name} ({method.input_type.full_name})")
    # 8 assets + 3 chunks + 3 export + 3 planner + 1 refine + 1 storyboard + 10 video + 3 voice
    assert len(walked) == 32
    assert not missing, f"request types without rules (state NO_RULES if nothing is to be checked): {missing}"


def test_every_rule_names_a_real_field() -> None:
    """Each request type's rules run on its empty message without error: a misspelt field name in a
    rule would raise here rather than on a caller's request."""
    for module in SERVICE_MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                found = violations(getattr(module, method.input_type.name)())
                assert all(v.field and v.message for v in found), method.full_name
                if not rules_for(method.input_type):
                    assert found == []


def ids() -> dict[str, Any]:
    return {"video_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())}


def spec(**changes: object) -> c.Spec:
    """A small spec the contract accepts: three 5 s beats, one chunk each."""
    made = c.Spec(
        duration_s=15,
        beats=[c.Beat(index=i, start_s=5 * i, duration_s=5, beat_id="hero_shot") for i in range(3)],
        chunk_plan=c.ChunkPlan(
            video_model="studio",
            fps=24,
            clip_frames=120,
            slots=[c.ChunkSlot(index=i, beat_index=i, init_source=c.INIT_SOURCE_STORYBOARD) for i in range(3)],
        ),
        output=c.OutputFormat(aspect_ratio=c.ASPECT_RATIO_16_9, width=160, height=90, fps=24),
    )
    for name, value in changes.items():
        setattr(made, name, value)
    return made


async def refused(call, *fields: str) -> str:
    """Awaits a call that must be INVALID_ARGUMENT whose message names each of `fields`."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    code, details = raised.value.code(), raised.value.details() or ""
    assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, details)
    for name in fields:
        assert f"{name}: " in details, (name, details)
    return details


async def test_planner_refuses_malformed_requests(stack) -> None:
    good = c.VideoRequest(prompt="an ad for a kettle", duration_s=10, aspect_ratio=c.ASPECT_RATIO_16_9)
    async with grpc.aio.insecure_channel(stack.address("planner")) as channel:
        planner = planner_service_pb2_grpc.PlannerServiceStub(channel)
        await refused(planner.Plan(planner_pb.PlanRequest()), "request")
        await refused(planner.Plan(planner_pb.PlanRequest(user_id="me", request=good)), "user_id")
        with_ids = c.VideoRequest(prompt="an ad", duration_s=10, aspect_ratio=c.ASPECT_RATIO_16_9, asset_ids=["x"])
        await refused(planner.Quote(planner_pb.QuoteRequest(request=with_ids)), "request.asset_ids[0]")
        capped = c.VideoRequest(prompt="an ad", duration_s=10, aspect_ratio=c.ASPECT_RATIO_16_9, max_cost_micros=-1)
        await refused(planner.Quote(planner_pb.QuoteRequest(request=capped)), "request.max_cost_micros")
        bad = c.VideoRequest(prompt="x" * 3000, duration_s=61, creativity=float("nan"), video_model="../../etc")
        await refused(
            planner.Quote(planner_pb.QuoteRequest(request=bad)),
            "request.prompt",
            "request.duration_s",
            "request.creativity",
            "request.aspect_ratio",
            "request.video_model",
        )
        assert (await planner.Quote(planner_pb.QuoteRequest(request=good))).cost_micros >= 0  # a valid one passes


async def test_storyboard_names_the_nested_field(stack) -> None:
    async with grpc.aio.insecure_channel(stack.address("storyboard")) as channel:
        storyboard = storyboard_service_pb2_grpc.StoryboardServiceStub(channel)
        odd = spec()
        odd.beats[2].duration_s = 7
        details = await refused(
            storyboard.RenderFrame(storyboard_pb.RenderFrameRequest(**ids(), spec=odd, beat_index=0)),
            "spec.beats[2].duration_s",
        )
        assert "spec.beats[2].duration_s: must be 5, 10 or 15, got 7" in details
        await refused(storyboard.RenderFrame(storyboard_pb.RenderFrameRequest(**ids(), beat_index=0)), "spec")
        await refused(
            storyboard.RenderFrame(
                storyboard_pb.RenderFrameRequest(video_id="1; DROP TABLE videos", user_id="", spec=spec())
            ),
            "video_id",
            "user_id",
        )
        await refused(
            storyboard.RenderFrame(storyboard_pb.RenderFrameRequest(**ids(), spec=spec(), beat_index=-1)), "beat_index"
        )
        shuffled = spec()
        shuffled.beats[1].index = 5
        shuffled.beats[0].reference_asset_ids.append("not-an-id")
        await refused(
            storyboard.RenderFrame(storyboard_pb.RenderFrameRequest(**ids(), spec=shuffled)),
            "spec.beats[1].index",
            "spec.beats[0].reference_asset_ids[0]",
        )


async def test_chunks_refuses_malformed_requests(stack) -> None:
    async with grpc.aio.insecure_channel(stack.address("chunks")) as channel:
        chunks = chunks_service_pb2_grpc.ChunksServiceStub(channel)
        await refused(chunks.PlanChunks(chunks_pb.PlanChunksRequest(fps=24)), "beats")
        await refused(
            chunks.PlanChunks(
                chunks_pb.PlanChunksRequest(
                    beats=[chunks_pb.BeatSpan(start_s=-5, duration_s=0)], fps=1000, overlap_fraction=0.9
                )
            ),
            "beats[0].start_s",
            "beats[0].duration_s",
            "fps",
            "overlap_fraction",
        )
        too_many = [chunks_pb.BeatSpan(start_s=0, duration_s=5)] * 13
        await refused(chunks.PlanChunks(chunks_pb.PlanChunksRequest(beats=too_many)), "beats")
        broken = spec()
        broken.chunk_plan.slots[1].init_source = 9  # type: ignore[assignment]  # no such value, on purpose
        await refused(
            chunks.RenderChunk(chunks_pb.RenderChunkRequest(**ids(), spec=broken, chunk_index=-1)),
            "chunk_index",
            "spec.chunk_plan.slots[1].init_source",
        )
        assert (await chunks.ListVideoModels(chunks_pb.ListVideoModelsRequest())).models  # NO_RULES: passes


async def test_refine_refuses_malformed_requests(stack) -> None:
    async with grpc.aio.insecure_channel(stack.address("refine")) as channel:
        refine = refine_service_pb2_grpc.RefineServiceStub(channel)
        styled = spec()
        styled.style.palette.append("red")
        styled.output.aspect_ratio = 99  # type: ignore[assignment]  # no such value, on purpose
        styled.output.width = 100_000
        await refused(
            refine.Refine(refine_pb.RefineRequest(video_id=str(uuid.uuid4()), spec=styled)),
            "user_id",
            "spec.style.palette[0]",
            "spec.output.aspect_ratio",
            "spec.output.width",
        )
        await refused(refine.Refine(refine_pb.RefineRequest(**ids())), "spec")


async def test_export_refuses_malformed_requests(stack) -> None:
    async with grpc.aio.insecure_channel(stack.address("export")) as channel:
        export = export_service_pb2_grpc.ExportServiceStub(channel)
        await refused(export.Export(export_pb.ExportRequest(**ids(), spec=spec())), "refined_key")
        unknown: Any = 42  # no such aspect ratio, on purpose
        await refused(
            export.GetDownloadUrl(export_pb.GetDownloadUrlRequest(**ids(), aspect_ratio=unknown)), "aspect_ratio"
        )
        upper = str(uuid.uuid4()).upper()
        await refused(
            export.GetRenditions(export_pb.GetRenditionsRequest(video_id=upper, user_id=str(uuid.uuid4()))),
            "video_id",
        )


async def test_assets_refuses_malformed_requests_and_stream_messages(stack) -> None:
    user = str(uuid.uuid4())
    async with grpc.aio.insecure_channel(stack.address("assets")) as channel:
        assets = assets_service_pb2_grpc.AssetsServiceStub(channel)
        await refused(assets.GetAsset(assets_pb.GetAssetRequest(user_id=user, asset_id="../../etc/passwd")), "asset_id")
        await refused(
            assets.ListAssets(assets_pb.ListAssetsRequest(user_id=user, page_size=1000, page_token="t" * 513)),
            "page_size",
            "page_token",
        )
        await refused(
            assets.SearchAssets(assets_pb.SearchAssetsRequest(user_id=user, limit=101, min_score=2.0)),
            "query",
            "limit",
            "min_score",
        )
        await refused(assets.RecommendAssets(assets_pb.RecommendAssetsRequest(user_id=user)), "asset_ids")
        await refused(
            assets.RenameAsset(assets_pb.RenameAssetRequest(user_id=user, asset_id=str(uuid.uuid4()), name="n" * 201)),
            "name",
        )

        async def bad_metadata() -> AsyncIterator[assets_pb.UploadAssetRequest]:
            yield assets_pb.UploadAssetRequest(
                metadata=assets_pb.UploadAssetMetadata(user_id="nobody", filename="f" * 300)
            )
            yield assets_pb.UploadAssetRequest(chunk=b"\x89PNG")

        await refused(assets.UploadAsset(bad_metadata()), "metadata.user_id", "metadata.filename")

        async def empty_part() -> AsyncIterator[assets_pb.UploadAssetRequest]:
            yield assets_pb.UploadAssetRequest(metadata=assets_pb.UploadAssetMetadata(user_id=user, filename="a.png"))
            yield assets_pb.UploadAssetRequest()  # neither metadata nor chunk: refused as it arrives

        await refused(assets.UploadAsset(empty_part()), "part")


async def test_video_service_refuses_malformed_requests(stack) -> None:
    key = await stack.new_user(f"validation-{uuid.uuid4().hex[:8]}")
    auth = (("authorization", f"Bearer {key}"),)
    async with grpc.aio.insecure_channel(stack.address("gateway")) as channel:
        videos = video_service_pb2_grpc.VideoServiceStub(channel)
        await refused(videos.CreateVideo(video_pb.CreateVideoRequest(), metadata=auth), "request")
        await refused(videos.GetVideo(video_pb.GetVideoRequest(video_id="abc"), metadata=auth), "video_id")
        await refused(
            videos.ListVideos(video_pb.ListVideosRequest(page_size=101, page_token="x" * 513), metadata=auth),
            "page_size",
            "page_token",
        )
        await refused(videos.CancelVideo(video_pb.CancelVideoRequest(video_id=""), metadata=auth), "video_id")
        await refused(videos.RetryVideo(video_pb.RetryVideoRequest(video_id="%00"), metadata=auth), "video_id")
        watch = videos.WatchVideo(video_pb.WatchVideoRequest(video_id="' OR 1=1 --"), metadata=auth)
        await refused(watch.read(), "video_id")  # server streaming: refused before the first event
        page = await videos.ListVideos(video_pb.ListVideosRequest(page_size=0), metadata=auth)  # 0 means 20
        assert list(page.videos) == []


async def test_voice_service_refuses_malformed_requests(stack) -> None:
    async with grpc.aio.insecure_channel(stack.address("voice")) as channel:
        voice = voice_service_pb2_grpc.VoiceServiceStub(channel)
        await refused(
            voice.Synthesize(
                voice_pb.SynthesizeRequest(
                    video_id="v", user_id="", beat_index=99, text="t" * 501, voice="Joe!", target_s=float("nan")
                )
            ),
            "video_id",
            "user_id",
            "beat_index",
            "text",
            "voice",
            "target_s",
        )
        await refused(voice.GetVoiceSample(voice_pb.GetVoiceSampleRequest()), "voice")
        await refused(voice.GetVoiceSample(voice_pb.GetVoiceSampleRequest(voice="../../etc/passwd")), "voice")
        assert (await voice.ListVoices(voice_pb.ListVoicesRequest())).voices  # NO_RULES: passes
