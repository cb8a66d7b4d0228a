"""The frontier a resumed video enqueues: every unit that is not done and whose dependencies are."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from adgen_video.ready_units import ChunkState, Unit, VideoWork, ready_units


def layout(
    chunks_per_beat: list[int],
    done_frames: set[int],
    done_chunks: set[int],
    lines: dict[int, bool] | None = None,
) -> VideoWork:
    chunks, index = [], 0
    for beat, count in enumerate(chunks_per_beat):
        for _ in range(count):
            chunks.append(ChunkState(index, beat, index in done_chunks))
            index += 1
    return VideoWork(
        planned=True,
        frames_done={b: b in done_frames for b in range(len(chunks_per_beat))},
        chunks=tuple(chunks),
        lines_done=lines or {},
    )


def test_an_unplanned_video_starts_from_its_plan() -> None:
    assert ready_units(VideoWork(planned=False, frames_done={}, chunks=())) == [Unit("plan")]


def test_a_fresh_plan_starts_every_frame_and_nothing_else() -> None:
    assert ready_units(layout([2, 1, 3], set(), set())) == [Unit("frame", 0), Unit("frame", 1), Unit("frame", 2)]


def test_each_beat_resumes_where_it_stopped() -> None:
    # Beat 0: chunks 0-1 done, 2 next. Beat 1: frame done, chunk 3 first. Beat 2: frame missing.
    work = layout([3, 2, 1], done_frames={0, 1}, done_chunks={0, 1})
    assert ready_units(work) == [Unit("frame", 2), Unit("chunk", 2), Unit("chunk", 3)]


def test_refine_follows_only_when_every_chunk_is_done() -> None:
    assert ready_units(layout([1, 2], {0, 1}, {0, 1, 2})) == [Unit("refine")]
    assert Unit("refine") not in ready_units(layout([1, 2], {0, 1}, {0, 2}))


def test_lines_start_with_the_frames_and_refine_waits_for_them() -> None:
    fresh = layout([1, 1], set(), set(), lines={0: False, 1: False})
    assert ready_units(fresh) == [Unit("frame", 0), Unit("frame", 1), Unit("voice", 0), Unit("voice", 1)]
    rendered = layout([1, 1], {0, 1}, {0, 1}, lines={0: True, 1: False})
    assert ready_units(rendered) == [Unit("voice", 1)]
    assert ready_units(layout([1, 1], {0, 1}, {0, 1}, lines={0: True, 1: True})) == [Unit("refine")]
    assert Unit("voice", 0).name == "voice 0"


@st.composite
def progressed(draw: st.DrawFn) -> VideoWork:
    """A video stopped at an arbitrary point of a valid schedule: a done chunk's dependencies are done."""
    per_beat = draw(st.lists(st.integers(1, 6), min_size=1, max_size=12))
    frames = {b for b in range(len(per_beat)) if draw(st.booleans())}
    done, index = set(), 0
    for beat, count in enumerate(per_beat):
        reached = draw(st.integers(0, count)) if beat in frames else 0
        done |= set(range(index, index + reached))
        index += count
    lines = {b: draw(st.booleans()) for b in range(len(per_beat)) if draw(st.booleans())}
    return layout(per_beat, frames, done, lines)


@given(progressed())
def test_the_frontier_is_exactly_the_ready_units(work: VideoWork) -> None:
    ready = set(ready_units(work))
    for chunk in work.chunks:
        unit = Unit("chunk", chunk.index)
        previous = work.chunks[chunk.index - 1] if chunk.index else None
        first = previous is None or previous.beat_index != chunk.beat_index
        dependency_done = work.frames_done[chunk.beat_index] if previous is None or first else previous.done
        assert (unit in ready) == (not chunk.done and dependency_done), (chunk, ready)
    for beat, done in work.frames_done.items():
        assert (Unit("frame", beat) in ready) == (not done)
    for beat, spoken in work.lines_done.items():
        assert (Unit("voice", beat) in ready) == (not spoken)
    assert (Unit("refine") in ready) == (all(c.done for c in work.chunks) and all(work.lines_done.values()))


@given(progressed(), st.randoms(use_true_random=False))
def test_running_the_frontier_to_the_end_does_each_unit_once(work: VideoWork, rng: random.Random) -> None:
    """Enqueue the frontier, let the units finish in any order (each handler enqueues its successor,
    as the services do): every missing unit runs exactly once and refine comes last."""
    frames, chunks, lines = dict(work.frames_done), {c.index: c.done for c in work.chunks}, dict(work.lines_done)
    ran: list[Unit] = []
    queue = list(ready_units(work))
    while queue:
        unit = queue.pop(rng.randrange(len(queue)))
        ran.append(unit)
        if unit.kind == "frame":
            frames[unit.index] = True
            queue.append(Unit("chunk", next(c.index for c in work.chunks if c.beat_index == unit.index)))
        elif unit.kind == "chunk":
            chunks[unit.index] = True
            following = [c for c in work.chunks if c.index == unit.index + 1]
            if following and following[0].beat_index == work.chunks[unit.index].beat_index:
                queue.append(Unit("chunk", unit.index + 1))
        elif unit.kind == "voice":
            lines[unit.index] = True
        # The last of the chunks and lines to finish enqueues refine, as the chunk and voice workers do.
        if unit.kind in ("chunk", "voice") and all(chunks.values()) and all(lines.values()):
            queue.append(Unit("refine"))
    missing = {Unit("frame", b) for b, d in work.frames_done.items() if not d}
    missing |= {Unit("voice", b) for b, d in work.lines_done.items() if not d}
    missing |= {Unit("chunk", c.index) for c in work.chunks if not c.done}
    assert sorted(ran[:-1]) == sorted(missing) and ran[-1] == Unit("refine")


def test_clips_ahead_counts_the_beats_chain_from_a_chunk_on() -> None:
    from adgen.common.v1 import common_pb2
    from adgen_video.ready_units import clips_ahead

    # Beats 0 (chunks 0-2), 1 (chunk 3), 2 (chunks 4-5).
    slots = [common_pb2.ChunkSlot(index=i, beat_index=b) for i, b in enumerate((0, 0, 0, 1, 2, 2))]
    assert [clips_ahead(slots, 0), clips_ahead(slots, 1), clips_ahead(slots, 2)] == [3, 1, 2]
    assert [clips_ahead(slots, 0, i) for i in (0, 1, 2)] == [3, 2, 1]
    assert clips_ahead(slots, 2, 5) == 1
