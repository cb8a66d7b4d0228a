"""A storyboard worker killed mid-prediction never pays for a second image (Replicate from the local
fake, on real NATS, Postgres and S3): the frame's row holds the prediction's tag before the create is
sent and its id as soon as it answers, so the frame drawn again polls the prediction already paid
for, finds a create whose answer was lost by its tag, or finishes a flux-dev fallback it had started,
and the ledger has one row."""

from __future__ import annotations

import asyncio
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
from fakes.replicate_api import FakeReplicate, Script
from fixtures.replicate import images_config
from PIL import Image

from adgen.assets.v1 import assets_service_pb2 as assets_pb
from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen_providers.replicate_tags import TAG_INPUT
from adgen_storyboard.replicate_images import FALLBACK_MODEL, FLUX_CONTROLNET, FLUX_DEV, ReplicateImages
from adgen_storyboard.studio import decode_image
from adgen_storyboard.worker import Storyboard
from adgen_video import keys

pytestmark = pytest.mark.xdist_group("stack")

WIDTH, HEIGHT = 160, 90
POLLS = 40  # GETs a prediction answers before it is done: long enough to kill the worker mid-way


@pytest.fixture(scope="module")
async def storyboard(stack, fake: FakeReplicate) -> AsyncIterator[Storyboard]:
    """A Storyboard with Replicate and no worker of its own: the test drives it, and stands in for the
    worker that dies and the one that takes the frame over."""
    images = ReplicateImages(images_config(fake))
    async with driven_storyboard(stack, images, "storyboard-resume-under-test") as storyboard:
        yield storyboard


async def new_frame(db: asyncpg.Pool) -> tuple[str, str, common_pb2.Spec]:
    """A user, a one-beat video in the storyboard phase and its pending frame row."""
    user = await seeding.user(db)
    spec = common_pb2.Spec(
        beats=[common_pb2.Beat(index=0, beat_id="hero_shot", shot_type="close_up", prompt="a titanium watch")],
        output=common_pb2.OutputFormat(width=WIDTH, height=HEIGHT, fps=24),
        seed=7,
    )
    video_id = await seeding.video(db, user_id=user.user_id, status="rendering", spec=spec, frames=True)
    return user.user_id, video_id, spec


async def frame_row(db: asyncpg.Pool, video_id: str) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT prediction_id, prediction_tag FROM frames WHERE video_id = $1 AND beat_index = 0", uuid.UUID(video_id)
    )
    assert row is not None
    return row


async def until(check) -> None:
    """Waits, without a deadline of its own (the test's timeout is the bound), for `check()`."""
    while not await check():
        await asyncio.sleep(0.01)


