"""The Replicate image-to-video provider against a local server speaking Replicate's API: the clip it
stores, and that no failure, crash or lost answer makes it create (and pay for) a second prediction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fakes.replicate_api import FakeReplicate, Script, data_uri_image, video_output

from adgen_chunks.chunk_plan import clip_frames_for
from adgen_chunks.clip_conform import source_index
from adgen_chunks.clip_io import read_frames
from adgen_chunks.model_registry import REGISTRY, VideoModel
from adgen_chunks.providers import ClipProviders, ClipRequest, StudioClips
from adgen_chunks.replicate_video import ReplicateVideo, ReplicateVideoConfig
from adgen_kernel.errors import FailedPrecondition, is_retryable
from adgen_providers.prediction_record import RecordedPrediction
from adgen_providers.replicate_predictions import PredictionRefused, ProviderUnavailable
from adgen_providers.replicate_tags import TAG_INPUT

HAILUO = REGISTRY["hailuo_fast"]
FAKE_SIZE = (342, 192)  # a quarter of hailuo's 1366×768 keeps the fake's encodes fast
WIDTH, HEIGHT, FPS = 160, 90, 24
CLIP_FRAMES = clip_frames_for(HAILUO.clip_s, FPS)  # 144
HANDOFF = 108


@dataclass
class MemoryRecord:
    """The chunk row's two prediction columns, kept in memory for provider-only tests."""

    prediction_id: str | None = None
    tag: str | None = None

    async def load(self) -> RecordedPrediction:
        return RecordedPrediction(self.prediction_id, self.tag)

    async def begin(self, tag: str) -> None:
        self.prediction_id, self.tag = None, tag

    async def created(self, prediction_id: str) -> None:
        self.prediction_id = prediction_id

    async def forget(self) -> None:
        self.prediction_id = self.tag = None


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeReplicate]:
    with FakeReplicate() as server:
        for model in (HAILUO, REGISTRY["hailuo_23"]):
            server.set_output(
                model.replicate_model, video_output(model.image_input, model.clip_s, model.fps, FAKE_SIZE)
            )
        yield server


def provider(fake: FakeReplicate, **overrides: float) -> ReplicateVideo:
    config = dict(poll_interval_s=0.01, longest_poll_s=0.05, backoff_s=0.01, request_timeout_s=5.0, timeout_s=60.0)
    config.update(overrides)
    return ReplicateVideo(ReplicateVideoConfig(api_token=fake.token, base_url=fake.url, **config))  # type: ignore[arg-type]


def init_frame() -> np.ndarray:
    """A dark frame with one bright vertical bar at x = 20, so motion can be measured."""
    image = np.full((HEIGHT, WIDTH, 3), 30, np.uint8)
    image[:, 18:23] = 240
    image[10:30, 100:140] = (200, 40, 40)
    return image


def request(record: MemoryRecord, model: VideoModel = HAILUO, handoff: int = HANDOFF) -> ClipRequest:
    return ClipRequest(
        unit=f"{uuid.uuid4()}:chunk:0",
        model=model,
        init=init_frame(),
        prompt="cinematic close-up of a titanium watch",
        camera_movement="slow_dolly_in",
        fps=FPS,
        clip_frames=CLIP_FRAMES,
        used_frames=CLIP_FRAMES,
        handoff_frame=handoff,
        beat_frames=120,
        beat_offset_frames=0,
        seed=1,
        record=record,
    )


def bar_x(frame: np.ndarray) -> float:
    return float(np.argmax(frame[40:, :, :].astype(int).sum(axis=(0, 2))))


