"""The scheduler benchmark's pure parts (bench/schedules.py): the lower bound is valid (never above
the optimum, found here by exhaustive search on small graphs) and as tight as claimed on simple
ones; the longest-chain-first schedule is never better than the optimum; the baseline
orchestrations keep exactly the dependencies and barriers they model."""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schedules import (
    VideoGraph,
    graph_schedule,
    longest_first_seconds,
    lower_bound,
    sequential_schedule,
    sequential_seconds,
    two_round_schedule,
)


def optimum_unit_times(chains: Sequence[int], image_slots: int, clip_slots: int) -> int:
    """The best makespan when images and clips all take one step, by exhaustive search. Running a
    ready unit in a free slot never hurts with unit times, so only full selections are tried."""

    @functools.cache
    def best(images: tuple[bool, ...], clips: tuple[int, ...]) -> int:
        if all(images) and clips == tuple(chains):
            return 0
        ready_images = [b for b, done in enumerate(images) if not done]
        ready_clips = [b for b, done in enumerate(clips) if images[b] and done < chains[b]]
        outcomes = []
        for pick_i in itertools.combinations(ready_images, min(image_slots, len(ready_images))):
            for pick_c in itertools.combinations(ready_clips, min(clip_slots, len(ready_clips))):
                next_images = tuple(done or b in pick_i for b, done in enumerate(images))
                next_clips = tuple(done + (b in pick_c) for b, done in enumerate(clips))
                outcomes.append(best(next_images, next_clips))
        return 1 + min(outcomes)

    return best(tuple(False for _ in chains), tuple(0 for _ in chains))


@settings(max_examples=60, deadline=None)
@given(
    chains=st.lists(st.integers(1, 3), min_size=1, max_size=5),
    image_slots=st.integers(1, 3),
    clip_slots=st.integers(1, 3),
)
def test_the_bound_never_exceeds_the_optimum(chains: list[int], image_slots: int, clip_slots: int) -> None:
    videos = [VideoGraph(tuple(chains))]
    slots = {"image_slots": image_slots, "clip_slots": clip_slots}
    optimum = optimum_unit_times(chains, image_slots, clip_slots)
    assert lower_bound(videos, image_s=1.0, clip_s=1.0, **slots).seconds <= optimum
    assert longest_first_seconds(videos, image_s=1.0, clip_s=1.0, **slots) >= optimum


def test_one_chain_is_bound_by_its_image_and_its_clips() -> None:
    bound = lower_bound([VideoGraph((3,))], image_s=0.08, clip_s=0.45, image_slots=8, clip_slots=8)
    assert bound.seconds == pytest.approx(0.08 + 3 * 0.45)
    assert bound.units_on_path == 4


def test_many_short_beats_are_bound_by_the_clip_slots() -> None:
    # 16 one-clip beats on 8 slots: two rounds of clips after the first image.
    bound = lower_bound([VideoGraph((1,) * 8)] * 2, image_s=1.0, clip_s=5.0, image_slots=8, clip_slots=8)
    assert bound.seconds == pytest.approx(1 + 2 * 5)
    assert bound.units_on_path == 3


def test_long_chains_with_few_image_slots_are_bound_by_the_images() -> None:
    # Four beats of three clips, one image at a time: the fourth image is ready at 4 s, then 3 clips.
    bound = lower_bound([VideoGraph((3, 3, 3, 3))], image_s=1.0, clip_s=1.0, image_slots=1, clip_slots=8)
    assert bound.seconds == pytest.approx(4 + 3)
    assert bound.term == "ceil(4/1) images + 3 clips"


@pytest.mark.parametrize(
    ("chains", "image_slots", "clip_slots"),
    [((3, 3, 3, 3, 1), 8, 2), ((3, 3, 3, 3), 8, 4), ((3, 1, 1, 1, 1, 1), 8, 2), ((2, 2, 2, 2), 2, 4)],
)
def test_the_bound_is_the_optimum_on_simple_graphs(chains: tuple[int, ...], image_slots: int, clip_slots: int) -> None:
    videos, slots = [VideoGraph(chains)], {"image_slots": image_slots, "clip_slots": clip_slots}
    optimum = optimum_unit_times(chains, image_slots, clip_slots)
    assert lower_bound(videos, image_s=1.0, clip_s=1.0, **slots).seconds == optimum
    assert longest_first_seconds(videos, image_s=1.0, clip_s=1.0, **slots) == optimum


def test_longest_first_keeps_the_long_chain_going() -> None:
    # One slot-hungry long beat among short ones: serving it first finishes at image + 3 clips.
    videos = [VideoGraph((1, 3, 1, 1))]
    assert longest_first_seconds(videos, image_s=0.5, clip_s=2.0, image_slots=4, clip_slots=2) == 0.5 + 3 * 2.0
    # One image at a time: the short beats' three clips follow one another on the other slot from 1 s.
    assert longest_first_seconds(videos, image_s=0.5, clip_s=2.0, image_slots=1, clip_slots=2) == 1.0 + 3 * 2.0


