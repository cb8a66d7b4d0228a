"""The ETA in the progress snapshot: absent before the plan, counting down on schedule, longer for
a video that runs late, 0 when done, gone after a failure."""

from __future__ import annotations

import itertools
import uuid

import pytest

from adgen.common.v1 import common_pb2 as c
from adgen.events.v1 import events_pb2 as e
from adgen_gateway import eta
from adgen_gateway.progress import fold

VIDEO = str(uuid.uuid4())
T0 = 1_700_000_000
# plan, image, clip, refine, export
EXPECTED = c.ExpectedLatency(plan_s=1.0, image_s=2.0, clip_s=10.0, refine_s=5.0, export_s=1.0)


def _spec(chunks_per_beat: list[int], expected: c.ExpectedLatency | None = EXPECTED) -> c.Spec:
    spec = c.Spec(beats=[c.Beat(index=i) for i in range(len(chunks_per_beat))])
    index = 0
    for beat, n in enumerate(chunks_per_beat):
        for k in range(n):
            spec.chunk_plan.slots.add(index=index, beat_index=beat, index_in_beat=k)
            index += 1
    if expected is not None:
        spec.expected_latency.CopyFrom(expected)
    return spec


def _event(at_s: float, **kind: object) -> e.Event:
    event = e.Event(video_id=VIDEO, **kind)  # type: ignore[arg-type]
    event.occurred_at.FromNanoseconds(int((T0 + at_s) * 1e9))
    return event


def _run(spec: c.Spec, scale: float = 1.0, extra: list[e.Event] | None = None) -> list[tuple[float, c.Progress]]:
    """Folds the events of a video with 3 + 2 chunks, `scale` times slower than expected, in time order."""
    s = scale
    events = [
        _event(0, phase_started=e.PhaseStarted(phase=c.PHASE_PLAN)),
        _event(1 * s, video_planned=e.VideoPlanned(spec=spec)),
        _event(3 * s, frame_ready=e.FrameReady(beat_index=0, frames_done=1)),
        _event(3 * s, frame_ready=e.FrameReady(beat_index=1, frames_done=2)),
        _event(13 * s, chunk_ready=e.ChunkReady(chunk_index=0, chunks_done=1)),
        _event(13 * s, chunk_ready=e.ChunkReady(chunk_index=3, chunks_done=2)),
        _event(23 * s, chunk_ready=e.ChunkReady(chunk_index=1, chunks_done=3)),
        _event(23 * s, chunk_ready=e.ChunkReady(chunk_index=4, chunks_done=4)),
        _event(33 * s, chunk_ready=e.ChunkReady(chunk_index=2, chunks_done=5)),
        _event(33 * s, phase_started=e.PhaseStarted(phase=c.PHASE_REFINE)),
        _event(38 * s, phase_completed=e.PhaseCompleted(phase=c.PHASE_REFINE)),
        _event(39 * s, video_completed=e.VideoCompleted(duration_s=10)),
        *(extra or []),
    ]
    events.sort(key=lambda ev: ev.occurred_at.ToNanoseconds())
    progress, seen = c.Progress(), []
    for event in events:
        progress = fold(progress, event)
        seen.append(((event.occurred_at.ToNanoseconds() / 1e9) - T0, progress))
    return seen


def test_no_eta_before_the_plan_and_the_whole_expected_time_right_after_it() -> None:
    seen = _run(_spec([3, 2]))
    assert not seen[0][1].HasField("eta_s")
    # image 2 + three rounds of 10 s clips + refine 5 + export 1
    assert seen[1][1].eta_s == pytest.approx(38.0)


def test_on_schedule_the_eta_counts_down_to_zero_and_matches_the_time_left() -> None:
    cost = c.CostLine(usd_micros=1)
    # Events that finish no unit (a cost line mid-chunk) still count the clock down.
    seen = _run(_spec([3, 2]), extra=[_event(18, cost_recorded=e.CostRecorded(line=cost))])
    etas = [(t, p.eta_s) for t, p in seen if p.HasField("eta_s")]
    assert all(later <= earlier for (_, earlier), (_, later) in itertools.pairwise(etas))
    assert etas[-1][1] == 0.0
    assert seen[-1][1].status == c.VIDEO_STATUS_COMPLETED
    # Whenever a round of units has just finished, or mid-chunk, the ETA is the real time left.
    for t, value in etas:
        if t in (3, 18, 23, 33, 38):
            assert value == pytest.approx(39 - t, abs=0.05), t


def test_a_video_running_late_gets_a_longer_eta_than_one_on_schedule() -> None:
    on_time = _run(_spec([3, 2]))
    late = _run(_spec([3, 2]), scale=2.0)
    # Same events in the same order: compare right after each round of units finished.
    for index in (3, 5, 7, 8):
        a, b = on_time[index][1], late[index][1]
        assert (a.chunks_done, a.frames_done) == (b.chunks_done, b.frames_done)
        assert b.eta_s > a.eta_s
    after_two_rounds = late[7][1]
    assert after_two_rounds.chunks_done == 4
    # Twice as slow for 22 of 38 expected seconds: far more than the 16 s left on schedule.
    assert after_two_rounds.eta_s > 16 * 1.5


def test_a_failure_drops_the_eta_and_a_plan_without_latencies_has_none() -> None:
    progress = fold(c.Progress(), _event(1, video_planned=e.VideoPlanned(spec=_spec([2]))))
    assert progress.HasField("eta_s")
    failed = fold(progress, _event(5, video_failed=e.VideoFailed(phase=c.PHASE_CHUNKS, unit="chunk 0", reason="x")))
    assert not failed.HasField("eta_s")
    retried = fold(failed, _event(60, video_retried=e.VideoRetried(run=2)))
    assert retried.HasField("eta_s") and retried.status != c.VIDEO_STATUS_FAILED
    bare = fold(c.Progress(), _event(1, video_planned=e.VideoPlanned(spec=_spec([2], expected=None))))
    assert not bare.HasField("eta_s") and bare.chunks_total == 2


@pytest.mark.parametrize(
    ("per_beat", "done", "rounds"),
    [([3, 2], 0, 0), ([3, 2], 1, 0), ([3, 2], 2, 1), ([3, 2], 3, 1), ([3, 2], 4, 2), ([3, 2], 5, 3), ([1, 1, 4], 4, 2)],
)
def test_chunks_done_read_as_whole_rounds_of_beats_side_by_side(per_beat: list[int], done: int, rounds: int) -> None:
    assert eta.chunk_rounds_done(per_beat, done) == rounds
