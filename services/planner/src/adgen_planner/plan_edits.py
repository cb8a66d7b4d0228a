"""An owner's changes to a plan at a review gate: which are allowed, and the plan they make.

Each changed field meets the rule the planner's own plans meet (`spec_rules`): on-screen words are
short and clean, a spoken line fits its beat, a prompt stays under the word limit, the camera and
shot are ones the beat library knows, a beat lasts 5, 10 or 15 s (its line within the new
length's budget) and the ad 10 to 60 s. A new order keeps an opening beat first, a closing one last
and the middle beats between; the beats keep their own words, images and products when they move,
and their start times follow their order and lengths. Every fault is reported with the field it is
in, all at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adgen.common.v1 import common_pb2
from adgen.planner.v1 import planner_service_pb2
from adgen_planner.beat_library import LIBRARY
from adgen_planner.voiceover import problem
from adgen_video.contract_rules import BEAT_DURATIONS_S
from adgen_video.request_limits import DURATION_MAX_S, DURATION_MIN_S, PROMPT_WORD_LIMIT
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
    # Lengths first: a line edited with its beat's length is held to the new length's budget.
    faults: list[FieldFault] = _length_faults(edited, edits)
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
        _reorder(edited, order or range(count))  # the beats' starts follow their lengths
        edited.duration_s = sum(b.duration_s for b in edited.beats)
    return edited, sorted(faults, key=_place)


def _place(fault: FieldFault) -> int:
    """Faults in the order of the edits they are in ("beats[2]..."), the order's last."""
    found = re.match(r"beats\[(\d+)\]", fault.field)
    return int(found.group(1)) if found else 10**6


def _length_faults(spec: common_pb2.Spec, edits: Sequence[planner_service_pb2.BeatEdit]) -> list[FieldFault]:
    """Beat lengths the edits set (on `spec`, which has them): each one of the library's, the ad
    within the request limits, and each line still within its beat's new word budget."""
    faults = []
    for position, edit in enumerate(edits):
        if not edit.HasField("duration_s") or not 0 <= edit.index < len(spec.beats):
            continue
        where = f"beats[{position}].duration_s"
        if edit.duration_s not in BEAT_DURATIONS_S:
            faults.append(FieldFault(where, f"must be one of {', '.join(map(str, BEAT_DURATIONS_S))} s"))
            continue
        beat = spec.beats[edit.index]
        beat.duration_s = edit.duration_s
        kept_line = beat.voiceover.strip() and not edit.HasField("voiceover")  # an edited one is checked with it
        line = problem(beat.voiceover, beat.duration_s) if kept_line else None
        if line:
            faults.append(
                FieldFault(where, f"the beat's line does not fit {edit.duration_s} s ({line}); shorten it too")
            )
    total = sum(b.duration_s for b in spec.beats)
    if not faults and not DURATION_MIN_S <= total <= DURATION_MAX_S:
        where = next(f"beats[{p}].duration_s" for p, e in enumerate(edits) if e.HasField("duration_s"))
        faults.append(
            FieldFault(where, f"the ad would last {total} s; it must last {DURATION_MIN_S} to {DURATION_MAX_S} s")
        )
    return faults


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


def retimed(before: common_pb2.Spec, after: common_pb2.Spec) -> bool:
    """Whether any beat's span changed (a new order or a new length): the chunks must be planned again."""
    return [(b.start_s, b.duration_s) for b in before.beats] != [(b.start_s, b.duration_s) for b in after.beats]
