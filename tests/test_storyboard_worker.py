"""The storyboard worker on real NATS, Postgres and S3: Replicate images (from the local fake) paid
once per beat however often a frame is delivered, and product references that cannot be used (not
the user's, missing, corrupt, a decompression bomb) drawn without the product, with the reason."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import AsyncIterator

import asyncpg
import cv2
import grpc
import numpy as np
import pytest
import seeding
from driven import driven_storyboard
from fakes.replicate_api import FakeReplicate, huge_png_header
from fixtures.replicate import images_config
from PIL import Image
from structlog.testing import capture_logs

from adgen.assets.v1 import assets_service_pb2 as assets_pb
from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen.planner.v1 import planner_service_pb2 as planner_pb
from adgen.planner.v1 import planner_service_pb2_grpc
from adgen_kernel.jetstream import WorkContext
from adgen_kernel.storage import ObjectStore
from adgen_storyboard.control_image import canny_edges, place_edges
from adgen_storyboard.image_bounds import read_bounded
from adgen_storyboard.providers import StudioImages
from adgen_storyboard.replicate_images import FLUX_CONTROLNET, FLUX_DEV, ReplicateImages
from adgen_storyboard.studio import decode_image
from adgen_storyboard.worker import Storyboard
from adgen_video import keys

pytestmark = pytest.mark.xdist_group("stack")

WIDTH, HEIGHT = 320, 180  # small frames keep the chunks the pipeline renders afterwards cheap


@pytest.fixture(scope="module")
async def replicate_storyboard(stack, fake: FakeReplicate) -> AsyncIterator[Storyboard]:
    async with driven_storyboard(stack, ReplicateImages(images_config(fake))) as storyboard:
        yield storyboard


@pytest.fixture(scope="module")
async def studio_storyboard(stack) -> AsyncIterator[Storyboard]:
    async with driven_storyboard(stack, StudioImages()) as storyboard:
        yield storyboard


def store(stack) -> ObjectStore:
    return stack.store()


async def new_user(db: asyncpg.Pool) -> str:
    return (await seeding.user(db)).user_id


def product_png() -> bytes:
    """A watch-like product: a dark disc on a light ground, so Canny finds a clear outline."""
    image = np.full((240, 160, 3), 235, np.uint8)
    cv2.circle(image, (80, 120), 60, (20, 20, 24), -1)
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


async def upload(stack, user_id: str, data: bytes) -> assets_pb.Asset:
    async def parts():
        yield assets_pb.UploadAssetRequest(metadata=assets_pb.UploadAssetMetadata(user_id=user_id, filename="w.png"))
        yield assets_pb.UploadAssetRequest(chunk=data)

    async with grpc.aio.insecure_channel(stack.address("assets")) as channel:
        return (await assets_service_pb2_grpc.AssetsServiceStub(channel).UploadAsset(parts())).asset


async def planned_spec(stack, duration_s: int = 10) -> common_pb2.Spec:
    async with grpc.aio.insecure_channel(stack.address("planner")) as channel:
        request = common_pb2.VideoRequest(
            prompt=f"{duration_s} second ad for a titanium watch, luxury feel",
            duration_s=duration_s,
            creativity=0.5,
            aspect_ratio=common_pb2.ASPECT_RATIO_16_9,
        )
        spec = (
            await planner_service_pb2_grpc.PlannerServiceStub(channel).Plan(planner_pb.PlanRequest(request=request))
        ).spec
    spec.output.width, spec.output.height = WIDTH, HEIGHT
    return spec


def control_image(inputs: dict) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(inputs["control_image"].split(",", 1)[1]))))


async def test_each_beat_is_paid_once_however_often_its_frame_is_delivered(
    stack, fake: FakeReplicate, replicate_storyboard: Storyboard, db: asyncpg.Pool
) -> None:
    s3 = store(stack)
    user_id, stranger = await new_user(db), await new_user(db)
    watch = await upload(stack, user_id, product_png())
    strangers_watch = await upload(stack, stranger, product_png())
    cached = np.zeros((240, 160), np.uint8)  # a cached edge map no Canny would draw: a cross
    cv2.line(cached, (0, 0), (159, 239), 255, 1)
    cv2.line(cached, (159, 0), (0, 239), 255, 1)
    await s3.put_bytes(watch.edges_key, cv2.imencode(".png", cached)[1].tobytes(), "image/png")

    spec = await planned_spec(stack)
    beats = len(spec.beats)
    assert beats >= 2
    spec.beats[0].reference_asset_ids[:] = [watch.asset_id]
    spec.beats[1].reference_asset_ids[:] = [strangers_watch.asset_id]  # another user's: not to be used
    video_id = str(uuid.uuid4())
    try:
        await seeding.video(db, user_id=user_id, status="rendering", spec=spec, video_id=video_id, frames=True)
        creates_before = len(fake.created(FLUX_DEV)), len(fake.created(FLUX_CONTROLNET))
        with capture_logs() as logs:
            for beat in range(beats):
                work = events_pb2.FrameWork(video_id=video_id, user_id=user_id, spec=spec, beat_index=beat)
                for delivery in (1, 2):  # the redelivery of an item whose image exists
                    # The live pipeline picks up the chunks these deliveries enqueue and may finish (or
                    # fail) this hand-made video in between; each delivery here arrives while it renders.
                    await db.execute("UPDATE videos SET status = 'rendering' WHERE video_id = $1", video_id)
                    await replicate_storyboard.handle(work, WorkContext(delivery=delivery, subject="adgen.work.frame"))

        assert len(fake.created(FLUX_CONTROLNET)) - creates_before[1] == 1
        assert len(fake.created(FLUX_DEV)) - creates_before[0] == beats - 1
        sent = fake.created(FLUX_CONTROLNET)[-1]
        assert np.array_equal(control_image(sent), place_edges(cached, WIDTH, HEIGHT))  # the cached map, as stored

        rows = await db.fetch(
            "SELECT idempotency_key, provider, model, units, usd_micros FROM cost_ledger"
            " WHERE video_id = $1 AND phase = 'PHASE_STORYBOARD' ORDER BY idempotency_key",
            uuid.UUID(video_id),
        )
        assert [r["idempotency_key"] for r in rows] == [f"{video_id}:frame:{b}" for b in range(beats)]
        assert [(r["provider"], r["model"], r["units"], r["usd_micros"]) for r in rows] == [
            ("replicate", FLUX_CONTROLNET, 1, 58_000),
            *[("replicate", FLUX_DEV, 1, 25_000)] * (beats - 1),
        ]
        frames = await db.fetch(
            "SELECT status, attempts, image_key FROM frames WHERE video_id = $1 ORDER BY beat_index",
            uuid.UUID(video_id),
        )
        assert [(f["status"], f["attempts"]) for f in frames] == [("done", 2)] * beats
        for beat, frame in enumerate(frames):
            assert frame["image_key"] == keys.storyboard_key(user_id, video_id, beat)
            assert decode_image(await s3.get_bytes(frame["image_key"])).shape == (HEIGHT, WIDTH, 3)
        [note] = [line["note"] for line in logs if line["event"] == "storyboard fallback"]
        assert f"product asset {strangers_watch.asset_id} is not available to this user" in note
        assert "drawn without it" in note
    finally:
        # The first chunks were enqueued; stop the rest of this hand-made video's pipeline.
        await db.execute("UPDATE videos SET status = 'failed', error = 'test over' WHERE video_id = $1", video_id)


async def test_a_missing_cached_edge_map_is_computed_from_the_product(
    stack, fake: FakeReplicate, replicate_storyboard: Storyboard, db: asyncpg.Pool
) -> None:
    user_id = await new_user(db)
    data = product_png()
    watch = await upload(stack, user_id, data)
    await store(stack).delete(watch.edges_key)
    spec = common_pb2.Spec(
        beats=[
            common_pb2.Beat(index=0, beat_id="hero_shot", shot_type="close_up", reference_asset_ids=[watch.asset_id])
        ],
        output=common_pb2.OutputFormat(width=WIDTH, height=HEIGHT, fps=24),
    )
    frame = await replicate_storyboard.render(str(uuid.uuid4()), user_id, spec, 0)
    assert frame.notes == ()
    expected = place_edges(canny_edges(read_bounded(data)), WIDTH, HEIGHT)
    assert np.array_equal(control_image(fake.created(FLUX_CONTROLNET)[-1]), expected)
    assert np.count_nonzero(expected) > 100


async def test_unusable_product_images_are_drawn_without_the_product_with_the_reason(
    stack, studio_storyboard: Storyboard, db: asyncpg.Pool
) -> None:
    s3 = store(stack)
    user_id, stranger = await new_user(db), await new_user(db)
    corrupt = await upload(stack, user_id, product_png())
    await s3.put_bytes(corrupt.original_key, product_png()[:200], "image/png")  # truncated after upload
    bomb = await upload(stack, user_id, product_png())
    await s3.put_bytes(bomb.original_key, huge_png_header(20_000, 20_000), "image/png")
    theirs = await upload(stack, stranger, product_png())
    gone = await upload(stack, user_id, product_png())
    await s3.delete(gone.original_key)
    missing = str(uuid.uuid4())
    expected = {
        missing: "is not available to this user",
        theirs.asset_id: "is not available to this user",
        corrupt.asset_id: "cannot be used: the image is truncated or corrupt",
        bomb.asset_id: "cannot be used: more than the 40,000,000 pixel limit",
        gone.asset_id: "has no stored image",
        "not-a-uuid": "is not available to this user",
    }
    spec = common_pb2.Spec(
        beats=[
            common_pb2.Beat(
                index=i, beat_id="hero_shot", shot_type="close_up", headline="AURUM", reference_asset_ids=[a]
            )
            for i, a in enumerate(expected)
        ],
        output=common_pb2.OutputFormat(width=WIDTH, height=HEIGHT, fps=24),
    )
    video_id = str(uuid.uuid4())
    for beat, (asset_id, reason) in enumerate(expected.items()):
        frame = await studio_storyboard.render(video_id, user_id, spec, beat)
        [note] = frame.notes
        assert note.startswith(f"beat {beat}: product asset {asset_id} ") and reason in note, note
        assert note.endswith("drawn without it")
        assert decode_image(await s3.get_bytes(frame.image_key)).shape == (HEIGHT, WIDTH, 3)
