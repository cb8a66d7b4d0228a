"""The Replicate storyboard provider, through the real `replicate` SDK, against a local server that
speaks Replicate's predictions API (including its failures)."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest
from fakes.replicate_api import FakeReplicate, Script, huge_png_header
from PIL import Image
from pydantic import SecretStr
from structlog.testing import capture_logs

from adgen_kernel.errors import is_retryable
from adgen_providers.replicate_predictions import PredictionRefused, ProviderUnavailable
from adgen_providers.replicate_tags import TAG_INPUT
from adgen_storyboard.control_image import place_edges
from adgen_storyboard.image_bounds import WORKING_EDGE, UnusableImage, read_bounded
from adgen_storyboard.providers import BeatImageRequest, ProductReference, StudioImages
from adgen_storyboard.replicate_images import (
    FALLBACK_MODEL,
    FLUX_CONTROLNET,
    FLUX_DEV,
    ReplicateImages,
    ReplicateImagesConfig,
    flux_aspect,
)
from adgen_storyboard.server import image_provider
from adgen_storyboard.settings import StoryboardSettings
from adgen_storyboard.studio import FrameRequest, decode_image

WIDTH, HEIGHT = 320, 180


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    with FakeReplicate() as server:
        yield server


def provider(fake: FakeReplicate, **changes: object) -> ReplicateImages:
    options: dict = {"poll_interval_s": 0.01, "backoff_s": 0.01, "timeout_s": 10.0, "max_attempts": 3, **changes}
    return ReplicateImages(ReplicateImagesConfig(api_token=fake.token, base_url=fake.url, **options))


def frame(beat: int = 0, product: np.ndarray | None = None) -> FrameRequest:
    return FrameRequest(
        width=WIDTH,
        height=HEIGHT,
        beat_index=beat,
        beat_count=4,
        beat_id="hero_shot",
        shot_type="close_up",
        position="opening",
        energy="medium",
        palette=("#0b0b0d", "#2a2622", "#c9a45c", "#efe3c8"),
        mood="luxury",
        lighting="dramatic",
        aesthetic="elegant",
        headline="AURUM",
        subline="",
        product_image=product,
        seed=7000 + beat,
    )


def product() -> ProductReference:
    """A flat grey product (Canny finds nothing in it) with a cached edge map of a frame: edges in the
    control image can only have come from the cache."""
    image = np.full((200, 100, 3), 128, np.uint8)
    edges = np.zeros((200, 100), np.uint8)
    cv2.rectangle(edges, (10, 10), (89, 189), 255, 1)
    return ProductReference("asset-1", image, edges)


def plain(beat: int = 0) -> BeatImageRequest:
    return BeatImageRequest(frame(beat), prompt="cinematic close-up of a titanium watch")


def seed_colour(seed: int) -> tuple[int, int, int]:
    return (seed * 53 % 256, seed * 97 % 256, seed * 193 % 256)  # what the fake paints for a seed


def decoded(png: bytes) -> np.ndarray:
    return decode_image(png)


async def test_flux_dev_draws_beats_without_a_product(fake: FakeReplicate) -> None:
    image = await provider(fake).image_for(plain())
    assert (image.provider, image.model, image.usd_micros, image.notes) == ("replicate", FLUX_DEV, 25_000, ())
    pixels = decoded(image.png)
    assert pixels.shape == (HEIGHT, WIDTH, 3)
    assert tuple(int(v) for v in pixels[HEIGHT // 2, WIDTH // 2]) == seed_colour(7000)
    [sent] = fake.created(FLUX_DEV)
    assert len(sent.pop(TAG_INPUT)) == 32  # the create's tag, which finds it should its answer be lost
    assert sent == {
        "prompt": "cinematic close-up of a titanium watch",
        "aspect_ratio": "16:9",
        "num_outputs": 1,
        "output_format": "png",
        "seed": 7000,
    }
    assert fake.created(FLUX_CONTROLNET) == []
    assert {r.authorization for r in fake.requests} == {f"Bearer {fake.token}"}


async def test_controlnet_gets_the_cached_canny_edges_and_the_documented_settings(fake: FakeReplicate) -> None:
    ref = product()
    request = BeatImageRequest(frame(product=ref.image), prompt="the watch on black marble", product=ref)
    image = await provider(fake).image_for(request)
    assert (image.model, image.usd_micros, image.notes) == (FLUX_CONTROLNET, 58_000, ())
    assert decoded(image.png).shape == (HEIGHT, WIDTH, 3)
    [sent] = fake.created(FLUX_CONTROLNET)
    assert (sent["control_type"], sent["control_strength"], sent["steps"], sent["guidance_scale"]) == (
        "canny",
        0.5,
        45,
        5.0,
    )
    assert sent["prompt"] == "the watch on black marble"
    header, payload = sent["control_image"].split(",", 1)
    assert header == "data:image/png;base64"
    control = np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))))
    assert control.shape == (176, 320)  # the output size on flux's 16-pixel grid
    assert set(np.unique(control).tolist()) == {0, 255}
    assert np.array_equal(control, place_edges(ref.edges, WIDTH, HEIGHT))  # type: ignore[arg-type]
    ys, xs = np.nonzero(control)
    assert abs((xs.min() + xs.max()) / 2 - 160) <= 2  # the product stands in the middle
    assert 0.55 * 176 <= ys.max() - ys.min() <= 0.7 * 176  # at about two thirds of the frame's height


async def test_a_429_waits_the_retry_after_it_names_then_succeeds(fake: FakeReplicate) -> None:
    fake.script(FLUX_DEV, Script("rate_limit", retry_after=1), Script("succeed"))
    with capture_logs() as logs:
        image = await provider(fake).image_for(plain())
    assert image.model == FLUX_DEV
    assert len(fake.created(FLUX_DEV)) == 2
    [retry] = [line for line in logs if line["event"] == "retrying provider request"]
    assert (retry["provider"], retry["model"], retry["call"], retry["attempt"]) == ("replicate", FLUX_DEV, "create", 1)
    assert retry["retry_in_s"] == 1.0  # Retry-After, not the 10 ms backoff configured
    assert "429" in retry["error"]


async def test_server_errors_past_the_retry_budget_give_a_clear_retryable_error(fake: FakeReplicate) -> None:
    fake.script(FLUX_DEV, *[Script("server_error")] * 3)
    with pytest.raises(ProviderUnavailable) as raised:
        await provider(fake, max_attempts=3).image_for(plain())
    message = raised.value.message
    assert FLUX_DEV in message and "HTTP 500" in message and "3 attempts" in message
    assert "Something went wrong on our side" in message
    assert is_retryable(raised.value)  # the work queue may try the beat again later
    assert len(fake.created(FLUX_DEV)) == 3


async def test_a_failed_prediction_is_reported_and_not_retried(fake: FakeReplicate) -> None:
    fake.script(FLUX_DEV, Script("fail", error="NSFW content detected"))
    with pytest.raises(PredictionRefused) as raised:
        await provider(fake).image_for(plain())
    assert "failed: NSFW content detected" in raised.value.message
    assert not is_retryable(raised.value)
    assert len(fake.created(FLUX_DEV)) == 1


async def test_a_canceled_prediction_is_an_error(fake: FakeReplicate) -> None:
    fake.script(FLUX_DEV, Script("cancel"))
    with pytest.raises(PredictionRefused, match="was canceled"):
        await provider(fake).image_for(plain())


async def test_a_prediction_past_the_timeout_is_canceled(fake: FakeReplicate) -> None:
    fake.script(FLUX_DEV, Script("slow"))
    with pytest.raises(ProviderUnavailable, match=r"no result within 0.3 s; prediction p\d+ canceled"):
        await provider(fake, timeout_s=0.3).image_for(plain())
    assert fake.statuses(FLUX_DEV) == ["canceled"]
    assert any(r.path.endswith("/cancel") for r in fake.requests)


async def test_controlnet_failure_falls_back_to_flux_dev_and_says_why(fake: FakeReplicate) -> None:
    fake.script(FLUX_CONTROLNET, Script("fail", error="CUDA out of memory"))
    ref = product()
    with capture_logs() as logs:
        image = await provider(fake).image_for(BeatImageRequest(frame(2, ref.image), prompt="watch", product=ref))
    assert (image.model, image.usd_micros) == (FALLBACK_MODEL, 25_000)
    [note] = image.notes
    assert "beat 2" in note and FLUX_CONTROLNET in note and "CUDA out of memory" in note and FLUX_DEV in note
    assert any(line["event"] == "controlnet failed, using flux-dev" for line in logs)
    assert len(fake.created(FLUX_CONTROLNET)) == 1
    assert len(fake.created(FLUX_DEV)) == 1
    assert decoded(image.png).shape == (HEIGHT, WIDTH, 3)


async def test_no_more_predictions_run_at_once_than_the_limit(fake: FakeReplicate) -> None:
    fake.script(FLUX_DEV, *[Script(polls=4)] * 6)
    images = provider(fake, concurrency=2)
    results = await asyncio.gather(*(images.image_for(plain(beat)) for beat in range(6)))
    assert fake.max_active == 2
    assert len(fake.created(FLUX_DEV)) == 6
    colours = [tuple(int(v) for v in decoded(r.png)[0, 0]) for r in results]
    assert colours == [seed_colour(7000 + beat) for beat in range(6)]  # each beat got its own image


def test_flux_aspect_is_the_nearest_offered_ratio() -> None:
    assert flux_aspect(1920, 1080) == "16:9"
    assert flux_aspect(720, 1280) == "9:16"
    assert flux_aspect(1080, 1080) == "1:1"
    assert flux_aspect(1000, 800) == "5:4"


def test_the_provider_is_chosen_by_the_token() -> None:
    base: dict[str, Any] = {
        "nats_url": "nats://x",
        "database_url": "postgresql://x",
        "s3_endpoint": "http://x",
        "s3_access_key": "a",
        "s3_secret_key": "b",
        "assets_addr": "x:1",
    }
    assert isinstance(image_provider(StoryboardSettings(**base)), StudioImages)
    chosen = image_provider(StoryboardSettings(**base, replicate_api_token=SecretStr("r8_x")))
    assert isinstance(chosen, ReplicateImages)


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def test_a_huge_image_is_refused_from_its_header_before_decoding() -> None:
    with pytest.raises(UnusableImage, match="more than the 40,000,000 pixel limit"):
        read_bounded(huge_png_header(20_000, 20_000))  # 400 MP: Pillow's own bomb check fires first
    with pytest.raises(UnusableImage, match="8000x6000 is more than the 40,000,000 pixel limit; not decoded"):
        read_bounded(huge_png_header(8_000, 6_000))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"definitely not an image", "not a readable"),
        (png((64, 48))[:60], "truncated or corrupt"),
    ],
)
def test_corrupt_images_are_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(UnusableImage, match=reason):
        read_bounded(data)


def test_a_large_but_allowed_image_is_scaled_to_the_working_size() -> None:
    pixels = read_bounded(png((4096, 1024)))
    assert pixels.shape == (WORKING_EDGE // 4, WORKING_EDGE, 3)
    assert tuple(int(v) for v in pixels[10, 10]) == (200, 10, 10)