async def test_the_clip_is_the_models_clip_at_the_plans_rate_and_size(fake: FakeReplicate, tmp_path: Path) -> None:
    video = provider(fake, timeout_s=300)
    record = MemoryRecord()
    ask = request(record)
    try:
        clip = await video.clip_for(ask, tmp_path / "clip.mp4")
    finally:
        await video.aclose()

    [create] = [r for r in fake.create_requests(HAILUO.replicate_model) if r.body["input"][TAG_INPUT] == ask.unit]
    sent = create.body["input"]
    assert np.array_equal(data_uri_image(sent["first_frame_image"]), ask.init)  # lossless PNG of the init frame
    assert (sent["prompt"], sent["duration"]) == (ask.prompt, 6)
    assert create.cancel_after == "300s"
    assert record.prediction_id is not None and record.tag == ask.unit
    assert (clip.provider, clip.model, clip.usd_micros) == ("replicate", "minimax/hailuo-2.3-fast", 190_000)

    frames = list(read_frames(tmp_path / "clip.mp4"))
    assert len(frames) == CLIP_FRAMES == 144  # 180 frames at 30 fps → 144 at 24 fps
    assert frames[0].shape == (HEIGHT, WIDTH, 3)
    assert clip.handoff is not None and np.array_equal(clip.handoff, frames[HANDOFF])  # stored losslessly
    assert np.abs(frames[0].astype(int) - ask.init.astype(int)).mean() < 6
    # Source frame k moved the bar k pixels at 342 px wide; output frame i shows source frame ⌊1.25 i⌋.
    for i in (0, 40, 100, 143):
        expected = 20 + source_index(i, HAILUO.fps, FPS) * WIDTH / FAKE_SIZE[0]
        assert abs(bar_x(frames[i]) - expected) <= 1.5, i


def test_resampling_30_to_24_fps_keeps_the_speed_of_motion() -> None:
    assert [source_index(i, 30, 24) for i in range(6)] == [0, 1, 2, 3, 5, 6]
    assert source_index(143, 30, 24) == 178  # the last output frame is inside the 180-frame clip


async def test_a_worker_cancelled_mid_poll_resumes_the_same_prediction(fake: FakeReplicate, tmp_path: Path) -> None:
    fake.script(HAILUO.replicate_model, Script("succeed", polls=40))
    record = MemoryRecord()
    ask = request(record)
    first = provider(fake)
    task = asyncio.create_task(first.clip_for(ask, tmp_path / "a.mp4"))
    while record.prediction_id is None or fake.polls(record.prediction_id) < 3:
        await asyncio.sleep(0.01)
    paid = record.prediction_id
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await first.aclose()

    second = provider(fake)
    try:
        clip = await second.clip_for(ask, tmp_path / "b.mp4")
    finally:
        await second.aclose()
    tagged = [i for i in fake.created(HAILUO.replicate_model) if i[TAG_INPUT] == ask.unit]
    assert len(tagged) == 1
    assert record.prediction_id == paid
    assert fake.polls(paid) == 40  # every poll went to the one prediction, to its end
    assert clip.handoff is not None


async def test_a_create_whose_answer_is_lost_is_found_by_its_tag(fake: FakeReplicate, tmp_path: Path) -> None:
    fake.script(HAILUO.replicate_model, Script("succeed", answer_delay_s=1.5))
    record = MemoryRecord()
    ask = request(record)
    video = provider(fake, request_timeout_s=0.3)
    before = len(fake.requests)
    try:
        await video.clip_for(ask, tmp_path / "clip.mp4")
    finally:
        await video.aclose()
    tagged = [i for i in fake.created(HAILUO.replicate_model) if i[TAG_INPUT] == ask.unit]
    assert len(tagged) == 1
    listed = [r for r in fake.requests[before:] if r.method == "GET" and r.path == "/v1/predictions"]
    assert listed, "the lost create was looked up"
    assert record.prediction_id is not None


async def test_a_restarted_worker_with_only_a_tag_finds_the_prediction(fake: FakeReplicate, tmp_path: Path) -> None:
    """A worker that died between sending the create and hearing its answer left only the tag."""
    fake.page_size = 2  # the prediction is on a later page
    record = MemoryRecord()
    ask = request(record)
    fake.script(HAILUO.replicate_model, Script("succeed", answer_delay_s=1.5))
    first = provider(fake, request_timeout_s=5.0)
    task = asyncio.create_task(first.clip_for(ask, tmp_path / "a.mp4"))
    while not [i for i in fake.created(HAILUO.replicate_model) if i[TAG_INPUT] == ask.unit]:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await first.aclose()
    assert record.prediction_id is None and record.tag == ask.unit
    # other work creates predictions meanwhile, so the lost one is no longer on the first page
    other = provider(fake)
    try:
        for _ in range(3):
            await other.clip_for(request(MemoryRecord()), tmp_path / "other.mp4")
        await other.clip_for(ask, tmp_path / "b.mp4")
    finally:
        fake.page_size = 100
        await other.aclose()
    assert len([i for i in fake.created(HAILUO.replicate_model) if i[TAG_INPUT] == ask.unit]) == 1
    assert record.prediction_id is not None


