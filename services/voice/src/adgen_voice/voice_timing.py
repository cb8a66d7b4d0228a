"""How a spoken line fits its beat: the speaking rate to try next, or the verdict that it cannot fit.

A beat leaves its line the beat's length less a breath at each end (`adgen_video.speech_pace`, the
figures the planner budgets words with). A line the voice speaks within that room keeps the voice's
own pace: slowing a voice to fill silence sounds drawn out, and the silence is the music's. A longer
line is sped up, by at most `MAX_RATE`, beyond which speech stops sounding natural; a line that
needs more was given too many words by the planner, and that is the error raised (`LineTooLong`),
not something to hide by talking faster.

A rate does not shorten a line in proportion: Piper's `length_scale` stretches phonemes but not its
pauses, and its duration predictor draws noise (1.12x makes a line 4-8 % shorter, not 11 %; the
same line at the same rate varies by up to `DURATION_NOISE` from try to try). So a line is
measured after each try: the second try assumes half the proportional effect (what Piper gives),
the later ones are `MAX_RATE` itself, each a fresh draw of the noise, and a line still too long
after `MAX_TRIES` is too long. A line that even `MAX_RATE` could fit only with more than the noise
in its favour is refused at once. The word timings are those of the audio that is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from adgen_video.speech_pace import BREATH_S, room_s

# Faster than this, an ad read sounds rushed; the planner's budget must then give fewer words.
MAX_RATE = 1.12
# Syntheses of one line, the first at the voice's pace included (each is a provider call).
MAX_TRIES = 4
# How much one line's length varies between syntheses at one rate (Piper's sampled durations).
DURATION_NOISE = 0.04


class LineTooLong(ValueError):
    """The line does not fit its beat at `MAX_RATE`: the planner's word budget was wrong."""


@dataclass(frozen=True)
class WordTiming:
    text: str
    start_s: float
    end_s: float


def next_rate(tries: list[tuple[float, float]], target_s: float) -> float | None:
    """After the syntheses `tries` ((rate, seconds) each, the last one last): None when the last
    fits a beat of `target_s`, else the rate to try next. Raises `LineTooLong` when no rate up to
    `MAX_RATE` can make it fit, or `MAX_TRIES` are used up."""
    rate, spoken_s = tries[-1]
    if spoken_s <= 0:
        raise ValueError(f"a spoken line lasts more than 0 s, not {spoken_s}")
    room = room_s(target_s)
    if spoken_s <= room:
        return None
    # In proportion is the most a rate can shorten a line (its pauses do not shrink): past
    # MAX_RATE by that reckoning, and by more than the noise, no rate helps.
    proportional = rate * spoken_s / room if room > 0 else float("inf")
    if proportional > MAX_RATE * (1 + DURATION_NOISE) or len(tries) >= MAX_TRIES:
        raise LineTooLong(
            f"the line takes {spoken_s:.2f} s at {rate:.2f}x but its {target_s:g} s beat leaves {room:.2f} s"
            f" (a breath of {BREATH_S:g} s at each end); {MAX_RATE}x cannot make it fit in {MAX_TRIES} tries:"
            " the line has more words than the beat's budget"
        )
    if len(tries) > 1:
        return MAX_RATE
    # Half the proportional effect, so twice the step: a nearby rate is lost in Piper's noise.
    return min(MAX_RATE, 2 * proportional - 1)
