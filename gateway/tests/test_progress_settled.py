"""The one progress every read of a video shows (`settled`): the folded snapshot, unless Postgres
has moved on, and what Postgres alone can tell once the snapshot has expired (`recorded`)."""

from __future__ import annotations

from adgen.common.v1 import common_pb2 as c
from adgen_gateway.progress import agreed_snapshot, recorded, settled


def spec(beats: int, chunks: int) -> c.Spec:
    made = c.Spec(beats=[c.Beat(index=i, duration_s=5) for i in range(beats)])
    made.chunk_plan.slots.extend(c.ChunkSlot(index=i, beat_index=i % beats) for i in range(chunks))
    return made


def from_postgres(status: c.VideoStatus, **changes: object) -> c.Progress:
    facts: dict = {
        "error": "",
        "failed_phase": c.PHASE_UNSPECIFIED,
        "spec": spec(3, 6),
        "frames_done": 3,
        "chunks_done": 6,
        "cost_micros": 250_000,
    }
    return recorded("v", status, **{**facts, **changes})


def test_a_finished_video_without_a_snapshot_keeps_its_figures() -> None:
    done = from_postgres(c.VIDEO_STATUS_COMPLETED)
    assert (done.phase, done.beats_total, done.frames_done, done.chunks_total, done.chunks_done) == (
        c.PHASE_EXPORT,
        3,
        3,
        6,
        6,
    )
    assert (done.percent, done.eta_s, done.message, done.cost_micros) == (100.0, 0.0, "done", 250_000)
    failed = from_postgres(
        c.VIDEO_STATUS_FAILED, error="chunk 4: timed out", failed_phase=c.PHASE_CHUNKS, chunks_done=4
    )
    assert (failed.phase, failed.failed_phase, failed.chunks_done) == (c.PHASE_CHUNKS, c.PHASE_CHUNKS, 4)
    assert failed.message == "failed: chunk 4: timed out" and not failed.HasField("eta_s")
    assert settled(None, done) == done


def test_a_running_video_without_a_snapshot_says_where_it_is() -> None:
    running = from_postgres(c.VIDEO_STATUS_RENDERING, frames_done=3, chunks_done=2)
    assert running.phase == c.PHASE_CHUNKS and 5 < running.percent < 99
    assert running.message == "storyboard 3/3 · chunks 2/6"
    queued = from_postgres(c.VIDEO_STATUS_QUEUED, spec=None, frames_done=0, chunks_done=0)
    assert (queued.phase, queued.beats_total, queued.percent, queued.message) == (c.PHASE_UNSPECIFIED, 0, 0, "planning")


def test_a_snapshot_behind_a_finished_video_keeps_its_counts_and_takes_the_status() -> None:
    behind = c.Progress(
        video_id="v", status=c.VIDEO_STATUS_EXPORTING, phase=c.PHASE_EXPORT, percent=97.0, eta_s=4.0,
        beats_total=3, frames_done=3, chunks_total=6, chunks_done=6, cost_micros=200_000,
    )  # fmt: skip
    shown = settled(behind, from_postgres(c.VIDEO_STATUS_COMPLETED))
    assert (shown.status, shown.phase, shown.percent, shown.eta_s, shown.message) == (
        c.VIDEO_STATUS_COMPLETED,
        c.PHASE_EXPORT,
        100.0,
        0.0,
        "done",
    )
    assert (shown.chunks_done, shown.cost_micros) == (6, 250_000)


def test_a_snapshot_that_agrees_is_what_shows() -> None:
    live = c.Progress(video_id="v", status=c.VIDEO_STATUS_RENDERING, phase=c.PHASE_CHUNKS, chunks_done=1, eta_s=30)
    assert settled(live, from_postgres(c.VIDEO_STATUS_RENDERING)) == live


def test_a_retried_video_is_running_again_before_the_projector_hears_of_it() -> None:
    failed = c.Progress(
        video_id="v", status=c.VIDEO_STATUS_FAILED, phase=c.PHASE_CHUNKS, failed_phase=c.PHASE_CHUNKS,
        error="chunk 4: timed out", beats_total=3, frames_done=3, chunks_total=6, chunks_done=4, percent=60.0,
    )  # fmt: skip
    shown = settled(failed, from_postgres(c.VIDEO_STATUS_RENDERING, chunks_done=4))
    assert (shown.status, shown.error, shown.failed_phase, shown.chunks_done) == (
        c.VIDEO_STATUS_RENDERING,
        "",
        c.PHASE_UNSPECIFIED,
        4,
    )
    assert shown.percent >= 60.0 and shown.message == "storyboard 3/3 · chunks 4/6"


def test_a_completed_snapshot_whose_last_frame_event_is_late_shows_every_unit_done() -> None:
    snapshot = c.Progress(
        status=c.VIDEO_STATUS_COMPLETED,
        phase=c.PHASE_EXPORT,
        beats_total=3,
        frames_done=2,
        chunks_total=6,
        chunks_done=5,
    )
    shown = settled(snapshot, from_postgres(c.VIDEO_STATUS_COMPLETED))
    assert (shown.frames_done, shown.chunks_done) == (3, 6)
    assert (snapshot.frames_done, snapshot.chunks_done) == (2, 5), "the stored snapshot is left as it is"


def test_a_read_that_skips_postgres_shows_what_settled_would() -> None:
    """The list and detail reads ask Postgres for counts only when the snapshot disagrees on whether
    the video finished: the snapshot they show then is the one `settled` shows, whole."""
    late = c.Progress(status=c.VIDEO_STATUS_COMPLETED, beats_total=3, frames_done=2, chunks_total=6, chunks_done=5)
    shown = agreed_snapshot(late, c.VIDEO_STATUS_COMPLETED)
    assert shown == settled(late, from_postgres(c.VIDEO_STATUS_COMPLETED))
    assert shown is not None and (shown.frames_done, shown.chunks_done) == (3, 6)
    assert agreed_snapshot(c.Progress(status=c.VIDEO_STATUS_RENDERING), c.VIDEO_STATUS_COMPLETED) is None
