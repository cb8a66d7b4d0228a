"""Chunk planning: properties over every beat layout, and regressions for the predecessor's defects."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adgen_chunks.chunk_plan import (
    ChunkPlan,
    InitSource,
    InvalidChunkPlan,
    beat_spans,
    check_chunk_plan,
    chunk_plan_violations,
    chunks_needed,
    clip_cost_usd,
    clip_frames_for,
    estimate_seconds,
    overlap_fraction_for,
    overlap_frames_for,
    plan_chunks,
)
from adgen_chunks.model_registry import DEFAULT_VIDEO_MODEL, REGISTRY, UnknownVideoModel, get_model

FPS = 24
CLIP_LENGTHS_S = (2.0, 3.0, 4.2, 5.0, 6.0)


@st.composite
def beat_layouts(draw: st.DrawFn) -> tuple[int, ...]:
    """Beat durations (5/10/15 s) summing to 10–60 s in steps of 5."""
    total = draw(st.sampled_from(range(10, 61, 5)))
    durations: list[int] = []
    while sum(durations) < total:
        durations.append(draw(st.sampled_from([d for d in (5, 10, 15) if sum(durations) + d <= total])))
    return tuple(durations)


def spans(durations_s: tuple[int, ...], fps: int = FPS) -> tuple[tuple[int, int], ...]:
    starts = [sum(durations_s[:i]) for i in range(len(durations_s))]
    return beat_spans(list(zip(starts, durations_s, strict=True)), fps)


def slots_of(plan: ChunkPlan, beat_index: int) -> list:
    return [s for s in plan.slots if s.beat_index == beat_index]


@settings(max_examples=300, deadline=None)
@given(
    layout=beat_layouts(),
    clip_s=st.sampled_from(CLIP_LENGTHS_S),
    overlap=st.floats(min_value=0.0, max_value=0.4),
    fps=st.sampled_from([24, 30]),
)
def test_every_layout_clip_and_overlap_gives_a_valid_plan(
    layout: tuple[int, ...], clip_s: float, overlap: float, fps: int
) -> None:
    beats = spans(layout, fps)
    clip = clip_frames_for(clip_s, fps)
    plan = check_chunk_plan(plan_chunks(beats, clip, overlap, fps), beats)

    assert plan.total_frames == sum(layout) * fps
    assert plan.clip_frames == clip
    assert plan.overlap_frames == max(1, round(overlap * clip))
    covered: list[int] = []
    for beat_index, (start, count) in enumerate(beats):
        slots = slots_of(plan, beat_index)
        # Every storyboard image is used exactly once, by its own beat's first chunk.
        assert [s.init_source for s in slots].count(InitSource.STORYBOARD) == 1
        assert slots[0].init_source is InitSource.STORYBOARD and slots[0].start_frame == start
        frames = set()
        for previous, slot in itertools.pairwise(slots):
            assert slot.init_source is InitSource.HANDOFF
            assert slot.index == previous.index + 1
            assert slot.start_frame == previous.start_frame + previous.handoff_frame
            assert 0 <= previous.handoff_frame < clip
        for slot in slots:
            assert slot.used_frames <= clip
            frames |= set(range(slot.start_frame, slot.end_frame))
        assert frames == set(range(start, start + count))  # trim, never pad, never spill
        step = clip - plan.overlap_frames
        expected = 1 if clip >= count else 1 + -(-(count - clip) // step)
        assert len(slots) == expected
        # One chunk fewer could not cover the beat.
        assert (len(slots) - 1) == 0 or clip + (len(slots) - 2) * step < count
        covered.extend(sorted(frames))
    assert covered == list(range(plan.total_frames))


def test_predecessor_25s_on_hailuo_fast_uses_every_storyboard_and_lasts_25s() -> None:
    model = get_model("hailuo_fast")
    beats = spans((5, 5, 10, 5))
    plan = check_chunk_plan(plan_chunks(beats, clip_frames_for(model.clip_s, FPS)), beats)

    storyboard_slots = [s for s in plan.slots if s.init_source is InitSource.STORYBOARD]
    assert [s.beat_index for s in storyboard_slots] == [0, 1, 2, 3]
    assert [s.start_frame for s in storyboard_slots] == [0, 120, 240, 480]
    assert plan.total_frames == 25 * FPS
    assert sum(s.used_frames - s.overlap_in_frames for s in plan.slots) == 25 * FPS
    assert [len(slots_of(plan, b)) for b in range(4)] == [1, 1, 2, 1]
    assert clip_cost_usd(plan, model) == len(plan.slots) * Decimal("0.19") == Decimal("0.95")


def test_third_chunk_continues_from_the_second_not_the_first() -> None:
    beats = spans((15,))
    plan = check_chunk_plan(plan_chunks(beats, clip_frames_for(5.0, FPS)), beats)
    first, second, third = plan.slots[:3]
    assert len(plan.slots) == 4
    assert third.init_source is InitSource.HANDOFF
    assert third.start_frame == second.start_frame + second.handoff_frame
    assert third.start_frame != first.start_frame + first.handoff_frame
    assert third.index - 1 == second.index


def test_overlap_is_really_planned_when_a_clip_is_shorter_than_its_beat() -> None:
    beats = spans((10,))
    plan = plan_chunks(beats, clip_frames_for(6.0, FPS), overlap_fraction=0.25)
    first, second = plan.slots
    assert second.overlap_in_frames == 36 > 0
    assert first.end_frame - second.start_frame == second.overlap_in_frames
    assert first.handoff_frame == 144 - 36


def test_zero_overlap_still_shares_the_handoff_frame() -> None:
    beats = spans((10,))
    plan = check_chunk_plan(plan_chunks(beats, clip_frames_for(6.0, FPS), overlap_fraction=0.0), beats)
    first, second = plan.slots
    assert plan.overlap_frames == 1
    assert first.handoff_frame == 143 and second.start_frame == 143
    assert second.overlap_in_frames == 1
    assert second.used_frames == 240 - 143


def test_the_studio_renders_each_frame_of_a_beat_once() -> None:
    studio, wan = get_model(DEFAULT_VIDEO_MODEL), get_model("wan")
    assert overlap_fraction_for(wan, 0.25) == 0.25
    beats = spans((5, 10, 15))
    plan = check_chunk_plan(
        plan_chunks(beats, clip_frames_for(studio.clip_s, FPS), overlap_fraction_for(studio, 0.25)), beats
    )
    assert plan.overlap_frames == 1  # the hand-off frame, nothing cross-faded
    assert sum(s.used_frames for s in plan.slots) == plan.total_frames + sum(s.index_in_beat > 0 for s in plan.slots)


def test_cost_is_per_clip_never_per_second() -> None:
    model = get_model("hailuo_fast")
    beats = spans((5, 10, 10, 5))
    plan = plan_chunks(beats, clip_frames_for(model.clip_s, FPS))
    cost = clip_cost_usd(plan, model)
    assert cost == len(plan.slots) * model.price_per_clip_usd
    assert cost != model.price_per_clip_usd * 30
    assert cost != model.price_per_clip_usd * Decimal(str(model.clip_s)) * len(plan.slots)


def test_clip_longer_than_every_beat_gives_one_trimmed_chunk_per_beat() -> None:
    beats = spans((5, 5), fps=30)
    plan = plan_chunks(beats, clip_frames_for(6.0, 30), fps=30)
    assert [(s.start_frame, s.used_frames, s.handoff_frame) for s in plan.slots] == [(0, 150, -1), (150, 150, -1)]


def test_clip_frames_never_count_frames_the_model_does_not_return() -> None:
    assert clip_frames_for(4.2, 24) == 100
    assert clip_frames_for(6.0, 30) == 180
    assert clip_frames_for(2.0, 24) == 48
    assert clip_frames_for(0.7, 30) == 21


@pytest.mark.parametrize(
    ("beats", "clip", "overlap", "message"),
    [
        (((0, 120),), 1, 0.25, "at least 2 frames"),
        (((0, 120),), 120, 0.5, "overlap_fraction"),
        (((0, 120),), 120, -0.1, "overlap_fraction"),
        (((0, 120), (130, 120)), 120, 0.25, "contiguous"),
        (((24, 120),), 120, 0.25, "contiguous"),
        (((0, 0),), 120, 0.25, "at least one"),
        ((), 120, 0.25, "no beats"),
    ],
)
def test_bad_inputs_are_rejected_clearly(beats: tuple, clip: int, overlap: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_chunks(beats, clip, overlap)


def test_check_reports_a_tampered_plan() -> None:
    beats = spans((15,))
    plan = plan_chunks(beats, clip_frames_for(5.0, FPS))
    slots = list(plan.slots)
    slots[2] = type(slots[2])(**{**slots[2].__dict__, "start_frame": slots[0].start_frame + slots[0].handoff_frame})
    tampered = ChunkPlan(tuple(slots), plan.fps, plan.clip_frames, plan.overlap_frames, plan.total_frames)
    assert chunk_plan_violations(tampered, beats)
    with pytest.raises(InvalidChunkPlan, match="hand-off"):
        check_chunk_plan(tampered, beats)
    padded = ChunkPlan(plan.slots, plan.fps, plan.clip_frames, plan.overlap_frames, plan.total_frames + 24)
    with pytest.raises(InvalidChunkPlan, match="covers"):
        check_chunk_plan(padded, beats)


def test_chunks_needed_is_the_minimum() -> None:
    assert chunks_needed(120, 144, 36) == 1
    assert chunks_needed(240, 144, 36) == 2
    assert chunks_needed(360, 120, 30) == 4
    assert overlap_frames_for(144, 0.25) == 36


def test_estimate_follows_the_longest_beat_chain() -> None:
    beats = spans((5, 15, 5))
    plan = plan_chunks(beats, clip_frames_for(5.0, FPS))
    assert estimate_seconds(plan, image_latency_s=8, clip_latency_s=45) == 8 + 4 * 45


def test_registry_holds_every_known_model_with_real_clip_lengths() -> None:
    expected = {
        "hailuo_fast": (6.0, "0.19"),
        "hailuo_23": (6.0, "0.28"),
        "wan": (5.0, "0.09"),
        "wan_25_i2v": (5.0, "0.09"),
        "seedance": (5.0, "0.06"),
        "pixverse": (4.2, "0.07"),
        "kling_21": (5.0, "0.25"),
        "veo_fast": (5.0, "0.75"),
        "zeroscope": (3.0, "0.10"),
        "animatediff": (2.0, "0.20"),
        "studio": (5.0, "0"),
    }
    assert {k: (m.clip_s, m.price_per_clip_usd) for k, m in REGISTRY.items()} == {
        k: (s, Decimal(p)) for k, (s, p) in expected.items()
    }
    hailuo = REGISTRY["hailuo_fast"]
    assert (hailuo.fps, hailuo.image_input, hailuo.price_per_clip_micros) == (30, "first_frame_image", 190_000)
    studio = get_model("")
    assert studio.key == DEFAULT_VIDEO_MODEL and studio.is_local
    assert (studio.fps, studio.width, studio.height, studio.price_per_clip_usd) == (24, 1280, 720, Decimal(0))


def test_unknown_model_lists_the_valid_keys() -> None:
    with pytest.raises(UnknownVideoModel, match="valid keys: animatediff, hailuo_23, hailuo_fast"):
        get_model("sora")