async def test_throttled_creates_wait_and_succeed(fake: FakeReplicate, tmp_path: Path) -> None:
    fake.script(HAILUO.replicate_model, Script("rate_limit", retry_after=1), Script("succeed"))
    record = MemoryRecord()
    ask = request(record)
    before = len(fake.create_requests(HAILUO.replicate_model))
    video = provider(fake)
    try:
        clip = await video.clip_for(ask, tmp_path / "clip.mp4")
    finally:
        await video.aclose()
    assert len(fake.create_requests(HAILUO.replicate_model)) - before == 2  # the 429, then the create
    assert [i[TAG_INPUT] for i in fake.created(HAILUO.replicate_model)].count(ask.unit) == 2
    assert clip.usd_micros == 190_000


async def test_a_crashed_prediction_is_retryable_and_the_retry_creates_a_new_one(
    fake: FakeReplicate, tmp_path: Path
) -> None:
    fake.script(HAILUO.replicate_model, Script("fail", error="CUDA error: out of memory"))
    record = MemoryRecord()
    ask = request(record)
    video = provider(fake)
    try:
        with pytest.raises(ProviderUnavailable, match="failed: CUDA error: out of memory") as raised:
            await video.clip_for(ask, tmp_path / "clip.mp4")
        assert is_retryable(raised.value)
        assert record == MemoryRecord()  # forgotten: nothing to resume
        await video.clip_for(ask, tmp_path / "clip.mp4")
    finally:
        await video.aclose()
    assert [i[TAG_INPUT] for i in fake.created(HAILUO.replicate_model)].count(ask.unit) == 2


async def test_a_refused_input_is_a_permanent_error(fake: FakeReplicate, tmp_path: Path) -> None:
    fake.script(HAILUO.replicate_model, Script("fail", error="Input image was flagged as sensitive (E005)"))
    video = provider(fake)
    try:
        with pytest.raises(PredictionRefused, match="flagged as sensitive") as raised:
            await video.clip_for(request(MemoryRecord()), tmp_path / "clip.mp4")
    finally:
        await video.aclose()
    assert not is_retryable(raised.value)


async def test_a_clip_too_short_for_the_chunk_is_refused_with_the_counts(fake: FakeReplicate, tmp_path: Path) -> None:
    model = REGISTRY["hailuo_23"]
    fake.set_output(model.replicate_model, video_output(model.image_input, 2.0, 30, FAKE_SIZE))
    video = provider(fake)
    try:
        with pytest.raises(PredictionRefused, match="returned 60 frames at 30 fps, 48 at 24 fps; the chunk needs 144"):
            await video.clip_for(request(MemoryRecord(), model, handoff=-1), tmp_path / "clip.mp4")
    finally:
        fake.set_output(model.replicate_model, video_output(model.image_input, model.clip_s, model.fps, FAKE_SIZE))
        await video.aclose()


async def test_predictions_of_one_model_run_at_most_concurrency_at_once(fake: FakeReplicate, tmp_path: Path) -> None:
    fake.script(HAILUO.replicate_model, *[Script("succeed", polls=5)] * 3)
    video = provider(fake, concurrency=1)
    fake.max_active = 0
    try:
        await asyncio.gather(*(video.clip_for(request(MemoryRecord()), tmp_path / f"{i}.mp4") for i in range(3)))
    finally:
        await video.aclose()
    assert fake.max_active == 1


def test_only_configured_image_to_video_models_are_offered() -> None:
    studio_only = ClipProviders(StudioClips())
    assert studio_only.for_model(REGISTRY["studio"]) is studio_only.studio
    with pytest.raises(FailedPrecondition, match="'hailuo_fast' has no provider configured"):
        studio_only.for_model(HAILUO)
    with_replicate = ClipProviders(StudioClips(), StudioClips())
    with pytest.raises(FailedPrecondition, match="'zeroscope' cannot start from an init frame"):
        with_replicate.for_model(REGISTRY["zeroscope"])