def test_sequential_is_the_sum_of_every_unit() -> None:
    videos = [VideoGraph((1, 3, 3, 1)), VideoGraph((2, 2))]
    assert sequential_seconds(videos, image_s=0.1, clip_s=1.0) == pytest.approx(6 * 0.1 + 12 * 1.0)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one clip"):
        lower_bound([VideoGraph((2, 0))], image_s=1, clip_s=1, image_slots=1, clip_slots=1)
    with pytest.raises(ValueError, match="slots"):
        lower_bound([VideoGraph((2,))], image_s=1, clip_s=1, image_slots=0, clip_slots=1)


class Recorder:
    """Instant units that log when they start and end; a gated unit waits for its gate."""

    def __init__(self, gated: Sequence[tuple] = ()) -> None:
        self.log: list[tuple[str, tuple]] = []
        self.gates = {key: asyncio.Event() for key in gated}
        self.running = self.peak = 0

    async def _run(self, key: tuple) -> None:
        self.log.append(("start", key))
        self.running += 1
        self.peak = max(self.peak, self.running)
        if key in self.gates:
            await self.gates[key].wait()
        await asyncio.sleep(0)
        self.running -= 1
        self.log.append(("end", key))

    async def image(self, video: int, beat: int) -> None:
        await self._run(("image", video, beat))

    async def clip(self, video: int, beat: int, k: int) -> None:
        await self._run(("clip", video, beat, k))

    def at(self, what: str, key: tuple) -> int:
        return self.log.index((what, key))

    def started(self) -> set[tuple]:
        return {key for what, key in self.log if what == "start"}

    def ended(self) -> set[tuple]:
        return {key for what, key in self.log if what == "end"}


async def settle() -> None:
    """Lets every runnable task run until all of them wait (there is no I/O: this is deterministic)."""
    for _ in range(200):
        await asyncio.sleep(0)


def all_units(videos: Sequence[VideoGraph]) -> set[tuple]:
    units: set[tuple] = set()
    for v, graph in enumerate(videos):
        for b, length in enumerate(graph.chains):
            units.add(("image", v, b))
            units |= {("clip", v, b, k) for k in range(length)}
    return units


async def test_the_graph_schedule_starts_every_unit_when_its_own_dependency_is_done() -> None:
    videos = [VideoGraph((1, 3, 2)), VideoGraph((2,))]
    units = Recorder(gated=[("image", 0, 1)])
    running = asyncio.create_task(graph_schedule(videos, units))
    await settle()
    # No barrier: everything that does not follow the gated image is already done.
    blocked = {("image", 0, 1)} | {("clip", 0, 1, k) for k in range(3)}
    assert units.ended() == all_units(videos) - blocked
    assert not any(key in units.started() for key in blocked - {("image", 0, 1)})
    units.gates[("image", 0, 1)].set()
    await running
    assert units.ended() == all_units(videos)
    for v, graph in enumerate(videos):
        for b, length in enumerate(graph.chains):
            assert units.at("end", ("image", v, b)) < units.at("start", ("clip", v, b, 0))
            for k in range(1, length):
                assert units.at("end", ("clip", v, b, k - 1)) < units.at("start", ("clip", v, b, k))


@pytest.mark.parametrize("chained", [False, True])
async def test_the_two_round_schedule_waits_for_every_image_then_every_first_clip(chained: bool) -> None:
    videos = [VideoGraph((1, 3, 2)), VideoGraph((2, 1))]
    units = Recorder(gated=[("image", 0, 1)])
    running = asyncio.create_task(two_round_schedule(videos, units, chained_round_two=chained))
    await settle()
    # Video 0 waits for all its images; video 1 has its own barriers and is done.
    assert not any(key[0] == "clip" and key[1] == 0 for key in units.started())
    assert all_units([VideoGraph(()), *videos[1:]]) <= units.ended()
    units.gates[("image", 0, 1)].set()
    await running
    assert units.ended() == all_units(videos)
    for v, graph in enumerate(videos):
        last_image = max(units.at("end", ("image", v, b)) for b in range(len(graph.chains)))
        last_first = max(units.at("end", ("clip", v, b, 0)) for b in range(len(graph.chains)))
        assert all(units.at("start", ("clip", v, b, 0)) > last_image for b in range(len(graph.chains)))
        later = [("clip", v, b, k) for b, n in enumerate(graph.chains) for k in range(1, n)]
        assert all(units.at("start", key) > last_first for key in later)
    # Round two: clip 2 of beat 1 starts before clip 1 ends unless it waits for its hand-off frame.
    assert (units.at("start", ("clip", 0, 1, 2)) > units.at("end", ("clip", 0, 1, 1))) is chained


async def test_the_sequential_schedule_runs_one_unit_at_a_time() -> None:
    videos = [VideoGraph((1, 2)), VideoGraph((3,))]
    units = Recorder()
    await sequential_schedule(videos, units)
    assert units.peak == 1
    assert units.ended() == all_units(videos)
    assert [key for what, key in units.log if what == "start"][:3] == [
        ("image", 0, 0),
        ("image", 0, 1),
        ("clip", 0, 0, 0),
    ]
