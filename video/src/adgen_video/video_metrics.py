"""What a completed video adds to the metrics: its count, its ledger total and the wall time of each
phase, read from the shared tables' timestamps."""

from __future__ import annotations

from adgen_kernel.db import Db
from adgen_kernel.metrics import PHASE_DURATION, VIDEO_COST, VIDEOS


async def observe_completed_video(db: Db, video_id: str) -> None:
    """Counts a completed video, its ledger total and its phase durations (call once per video)."""
    row = await db.fetchrow(
        "SELECT (SELECT coalesce(sum(usd_micros), 0)::bigint FROM cost_ledger WHERE video_id = v.video_id) AS micros,"
        " extract(epoch FROM v.planned_at - v.created_at) AS plan,"
        " extract(epoch FROM (SELECT max(updated_at) FROM frames WHERE video_id = v.video_id) - v.planned_at)"
        " AS storyboard,"
        " extract(epoch FROM (SELECT max(updated_at) FROM chunks WHERE video_id = v.video_id) - v.planned_at)"
        " AS chunks,"
        " extract(epoch FROM v.completed_at - (SELECT max(updated_at) FROM chunks WHERE video_id = v.video_id))"
        " AS finishing,"
        " extract(epoch FROM v.completed_at - v.created_at) AS total"
        " FROM videos v WHERE v.video_id = $1",
        video_id,
    )
    VIDEOS.labels("completed").inc()
    if row is None:
        return
    VIDEO_COST.observe(row["micros"] / 1_000_000)
    for phase in ("plan", "storyboard", "chunks", "finishing", "total"):
        if row[phase] is not None:
            PHASE_DURATION.labels(phase).observe(max(float(row[phase]), 0.0))
