"""Folding a video's events into the progress snapshot people see.

Counts come from Postgres inside the events, so the fold takes maxima: applying an event twice or
out of order never moves progress backwards. The ETA (eta.py) is recomputed at every event from the
plan's expected latencies, which the snapshot keeps from the `video_planned` event. A storyboard
image's notes (how the product photo was shown, fallbacks taken) are told in its event's message.

The streams (SSE and gRPC `WatchVideo`) replay a video's history from its start, each event with the
progress of its time, to a watcher who was shown the present already; `onward` keeps what they send
from ever moving back.
"""

from __future__ import annotations

from collections import Counter

from google.protobuf.timestamp_pb2 import Timestamp

from adgen.common.v1 import common_pb2 as c
from adgen.events.v1 import events_pb2
from adgen_gateway import eta
from adgen_video.video_state import FINISHED
from adgen_video.voice_lines import spoken_beats

# Share of the bar each phase fills; chunks are where the minutes go.
WEIGHTS = {c.PHASE_PLAN: 5.0, c.PHASE_STORYBOARD: 15.0, c.PHASE_CHUNKS: 60.0, c.PHASE_REFINE: 12.0, c.PHASE_EXPORT: 8.0}
# A video's status as Postgres keeps it, and as the API shows it.
STATUS = {
    "queued": c.VIDEO_STATUS_QUEUED,
    "planning": c.VIDEO_STATUS_PLANNING,
    "rendering": c.VIDEO_STATUS_RENDERING,
    "refining": c.VIDEO_STATUS_REFINING,
    "exporting": c.VIDEO_STATUS_EXPORTING,
    "awaiting_review": c.VIDEO_STATUS_AWAITING_REVIEW,
    "completed": c.VIDEO_STATUS_COMPLETED,
    "failed": c.VIDEO_STATUS_FAILED,
    "cancelled": c.VIDEO_STATUS_CANCELLED,
    "expired": c.VIDEO_STATUS_EXPIRED,
}
FINISHED_STATUS_VALUES = tuple(STATUS[status] for status in FINISHED)
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
    if p.status == c.VIDEO_STATUS_EXPIRED:
        return "left at its review gate past its time; retry to open the gate again"
    if not p.beats_total:
        return "planning"
    if p.phase in (c.PHASE_REFINE, c.PHASE_EXPORT):
        return "stitching, grading and mixing" if p.phase == c.PHASE_REFINE else "publishing"
    counts = f"storyboard {p.frames_done}/{p.beats_total} · chunks {p.chunks_done}/{p.chunks_total}"
    counts = f"{counts} · voice {p.lines_done}/{p.lines_total}" if p.lines_total else counts
    return f"waiting for your review · {counts}" if p.status == c.VIDEO_STATUS_AWAITING_REVIEW else counts


def _frame_message(p: c.Progress, frame: events_pb2.FrameReady) -> str:
    """The message of a storyboard image's event: the counts, then its notes, if any."""
    if not frame.notes:
        return _message(p)
    return f"{_message(p)} · beat {frame.beat_index + 1}: {'; '.join(frame.notes)}"


def _eta_basis(spec: c.Spec, planned_at: Timestamp) -> c.EtaBasis | None:
    if not spec.HasField("expected_latency"):
        return None
    per_beat = Counter(slot.beat_index for slot in spec.chunk_plan.slots)
    basis = c.EtaBasis(expected=spec.expected_latency, chunks_per_beat=[per_beat[b.index] for b in spec.beats])
    basis.planned_at.CopyFrom(planned_at)
    basis.progressed_at.CopyFrom(planned_at)
    return basis


def _work(p: c.Progress) -> eta.Work:
    return eta.Work(
        chunks_per_beat=list(p.eta_basis.chunks_per_beat),
        frames_done=p.frames_done,
        chunks_done=p.chunks_done,
        refined=p.phase >= c.PHASE_EXPORT,
        completed=p.status == c.VIDEO_STATUS_COMPLETED,
    )


def _seconds(later: Timestamp, earlier: Timestamp) -> float:
    elapsed: float = (later.ToNanoseconds() - earlier.ToNanoseconds()) / 1e9
    return max(elapsed, 0.0)


# Statuses with no ETA: the video is not being made, or waits on its owner.
_NO_ETA = (c.VIDEO_STATUS_FAILED, c.VIDEO_STATUS_CANCELLED, c.VIDEO_STATUS_EXPIRED, c.VIDEO_STATUS_AWAITING_REVIEW)


def _update_eta(previous: c.Progress, p: c.Progress, now: Timestamp) -> None:
    """Sets p.eta_s as of `now`; absent before the plan, without expected latencies, after a failure."""
    if p.status in _NO_ETA or not p.HasField("eta_basis"):
        p.ClearField("eta_s")
        return
    basis = p.eta_basis
    work = _work(p)
    left = eta.expected_remaining_s(basis.expected, work)
    if not previous.HasField("eta_basis") or left != eta.expected_remaining_s(basis.expected, _work(previous)):
        basis.progressed_at.CopyFrom(now)
    p.eta_s = eta.eta_s(
        basis.expected,
        work,
        elapsed_at_progress_s=_seconds(basis.progressed_at, basis.planned_at),
        since_progress_s=_seconds(now, basis.progressed_at),
    )


