"""Folding a video's events into the progress snapshot people see.

Counts come from Postgres inside the events, so the fold takes maxima: applying an event twice or
out of order never moves progress backwards.
"""

from __future__ import annotations

from adgen.common.v1 import common_pb2 as c
from adgen.events.v1 import events_pb2

# Share of the bar each phase fills; chunks are where the minutes go.
WEIGHTS = {c.PHASE_PLAN: 5.0, c.PHASE_STORYBOARD: 15.0, c.PHASE_CHUNKS: 60.0, c.PHASE_REFINE: 12.0, c.PHASE_EXPORT: 8.0}
TERMINAL = (c.VIDEO_STATUS_COMPLETED, c.VIDEO_STATUS_FAILED, c.VIDEO_STATUS_CANCELLED)
_STATUS_OF_PHASE = {
    c.PHASE_PLAN: c.VIDEO_STATUS_PLANNING,
    c.PHASE_STORYBOARD: c.VIDEO_STATUS_RENDERING,
    c.PHASE_CHUNKS: c.VIDEO_STATUS_RENDERING,
    c.PHASE_REFINE: c.VIDEO_STATUS_REFINING,
    c.PHASE_EXPORT: c.VIDEO_STATUS_EXPORTING,
}


def _percent(p: c.Progress) -> float:
    if p.status == c.VIDEO_STATUS_COMPLETED:
        return 100.0
    done = 0.0
    if p.beats_total:
        done += WEIGHTS[c.PHASE_PLAN] + WEIGHTS[c.PHASE_STORYBOARD] * p.frames_done / p.beats_total
    if p.chunks_total:
        done += WEIGHTS[c.PHASE_CHUNKS] * p.chunks_done / p.chunks_total
    if p.phase == c.PHASE_EXPORT:
        done += WEIGHTS[c.PHASE_REFINE]
    return round(min(done, 99.0), 1)


def _message(p: c.Progress) -> str:
    if p.status == c.VIDEO_STATUS_COMPLETED:
        return "done"
    if p.status == c.VIDEO_STATUS_FAILED:
        return f"failed: {p.error}"
    if p.status == c.VIDEO_STATUS_CANCELLED:
        return "cancelled"
    if not p.beats_total:
        return "planning"
    if p.phase in (c.PHASE_REFINE, c.PHASE_EXPORT):
        return "stitching, grading and mixing" if p.phase == c.PHASE_REFINE else "publishing"
    return f"storyboard {p.frames_done}/{p.beats_total} · chunks {p.chunks_done}/{p.chunks_total}"


def fold(previous: c.Progress, event: events_pb2.Event) -> c.Progress:
    p = c.Progress()
    p.CopyFrom(previous)
    p.video_id = event.video_id
    if p.status in TERMINAL:
        return p
    kind = event.WhichOneof("kind")
    if kind == "video_planned":
        p.beats_total = len(event.video_planned.spec.beats)
        p.chunks_total = len(event.video_planned.spec.chunk_plan.slots)
        p.phase = max(p.phase, c.PHASE_STORYBOARD)
    elif kind == "phase_started":
        p.phase = max(p.phase, event.phase_started.phase)
    elif kind == "phase_completed":
        if event.phase_completed.phase == c.PHASE_REFINE:
            p.phase = max(p.phase, c.PHASE_EXPORT)
    elif kind == "frame_ready":
        p.frames_done = max(p.frames_done, event.frame_ready.frames_done)
        p.phase = max(p.phase, c.PHASE_STORYBOARD)
    elif kind == "chunk_ready":
        p.chunks_done = max(p.chunks_done, event.chunk_ready.chunks_done)
        p.phase = max(p.phase, c.PHASE_CHUNKS)
    elif kind == "cost_recorded":
        p.cost_micros += event.cost_recorded.line.usd_micros
    elif kind == "video_completed":
        p.status = c.VIDEO_STATUS_COMPLETED
    elif kind == "video_failed":
        p.status = c.VIDEO_STATUS_FAILED
        p.failed_phase = event.video_failed.phase
        p.error = f"{event.video_failed.unit}: {event.video_failed.reason}"
    elif kind == "video_cancelled":
        p.status = c.VIDEO_STATUS_CANCELLED
    if p.status not in TERMINAL and p.phase:
        p.status = _STATUS_OF_PHASE[p.phase]
    p.percent = max(previous.percent, _percent(p))
    p.message = _message(p)
    p.updated_at.CopyFrom(event.occurred_at)
    return p
