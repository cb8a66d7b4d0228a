"""A video's length by precedence: the request's, else the prompt's, else 30 s."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adgen_video.durations import DEFAULT_DURATION_S, duration_of, planned_duration, read_duration, snap_duration
from adgen_video.request_limits import DURATION_MAX_S, DURATION_MIN_S, VALID_DURATIONS_S


@pytest.mark.parametrize(
    ("prompt", "seconds", "source"),
    [
        ("20 second ad for Morning Roast, a single-origin coffee", 20, "prompt"),
        ("ad for Morning Roast, half a minute", 30, "prompt"),
        ("a 15s spot for a watch", 15, "prompt"),
        ("a minute-long ad for a watch", 60, "prompt"),
        ("twenty-five seconds of a kettle", 25, "prompt"),
        ("a 12 second ad", 10, "prompt"),
        ("a 90 second ad", 60, "prompt"),
        ("ad for Morning Roast", DEFAULT_DURATION_S, "default"),
        ("", DEFAULT_DURATION_S, "default"),
    ],
)
def test_the_prompt_decides_when_the_request_does_not(prompt: str, seconds: int, source: str) -> None:
    for not_given in (None, 0):
        chosen = duration_of(not_given, prompt)
        assert (chosen.seconds, chosen.source) == (seconds, source)
    assert duration_of(45, prompt).seconds == 45 and duration_of(45, prompt).source == "request"


def test_the_notes_say_which_applied() -> None:
    assert planned_duration(45, 20).note == "duration from request: 45 s"
    assert planned_duration(None, 20).note == "duration from prompt: 20 s"
    assert planned_duration(0, 12).note == "prompt asks for 12 s: using 10 s (plans are 10–60 s in steps of 5)"
    assert planned_duration(None, None).note == "duration not stated: default 30 s"


@given(st.integers(min_value=0, max_value=10_000))
def test_a_stated_length_snaps_to_the_nearest_valid_one(seconds: int) -> None:
    snapped = snap_duration(seconds)
    assert snapped in VALID_DURATIONS_S
    assert abs(snapped - min(max(seconds, DURATION_MIN_S), DURATION_MAX_S)) <= 2.5


def test_reading_takes_the_earliest_mention() -> None:
    assert read_duration("15 second cut of a 30 second ad") == 15
    assert read_duration("ad for a 2-in-1 shampoo") is None
