"""The music bed from MusicGen through the real `replicate` SDK against the local fake Replicate
server, on real NATS, Postgres and S3: the track fits the video at the delivered loudness, is paid
for once, and any failure leaves a completed video with the synthesised bed and a warning."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import av
import numpy as np
import pydantic
import pyloudnorm
import pytest
import seeding
from fakes.replicate_api import FakeReplicate, Output, Script, audio_output
from media_checks import decode

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_kernel.jetstream import EVENTS_STREAM, WorkContext, event_subject
from adgen_kernel.serve import Connections
from adgen_providers.replicate_tags import TAG_INPUT
from adgen_refine.loudness import true_peak
from adgen_refine.musicgen import MUSICGEN, MusicGen, MusicGenConfig, MusicGenFailed
from adgen_refine.settings import RefineSettings
from adgen_refine.worker import SAMPLE_RATE, Refiner
from adgen_video import keys

pytestmark = pytest.mark.xdist_group("stack")

VERSION = f"{MUSICGEN}:0123456789abcdef"
FPS = 24
W, H = 192, 108


def musicgen_config(fake: FakeReplicate, request_timeout_s: float = 30.0) -> MusicGenConfig:
    """MusicGen on `fake`, polling and backing off in milliseconds."""
    return MusicGenConfig(
        api_token=fake.token,
        version=VERSION,
        base_url=fake.url,
        backoff_s=0.05,
        poll_interval_s=0.02,
        timeout_s=30,
        request_timeout_s=request_timeout_s,
    )


@pytest.fixture
async def musicgen(connections: Connections, fake: FakeReplicate) -> AsyncIterator[MusicGen]:
    generator = MusicGen(connections, musicgen_config(fake), sample_rate=SAMPLE_RATE)
    try:
        yield generator
    finally:
        await generator.aclose()


def spec(duration_s: int = 2) -> common_pb2.Spec:
    """Two beats (calm, then intense) over ``duration_s`` seconds, one chunk each."""
    half = duration_s * FPS // 2
    return common_pb2.Spec(
        archetype_id="energetic_lifestyle",
        duration_s=duration_s,
        seed=11,
        style=common_pb2.Style(mood="playful"),
        beats=[
            common_pb2.Beat(index=0, start_s=0, duration_s=duration_s // 2, energy=common_pb2.ENERGY_LOW),
            common_pb2.Beat(
                index=1, start_s=duration_s // 2, duration_s=duration_s // 2, energy=common_pb2.ENERGY_HIGH
            ),
        ],
        chunk_plan=common_pb2.ChunkPlan(
            fps=FPS,
            total_frames=2 * half,
            slots=[
                common_pb2.ChunkSlot(index=0, beat_index=0, start_frame=0, used_frames=half),
                common_pb2.ChunkSlot(index=1, beat_index=1, start_frame=half, used_frames=half),
            ],
        ),
        output=common_pb2.OutputFormat(width=W, height=H, fps=FPS),
    )


async def new_video(c: Connections, status: str = "refining") -> tuple[str, str]:
    user = await seeding.user(c.db)
    return user.user_id, await seeding.video(c.db, user_id=user.user_id, status=status)


async def ledger(c: Connections, video: str) -> list[tuple[str, str, int]]:
    rows = await c.db.fetch("SELECT provider, model, usd_micros FROM cost_ledger WHERE video_id = $1", video)
    return [(r["provider"], r["model"], r["usd_micros"]) for r in rows]


async def test_a_track_fits_the_video_at_the_delivered_loudness_and_is_paid_once(
    connections: Connections, fake: FakeReplicate, musicgen: MusicGen
) -> None:
    user, video = await new_video(connections)
    before = len(fake.create_requests(MUSICGEN))
    audio = await musicgen.track(video, user, spec(3))

    assert audio.shape == (3 * SAMPLE_RATE, 2) and audio.dtype == np.float32
    assert pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(audio.astype(np.float64)) == pytest.approx(-14, abs=1)
    assert 20 * np.log10(true_peak(audio)) <= -1.0 + 1e-6
    assert np.abs(audio[:10]).max() < 0.01 and np.abs(audio[-10:]).max() < 0.01, "faded in and out"
    (sent,) = fake.create_requests(MUSICGEN)[before:]
    assert sent.body["version"] == VERSION
    inputs = sent.body["input"]
    assert inputs["duration"] == 3 and inputs["output_format"] == "wav" and inputs["seed"] == 11
    assert "pop" in inputs["prompt"] and "playful" in inputs["prompt"] and "calm then intense" in inputs["prompt"]
    assert "no vocals" in inputs["prompt"]
    assert await ledger(connections, video) == [("replicate", MUSICGEN, 150_000)]

    again = await musicgen.track(video, user, spec(3))  # a redelivered refine
    assert len(fake.create_requests(MUSICGEN)) == before + 1, "no second prediction"
    assert np.array_equal(again, audio)
    assert await ledger(connections, video) == [("replicate", MUSICGEN, 150_000)], "paid once"


async def test_a_prediction_a_crashed_attempt_created_is_polled_not_created_again(
    connections: Connections, fake: FakeReplicate, musicgen: MusicGen
) -> None:
    user, video = await new_video(connections)
    await musicgen.track(video, user, spec())
    # As if the worker died after the create answered but before the track was stored.
    await connections.store.delete(keys.music_key(user, video))
    before = len(fake.create_requests(MUSICGEN))
    audio = await musicgen.track(video, user, spec())
    assert len(fake.create_requests(MUSICGEN)) == before and audio.shape == (2 * SAMPLE_RATE, 2)
    assert len(await ledger(connections, video)) == 1


@pytest.mark.parametrize(
    "lost",
    [Script("lost", status=502), Script("succeed", answer_delay_s=1.5)],
    ids=["answered-5xx", "answer-held-past-the-request-timeout"],
)
async def test_a_create_whose_answer_is_lost_is_found_by_its_tag_not_posted_again(
    connections: Connections, fake: FakeReplicate, lost: Script
) -> None:
    musicgen = MusicGen(connections, musicgen_config(fake, request_timeout_s=0.5), sample_rate=SAMPLE_RATE)
    user, video = await new_video(connections)
    before, requests_before = len(fake.create_requests(MUSICGEN)), len(fake.requests)
    fake.script(MUSICGEN, lost)
    try:
        audio = await musicgen.track(video, user, spec())
    finally:
        await musicgen.aclose()

    (sent,) = fake.create_requests(MUSICGEN)[before:]
    assert sent.body["input"][TAG_INPUT] == f"{video}:music"
    listed = [r for r in fake.requests[requests_before:] if r.method == "GET" and r.path == "/v1/predictions"]
    assert listed, "the lost create was looked up by its tag"
    assert [status for _, tag, status in fake.predictions() if tag == f"{video}:music"] == ["succeeded"]
    assert audio.shape == (2 * SAMPLE_RATE, 2) and float(np.abs(audio).max()) > 0.1, "the music arrived"
    assert await ledger(connections, video) == [("replicate", MUSICGEN, 150_000)]


async def test_throttled_then_served_honours_retry_after(
    connections: Connections, fake: FakeReplicate, musicgen: MusicGen
) -> None:
    user, video = await new_video(connections)
    before = len(fake.create_requests(MUSICGEN))
    fake.script(MUSICGEN, Script("rate_limit", retry_after=1), Script("succeed"))
    audio = await musicgen.track(video, user, spec())
    assert len(fake.create_requests(MUSICGEN)) == before + 2, "the 429 was retried"
    assert audio.shape == (2 * SAMPLE_RATE, 2)
    assert await ledger(connections, video) == [("replicate", MUSICGEN, 150_000)]


@pytest.mark.parametrize(
    ("scripts", "output", "reason"),
    [
        ([Script("fail", error="CUDA out of memory")], None, "CUDA out of memory"),
        ([Script("server_error")] * 4, None, "HTTP 500"),
        ([], Output(lambda _: b"RIFF this is not a wav file", "audio/wav", "wav", as_list=False), "decode"),
    ],
    ids=["failed-prediction", "5xx-after-retries", "undecodable"],
)
async def test_a_musicgen_failure_ships_the_synthesised_bed_and_says_why(
    connections: Connections,
    fake: FakeReplicate,
    musicgen: MusicGen,
    tmp_path: Path,
    scripts: list[Script],
    output: Output | None,
    reason: str,
) -> None:
    c = connections
    user, video = await new_video(c)
    plan = spec()
    for slot in plan.chunk_plan.slots:
        path = tmp_path / f"{slot.index}.mp4"
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264rgb", rate=FPS, options={"crf": "0", "preset": "ultrafast"})
            stream.width, stream.height, stream.pix_fmt = W, H, "rgb24"
            for _ in range(slot.used_frames):
                image = np.full((H, W, 3), 90 + 60 * slot.index, np.uint8)
                out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            out.mux(stream.encode(None))
        await c.store.put_file(keys.chunk_key(user, video, slot.index), path, "video/mp4")
    fake.script(MUSICGEN, *scripts)
    if output is not None:
        fake.set_output(MUSICGEN, output)
    try:
        refiner = Refiner(c, crf=20, preset="ultrafast", musicgen=musicgen)
        await refiner.handle(events_pb2.RefineWork(video_id=video, user_id=user, spec=plan), WorkContext(1, "test"))
    finally:
        fake.set_output(MUSICGEN, audio_output())

    message = await c.js.get_last_msg(EVENTS_STREAM, event_subject(video, "phase_completed"))
    assert message.data is not None
    warning = events_pb2.Event.FromString(message.data).phase_completed.warning
    assert "MusicGen failed" in warning and reason in warning and "synthesised" in warning, warning
    # Refine writes no video row: the status stays where the test put it, not failed.
    assert await c.db.fetchval("SELECT status FROM videos WHERE video_id = $1", video) == "refining"
    refined = tmp_path / "refined.mp4"
    await c.store.download_file(keys.refined_key(user, video), refined)
    decoded = decode(refined)
    assert decoded.frame_count == 48 and decoded.audio_streams == 1 and decoded.audio_rms > 0.01, "the synth plays"
    paid = await ledger(c, video)
    assert paid == ([("replicate", MUSICGEN, 150_000)] if output is not None else []), "a failed call is not billed"


async def test_a_failed_prediction_raises_what_replicate_said(
    connections: Connections, fake: FakeReplicate, musicgen: MusicGen
) -> None:
    user, video = await new_video(connections)
    fake.script(MUSICGEN, Script("cancel"))
    with pytest.raises(MusicGenFailed, match="was canceled"):
        await musicgen.track(video, user, spec())


def test_replicate_music_needs_a_token() -> None:
    required = {
        "nats_url": "nats://127.0.0.1:4222",
        "database_url": "postgresql://u@127.0.0.1/adgen",
        "s3_endpoint": "http://127.0.0.1:8333",
        "s3_access_key": "a",
        "s3_secret_key": "b",
    }
    with pytest.raises(pydantic.ValidationError, match="ADGEN_REPLICATE_API_TOKEN"):
        RefineSettings(music_provider="replicate", **required)  # type: ignore[arg-type]
    settings = RefineSettings(music_provider="replicate", replicate_api_token="r8_x", **required)  # type: ignore[arg-type]
    assert MusicGenConfig.from_settings(settings).version.startswith("meta/musicgen:")
