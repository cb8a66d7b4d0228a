"""Enqueues a video's ready units again from what Postgres knows (see ready_units for the decision)."""

from __future__ import annotations

import asyncpg
from google.protobuf.message import Message
from nats.js import JetStreamContext

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_kernel.db import Db
from adgen_kernel.jetstream import publish_work
from adgen_video.ready_units import ChunkState, Unit, VideoWork, ready_units
from adgen_video.unit_rows import take_of
from adgen_video.video_state import from_json, msg_id


async def load_work(db: Db, video_id: str) -> VideoWork:
    video = await db.fetchrow(
        "SELECT spec IS NOT NULL AS planned, review_gate FROM videos WHERE video_id = $1", video_id
    )
    frames = await db.fetch("SELECT beat_index, status FROM frames WHERE video_id = $1", video_id)
    chunks = await db.fetch(
        "SELECT chunk_index, beat_index, status FROM chunks WHERE video_id = $1 ORDER BY chunk_index", video_id
    )
    lines = await db.fetch("SELECT beat_index, status FROM voice_lines WHERE video_id = $1", video_id)
    return VideoWork(
        planned=bool(video and video["planned"]),
        frames_done={r["beat_index"]: r["status"] == "done" for r in frames},
        chunks=tuple(ChunkState(r["chunk_index"], r["beat_index"], r["status"] == "done") for r in chunks),
        lines_done={r["beat_index"]: r["status"] == "done" for r in lines},
        gate=video["review_gate"] if video else None,
    )


async def ready_units_of(db: Db, video_id: str) -> list[Unit]:
    return ready_units(await load_work(db, video_id))


def voice_work(
    video_id: str, user_id: str, spec: common_pb2.Spec | None, beat_index: int, request: common_pb2.VideoRequest
) -> events_pb2.VoiceWork:
    """The work of speaking one beat's line, in the request's voice (empty: the service's default)."""
    return events_pb2.VoiceWork(
        video_id=video_id, user_id=user_id, spec=spec, beat_index=beat_index, voice=request.voice
    )


async def enqueue(
    db: asyncpg.Pool, js: JetStreamContext, video_id: str, units: list[Unit], *, attempt: str = ""
) -> None:
    """Publishes the units as work of the video's current run. Message ids carry the run (and the
    `attempt`, when one is given), so enqueueing a unit twice with the same ones within the stream's
    duplicate window delivers it once."""
    row = await db.fetchrow("SELECT user_id, run, request, spec FROM videos WHERE video_id = $1", video_id)
    if row is None:
        return
    user_id, run = str(row["user_id"]), int(row["run"])
    spec = from_json(row["spec"], common_pb2.Spec()) if row["spec"] else None
    request = from_json(row["request"], common_pb2.VideoRequest())
    for unit in units:
        if unit.kind == "plan":
            service = "plan"
            message: Message = events_pb2.PlanWork(video_id=video_id, user_id=user_id, request=request)
        elif unit.kind == "frame":
            service = "frame"
            take = await take_of(db, "frames", video_id, unit.index)  # the take it is being drawn in
            message = events_pb2.FrameWork(
                video_id=video_id, user_id=user_id, spec=spec, beat_index=unit.index, take=take
            )
        elif unit.kind == "voice":
            service = "voice"
            message = voice_work(video_id, user_id, spec, unit.index, request)
        elif unit.kind == "chunk":
            service = "chunk"
            message = events_pb2.ChunkWork(video_id=video_id, user_id=user_id, spec=spec, chunk_index=unit.index)
        else:
            service, message = "refine", events_pb2.RefineWork(video_id=video_id, user_id=user_id, spec=spec)
        suffix = f":{attempt}" if attempt else ""
        await publish_work(js, service, message, msg_id(video_id, run, f"{unit.kind}:{unit.index}{suffix}"))
