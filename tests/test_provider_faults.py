"""Each provider client against its fake, going wrong at a rate in one way at a time (see fakes.faults):
429 with Retry-After, a 5xx, an answer held past the client's timeout, a failed prediction, a
download cut short. The call comes through within its retry budget (a crashed prediction is a
retryable error: the work item's redelivery makes a new one), the result decodes, and the provider
made exactly one prediction that did not fail: only the failing request or prediction was redone.
The chunks client is held to the same by the chaos run, where every chunk's creates carry its unit."""

from __future__ import annotations

import io

import av
import numpy as np
import openai
import pytest
import seeding
from fakes.faults import Faults
from fakes.openai_api import FakeOpenAI, answer
from fakes.replicate_api import FakeReplicate
from fixtures.replicate import replicate_fake
from PIL import Image

from adgen.common.v1 import common_pb2
from adgen_kernel.errors import is_retryable
from adgen_kernel.serve import Connections
from adgen_planner.composer import PlanRequest
from adgen_planner.llm_composer import OpenAiComposer, TokenPrices
from adgen_providers.replicate_predictions import ProviderUnavailable, ReplicateConfig
from adgen_refine.musicgen import MUSICGEN, MusicGen, MusicGenConfig, MusicGenFailed
from adgen_storyboard.providers import BeatImageRequest
from adgen_storyboard.replicate_images import FLUX_DEV, ReplicateImages
from adgen_storyboard.studio import FrameRequest
from adgen_video import keys

pytestmark = pytest.mark.xdist_group("stack")

REPLICATE_KINDS = ("rate_limit", "server_error", "timeout", "fail", "truncate")
HELD_S = 1.5  # a held answer; every client below gives up on a request after 1 s


def faults(kind: str, seed: int = 1) -> Faults:
    return Faults(rate=0.5, weights={kind: 1.0}, seed=seed, retry_after_s=1.0, timeout_s=HELD_S)


def not_failed(fake: FakeReplicate, model: str) -> list[str]:
    return [status for m, _, status in fake.predictions() if m == model and status not in ("failed", "canceled")]


def test_faults_come_at_the_rate_among_the_allowed_kinds_and_repeat_with_the_seed() -> None:
    def draws(seed: int) -> list[str | None]:
        faults = Faults(rate=0.3, weights={"rate_limit": 3.0, "timeout": 1.0, "truncate": 5.0}, seed=seed)
        return [faults.draw(("rate_limit", "server_error", "timeout")) for _ in range(4000)]

    drawn = draws(1)
    assert 0.27 < sum(1 for kind in drawn if kind) / len(drawn) < 0.33
    assert {kind for kind in drawn if kind} == {"rate_limit", "timeout"}, "only weighted kinds the request allows"
    assert 2.5 < drawn.count("rate_limit") / drawn.count("timeout") < 3.5
    assert draws(1) == drawn and draws(2) != drawn
    with pytest.raises(ValueError, match="unknown fault kinds"):
        Faults(weights={"meteor": 1.0})


def beat_request() -> BeatImageRequest:
    frame = FrameRequest(
        width=320,
        height=180,
        beat_index=0,
        beat_count=2,
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
        product_image=None,
        seed=7000,
    )
    return BeatImageRequest(frame, prompt="cinematic close-up of a titanium watch")


@pytest.mark.parametrize("kind", REPLICATE_KINDS)
async def test_storyboard_images_come_through_each_fault(kind: str) -> None:
    with replicate_fake(faults(kind)) as fake:
        config = ReplicateConfig(
            api_token=fake.token,
            base_url=fake.url,
            poll_interval_s=0.01,
            backoff_s=0.05,
            timeout_s=60.0,
            request_timeout_s=1.0,
            max_attempts=4,
        )
        images = ReplicateImages(config)
        try:
            for _delivery in range(4):  # what the work item's redeliveries would do
                try:
                    image = await images.image_for(beat_request())
                    break
                except ProviderUnavailable as error:  # past the request's attempts: the item comes back
                    assert is_retryable(error), error
            else:
                pytest.fail("no image within four deliveries")
        finally:
            await images.aclose()
        assert fake.faults.summary().get(kind, 0) >= 1, "the fault was injected"
        assert Image.open(io.BytesIO(image.png)).size == (320, 180)
        assert not_failed(fake, FLUX_DEV) == ["succeeded"], fake.predictions()


