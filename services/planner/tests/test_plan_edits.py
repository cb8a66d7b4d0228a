"""An owner's plan edits at a review gate: what each field may say, a new order, and every fault named."""

from __future__ import annotations

import pytest

from adgen.common.v1 import common_pb2
from adgen.planner.v1 import planner_service_pb2 as p
from adgen_planner.composer import PlanRequest
from adgen_planner.llm_composer import compose_with_rules
from adgen_planner.plan_edits import edited_plan, moved
from adgen_planner.spec_mapping import plan_to_spec


@pytest.fixture(scope="module")
def spec() -> common_pb2.Spec:
    """Four 5 s beats: an opening, two middles, a closing."""
    wanted = PlanRequest(prompt="20 second ad for a titanium watch, luxury feel", duration_s=20, creativity=0.5, seed=6)
    made = plan_to_spec(compose_with_rules(wanted).plan, common_pb2.VideoRequest(prompt=wanted.prompt))
    assert [b.duration_s for b in made.beats] == [5, 5, 5, 5]
    return made


def test_edits_change_only_the_fields_named(spec: common_pb2.Spec) -> None:
    edits = [
        p.BeatEdit(index=1, headline="Built for decades", prompt="titanium watch on dark slate, rim light"),
        p.BeatEdit(index=3, voiceover="Yours, for a lifetime.", camera_movement="slow_orbit"),
    ]
    edited, faults = edited_plan(spec, edits)
    assert faults == []
    assert edited.beats[1].headline == "Built for decades" and edited.beats[1].subline == spec.beats[1].subline
    assert edited.beats[1].prompt == "titanium watch on dark slate, rim light"
    assert edited.beats[3].voiceover == "Yours, for a lifetime." and edited.beats[3].camera_movement == "slow_orbit"
    assert [edited.beats[i] for i in (0, 2)] == [spec.beats[i] for i in (0, 2)]
    assert spec.beats[1].headline != "Built for decades", "the plan given is not changed"


def test_a_new_order_keeps_each_beat_whole_and_the_times_follow(spec: common_pb2.Spec) -> None:
    edited, faults = edited_plan(spec, [p.BeatEdit(index=2, headline="Every second counts")], [0, 2, 1, 3])
    assert faults == []
    assert [b.beat_id for b in edited.beats] == [spec.beats[i].beat_id for i in (0, 2, 1, 3)]
    assert [b.index for b in edited.beats] == [0, 1, 2, 3] and [b.start_s for b in edited.beats] == [0, 5, 10, 15]
    assert edited.beats[1].headline == "Every second counts", "an edit names the beat by its place before the move"
    assert edited.beats[2].prompt == spec.beats[1].prompt
    assert moved([0, 2, 1, 3]) and not moved([0, 1, 2, 3]) and not moved([])


@pytest.mark.parametrize(
    ("edits", "order", "faults"),
    [
        ([p.BeatEdit(index=4, headline="Hi")], [], [("beats[0].index", "the plan has beats 0 to 3")]),
        (
            [p.BeatEdit(index=1, headline="A"), p.BeatEdit(index=1, subline="B")],
            [],
            [("beats[1].index", "beat 1 is edited twice")],
        ),
        (
            [p.BeatEdit(index=0, headline="one two three four five six seven eight nine")],
            [],
            [("beats[0].headline", "at most 8 words")],
        ),
        ([p.BeatEdit(index=0, subline="bad\u202etext")], [], [("beats[0].subline", "clean text")]),
        ([p.BeatEdit(index=2, prompt="word " * 40)], [], [("beats[0].prompt", "1 to 39 words")]),
        ([p.BeatEdit(index=2, voiceover=" ".join(["tick"] * 30) + ".")], [], [("beats[0].voiceover", "at most")]),
        ([p.BeatEdit(index=2, voiceover="no ending punctuation")], [], [("beats[0].voiceover", "punctuation")]),
        ([p.BeatEdit(index=2, camera_movement="barrel_roll")], [], [("beats[0].camera_movement", "slow_dolly_in")]),
        ([p.BeatEdit(index=2, shot_type="selfie")], [], [("beats[0].shot_type", "close_up")]),
        ([], [0, 1, 2], [("order", "each beat 0 to 3 once")]),
        ([], [0, 1, 1, 3], [("order", "each beat 0 to 3 once")]),
        ([], [1, 0, 2, 3], [("order", "cannot come first")]),
        ([], [0, 3, 2, 1], [("order", "cannot come last")]),
        (
            [p.BeatEdit(index=0, headline="one two three four five six seven eight nine"), p.BeatEdit(index=9)],
            [2, 1, 0],
            [("beats[0].headline", "8 words"), ("beats[1].index", "0 to 3"), ("order", "once")],
        ),
    ],
)
def test_every_fault_is_named_by_its_field(
    spec: common_pb2.Spec, edits: list[p.BeatEdit], order: list[int], faults: list[tuple[str, str]]
) -> None:
    _, found = edited_plan(spec, edits, order)
    assert [f.field for f in found] == [field for field, _ in faults], found
    for fault, (_, words) in zip(found, faults, strict=True):
        assert words in fault.message, fault