async def killed(task: asyncio.Task) -> None:
    """The worker dies: its render is cancelled wherever it is."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def creates_for(fake: FakeReplicate, model: str, video_id: str) -> list[dict]:
    return [i for i in fake.created(model) if str(i.get(TAG_INPUT, "")).startswith(f"{video_id}:frame:0:")]


async def ledger(db: asyncpg.Pool, video_id: str) -> list[tuple[str, str, str, int, int]]:
    rows = await db.fetch(
        "SELECT idempotency_key, provider, model, units, usd_micros FROM cost_ledger"
        " WHERE video_id = $1 AND phase = 'PHASE_STORYBOARD'",
        uuid.UUID(video_id),
    )
    return [tuple(r) for r in rows]


async def stored_image(stack, user_id: str, video_id: str) -> np.ndarray:
    return decode_image(await stack.store().get_bytes(keys.storyboard_key(user_id, video_id, 0)))


async def test_a_frame_whose_row_holds_a_prediction_id_is_finished_by_polling_it(
    stack, fake: FakeReplicate, storyboard: Storyboard, db: asyncpg.Pool
) -> None:
    user_id, video_id, spec = await new_frame(db)
    fake.script(FLUX_DEV, Script("succeed", polls=POLLS))
    first = asyncio.create_task(storyboard.render(video_id, user_id, spec, 0))

    async def id_recorded() -> bool:
        assert not first.done(), first
        return (await frame_row(db, video_id))["prediction_id"] is not None

    await until(id_recorded)
    row = await frame_row(db, video_id)
    paid = row["prediction_id"]
    assert row["prediction_tag"] == f"{video_id}:frame:0:{FLUX_DEV}"
    assert fake.polls(paid) < POLLS, "the id is in the row before the prediction is finished"
    await killed(first)

    frame = await storyboard.render(video_id, user_id, spec, 0)

    assert not frame.reused
    assert len(creates_for(fake, FLUX_DEV, video_id)) == 1
    assert fake.polls(paid) == POLLS  # the paid prediction was polled to its end
    assert (await frame_row(db, video_id))["prediction_id"] == paid
    assert await ledger(db, video_id) == [(f"{video_id}:frame:0", "replicate", FLUX_DEV, 1, 25_000)]
    assert (await stored_image(stack, user_id, video_id)).shape == (HEIGHT, WIDTH, 3)


async def test_a_frame_whose_row_holds_only_a_tag_finds_the_lost_create_by_it(
    stack, fake: FakeReplicate, storyboard: Storyboard, db: asyncpg.Pool
) -> None:
    user_id, video_id, spec = await new_frame(db)
    tag = f"{video_id}:frame:0:{FLUX_DEV}"
    # The prediction exists at once; its create's answer is held back until long after the worker died.
    fake.script(FLUX_DEV, Script("succeed", answer_delay_s=30))
    first = asyncio.create_task(storyboard.render(video_id, user_id, spec, 0))

    async def created_unanswered() -> bool:
        assert not first.done(), first
        return any(t == tag for _, t, _ in fake.predictions())

    await until(created_unanswered)
    await killed(first)
    row = await frame_row(db, video_id)
    assert (row["prediction_id"], row["prediction_tag"]) == (None, tag)

    frame = await storyboard.render(video_id, user_id, spec, 0)

    assert not frame.reused
    assert len(creates_for(fake, FLUX_DEV, video_id)) == 1
    assert [status for model, t, status in fake.predictions() if t == tag] == ["succeeded"]
    found = (await frame_row(db, video_id))["prediction_id"]
    assert found is not None and fake.polls(found) > 0
    assert await ledger(db, video_id) == [(f"{video_id}:frame:0", "replicate", FLUX_DEV, 1, 25_000)]
    assert (await stored_image(stack, user_id, video_id)).shape == (HEIGHT, WIDTH, 3)


def product_png() -> bytes:
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


async def test_a_flux_dev_fallback_under_way_is_finished_without_trying_controlnet_again(
    stack, fake: FakeReplicate, storyboard: Storyboard, db: asyncpg.Pool
) -> None:
    user_id, video_id, spec = await new_frame(db)
    watch = await upload(stack, user_id, product_png())
    spec.beats[0].reference_asset_ids.append(watch.asset_id)
    fake.script(FLUX_CONTROLNET, Script("fail", error="CUDA out of memory"))
    fake.script(FLUX_DEV, Script("succeed", polls=POLLS))
    first = asyncio.create_task(storyboard.render(video_id, user_id, spec, 0))

    async def fallback_recorded() -> bool:
        assert not first.done(), first
        row = await frame_row(db, video_id)
        return row["prediction_tag"] == f"{video_id}:frame:0:{FLUX_DEV}" and row["prediction_id"] is not None

    await until(fallback_recorded)
    paid = (await frame_row(db, video_id))["prediction_id"]
    await killed(first)

    frame = await storyboard.render(video_id, user_id, spec, 0)

    assert len(creates_for(fake, FLUX_CONTROLNET, video_id)) == 1
    assert len(creates_for(fake, FLUX_DEV, video_id)) == 1
    assert fake.polls(paid) == POLLS
    [note] = frame.notes
    assert f"{FLUX_CONTROLNET} failed on an earlier attempt" in note
    assert await ledger(db, video_id) == [(f"{video_id}:frame:0", "replicate", FALLBACK_MODEL, 1, 25_000)]
