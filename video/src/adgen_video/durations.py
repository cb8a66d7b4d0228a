"""How long a video is: the request's `duration_s` when given, else the length its prompt states
("20 second", "half a minute", "a 15s spot"), else 30 s.

Shared so that every surface decides it once and alike: the planner plans that length (its
composers note which source applied), and the gateway tells a person what "Auto" will become
before anything is planned. A request's 0 (proto3's unset) and None (REST's omitted) both mean
"not given"; whether a given value is allowed is `request_limits`' business, not this module's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from adgen_video.request_limits import DURATION_MAX_S, DURATION_MIN_S, DURATION_STEP_S

DEFAULT_DURATION_S = 30

# fmt: off
NUMBER_WORDS = {
    "ten": 10, "fifteen": 15, "twenty": 20, "twenty-five": 25, "thirty": 30, "forty": 40, "forty-five": 45,
    "fifty": 50, "fifty-five": 55, "sixty": 60, "ninety": 90,
}
# fmt: on
# The words as a regex alternative, longest first ("twenty-five" before "twenty"); hyphen or space.
NUMBER_WORD = "|".join(w.replace("-", r"[\s-]+") for w in sorted(NUMBER_WORDS, key=len, reverse=True))
_DURATION_PATTERNS: tuple[tuple[re.Pattern[str], int | None], ...] = (
    (re.compile(r"\bhalf[\s-]+(?:a[\s-]+)?minute\b", re.I), 30),
    (re.compile(r"\bquarter[\s-]+(?:of[\s-]+)?(?:a[\s-]+)?minute\b", re.I), 15),
    (re.compile(r"(?<![\w.])(\d{1,3})\s*-?\s*(?:s|secs?|seconds?)\b", re.I), 1),
    (re.compile(r"(?<![\w.])(\d{1,2}(?:\.\d+)?)\s*-?\s*(?:mins?|minutes?)\b", re.I), 60),
    (re.compile(r"\b(" + NUMBER_WORD + r")[\s-]+seconds?\b", re.I), None),
    (re.compile(r"\b(?:a|one)[\s-]+minute\b", re.I), 60),
)

Source = Literal["request", "prompt", "default"]


@dataclass(frozen=True)
class PlannedDuration:
    """The length a video gets, where it came from, and the plan note that says so."""

    seconds: int
    source: Source
    note: str


def read_duration(text: str) -> int | None:
    """Seconds the prompt asks for ("15 second", "30s", "half a minute", "a minute"), earliest mention
    first; unvalidated (see `snap_duration`)."""
    found: list[tuple[int, int]] = []
    for pattern, unit in _DURATION_PATTERNS:
        for match in pattern.finditer(text):
            if unit is None:
                seconds = NUMBER_WORDS[re.sub(r"[\s-]+", "-", match.group(1).lower())]
            elif pattern.groups:
                seconds = round(float(match.group(1)) * unit)
            else:
                seconds = unit
            found.append((match.start(), seconds))
    return min(found)[1] if found else None


def snap_duration(seconds: int) -> int:
    """The nearest length a plan can have (`request_limits.VALID_DURATIONS_S`): a prompt is read,
    not refused."""
    clamped = min(max(seconds, DURATION_MIN_S), DURATION_MAX_S)
    return math.floor(clamped / DURATION_STEP_S + 0.5) * DURATION_STEP_S


def planned_duration(requested: int | None, from_prompt: int | None) -> PlannedDuration:
    """The request's duration, else the prompt's (`read_duration`) snapped to a valid length, else
    the default. `requested` 0 or None is "not given"."""
    if requested:
        return PlannedDuration(requested, "request", f"duration from request: {requested} s")
    if from_prompt is None:
        return PlannedDuration(DEFAULT_DURATION_S, "default", f"duration not stated: default {DEFAULT_DURATION_S} s")
    snapped = snap_duration(from_prompt)
    if snapped == from_prompt:
        return PlannedDuration(snapped, "prompt", f"duration from prompt: {snapped} s")
    return PlannedDuration(
        snapped,
        "prompt",
        f"prompt asks for {from_prompt} s: using {snapped} s (plans are "
        f"{DURATION_MIN_S}–{DURATION_MAX_S} s in steps of {DURATION_STEP_S})",
    )


def duration_of(requested: int | None, prompt: str) -> PlannedDuration:
    """`planned_duration` of a request as written: its `duration_s` and its prompt."""
    return planned_duration(requested, None if requested else read_duration(prompt))