def _begin_version(p: c.Progress, versioned: events_pb2.VideoVersioned) -> None:
    """A new version has all but what it makes again: the counts drop by those units, and it stands
    at the first phase with something to make (refine when only the words on screen changed)."""
    kinds = [name.split(" ")[0] for name in versioned.remade]
    p.frames_done = max(p.beats_total - kinds.count("frame"), 0)
    p.chunks_done = max(p.chunks_total - kinds.count("chunk"), 0)
    p.lines_done = max(p.lines_total - kinds.count("voice"), 0)
    if "frame" in kinds:
        p.phase = c.PHASE_STORYBOARD
    elif "chunk" in kinds or "voice" in kinds:
        p.phase = c.PHASE_CHUNKS
    else:
        p.phase = c.PHASE_REFINE


def fold(previous: c.Progress, event: events_pb2.Event) -> c.Progress:
    p = c.Progress()
    p.CopyFrom(previous)
    p.video_id = event.video_id
    kind = event.WhichOneof("kind")
    if kind in ("video_retried", "video_approved", "video_versioned"):
        # A new run of a failed, cancelled or expired video (the failure is over, what was done stays
        # done), a video its owner let past its gate, or the next version of a completed one (made
        # from its clips: it begins at refine).
        p.status, p.error, p.failed_phase = c.VIDEO_STATUS_QUEUED, "", c.PHASE_UNSPECIFIED
        if kind == "video_versioned":
            _begin_version(p, event.video_versioned)
        if p.HasField("eta_basis"):  # the ETA follows this run's pace, from now
            p.eta_basis.planned_at.CopyFrom(event.occurred_at)
            p.eta_basis.progressed_at.CopyFrom(event.occurred_at)
    elif p.status in FINISHED_STATUS_VALUES:
        return p
    if kind == "video_planned":
        p.beats_total = len(event.video_planned.spec.beats)
        p.chunks_total = len(event.video_planned.spec.chunk_plan.slots)
        p.lines_total = len(spoken_beats(event.video_planned.spec))
        p.phase = max(p.phase, c.PHASE_STORYBOARD)
        basis = _eta_basis(event.video_planned.spec, event.occurred_at)
        if basis is not None:
            p.eta_basis.CopyFrom(basis)
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
    elif kind == "voice_ready":
        p.lines_done = max(p.lines_done, event.voice_ready.lines_done)
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
    elif kind == "review_reached":
        p.status = c.VIDEO_STATUS_AWAITING_REVIEW
    elif kind == "video_expired":
        p.status = c.VIDEO_STATUS_EXPIRED
    if p.status not in (*FINISHED_STATUS_VALUES, c.VIDEO_STATUS_AWAITING_REVIEW) and p.phase:
        p.status = _STATUS_OF_PHASE[p.phase]
    # Never backwards within a version; a new version starts from what it has.
    p.percent = _percent(p) if kind == "video_versioned" else max(previous.percent, _percent(p))
    p.message = _frame_message(p, event.frame_ready) if kind == "frame_ready" else _message(p)
    p.updated_at.CopyFrom(event.occurred_at)
    _update_eta(previous, p, event.occurred_at)
    return p


# What a status in Postgres says of the phase, for a video whose snapshot is gone: the phase it is in,
# or for a finished one the last it reached (a failed one says its own, `failed_phase`).
_PHASE_OF_STATUS = {
    c.VIDEO_STATUS_QUEUED: c.PHASE_UNSPECIFIED,
    c.VIDEO_STATUS_PLANNING: c.PHASE_PLAN,
    c.VIDEO_STATUS_RENDERING: c.PHASE_STORYBOARD,
    c.VIDEO_STATUS_REFINING: c.PHASE_REFINE,
    c.VIDEO_STATUS_EXPORTING: c.PHASE_EXPORT,
    c.VIDEO_STATUS_AWAITING_REVIEW: c.PHASE_PLAN,
    c.VIDEO_STATUS_COMPLETED: c.PHASE_EXPORT,
}
_COUNTS = ("beats_total", "frames_done", "chunks_total", "chunks_done", "lines_total", "lines_done", "cost_micros")
# What a watcher must never see move back.
_NEVER_BACK = ("frames_done", "chunks_done", "lines_done", "percent", "phase")


