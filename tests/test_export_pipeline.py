"""Refine then export on real NATS, Postgres and S3: a failing music step ships a silent video with a
warning; export delivers final, poster and captions, cleans up, caches links; big files go multipart."""

from __future__ import annotations

from pathlib import Path

import av
import boto3
import httpx
import nats
import nats.js.errors
import numpy as np
import pytest
import seeding

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_embedded.infra import InfraEndpoints
from adgen_export.server import link_cache
from adgen_export.worker import Exporter
from adgen_kernel.jetstream import EVENTS_STREAM, WorkContext, event_subject, queued_work
from adgen_kernel.serve import Connections
from adgen_refine.worker import Refiner
from adgen_video import keys

pytestmark = pytest.mark.xdist_group("stack")

FPS = 24
WIDTH, HEIGHT = 192, 108


def spec() -> common_pb2.Spec:
    """Two beats of one second, the first in two chunks overlapping by 6 frames."""
    slots = [
        common_pb2.ChunkSlot(index=0, beat_index=0, start_frame=0, used_frames=16),
        common_pb2.ChunkSlot(
            index=1, beat_index=0, index_in_beat=1, start_frame=10, used_frames=14, overlap_in_frames=6
        ),
        common_pb2.ChunkSlot(index=2, beat_index=1, start_frame=24, used_frames=24),
    ]
    return common_pb2.Spec(
        archetype_id="luxury_showcase",
        duration_s=2,
        call_to_action="Shop now",
        style=common_pb2.Style(mood="warm"),
        beats=[
            common_pb2.Beat(index=0, start_s=0, duration_s=1, headline="Hello"),
            common_pb2.Beat(index=1, start_s=1, duration_s=1, headline="Goodbye"),
        ],
        chunk_plan=common_pb2.ChunkPlan(fps=FPS, total_frames=48, slots=slots),
        output=common_pb2.OutputFormat(width=WIDTH, height=HEIGHT, fps=FPS),
    )


def lossless_clip(path: Path, frames: int, level: int) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264rgb", rate=FPS, options={"crf": "0", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "rgb24"
        for k in range(frames):
            image = np.full((HEIGHT, WIDTH, 3), level, np.uint8)
            image[:, (2 * k) % WIDTH] = 255
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))
    return path


async def new_video(c: Connections, status: str) -> tuple[str, str]:
    user = (await seeding.user(c.db)).user_id
    return user, await seeding.video(c.db, user_id=user, status=status)


def no_music(_: common_pb2.Spec) -> np.ndarray:
    raise RuntimeError("synthesiser unavailable")


async def test_failed_music_ships_a_silent_video_with_a_warning_and_a_clean_export(
    connections: Connections, tmp_path: Path
) -> None:
    c = connections
    user, video = await new_video(c, "refining")
    plan = spec()
    for slot in plan.chunk_plan.slots:
        clip = lossless_clip(tmp_path / f"{slot.index}.mp4", slot.used_frames, 60 + 40 * slot.index)
        await c.store.put_file(keys.chunk_key(user, video, slot.index), clip, "video/mp4")

    refiner = Refiner(c, crf=20, preset="ultrafast", music=no_music)
    await refiner.handle(events_pb2.RefineWork(video_id=video, user_id=user, spec=plan), WorkContext(1, "test"))
    message = await c.js.get_last_msg(EVENTS_STREAM, event_subject(video, "phase_completed"))
    assert message.data is not None
    event = events_pb2.Event.FromString(message.data)
    assert event.phase_completed.phase == common_pb2.PHASE_REFINE
    assert (
        "music failed" in event.phase_completed.warning and "synthesiser unavailable" in event.phase_completed.warning
    )

    exporter = Exporter(c, url_ttl_s=3600, keep_intermediates=False, links=await link_cache(c, 3600))
    refined = keys.refined_key(user, video)
    await exporter.handle(
        events_pb2.ExportWork(video_id=video, user_id=user, spec=plan, refined_key=refined), WorkContext(1, "test")
    )
    row = await c.db.fetchrow("SELECT status, final_key, poster_key FROM videos WHERE video_id = $1", video)
    assert row is not None
    assert row["status"] == "completed" and row["final_key"] == keys.final_key(user, video)

    final = tmp_path / "final.mp4"
    await c.store.download_file(row["final_key"], final)
    with av.open(str(final)) as container:
        assert not container.streams.audio, "silent: no audio stream at all"
        frames = list(container.decode(video=0))
    assert len(frames) == 48 and (frames[0].width, frames[0].height) == (WIDTH, HEIGHT)
    assert (await c.store.get_bytes(row["poster_key"]))[:2] == b"\xff\xd8"
    vtt = (await c.store.get_bytes(keys.captions_key(user, video))).decode()
    # The 1 s closing beat is too short for its own line beside the end card: the card's CTA is the cue.
    assert vtt.startswith("WEBVTT") and "Hello" in vtt and "Shop now" in vtt
    left = await c.store.list_keys(keys.chunks_prefix(user, video))
    assert not set(left) & set(keys.refined_keys(user, video, [""])), "the refined video and its sidecar are deleted"
    assert keys.chunk_key(user, video, 0) in left, "the clips stay: a new version is made from them"

    url, expires = await exporter.download_url(video, user)
    again, expires_again = await exporter.download_url(video, user)
    assert (again, expires_again) == (url, expires), "the second request reuses the cached link"
    links = await c.js.key_value("adgen_urls")
    cached = (await links.get(f"{video}.v1")).value
    assert cached is not None and url.encode() in cached
    status = await links.status()
    assert status.ttl is not None and status.ttl <= 3600 - 300
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200 and response.content == final.read_bytes()


