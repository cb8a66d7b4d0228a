"""The rate fit: a line that fits keeps the voice's pace, a longer one is sped up no further than
MAX_RATE, and every line the planner's budget allows fits at the voice's pace."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adgen_video.speech_pace import BREATH_S, WORDS_PER_S, room_s
from adgen_voice.voice_timing import DURATION_NOISE, MAX_RATE, MAX_TRIES, LineTooLong, next_rate

BEAT_DURATIONS = (5, 10, 15)


def shortening(pause_share: float) -> Callable[[float, float], float]:
    """A voice whose pauses (`pause_share` of a line at its own pace) do not shrink with the rate."""
    return lambda natural_s, rate: natural_s * (pause_share + (1 - pause_share) / rate)


@given(st.sampled_from(BEAT_DURATIONS), st.floats(0.05, 30.0), st.floats(0.0, 0.6))
def test_tries_end_inside_the_room_or_say_the_line_is_too_long(beat_s: int, natural_s: float, pauses: float) -> None:
    spoken = shortening(pauses)
    tries = [(1.0, natural_s)]
    try:
        while (rate := next_rate(tries, beat_s)) is not None:
            assert 1.0 < rate <= MAX_RATE and rate >= tries[-1][0], "no try is slower than the last, none past MAX_RATE"
            tries.append((rate, spoken(natural_s, rate)))
    except LineTooLong:
        assert spoken(natural_s, MAX_RATE) > room_s(beat_s) or len(tries) == MAX_TRIES
        return
    assert tries[-1][1] <= room_s(beat_s)
    assert len(tries) <= MAX_TRIES
    if natural_s <= room_s(beat_s):
        assert tries == [(1.0, natural_s)], "a line that fits keeps the voice's own pace"


@given(st.sampled_from(BEAT_DURATIONS), st.floats(1.0, MAX_RATE / 1.001, exclude_min=True))
def test_a_voice_that_shortens_in_proportion_fits_in_one_more_try(beat_s: int, over: float) -> None:
    natural_s = room_s(beat_s) * over
    rate = next_rate([(1.0, natural_s)], beat_s)
    assert rate is not None and natural_s / rate <= room_s(beat_s) + 1e-9


@given(st.lists(st.sampled_from(BEAT_DURATIONS), min_size=1, max_size=12))
def test_every_line_the_planner_budgets_fits_at_the_voices_pace(layout: list[int]) -> None:
    """The planner budgets floor((beat - 2 breaths) x WORDS_PER_S) words; spoken at that pace, every
    beat's fullest line fits without speeding up."""
    for beat_s in layout:
        words = math.floor((beat_s - 2 * BREATH_S) * WORDS_PER_S)
        assert next_rate([(1.0, words / WORDS_PER_S)], beat_s) is None


def test_a_line_too_long_for_any_rate_is_the_planners_error() -> None:
    with pytest.raises(LineTooLong, match="budget"):
        next_rate([(1.0, room_s(5) * MAX_RATE * (1 + DURATION_NOISE) * 1.01)], 5)


def test_a_line_that_just_misses_at_the_top_rate_is_spoken_once_more_at_it() -> None:
    """Piper's durations are sampled: a line a hair over its room at MAX_RATE may fit on the next
    draw, so the next try is MAX_RATE again while tries remain, and the last try's miss is final."""
    room = room_s(5)
    tries = [(1.0, room * 1.06), (MAX_RATE, room * 1.01)]
    assert next_rate(tries, 5) == MAX_RATE
    tries.append((MAX_RATE, room * 1.005))
    assert len(tries) < MAX_TRIES and next_rate(tries, 5) == MAX_RATE
    tries.append((MAX_RATE, room * 1.002))
    with pytest.raises(LineTooLong, match=f"in {MAX_TRIES} tries"):
        next_rate(tries, 5)


def test_a_silent_line_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 0"):
        next_rate([(1.0, 0.0)], 5)