def recorded(
    video_id: str,
    status: c.VideoStatus,
    *,
    error: str,
    failed_phase: c.Phase,
    spec: c.Spec | None,
    frames_done: int,
    chunks_done: int,
    cost_micros: int,
) -> c.Progress:
    """The progress Postgres alone can tell: the status is its truth, and the counts outlive the
    snapshot (which expires an hour after a video's last event). Without an ETA: that needs the
    events' times, which only the snapshot keeps."""
    p = c.Progress(video_id=video_id, status=status, error=error, cost_micros=cost_micros)
    if spec is not None:
        p.beats_total, p.chunks_total = len(spec.beats), len(spec.chunk_plan.slots)
        p.frames_done, p.chunks_done = frames_done, chunks_done
    if status == c.VIDEO_STATUS_FAILED:
        p.failed_phase = p.phase = failed_phase
    elif status in (c.VIDEO_STATUS_CANCELLED, c.VIDEO_STATUS_EXPIRED):
        p.phase = _phase_of_counts(p)
    else:
        counted = _phase_of_counts(p) if status != c.VIDEO_STATUS_QUEUED else c.PHASE_UNSPECIFIED
        p.phase = max(_PHASE_OF_STATUS[status], counted)
    return _finish(p, percent=_percent(p))


def _phase_of_counts(p: c.Progress) -> c.Phase:
    if p.chunks_done:
        return c.PHASE_CHUNKS
    return c.PHASE_STORYBOARD if p.beats_total else c.PHASE_UNSPECIFIED


def _finish(p: c.Progress, *, percent: float) -> c.Progress:
    p.percent = 100.0 if p.status == c.VIDEO_STATUS_COMPLETED else percent
    p.message = _message(p)
    if p.status == c.VIDEO_STATUS_COMPLETED:
        p.eta_s = 0.0
    elif p.status in FINISHED_STATUS_VALUES:
        p.ClearField("eta_s")
    return p


def settled(snapshot: c.Progress | None, from_postgres: c.Progress) -> c.Progress:
    """The one progress a video shows, wherever it is read (GET /v1/videos and /v1/videos/{id},
    gRPC GetVideo and ListVideos): the snapshot the events were folded into, unless Postgres has
    moved on. Its status is then Postgres's (the projector is a moment behind a video that has
    just finished, or just been retried), and the counts are the larger of the two, so a list read
    in that moment shows neither zeros nor a video still running."""
    if snapshot is None:
        return _whole(from_postgres)
    agreed = agreed_snapshot(snapshot, from_postgres.status)
    if agreed is not None:
        return agreed
    p = _raised(snapshot, from_postgres)
    p.status, p.error, p.failed_phase = from_postgres.status, from_postgres.error, from_postgres.failed_phase
    return _whole(_finish(p, percent=max(snapshot.percent, _percent(p))))


def agreed_snapshot(snapshot: c.Progress, status: c.VideoStatus) -> c.Progress | None:
    """What `settled` shows when the snapshot and Postgres (at `status`) agree on whether the video
    has finished and whether it waits at its review gate: the snapshot, whole; None when the counts
    in Postgres must decide."""
    if (snapshot.status in FINISHED_STATUS_VALUES) != (status in FINISHED_STATUS_VALUES):
        return None
    waiting = c.VIDEO_STATUS_AWAITING_REVIEW
    if (snapshot.status == waiting) != (status == waiting):  # just reached its gate, or just approved
        return None
    return _whole(snapshot)


def _raised(p: c.Progress, other: c.Progress) -> c.Progress:
    """A copy of `p` with the counts and the phase of `other` where those are further on."""
    raised = c.Progress()
    raised.CopyFrom(p)
    for name in _COUNTS:
        setattr(raised, name, max(getattr(p, name), getattr(other, name)))
    raised.phase = max(p.phase, other.phase)
    return raised


def onward(sent: c.Progress, p: c.Progress) -> c.Progress:
    """The progress a stream sends with its next event, `sent` being the last one its watcher has
    (at first, the video's progress when the stream opened): `p` itself, unless `p` would move
    frames_done, chunks_done, percent or the phase back. Such a `p` is a replayed moment from before
    what the watcher was shown, so the watcher keeps `sent` (its status, message and ETA with it; the
    very object when nothing of `p` is further on), raised to any count of `p` that is. Either way,
    each of the four is the larger of the two."""
    if all(getattr(p, name) >= getattr(sent, name) for name in _NEVER_BACK):
        return p
    kept = _raised(sent, p)
    kept.percent = max(sent.percent, p.percent)
    if kept == sent:
        return sent
    kept.message = _message(kept)
    return kept


def _whole(p: c.Progress) -> c.Progress:
    """A completed video has every frame, chunk and line done, even when a unit's event is
    folded in a moment after the completion (events of different services arrive in any order)."""
    done, total = (p.frames_done, p.chunks_done, p.lines_done), (p.beats_total, p.chunks_total, p.lines_total)
    if p.status != c.VIDEO_STATUS_COMPLETED or done == total:
        return p
    whole = c.Progress()
    whole.CopyFrom(p)
    whole.frames_done, whole.chunks_done, whole.lines_done = total
    return whole
