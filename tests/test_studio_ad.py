"""The offline ad as a viewer sees it: the user's own product through the ad, and motion in every frame.

Two ads go through the whole stack with the studio providers: one with a real product photo
(scikit-image's CC0 `coffee`, an espresso cup on a saucer), one with no photo. Each delivered MP4 is
decoded and judged: the photo's own SIFT features must be found (under one RANSAC homography) in
the sampled frames of every beat that maps to it, the product-free design must never show it, and
no picture may freeze for 0.5 s or more (an end-card hold of at most 1.5 s excepted).
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from media_checks import frozen_runs, sift_matches
from PIL import Image
from skimage import data
from test_video_e2e import follow

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

# Inliers of one homography that say "the photo is in this frame": unrelated pictures give 0 to ~6.
PRESENT_INLIERS = 12
SAMPLES_PER_S = 2
STILL_LIMIT_S = 0.5
END_CARD_HOLD_S = 1.5


def coffee_png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(data.coffee()).save(buffer, format="PNG")
    return buffer.getvalue()


async def render(stack, tmp_path: Path, body: dict, photo: bytes | None) -> tuple[dict, Path]:
    key = await stack.new_user(f"studio-ad-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        if photo is not None:
            uploaded = await client.post("/v1/assets", files={"file": ("coffee.png", photo, "image/png")})
            assert uploaded.status_code == 201, uploaded.text
            body = {**body, "asset_ids": [uploaded.json()["asset_id"]]}
        created = await client.post("/v1/videos", json=body)
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        await follow(client, video_id)
        video = (await client.get(f"/v1/videos/{video_id}")).json()
        assert video["status"] == "completed", video
        link = await client.get(f"/v1/videos/{video_id}/download", follow_redirects=False)
        path = tmp_path / f"{video_id}.mp4"
        async with httpx.AsyncClient() as plain:
            path.write_bytes((await plain.get(link.headers["location"])).content)
    return video, path


def judge(path: Path) -> tuple[float, dict[int, np.ndarray], list[float]]:
    """(fps, RGB frames sampled SAMPLES_PER_S a second by frame number, luma step of every frame)."""
    steps: list[float] = []
    samples: dict[int, np.ndarray] = {}
    previous: np.ndarray | None = None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate is not None
        fps = float(stream.average_rate)
        every = round(fps / SAMPLES_PER_S)
        for n, frame in enumerate(container.decode(stream)):
            luma = frame.to_ndarray(format="gray").astype(np.float32)
            if previous is not None:
                steps.append(float(np.abs(luma - previous).mean()))
            previous = luma
            if n % every == every // 2:
                samples[n] = frame.to_ndarray(format="rgb24")
    return fps, samples, steps


@pytest.fixture(scope="module")
async def with_photo(stack, tmp_path_factory):
    body = {"prompt": "20 second ad for Morning Roast espresso, warm and inviting", "duration_s": 20}
    body |= {"aspect_ratio": "9:16", "seed": 11}
    return await render(stack, tmp_path_factory.mktemp("studio"), body, coffee_png())


@pytest.fixture(scope="module")
async def without_photo(stack, tmp_path_factory):
    body = {"prompt": "15 second ad for a matte-black titanium watch, luxury feel", "duration_s": 15, "seed": 5}
    return await render(stack, tmp_path_factory.mktemp("studio"), body, None)


async def test_the_product_photo_is_on_screen_through_the_ad(with_photo) -> None:
    video, path = with_photo
    spec = video["spec"]
    assert all(beat["reference_asset_ids"] for beat in spec["beats"]), "every beat features the product"
    photo = data.coffee()
    fps, samples, _ = judge(path)
    found = {n: sift_matches(photo, frame) >= PRESENT_INLIERS for n, frame in samples.items()}
    for beat in spec["beats"]:
        first, end = beat["start_s"] * fps, (beat["start_s"] + beat["duration_s"]) * fps
        in_beat = [present for n, present in found.items() if first <= n < end]
        assert in_beat
        share = sum(in_beat) / len(in_beat)
        assert share >= 0.9, f"beat {beat['index']} ({beat['beat_id']}): the photo is in {share:.0%} of its frames"
    assert sum(found.values()) / len(found) >= 0.6


async def test_a_product_free_design_never_shows_a_photo(without_photo) -> None:
    _, path = without_photo
    _, samples, _ = judge(path)
    photo = data.coffee()
    assert samples
    assert max(sift_matches(photo, frame) for frame in samples.values()) < PRESENT_INLIERS


def assert_never_frozen(path: Path) -> None:
    fps, _, steps = judge(path)
    duration = (len(steps) + 1) / fps
    for first, frames in frozen_runs(steps):
        start, length = first / fps, frames / fps
        end_card = start + length >= duration - 1 / fps and length <= END_CARD_HOLD_S
        assert length < STILL_LIMIT_S or end_card, f"the picture freezes for {length:.2f} s at {start:.2f} s"


async def test_no_picture_freezes_in_the_product_ad(with_photo) -> None:
    assert_never_frozen(with_photo[1])


async def test_no_picture_freezes_in_the_product_free_design(without_photo) -> None:
    assert_never_frozen(without_photo[1])
