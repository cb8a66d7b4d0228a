"""The graph a batch of videos makes, the lower bound of its makespan under a concurrency limit, and
the baseline orchestrations the scheduler benchmark runs beside adgen.

The model: every beat of every video is one storyboard image (`image_s`) followed by its chain of
clips (`clip_s` each; clip k of a beat starts from the hand-off frame of clip k-1, the first from
the beat's image). At most `image_slots` images and `clip_slots` clips run at once. Planning is
taken as instantaneous; whatever adgen spends on it counts as its overhead.

The lower bound is the largest of two families of valid bounds (both hold for every schedule):

* clips with at least h clips after them in their beat (n_h of them) all start after the first
  image is done (>= image_s) and must end h clips before the makespan, on `clip_slots` slots:
  T >= image_s + (h + ceil(n_h / clip_slots)) * clip_s, for h = 0 .. longest chain - 1.
  h = 0 is the throughput bound; h = longest chain - 1 is the longest path image + chain.
* the b_m beats with at least m clips need b_m images on `image_slots` slots, so the last of them is
  ready no sooner than ceil(b_m / image_slots) * image_s, and its m clips follow one after another:
  T >= ceil(b_m / image_slots) * image_s + m * clip_s, for m = 1 .. longest chain.

The orchestrations only encode dependencies and barriers; the resource limit and the latency live
in the `Units` they are given, so the same code runs on real sleeps (the benchmark) or on
instant units that record what ran (the tests).
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class VideoGraph:
    """One video's work: the number of clips of each beat, in beat order (every beat has an image)."""

    chains: tuple[int, ...]

    @property
    def clips(self) -> int:
        return sum(self.chains)


@dataclass(frozen=True)
class Bound:
    seconds: float
    units_on_path: int  # images + clips one after another in the binding term
    term: str  # which bound binds, e.g. "image + (2 + ceil(32/8)) clips"


def lower_bound(
    videos: Sequence[VideoGraph], *, image_s: float, clip_s: float, image_slots: int, clip_slots: int
) -> Bound:
    """The largest of the valid lower bounds described in the module docstring."""
    if image_slots < 1 or clip_slots < 1:
        raise ValueError("image_slots and clip_slots must be at least 1")
    chains = [length for video in videos for length in video.chains]
    if not chains or min(chains) < 1:
        raise ValueError("every video needs at least one beat, and every beat at least one clip")
    longest = max(chains)
    candidates: list[Bound] = []
    for h in range(longest):
        n_h = sum(max(0, length - h) for length in chains)
        rounds = math.ceil(n_h / clip_slots)
        candidates.append(
            Bound(image_s + (h + rounds) * clip_s, 1 + h + rounds, f"image + ({h} + ceil({n_h}/{clip_slots})) clips")
        )
    for m in range(1, longest + 1):
        b_m = sum(1 for length in chains if length >= m)
        rounds = math.ceil(b_m / image_slots)
        candidates.append(
            Bound(rounds * image_s + m * clip_s, rounds + m, f"ceil({b_m}/{image_slots}) images + {m} clips")
        )
    # Ties go to the term with fewer units on the path: the stricter reading of the overhead target.
    return max(candidates, key=lambda b: (b.seconds, -b.units_on_path))


def sequential_seconds(videos: Sequence[VideoGraph], *, image_s: float, clip_s: float) -> float:
    """One unit at a time: the sum of every unit's latency."""
    return sum(len(v.chains) * image_s + v.clips * clip_s for v in videos)


def longest_first_seconds(
    videos: Sequence[VideoGraph], *, image_s: float, clip_s: float, image_slots: int, clip_slots: int
) -> float:
    """The makespan of one good schedule, computed exactly: images of the longest chains first,
    then whenever a clip slot is free the ready clip with the most clips still ahead in its beat
    (Hu's highest-level-first rule). An upper bound on the optimum, so the lower bound's gap to it
    says how tight the bound is."""
    chains = sorted((length for video in videos for length in video.chains), reverse=True)
    # (-clips ahead, ready at, beat, k): equal-length images in waves of `image_slots`.
    waiting = [(-length, (i // image_slots + 1) * image_s, i, 0) for i, length in enumerate(chains)]
    free_at = [0.0] * clip_slots
    end = 0.0
    while waiting:
        now = max(heapq.heappop(free_at), min(ready for _, ready, _, _ in waiting))
        ahead, ready, beat, k = min(item for item in waiting if item[1] <= now)
        waiting.remove((ahead, ready, beat, k))
        done = now + clip_s
        heapq.heappush(free_at, done)
        end = max(end, done)
        if k + 1 < chains[beat]:
            waiting.append((ahead + 1, done, beat, k + 1))
    return end


class Units(Protocol):
    """Runs one unit of work (with whatever latency and concurrency limit the caller models)."""

    async def image(self, video: int, beat: int) -> None: ...

    async def clip(self, video: int, beat: int, k: int) -> None: ...


async def graph_schedule(videos: Sequence[VideoGraph], units: Units) -> None:
    """Every unit starts as soon as its own dependency is done, across all beats of all videos
    (adgen's policy, here without a queue, a database or a store in between)."""

    async def beat(v: int, b: int, length: int) -> None:
        await units.image(v, b)
        for k in range(length):
            await units.clip(v, b, k)

    await asyncio.gather(*(beat(v, b, n) for v, video in enumerate(videos) for b, n in enumerate(video.chains)))


async def two_round_schedule(videos: Sequence[VideoGraph], units: Units, *, chained_round_two: bool = False) -> None:
    """The predecessor's scheme, per video: all its images, then (barrier) every beat's first clip,
    then (barrier) all the other clips at once. They ran at once because each started from the
    wrong frame; with `chained_round_two` they wait for their hand-off frame, as they must."""

    async def rest_of_beat(v: int, b: int, length: int) -> None:
        if chained_round_two:
            for k in range(1, length):
                await units.clip(v, b, k)
        else:
            await asyncio.gather(*(units.clip(v, b, k) for k in range(1, length)))

    async def video(v: int, graph: VideoGraph) -> None:
        await asyncio.gather(*(units.image(v, b) for b in range(len(graph.chains))))
        await asyncio.gather(*(units.clip(v, b, 0) for b in range(len(graph.chains))))
        await asyncio.gather(*(rest_of_beat(v, b, n) for b, n in enumerate(graph.chains)))

    await asyncio.gather(*(video(v, graph) for v, graph in enumerate(videos)))


async def sequential_schedule(videos: Sequence[VideoGraph], units: Units) -> None:
    """One unit at a time: each video's images, then its clips beat by beat."""
    for v, graph in enumerate(videos):
        for b in range(len(graph.chains)):
            await units.image(v, b)
        for b, length in enumerate(graph.chains):
            for k in range(length):
                await units.clip(v, b, k)
