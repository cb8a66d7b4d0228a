"""When a video's refine may start: once every chunk is rendered and every voiceover line spoken.

Chunks and lines finish in any order on different services; whichever is recorded last enqueues
refine. Each worker records its unit and reads these counts in one transaction that first locks the
video's row (`lock_video`), so of two units finishing at the same moment the second always sees the
first, and refine is never missed (enqueueing it twice is harmless: the message id is fixed).
"""

from __future__ import annotations

from dataclasses import dataclass

from adgen_kernel.db import Connection


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
