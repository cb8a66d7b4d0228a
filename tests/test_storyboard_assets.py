"""StoryboardService.RenderFrame with product references through the real assets service: a spec naming
another user's asset, a deleted one or something that is not an asset id is refused before anything is
drawn, naming the asset; the caller's own asset is drawn. (The queued frame worker draws such beats
without the product instead: tests/test_storyboard_worker.py.)"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest
import seeding
from conftest import Stack
from PIL import Image

from adgen.assets.v1 import assets_service_pb2 as assets_pb
from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen.storyboard.v1 import storyboard_service_pb2 as pb
from adgen.storyboard.v1 import storyboard_service_pb2_grpc
from adgen_video import keys

pytestmark = pytest.mark.xdist_group("stack")

WIDTH, HEIGHT = 160, 90


async def new_user(db: asyncpg.Pool) -> str:
    return (await seeding.user(db)).user_id


async def upload(stack: Stack, user_id: str) -> assets_pb.Asset:
    image = Image.new("RGB", (120, 120), (235, 235, 235))
    image.paste((20, 20, 24), (30, 30, 90, 90))
    out = io.BytesIO()
    image.save(out, "PNG")

    async def parts() -> AsyncIterator[assets_pb.UploadAssetRequest]:
        yield assets_pb.UploadAssetRequest(metadata=assets_pb.UploadAssetMetadata(user_id=user_id, filename="p.png"))
        yield assets_pb.UploadAssetRequest(chunk=out.getvalue())

    async with grpc.aio.insecure_channel(stack.address("assets")) as channel:
        return (await assets_service_pb2_grpc.AssetsServiceStub(channel).UploadAsset(parts())).asset


def spec_with(asset_id: str) -> common_pb2.Spec:
    return common_pb2.Spec(
        beats=[
            common_pb2.Beat(
                index=0, duration_s=5, beat_id="hero_shot", shot_type="close_up", reference_asset_ids=[asset_id]
            )
        ],
        output=common_pb2.OutputFormat(width=WIDTH, height=HEIGHT, fps=24),
    )


async def render(stack: Stack, user_id: str, video_id: str, asset_id: str) -> pb.RenderFrameResponse:
    async with grpc.aio.insecure_channel(stack.address("storyboard")) as channel:
        stub = storyboard_service_pb2_grpc.StoryboardServiceStub(channel)
        return await stub.RenderFrame(
            pb.RenderFrameRequest(video_id=video_id, user_id=user_id, spec=spec_with(asset_id), beat_index=0)
        )


async def refused(stack: Stack, user_id: str, asset_id: str) -> grpc.aio.AioRpcError:
    video_id = str(uuid.uuid4())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await render(stack, user_id, video_id, asset_id)
    # Refused before drawing: no frame was stored for it.
    assert not await stack.store().exists(keys.storyboard_key(user_id, video_id, 0))
    return caught.value


async def test_render_frame_refuses_assets_the_caller_may_not_use_naming_them(stack: Stack, db: asyncpg.Pool) -> None:
    owner, stranger = await new_user(db), await new_user(db)
    mine = await upload(stack, owner)
    theirs = await upload(stack, stranger)

    error = await refused(stack, owner, theirs.asset_id)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert theirs.asset_id in (error.details() or "") and "reference_asset_ids" in (error.details() or "")

    gone = await upload(stack, owner)
    async with grpc.aio.insecure_channel(stack.address("assets")) as channel:
        await assets_service_pb2_grpc.AssetsServiceStub(channel).DeleteAsset(
            assets_pb.DeleteAssetRequest(user_id=owner, asset_id=gone.asset_id)
        )
    error = await refused(stack, owner, gone.asset_id)
    assert error.code() == grpc.StatusCode.NOT_FOUND and gone.asset_id in (error.details() or "")

    error = await refused(stack, owner, "not-an-asset")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "not-an-asset" in (error.details() or "")

    # The caller's own asset is drawn; a stranger's is refused even where the frame already exists.
    video_id = str(uuid.uuid4())
    frame = await render(stack, owner, video_id, mine.asset_id)
    assert frame.image_key == keys.storyboard_key(owner, video_id, 0) and not frame.reused
    assert await stack.store().exists(frame.image_key)
    assert (await render(stack, owner, video_id, mine.asset_id)).reused
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await render(stack, owner, video_id, theirs.asset_id)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND and theirs.asset_id in (caught.value.details() or "")
