"""Properties of the stitching timeline: coverage, weights, ramps, and frame-exact duration."""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adgen_refine.timeline import (
    CUT,
    Contribution,
    Placement,
    Transition,
    choose_transition,
    compose_timeline,
)


def lay_out(beats: list[list[tuple[int, int]]]) -> tuple[list[Placement], int]:
    """Placements for beats given as ``[(used_frames, overlap_in_frames), ...]`` per beat."""
    placements: list[Placement] = []
    end = 0
    for beat_index, chunks in enumerate(beats):
        for position, (used, overlap) in enumerate(chunks):
            overlap = 0 if position == 0 else overlap
            start = end - overlap
            placements.append(Placement(len(placements), beat_index, start, used, overlap))
            end = start + used
    return placements, end


@st.composite
def layouts(draw: st.DrawFn) -> tuple[list[Placement], int, dict[int, Transition]]:
    beats: list[list[tuple[int, int]]] = []
    for _ in range(draw(st.integers(1, 5))):
        chunks: list[tuple[int, int]] = []
        for _ in range(draw(st.integers(1, 4))):
            used = draw(st.integers(1, 48))
            previous_used = chunks[-1][0] if chunks else 0
            previous_overlap = chunks[-1][1] if chunks else 0
            room = min(used - 1, previous_used - previous_overlap)
            chunks.append((used, draw(st.integers(0, max(room, 0)))))
        beats.append(chunks)
    placements, total = lay_out(beats)
    kinds = st.sampled_from(["cut", "dissolve", "dip_to_black"])
    transitions = {}
    for beat_index in range(1, len(beats)):
        kind = draw(kinds)
        frames = 0 if kind == "cut" else draw(st.integers(0, 30))
        transitions[beat_index] = Transition(kind, frames)
    return placements, total, transitions


def dip_frames(frames: list[tuple[Contribution, ...]]) -> set[int]:
    return {t for t, parts in enumerate(frames) if not math.isclose(sum(c.weight for c in parts), 1.0)}


@given(layouts())
@settings(max_examples=300, deadline=None)
def test_every_frame_is_formed_and_weights_sum_to_one(layout) -> None:
    placements, total, transitions = layout
    frames = compose_timeline(placements, total, transitions)
    assert len(frames) == total
    darkened = dip_frames(frames)
    for t, parts in enumerate(frames):
        assert parts, f"frame {t} has no contribution"
        assert all(0.0 <= c.weight <= 1.0 for c in parts)
        weight = sum(c.weight for c in parts)
        assert weight <= 1.0 + 1e-9
        if t in darkened:
            assert len(parts) == 1, "a dip darkens a single chunk, never a blend"
    if all(tr.kind != "dip_to_black" for tr in transitions.values()):
        assert not darkened


@given(layouts())
@settings(max_examples=300, deadline=None)
def test_every_used_frame_is_shown_once_in_order_inside_its_span(layout) -> None:
    placements, total, transitions = layout
    frames = compose_timeline(placements, total, transitions)
    seen: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for t, parts in enumerate(frames):
        for c in parts:
            seen[c.chunk].append((t, c.local_frame))
    for p in placements:
        inside = [(t, local) for t, local in seen[p.index] if p.start_frame <= t < p.end_frame]
        assert inside == [(p.start_frame + k, k) for k in range(p.used_frames)]
        outside = {local for t, local in seen[p.index] if not p.start_frame <= t < p.end_frame}
        assert outside <= {0, p.used_frames - 1}, "only held edge frames appear outside a span"


@given(layouts())
@settings(max_examples=300, deadline=None)
def test_cuts_only_show_each_chunk_exactly_over_its_span(layout) -> None:
    placements, total, _ = layout
    frames = compose_timeline(placements, total, {})
    for t, parts in enumerate(frames):
        covering = [p for p in placements if p.start_frame <= t < p.end_frame]
        assert sorted(c.chunk for c in parts) == sorted(p.index for p in covering)
        assert math.isclose(sum(c.weight for c in parts), 1.0)


@given(layouts())
@settings(max_examples=300, deadline=None)
def test_overlaps_ramp_monotonically_from_previous_to_next(layout) -> None:
    placements, total, transitions = layout
    frames = compose_timeline(placements, total, transitions)
    for prev, nxt in pairwise(placements):
        if nxt.beat_index != prev.beat_index or nxt.overlap_in_frames == 0:
            continue
        window = range(nxt.start_frame, nxt.start_frame + nxt.overlap_in_frames)
        incoming = [next(c.weight for c in frames[t] if c.chunk == nxt.index) for t in window]
        outgoing = [next(c.weight for c in frames[t] if c.chunk == prev.index) for t in window]
        assert all(0.0 < w < 1.0 for w in incoming + outgoing)
        assert incoming == sorted(incoming) and len(set(incoming)) == len(incoming)
        assert outgoing == sorted(outgoing, reverse=True)
        assert all(len(frames[t]) == 2 for t in window)


def test_overlap_weights_are_linear() -> None:
    placements, total = lay_out([[(10, 0), (10, 3)]])
    frames = compose_timeline(placements, total, {})
    assert [len(f) for f in frames[7:10]] == [2, 2, 2]
    assert [f[1].weight for f in frames[7:10]] == [0.25, 0.5, 0.75]
    assert [(f[0].local_frame, f[1].local_frame) for f in frames[7:10]] == [(7, 0), (8, 1), (9, 2)]


