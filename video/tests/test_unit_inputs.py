"""What an edit of a finished video makes again: exactly the units whose inputs it changed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adgen.common.v1 import common_pb2
from adgen_video.unit_inputs import ON_SCREEN_FIELDS, Remade, remade

# Three beats of two chunks each: chunk 2k and 2k+1 belong to beat k, the second starts from the first.
BEATS = 3


def plan() -> common_pb2.Spec:
    spec = common_pb2.Spec(duration_s=15, product_name="Aurora watch", seed=7)
    spec.style.palette.extend(["#101010", "#C9A227"])
    for index in range(BEATS):
        spec.beats.add(
            index=index,
            start_s=5 * index,
            duration_s=5,
            shot_type="close_up",
            camera_movement="slow_push_in",
            prompt=f"the watch, scene {index}",
            headline=f"Headline {index}",
            subline=f"Subline {index}",
            voiceover=f"Line number {index}.",
        )
    spec.chunk_plan.video_model = "hailuo_fast"
    spec.chunk_plan.fps = 24
    for index in range(2 * BEATS):
        spec.chunk_plan.slots.add(index=index, beat_index=index // 2, index_in_beat=index % 2, start_frame=60 * index)
    return spec


def edited(**changes: object) -> common_pb2.Spec:
    spec = plan()
    for name, value in changes.items():
        setattr(spec.beats[1], name, value)
    return spec


@pytest.mark.parametrize("field", ON_SCREEN_FIELDS)
def test_the_words_on_screen_make_nothing_again(field: str) -> None:
    assert remade(plan(), edited(**{field: "Something new"})) == Remade((), (), ())


@pytest.mark.parametrize("field", ["prompt", "camera_movement", "shot_type"])
def test_a_picture_edit_makes_that_beats_image_and_clips_again_and_nothing_across_beats(field: str) -> None:
    assert remade(plan(), edited(**{field: "orbit"})) == Remade(frames=(1,), chunks=(2, 3), lines=())


def test_a_line_edit_makes_that_line_again() -> None:
    assert remade(plan(), edited(voiceover="A new line.")) == Remade((), (), (1,))


def test_the_look_of_the_whole_ad_makes_every_picture_again() -> None:
    spec = plan()
    spec.style.palette.append("#AA2222")
    redo = remade(plan(), spec)
    assert redo.frames == (0, 1, 2) and redo.chunks == tuple(range(2 * BEATS)) and redo.lines == ()


def test_a_new_video_model_makes_every_clip_again_but_no_image() -> None:
    spec = plan()
    spec.chunk_plan.video_model = "kling"
    assert remade(plan(), spec) == Remade((), tuple(range(2 * BEATS)), ())


@given(st.sets(st.integers(0, BEATS - 1)), st.sets(st.integers(0, BEATS - 1)))
def test_only_the_edited_beats_units_are_made_again(pictures: set[int], lines: set[int]) -> None:
    spec = plan()
    for beat in pictures:
        spec.beats[beat].prompt += ", at dusk"
    for beat in lines:
        spec.beats[beat].voiceover = "Another line."
    redo = remade(plan(), spec)
    assert redo.frames == tuple(sorted(pictures))
    assert redo.chunks == tuple(sorted(c for b in pictures for c in (2 * b, 2 * b + 1)))
    assert redo.lines == tuple(sorted(lines))
    assert redo.names == [
        *(f"frame {b}" for b in sorted(pictures)),
        *(f"chunk {c}" for c in redo.chunks),
        *(f"voice {b}" for b in sorted(lines)),
    ]
