"""The pace a voiceover is written for and spoken at, shared by the planner (which budgets each beat's
words) and the voice service (which fits the spoken line to its beat): one figure each, so a line
the planner deems to fit is the line the voice can fit."""

from __future__ import annotations

# An unhurried ad read (about 155 words a minute), slow enough to follow over music.
WORDS_PER_S = 2.6
# Silence kept at each end of a beat: the cut, the transition and the next line need room.
BREATH_S = 0.5
# The marks that end a spoken sentence and set its cadence.
SENTENCE_ENDINGS = ".!?"


def room_s(beat_s: float) -> float:
    """The seconds a line over a beat of `beat_s` may take: the beat less a breath at each end."""
    return max(0.0, beat_s - 2 * BREATH_S)