def test_dissolve_is_centred_on_the_boundary_and_keeps_the_duration() -> None:
    placements, total = lay_out([[(20, 0)], [(20, 0)]])
    frames = compose_timeline(placements, total, {1: Transition("dissolve", 4)})
    assert len(frames) == 40
    window = frames[18:22]
    assert [[(c.chunk, c.local_frame) for c in f] for f in window] == [
        [(0, 18), (1, 0)],
        [(0, 19), (1, 0)],
        [(0, 19), (1, 0)],
        [(0, 19), (1, 1)],
    ]
    assert [f[1].weight for f in window] == [0.2, 0.4, 0.6, 0.8]
    assert frames[17] == (Contribution(0, 17, 1.0),)
    assert frames[22] == (Contribution(1, 2, 1.0),)


def test_dip_to_black_reaches_black_on_the_last_outgoing_frame() -> None:
    placements, total = lay_out([[(20, 0)], [(20, 0)]])
    frames = compose_timeline(placements, total, {1: Transition("dip_to_black", 6)})
    weights = [f[0].weight for f in frames[17:23]]
    assert weights[2] == 0.0 and frames[19][0].chunk == 0
    assert weights == pytest.approx([2 / 3, 1 / 3, 0.0, 0.25, 0.5, 0.75])


def test_a_transition_only_uses_frames_outside_intra_beat_overlaps() -> None:
    # Beat 0 ends with a chunk whose last 15 frames are its own (frames 20..34); beat 1 is one
    # 6-frame chunk, so each of its two boundaries may use 3 of its frames.
    placements, total = lay_out([[(20, 0), (20, 5)], [(6, 0)], [(10, 0)]])
    frames = compose_timeline(placements, total, {1: Transition("dissolve", 40)})
    boundary = placements[2].start_frame
    assert boundary == 35
    blended = [t for t, f in enumerate(frames) if len(f) == 2 and t >= 20]
    assert blended == list(range(20, 38))
    assert all(len(f) == 2 for f in frames[15:20]), "the intra-beat overlap is untouched"
    assert len(frames) == total


def test_a_missing_boundary_is_a_cut() -> None:
    placements, total = lay_out([[(10, 0)], [(10, 0)]])
    assert compose_timeline(placements, total, {}) == compose_timeline(placements, total, {1: CUT})
    assert frames_are_whole(compose_timeline(placements, total, {}))


def frames_are_whole(frames: list[tuple[Contribution, ...]]) -> bool:
    return all(len(f) == 1 and f[0].weight == 1.0 for f in frames)


@pytest.mark.parametrize(
    ("placements", "total", "message"),
    [
        ([Placement(0, 0, 0, 10, 0)], 11, "end at frame 10"),
        ([Placement(0, 0, 0, 10, 0), Placement(1, 0, 11, 10, 0)], 21, "expected 10"),
        ([Placement(0, 0, 0, 10, 0), Placement(1, 1, 8, 10, 2)], 18, "no overlap"),
        ([Placement(0, 0, 0, 10, 0), Placement(1, 1, 9, 10, 0)], 19, "must start at frame 10"),
        ([Placement(0, 0, 2, 10, 0)], 12, "frame 0"),
        ([Placement(0, 0, 0, 10, 0), Placement(0, 1, 10, 10, 0)], 20, "unique"),
        ([Placement(0, 0, 0, 0, 0)], 1, "positive"),
        ([], 10, "no placements"),
        (
            [Placement(0, 0, 0, 10, 0), Placement(1, 0, 4, 6, 6), Placement(2, 0, 4, 6, 6)],
            10,
            "overlap_in_frames",
        ),
    ],
)
def test_placements_that_do_not_tile_the_timeline_are_refused(placements, total, message) -> None:
    with pytest.raises(ValueError, match=message):
        compose_timeline(placements, total, {})


def test_a_transition_for_a_boundary_that_does_not_exist_is_refused() -> None:
    placements, total = lay_out([[(10, 0), (10, 2)]])
    with pytest.raises(ValueError, match="boundaries"):
        compose_timeline(placements, total, {1: Transition("dissolve", 4)})


@pytest.mark.parametrize(
    ("prev", "nxt", "prev_id", "next_id", "expected"),
    [
        ("high", "high", "dynamic_intro", "action_montage", CUT),
        ("medium", "high", "hero_shot", "product_in_motion", CUT),
        ("high", "medium", "action_montage", "call_to_action", CUT),
        ("medium", "low", "hero_shot", "detail_showcase", Transition("dissolve", 12)),
        ("medium", "medium", "usage_scenario", "call_to_action", Transition("dissolve", 6)),
        ("low", "low", "teaser_reveal", "detail_showcase", CUT),
        ("medium", "low", "lifestyle_context", "brand_moment", Transition("dip_to_black", 18)),
        ("high", "low", "action_montage", "brand_moment", Transition("dip_to_black", 18)),
    ],
)
def test_choose_transition(prev, nxt, prev_id, next_id, expected) -> None:
    assert choose_transition(prev, nxt, prev_id, next_id) == expected


def test_transition_lengths_follow_the_frame_rate() -> None:
    assert choose_transition("medium", "low", "a", "b", fps=30) == Transition("dissolve", 15)


def test_unknown_values_are_refused() -> None:
    with pytest.raises(ValueError, match="energy"):
        choose_transition("loud", "low", "a", "b")
    with pytest.raises(ValueError, match="kind"):
        Transition("wipe", 4)
    with pytest.raises(ValueError, match="no frames"):
        Transition("cut", 3)
