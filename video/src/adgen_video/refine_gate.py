"""When a video's refine may start: once every chunk is rendered and every voiceover line spoken.

Chunks and lines finish in any order on different services; whichever is recorded last enqueues
refine. Each worker records its unit and reads these counts in one transaction that first locks the
video's row (`lock_video`), so of two units finishing at the same moment the second always sees the
first, and refine is never missed (enqueueing it twice is harmless: the message id is fixed).
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_kernel.db import Connection
from adgen_kernel.jetstream import publish_work
from adgen_video.video_state import msg_id


@dataclass(frozen=True)
class UnitCounts:
    chunks_done: int
    chunks_total: int
    lines_done: int
    lines_total: int

    @property
    def chunks_complete(self) -> bool:
        return self.chunks_total > 0 and self.chunks_done == self.chunks_total

    @property
    def refine_due(self) -> bool:
        return self.chunks_complete and self.lines_done == self.lines_total


async def lock_video(conn: Connection, video_id: str) -> None:
    """Holds the video's row until the transaction ends; call it before recording a unit."""
    await conn.execute("SELECT 1 FROM videos WHERE video_id = $1 FOR UPDATE", video_id)


async def unit_counts(conn: Connection, video_id: str) -> UnitCounts:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FILTER (WHERE status = 'done') FROM chunks WHERE video_id = $1) AS chunks_done,"
        " (SELECT count(*) FROM chunks WHERE video_id = $1) AS chunks_total,"
        " (SELECT count(*) FILTER (WHERE status = 'done') FROM voice_lines WHERE video_id = $1) AS lines_done,"
        " (SELECT count(*) FROM voice_lines WHERE video_id = $1) AS lines_total",
        video_id,
    )
    assert row is not None  # a SELECT without FROM answers one row
    return UnitCounts(row["chunks_done"], row["chunks_total"], row["lines_done"], row["lines_total"])


async def start_refine(js: JetStreamContext, video_id: str, user_id: str, spec: common_pb2.Spec, run: int) -> None:
    """Enqueues the video's refine; its message id is fixed per run, so the two workers that may both
    see the last unit done (and any redelivery) enqueue it once."""
    work = events_pb2.RefineWork(video_id=video_id, user_id=user_id, spec=spec)
    await publish_work(js, "refine", work, msg_id(video_id, run, "refine:0"))
