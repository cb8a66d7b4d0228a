"""Accepting videos and reading their state, independent of REST or gRPC."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import nats.errors
import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from adgen.common.v1 import common_pb2 as c
from adgen.events.v1 import events_pb2
from adgen_gateway.progress import TERMINAL, fold
from adgen_kernel.jetstream import EVENTS_STREAM, PROGRESS_BUCKET, publish_work
from adgen_kernel.video_state import cost_of, from_json, to_json

STATUS = {
    "queued": c.VIDEO_STATUS_QUEUED,
    "planning": c.VIDEO_STATUS_PLANNING,
    "rendering": c.VIDEO_STATUS_RENDERING,
    "refining": c.VIDEO_STATUS_REFINING,
    "exporting": c.VIDEO_STATUS_EXPORTING,
    "completed": c.VIDEO_STATUS_COMPLETED,
    "failed": c.VIDEO_STATUS_FAILED,
}


class TooManyActiveVideos(Exception):
    def __init__(self, active_ids: list[str], limit: int) -> None:
        super().__init__(f"{len(active_ids)} active")
        self.active_ids = active_ids
        self.limit = limit


@dataclass(frozen=True)
class VideoView:
    video_id: str
    status: str
    request: c.VideoRequest
    spec: c.Spec | None
    progress: c.Progress
    cost: c.Cost
    error: str
    created_at: str
    completed_at: str


async def create_video(
    db: asyncpg.Pool, js: JetStreamContext, *, user_id: str, max_active: int, request: c.VideoRequest
) -> str:
    """Records the video and enqueues its plan. The per-user limit is checked under a lock on the
    user's row, so two simultaneous requests cannot both slip under it."""
    video_id = str(uuid.uuid4())
    async with db.acquire() as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM users WHERE user_id = $1 FOR UPDATE", user_id)
        active = await conn.fetch(
            "SELECT video_id FROM videos WHERE user_id = $1 AND status NOT IN ('completed', 'failed')", user_id
        )
        if len(active) >= max_active:
            raise TooManyActiveVideos([str(r["video_id"]) for r in active], max_active)
        await conn.execute(
            "INSERT INTO videos (video_id, user_id, status, request) VALUES ($1, $2, 'queued', $3)",
            video_id,
            user_id,
            to_json(request),
        )
        # Enqueued inside the transaction: if the publish fails, the row is rolled back with it.
        await publish_work(
            js, "plan", events_pb2.PlanWork(video_id=video_id, user_id=user_id, request=request), f"{video_id}:plan"
        )
    return video_id


async def stored_progress(js: JetStreamContext, video_id: str) -> c.Progress | None:
    kv = await js.key_value(PROGRESS_BUCKET)
    try:
        entry = await kv.get(video_id)
    except nats.js.errors.KeyNotFoundError:
        return None
    return c.Progress.FromString(entry.value) if entry and entry.value else None


async def save_progress(js: JetStreamContext, event: events_pb2.Event) -> None:
    """Folds one event into the KV snapshot; compare-and-set so concurrent projectors lose nothing."""
    kv = await js.key_value(PROGRESS_BUCKET)
    for _ in range(10):
        try:
            entry = await kv.get(event.video_id)
            current, revision = c.Progress.FromString(entry.value or b""), entry.revision
        except nats.js.errors.KeyNotFoundError:
            current, revision = c.Progress(), None
        updated = fold(current, event).SerializeToString()
        try:
            if revision is None:
                await kv.create(event.video_id, updated)
            else:
                await kv.update(event.video_id, updated, last=revision)
            return
        except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.BadRequestError, nats.js.errors.APIError):
            await asyncio.sleep(0.01)
    raise RuntimeError(f"progress of {event.video_id} kept changing; giving up this update")


def _progress_from_row(row: asyncpg.Record) -> c.Progress:
    status = STATUS[row["status"]]
    progress = c.Progress(video_id=str(row["video_id"]), status=status)
    if status == c.VIDEO_STATUS_COMPLETED:
        progress.percent = 100.0
        progress.message = "done"
    elif status == c.VIDEO_STATUS_FAILED:
        progress.error = row["error"] or ""
        progress.message = f"failed: {progress.error}"
    else:
        progress.message = row["status"]
    return progress


async def get_video(db: asyncpg.Pool, js: JetStreamContext, *, user_id: str, video_id: str) -> VideoView | None:
    row = await db.fetchrow("SELECT * FROM videos WHERE video_id = $1 AND user_id = $2", video_id, user_id)
    if row is None:
        return None
    progress = await stored_progress(js, video_id)
    from_row = _progress_from_row(row)
    if progress is None or (from_row.status in TERMINAL and progress.status not in TERMINAL):
        progress = from_row
        kv = await js.key_value(PROGRESS_BUCKET)
        await kv.put(video_id, progress.SerializeToString())
    spec = from_json(row["spec"], c.Spec()) if row["spec"] else None
    return VideoView(
        video_id=video_id,
        status=row["status"],
        request=from_json(row["request"], c.VideoRequest()),
        spec=spec,
        progress=progress,
        cost=await cost_of(db, video_id),
        error=row["error"] or "",
        created_at=row["created_at"].isoformat(),
        completed_at=row["completed_at"].isoformat() if row["completed_at"] else "",
    )


@dataclass(frozen=True)
class StreamedEvent:
    sequence: int
    event: events_pb2.Event
    progress: c.Progress


async def watch_events(
    js: JetStreamContext, video_id: str, *, after_sequence: int = 0, start: c.Progress | None = None
) -> AsyncIterator[StreamedEvent]:
    """The video's events from the stream, in order, each with the progress folded so far, until
    the terminal one. Resuming after a sequence starts from the stored snapshot."""
    deliver = (
        ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after_sequence + 1)
        if after_sequence
        else ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    subscription = await js.subscribe(
        f"adgen.events.{video_id}.>", stream=EVENTS_STREAM, ordered_consumer=True, config=deliver
    )
    progress = start or c.Progress(video_id=video_id)
    try:
        while True:
            try:
                msg = await subscription.next_msg(timeout=30)
            except nats.errors.TimeoutError:
                continue
            event = events_pb2.Event.FromString(msg.data)
            progress = fold(progress, event)
            yield StreamedEvent(msg.metadata.sequence.stream, event, progress)
            if progress.status in TERMINAL:
                return
    finally:
        await subscription.unsubscribe()


def event_json(streamed: StreamedEvent) -> str:
    return json.dumps({"event": to_json(streamed.event), "progress": to_json(streamed.progress)})
