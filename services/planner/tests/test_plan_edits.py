"""An owner's plan edits at a review gate: what each field may say, a new order, and every fault named."""

from __future__ import annotations

import pytest

from adgen.common.v1 import common_pb2
from adgen.planner.v1 import planner_service_pb2 as p
from adgen_planner.composer import PlanRequest
from adgen_planner.llm_composer import compose_with_rules
from adgen_planner.plan_edits import edited_plan, retimed
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
    assert not retimed(spec, edited), "four 5 s beats in another order span the same times"


def test_a_new_length_moves_the_later_beats_and_the_ad_lasts_their_sum(spec: common_pb2.Spec) -> None:
    line = "Sapphire glass, a titanium case, and a strap that stays soft on the wrist all day."
    edited, faults = edited_plan(spec, [p.BeatEdit(index=1, duration_s=10, voiceover=line)])
    assert faults == []
    assert [b.duration_s for b in edited.beats] == [5, 10, 5, 5] and [b.start_s for b in edited.beats] == [0, 5, 15, 20]
    assert edited.duration_s == 25 and edited.beats[1].voiceover == line
    assert retimed(spec, edited)


def test_a_length_the_library_has_not_is_refused_naming_it(spec: common_pb2.Spec) -> None:
    _, faults = edited_plan(spec, [p.BeatEdit(index=2, headline="Hi"), p.BeatEdit(index=1, duration_s=7)])
    assert [(f.field, f.message) for f in faults] == [("beats[1].duration_s", "must be one of 5, 10, 15 s")]


def test_an_ad_longer_than_a_minute_is_refused_naming_a_length() -> None:
    wanted = PlanRequest(prompt="60 second ad for a titanium watch", duration_s=60, creativity=0.5, seed=6)
    made = plan_to_spec(compose_with_rules(wanted).plan, common_pb2.VideoRequest(prompt=wanted.prompt))
    _, faults = edited_plan(made, [p.BeatEdit(index=i, duration_s=15) for i in range(len(made.beats))])
    assert [f.field for f in faults] == ["beats[0].duration_s"], faults
    assert f"the ad would last {15 * len(made.beats)} s; it must last 10 to 60 s" in faults[0].message


def test_a_shorter_beat_must_keep_its_line_within_the_new_budget(spec: common_pb2.Spec) -> None:
    longer = edited_plan(spec, [p.BeatEdit(index=1, duration_s=10)])[0]
    longer.beats[1].voiceover = "Sapphire glass, a titanium case, and a strap that stays soft on the wrist all day."
    _, faults = edited_plan(longer, [p.BeatEdit(index=1, duration_s=5)])
    assert [f.field for f in faults] == ["beats[0].duration_s"] and "shorten it too" in faults[0].message


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