async def test_kept_intermediates_and_a_large_final_uploaded_in_parts(
    connections: Connections, infra: InfraEndpoints, tmp_path: Path
) -> None:
    c = connections
    user, video = await new_video(c, "exporting")
    # Noise does not compress: 24 lossless frames at 720p are well over the 8 MiB multipart threshold.
    big = tmp_path / "big.mp4"
    rng = np.random.default_rng(0)
    with av.open(str(big), "w") as out:
        stream = out.add_stream("libx264rgb", rate=FPS, options={"crf": "0", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "rgb24"
        for _ in range(6):
            noise = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(noise, format="rgb24")))
        out.mux(stream.encode(None))
    assert big.stat().st_size > 8 * 1024 * 1024
    refined = keys.refined_key(user, video)
    await c.store.put_file(refined, big, "video/mp4")

    exporter = Exporter(c, url_ttl_s=600, keep_intermediates=True, links=await link_cache(c, 600))
    await exporter.handle(
        events_pb2.ExportWork(video_id=video, user_id=user, spec=spec(), refined_key=refined), WorkContext(1, "test")
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=infra.s3_endpoint,
        aws_access_key_id=infra.s3_access_key,
        aws_secret_access_key=infra.s3_secret_key,
        region_name=infra.s3_region,
    )
    head = s3.head_object(Bucket=infra.s3_bucket, Key=keys.final_key(user, video))
    assert "-" in head["ETag"], "a multipart upload's ETag counts its parts"
    assert head["ContentLength"] == big.stat().st_size
    assert await c.store.exists(refined), "ADGEN_KEEP_INTERMEDIATES keeps the refined video"
    assert not await c.store.exists(keys.captions_key(user, video)), "no sidecar was made, none is invented"


async def test_a_video_cancelled_while_it_exports_is_not_announced_and_keeps_its_chunks(
    connections: Connections, tmp_path: Path
) -> None:
    c = connections
    user, video = await new_video(c, "exporting")
    plan = spec()
    clip = lossless_clip(tmp_path / "refined.mp4", 48, 90)
    refined = keys.refined_key(user, video)
    await c.store.put_file(refined, clip, "video/mp4")
    await c.store.put_file(keys.chunk_key(user, video, 0), clip, "video/mp4")

    class CancelledMidway(Exporter):
        async def export(self, *args, **kwargs):
            published = await super().export(*args, **kwargs)
            # The owner cancels while the final is uploading.
            await c.db.execute("UPDATE videos SET status = 'cancelled' WHERE video_id = $1", video)
            return published

    exporter = CancelledMidway(c, url_ttl_s=600, keep_intermediates=False, links=await link_cache(c, 600))
    await exporter.handle(
        events_pb2.ExportWork(video_id=video, user_id=user, spec=plan, refined_key=refined), WorkContext(1, "test")
    )
    assert await c.db.fetchval("SELECT status FROM videos WHERE video_id = $1", video) == "cancelled"
    with pytest.raises(nats.js.errors.NotFoundError):
        await c.js.get_last_msg(EVENTS_STREAM, event_subject(video, "video_completed"))
    assert await c.store.exists(keys.chunk_key(user, video, 0)), "the chunks stay for a retry"


async def test_a_refine_that_finishes_after_its_video_was_exported_leaves_nothing_behind(
    connections: Connections, tmp_path: Path
) -> None:
    """After the work stream was lost, the reconciler may re-enqueue a refine that is still running;
    the first delivery's export completes the video and cleans up while the second renders. The
    second's output would then be orphaned: it is discarded and no second export is asked for."""
    c = connections
    user, video = await new_video(c, "refining")
    plan = spec()
    for slot in plan.chunk_plan.slots:
        clip = lossless_clip(tmp_path / f"{slot.index}.mp4", slot.used_frames, 60 + 40 * slot.index)
        await c.store.put_file(keys.chunk_key(user, video, slot.index), clip, "video/mp4")

    class OvertakenByExport(Refiner):
        async def refine(self, *args, **kwargs):
            refined = await super().refine(*args, **kwargs)
            # The other delivery's export finishes now: the video is completed, its chunks deleted.
            await c.db.execute("UPDATE videos SET status = 'completed' WHERE video_id = $1", video)
            await c.store.delete(*(keys.chunk_key(user, video, s.index) for s in plan.chunk_plan.slots))
            return refined

    refiner = OvertakenByExport(c, crf=20, preset="ultrafast", music=no_music)
    await refiner.handle(events_pb2.RefineWork(video_id=video, user_id=user, spec=plan), WorkContext(1, "test"))
    assert await c.store.list_keys(keys.chunks_prefix(user, video)) == [], "no orphaned intermediate"
    assert await queued_work(c.js, video) == 0, "no second export"
