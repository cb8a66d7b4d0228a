"""Captions of what the voice says, cut into phrases from its word timings.

* **Phrases:** a phrase ends at a word that ends a clause (, ; : . ! ?), or where the next word
  would take its line past `LINE_CHARS` (42, the broadcast subtitle line) — a cue holds at most
  `CUE_LINES` such lines, so a long sentence becomes several cues.
* **When:** a cue is on screen from its first word's start to its last word's end, held up to
  `_HOLD_S` longer so a short phrase can be read, but never into the next cue or past its beat.
  Every cue lies inside its beat, because every line does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from adgen_refine.captions import cue_text, timestamp
from adgen_refine.voice_mix import PlacedLine, Word

LINE_CHARS: Final = 42
CUE_LINES: Final = 2
_HOLD_S: Final = 0.3
_CLAUSE_ENDS: Final = ",;:.!?"


@dataclass(frozen=True)
class SpokenCue:
    beat_index: int
    start_s: float
    end_s: float
    lines: tuple[str, ...]
    words: tuple[Word, ...]


def _lines_of(words: Sequence[Word]) -> list[list[Word]]:
    """Words wrapped into lines of at most LINE_CHARS (a longer single word is a line of its own)."""
    lines: list[list[Word]] = []
    for word in words:
        if lines and len(" ".join(w.text for w in [*lines[-1], word])) <= LINE_CHARS:
            lines[-1].append(word)
        else:
            lines.append([word])
    return lines


def _phrases(words: Sequence[Word]) -> list[list[Word]]:
    phrases: list[list[Word]] = [[]]
    for word in words:
        phrases[-1].append(word)
        if word.text.endswith(tuple(_CLAUSE_ENDS)):
            phrases.append([])
    return [p for p in phrases if p]


def cues(lines: Sequence[PlacedLine], beat_ends_s: dict[int, float]) -> list[SpokenCue]:
    """The cues of every spoken line, in time order; `beat_ends_s` gives each beat's end."""
    result: list[SpokenCue] = []
    for line in sorted(lines, key=lambda placed: placed.start_s):
        for phrase in _phrases(line.words):
            wrapped = _lines_of(phrase)
            for first in range(0, len(wrapped), CUE_LINES):
                group = wrapped[first : first + CUE_LINES]
                words = tuple(w for row in group for w in row)
                text = tuple(" ".join(w.text for w in row) for row in group)
                result.append(SpokenCue(line.beat_index, words[0].start_s, words[-1].end_s, text, words))
    held = []
    for cue, following in zip(result, [*result[1:], None], strict=False):
        limit = beat_ends_s.get(cue.beat_index, cue.end_s + _HOLD_S)
        if following is not None:
            limit = min(limit, following.start_s)
        end = max(cue.end_s, min(cue.end_s + _HOLD_S, limit))
        held.append(SpokenCue(cue.beat_index, cue.start_s, end, cue.lines, cue.words))
    return held


def webvtt(spoken: Sequence[SpokenCue]) -> str:
    """The WebVTT sidecar of the spoken words."""
    out = ["WEBVTT", ""]
    for number, cue in enumerate(spoken, start=1):
        out += [str(number), f"{timestamp(cue.start_s)} --> {timestamp(cue.end_s)}", *map(cue_text, cue.lines), ""]
    return "\n".join(out)
