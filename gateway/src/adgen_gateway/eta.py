"""How long a video still needs: the plan's expected latencies for the units left, scaled by the
pace this video has kept so far.

The pipeline is a dependency graph (see the planner's quote): every beat's storyboard image starts
when the plan exists and a beat's chunks follow one another while the beats run side by side. So
the time left is the image while any frame is missing, then the rounds of chunks still to come
(round k is every beat's k-th chunk; the beat with the most chunks sets how many rounds there are),
then refine, then export. The snapshot counts chunks done across the video, which are read as
whole rounds: a round is as late as its last chunk, so a part of one saves no time yet.

The expected figures assume each unit gets a worker at once; a busy machine or a slow provider
runs behind them. The observed pace (time since planning over the expected time of the work done)
scales what is left, weighted by the share of the work done, so early noise moves the estimate
little and a video that keeps running late converges on its own pace. Between two finished units
the estimate counts down with the clock rather than waiting for the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adgen.common.v1 import common_pb2 as c

# A pace outside these bounds is noise (units answered from stored outputs, or a wait in a queue)
# rather than a rate to extrapolate.
MIN_PACE = 0.25
MAX_PACE = 4.0


@dataclass(frozen=True)
class Work:
    """Where a planned video stands, as counts."""

    chunks_per_beat: Sequence[int]
    frames_done: int
    chunks_done: int
    refined: bool
    completed: bool


def chunk_rounds_done(chunks_per_beat: Sequence[int], chunks_done: int) -> int:
    """Whole rounds of chunks finished when `chunks_done` chunks are, beats advancing side by side."""
    rounds, left = 0, chunks_done
    while True:
        active = sum(1 for n in chunks_per_beat if n > rounds)
        if active == 0 or left < active:
            return rounds
        left -= active
        rounds += 1


def expected_remaining_s(expected: c.ExpectedLatency, work: Work) -> float:
    """Seconds the units left should take at the expected latencies."""
    if work.completed:
        return 0.0
    seconds = expected.export_s + (0.0 if work.refined else expected.refine_s)
    if work.frames_done < len(work.chunks_per_beat):
        seconds += expected.image_s
    rounds = max(work.chunks_per_beat, default=0)
    seconds += (rounds - chunk_rounds_done(work.chunks_per_beat, work.chunks_done)) * expected.clip_s
    return seconds


def expected_total_s(expected: c.ExpectedLatency, chunks_per_beat: Sequence[int]) -> float:
    """Seconds from the end of planning to completion at the expected latencies."""
    return expected.image_s + max(chunks_per_beat, default=0) * expected.clip_s + expected.refine_s + expected.export_s


def eta_s(expected: c.ExpectedLatency, work: Work, *, elapsed_at_progress_s: float, since_progress_s: float) -> float:
    """Seconds still to go: `elapsed_at_progress_s` is the time from planning to the last finished
    unit (when `work` was reached), `since_progress_s` the time since then."""
    remaining = expected_remaining_s(expected, work)
    if remaining <= 0:
        return 0.0
    total = expected_total_s(expected, work.chunks_per_beat)
    done = total - remaining
    factor = 1.0
    if done > 0 and total > 0:
        pace = min(max(elapsed_at_progress_s / done, MIN_PACE), MAX_PACE)
        factor = 1 + (done / total) * (pace - 1)
    return round(max(remaining * factor - since_progress_s, 0.0), 1)
