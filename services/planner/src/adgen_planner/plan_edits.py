"""An owner's changes to a plan at a review gate: which are allowed, and the plan they make.

Each changed field meets the rule the planner's own plans meet (`spec_rules`): on-screen words are
short and clean, a spoken line fits its beat, a prompt stays under the word limit, the camera and
shot are ones the beat library knows. A new order keeps an opening beat first, a closing one last
and the middle beats between; the beats keep their own words, images and products when they move,
and their start times follow. Every fault is reported with the field it is in, all at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adgen.common.v1 import common_pb2
from adgen.planner.v1 import planner_service_pb2
from adgen_planner.beat_library import LIBRARY
from adgen_planner.voiceover import problem
from adgen_video.request_limits import PROMPT_WORD_LIMIT
from adgen_video.text_safety import sanitise

# On-screen words, as the composers cap them.
TEXT_WORD_CAP = 8
CAMERA_MOVEMENTS = frozenset(b.camera_movement for b in LIBRARY.values())
SHOT_TYPES = frozenset(b.shot_type for b in LIBRARY.values())


@dataclass(frozen=True)
class FieldFault:
    field: str
    message: str


def _text_fault(value: str, _: common_pb2.Beat) -> str | None:
    if sanitise(value, max_words=TEXT_WORD_CAP) != value:
        return f"must be clean text of at most {TEXT_WORD_CAP} words"
    return None


def _prompt_fault(value: str, _: common_pb2.Beat) -> str | None:
    if not 0 < len(value.split()) < PROMPT_WORD_LIMIT:
        return f"must have 1 to {PROMPT_WORD_LIMIT - 1} words"
    if sanitise(value) != value:
        return "carries unsafe or unnormalised text"
    return None


def _voiceover_fault(value: str, beat: common_pb2.Beat) -> str | None:
    return problem(value, beat.duration_s)


def _one_of(known: frozenset[str]) -> Callable[[str, common_pb2.Beat], str | None]:
    def fault(value: str, _: common_pb2.Beat) -> str | None:
        return None if value in known else f"must be one of {', '.join(sorted(known))}"

    return fault


# What each editable field must be; a field not named here cannot be edited.
FIELD_RULES: dict[str, Callable[[str, common_pb2.Beat], str | None]] = {
    "headline": _text_fault,
    "subline": _text_fault,
    "voiceover": _voiceover_fault,
    "prompt": _prompt_fault,
    "camera_movement": _one_of(CAMERA_MOVEMENTS),
    "shot_type": _one_of(SHOT_TYPES),
}


def edited_plan(
    spec: common_pb2.Spec, edits: Sequence[planner_service_pb2.BeatEdit], order: Sequence[int] = ()
) -> tuple[common_pb2.Spec, list[FieldFault]]:
    """The plan with the edits made, then the beats in `order` (empty: as they are), and every
    fault found; when there are faults the plan is not to be used."""
    edited = common_pb2.Spec()
    edited.CopyFrom(spec)
    faults: list[FieldFault] = []
    count = len(spec.beats)
    seen: set[int] = set()
    for position, edit in enumerate(edits):
        where = f"beats[{position}]"
        if not 0 <= edit.index < count:
            faults.append(FieldFault(f"{where}.index", f"the plan has beats 0 to {count - 1}"))
            continue
        if edit.index in seen:
            faults.append(FieldFault(f"{where}.index", f"beat {edit.index} is edited twice"))
            continue
        seen.add(edit.index)
        beat = edited.beats[edit.index]
        for name, rule in FIELD_RULES.items():
            if not edit.HasField(name):
                continue
            value = getattr(edit, name)
            fault = rule(value, beat)
            if fault:
                faults.append(FieldFault(f"{where}.{name}", fault))
            else:
                setattr(beat, name, value)
    if order:
        faults += _order_faults(edited, order)
        if not faults:
            _reorder(edited, order)
    return edited, faults


def _order_faults(spec: common_pb2.Spec, order: Sequence[int]) -> list[FieldFault]:
    count = len(spec.beats)
    if sorted(order) != list(range(count)):
        return [FieldFault("order", f"must name each beat 0 to {count - 1} once")]
    first, last = spec.beats[order[0]], spec.beats[order[-1]]
    if first.position != common_pb2.BEAT_POSITION_OPENING:
        return [FieldFault("order", f"beat {order[0]} ({first.beat_id}) is not an opening beat; it cannot come first")]
    if last.position != common_pb2.BEAT_POSITION_CLOSING:
        return [FieldFault("order", f"beat {order[-1]} ({last.beat_id}) is not a closing beat; it cannot come last")]
    return []


def _reorder(spec: common_pb2.Spec, order: Sequence[int]) -> None:
    beats = [common_pb2.Beat() for _ in order]
    start = 0
    for index, (beat, old) in enumerate(zip(beats, order, strict=True)):
        beat.CopyFrom(spec.beats[old])
        beat.index, beat.start_s = index, start
        start += beat.duration_s
    del spec.beats[:]
    spec.beats.extend(beats)


def moved(order: Sequence[int]) -> bool:
    """Whether an order changes anything."""
    return bool(order) and list(order) != list(range(len(order)))