async def refining_video(c: Connections) -> tuple[str, str]:
    user = (await seeding.user(c.db)).user_id
    return user, await seeding.video(c.db, user_id=user, status="refining")


@pytest.mark.parametrize("kind", REPLICATE_KINDS)
async def test_musicgen_tracks_come_through_each_fault(kind: str, connections: Connections) -> None:
    spec = common_pb2.Spec(archetype_id="feature_demo", duration_s=2, seed=3)
    with replicate_fake(faults(kind, seed=11)) as fake:
        config = MusicGenConfig(
            api_token=fake.token, version=f"{MUSICGEN}:0123", base_url=fake.url, backoff_s=0.05, poll_interval_s=0.02
        )
        music = MusicGen(connections, config, sample_rate=48_000)
        user, video = await refining_video(connections)
        try:
            if kind == "fail":  # refine then plays the synthesised bed and says why
                with pytest.raises(MusicGenFailed, match="illegal memory access"):
                    await music.track(video, user, spec)
                assert fake.faults.summary() == {"fail": 1}
                return
            audio = await music.track(video, user, spec)
        finally:
            await music.aclose()
        assert fake.faults.summary().get(kind, 0) >= 1, "the fault was injected"
        assert audio.shape == (2 * 48_000, 2) and np.isfinite(audio).all()
        assert not_failed(fake, MUSICGEN) == ["succeeded"], fake.predictions()
        stored = await connections.store.get_bytes(keys.music_key(user, video))
        with av.open(io.BytesIO(stored), mode="r") as container:  # what is kept for a redelivery is the whole file
            assert sum(f.samples for f in container.decode(audio=0)) == 2 * 32_000
        paid = await connections.db.fetchval("SELECT count(*) FROM cost_ledger WHERE video_id = $1", video)
        assert paid == 1


PLAN = {
    "archetype_id": "minimalist_reveal",
    "product_name": "ceramic mug",
    "brand": "",
    "call_to_action": "Order yours",
    "style": {"aesthetic": "clean, modern", "mood": "minimal"},
    "beats": [
        {"beat_id": "hero_shot", "duration_s": 5, "prompt": "a white mug on oak", "headline": "Mug", "subline": ""},
        {"beat_id": "call_to_action", "duration_s": 5, "prompt": "the mug centred", "headline": "Order", "subline": ""},
    ],
}


@pytest.mark.parametrize("kind", ["rate_limit", "server_error", "timeout"])
async def test_the_openai_planner_comes_through_each_fault(kind: str) -> None:
    fake = FakeOpenAI(Faults(rate=0.5, weights={kind: 1.0}, seed=4, retry_after_s=0.2, timeout_s=HELD_S), answer(PLAN))
    fake.start()
    try:
        client = openai.AsyncOpenAI(api_key="k", base_url=fake.base_url, max_retries=4, timeout=1.0)
        composer = OpenAiComposer(client, "gpt-4o-mini", TokenPrices(0.15, 0.60))
        request = PlanRequest(prompt="10 second ad for a ceramic mug", duration_s=10, creativity=0.5, seed=1)
        composed = None
        for _ in range(3):  # three plans: at a rate of one half, some of their requests are hit
            composed = await composer.compose(request)
            assert composed.planner == "openai gpt-4o-mini", composed.planner
        await client.close()
    finally:
        fake.stop()
    assert composed is not None and [b.beat_id for b in composed.plan.beats] == ["hero_shot", "call_to_action"]
    assert fake.faults.summary().get(kind, 0) >= 1, "the fault was injected"
    assert fake.answered == 3 + (fake.faults.summary().get("timeout", 0)), "each plan paid once (a late one too)"
