"""What makes a plan valid: the one place that states the invariants every composer must meet.

Both the rule-based composer and a generative one are checked here before a plan leaves the
planner, so downstream services (storyboard, chunks, refine) can rely on these facts without
re-checking them. One of them: with product images every beat carries them (the product is on
screen all through the ad); a beat without them is allowed only when the notes say so.
"""

from __future__ import annotations

import math
import re

from adgen_planner.beat_library import LIBRARY, Energy, Position
from adgen_planner.plan import Plan
from adgen_planner.voiceover import problem
from adgen_video.contract_rules import BEAT_DURATIONS_S
from adgen_video.request_limits import (
    DURATION_MAX_S,
    DURATION_MIN_S,
    DURATION_STEP_S,
    PROMPT_WORD_LIMIT,
    VALID_DURATIONS_S,
)
from adgen_video.text_safety import sanitise

_HEX = re.compile(r"#[0-9A-Fa-f]{6}")


class InvalidPlan(ValueError):
    """A plan that breaks one or more invariants; `violations` says which, one sentence each."""

    def __init__(self, violations: list[str]) -> None:
        super().__init__("invalid plan: " + "; ".join(violations))
        self.violations = tuple(violations)


def creativity_to_temperature(creativity: float) -> float:
    """Sampling temperature for a generative composer: 0.2 (predictable) to 0.8 (adventurous)."""
    if not (isinstance(creativity, int | float) and math.isfinite(creativity) and 0.0 <= creativity <= 1.0):
        raise ValueError(f"creativity must be between 0.0 and 1.0, got {creativity!r}")
    return 0.2 + 0.6 * creativity


def violations(plan: Plan) -> list[str]:
    """Every broken invariant of `plan`, in a sentence each; empty when the plan is valid."""
    found: list[str] = []
    beats = plan.beats
    if plan.duration_s not in VALID_DURATIONS_S:
        found.append(
            f"duration {plan.duration_s} s is not one of {DURATION_MIN_S}..{DURATION_MAX_S} s"
            f" in steps of {DURATION_STEP_S}"
        )
    if not beats:
        return [*found, "the plan has no beats"]
    total = sum(b.duration_s for b in beats)
    if total != plan.duration_s:
        found.append(f"beats last {total} s but the plan is {plan.duration_s} s")
    if beats[0].position is not Position.OPENING:
        found.append(f"the first beat ({beats[0].beat_id}) is not an opening beat")
    if beats[-1].position is not Position.CLOSING:
        found.append(f"the last beat ({beats[-1].beat_id}) is not a closing beat")
    expected_start = 0
    for i, beat in enumerate(beats):
        where = f"beat {i} ({beat.beat_id})"
        if beat.index != i:
            found.append(f"{where} has index {beat.index}")
        if beat.start_s != expected_start:
            found.append(f"{where} starts at {beat.start_s} s, expected {expected_start} s")
        expected_start = beat.start_s + beat.duration_s
        if beat.duration_s not in BEAT_DURATIONS_S:
            found.append(f"{where} lasts {beat.duration_s} s; beats last {sorted(BEAT_DURATIONS_S)} s")
        definition = LIBRARY.get(beat.beat_id)
        if definition is None:
            found.append(f"{where} is not in the beat library")
        else:
            if definition.duration_s != beat.duration_s:
                found.append(f"{where} lasts {beat.duration_s} s but the library beat lasts {definition.duration_s} s")
            if definition.position is not beat.position:
                found.append(f"{where} is placed as {beat.position} but is a {definition.position} beat")
        if 0 < i < len(beats) - 1 and beat.position is not Position.MIDDLE:
            found.append(f"{where} is a {beat.position} beat in the middle of the plan")
        if not beat.camera_movement or not beat.shot_type:
            found.append(f"{where} needs a camera movement and a shot type")
        if not isinstance(beat.energy, Energy):
            found.append(f"{where} has no energy level")
        words = len(beat.prompt.split())
        if not 0 < words < PROMPT_WORD_LIMIT:
            found.append(f"{where} prompt has {words} words; it needs 1 to {PROMPT_WORD_LIMIT - 1}")
        for name, text in (("prompt", beat.prompt), ("headline", beat.headline), ("subline", beat.subline)):
            if sanitise(text) != text:
                found.append(f"{where} {name} carries unsafe or unnormalised text")
        spoken_problem = problem(beat.voiceover, beat.duration_s)
        if spoken_problem:
            found.append(f"beats[{i}].voiceover ({beat.beat_id}) {spoken_problem}")
    found += _product_gaps(plan)
    palette = plan.style.palette
    if not palette or not all(isinstance(c, str) and _HEX.fullmatch(c) for c in palette):
        found.append(f"palette {palette!r} must be one or more #RRGGBB colours")
    return found


def without_product_note(index: int) -> str:
    """How a plan records a deliberate beat without the product (the only way to have one)."""
    return f"beat {index} without the product"


def _product_gaps(plan: Plan) -> list[str]:
    """With product images, every beat carries them unless the notes say that beat goes without."""
    if not any(b.reference_asset_ids for b in plan.beats):
        return []
    return [
        f"beat {i} ({beat.beat_id}) has no product references though the plan has product images;"
        f" a beat without the product needs the note {without_product_note(i)!r}"
        for i, beat in enumerate(plan.beats)
        if not beat.reference_asset_ids and not any(without_product_note(i) in note for note in plan.notes)
    ]


def check(plan: Plan) -> Plan:
    """`plan` unchanged when valid; raises InvalidPlan listing every violation otherwise."""
    problems = violations(plan)
    if problems:
        raise InvalidPlan(problems)
    return plan
