"""The voiceover script: how many words a beat can hold, and the line spoken over each beat.

A beat holds `WORDS_PER_S` words a second, less a breath at each end (`BREATH_S`), so a line never
runs into the cut or into the next line: 10 words in a 5 s beat, 23 in 10 s, 36 in 15 s. The
opening names the product with its brand; a middle beat says its benefit as a full sentence (the
category's `SPOKEN_BENEFITS`, not the super's words) in the mood's register (`REGISTERS`); the
closing speaks the call to action and the name. The plan's seed picks among a register's phrasings,
so the same request always gets the same lines. A middle beat adds a lead-in and a tail sentence
where its budget allows; when the fullest phrasing does not fit, a barer one is taken, down to the
bare name, benefit or call to action, so no line is over its budget.

Lines go through the prompts' sanitising (`adgen_video.text_safety.sanitise`) and end with
punctuation; `problem` holds any line (a model's, a hand-edited one) to the same rules.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from adgen_planner.beat_library import Position
from adgen_planner.vocabulary import REGISTERS, SPOKEN_BENEFITS, SPOKEN_FOR_UNNAMED, Register
from adgen_video.speech_pace import SENTENCE_ENDINGS, WORDS_PER_S, room_s
from adgen_video.text_safety import sanitise


def word_budget(duration_s: float) -> int:
    """The most words a line over a beat of `duration_s` may have."""
    return math.floor(room_s(duration_s) * WORDS_PER_S)


@dataclass(frozen=True)
class ScriptBrief:
    """What the lines speak about. `product` is None when the prompt names none; `seed` is the
    plan's, so the same request picks the same phrasings."""

    product: str | None
    brand: str | None
    call_to_action: str
    category: str
    mood: str
    seed: int


def _punctuated(text: str) -> str:
    """`text` sanitised as prompts are, ending on its own final punctuation or a full stop."""
    clean = sanitise(text)
    if not clean:
        return ""
    stripped = text.rstrip()
    return clean + (stripped[-1] if stripped[-1] in SENTENCE_ENDINGS else ".")


def _capitalised(text: str) -> str:
    """Each sentence starts with a capital; words like "iPhone" are left as they are."""
    out = []
    starts = True
    for word in text.split(" "):
        out.append(word[:1].upper() + word[1:] if starts and word.islower() else word)
        starts = word[-1:] in SENTENCE_ENDINGS
    return " ".join(out)


def spoken(text: str) -> str:
    """`text` as a line the voice can speak: sanitised, sentences capitalised, punctuated."""
    return _capitalised(_punctuated(text))


def problem(line: str, duration_s: int) -> str | None:
    """Why `line` cannot be spoken over a beat of `duration_s`, None when it can. An empty line is
    a silent beat, which is allowed."""
    if not line:
        return None
    if _punctuated(line) != line:
        return "carries unsafe or unnormalised text, or does not end with punctuation"
    words, budget = len(line.split()), word_budget(duration_s)
    if words > budget:
        return f"has {words} words; a {duration_s} s beat holds at most {budget}"
    return None


def line(index: int, position: Position, duration_s: int, brief: ScriptBrief) -> str:
    """The line spoken over beat `index`, within the beat's word budget."""
    register = REGISTERS[brief.mood]
    if position is Position.OPENING:
        options = _opening(index, register, brief)
    elif position is Position.CLOSING:
        options = _closing(index, register, brief)
    else:
        options = _middle(index, register, brief)
    return _fitting(options, word_budget(duration_s))


def _fitting(options: Iterable[str], budget: int) -> str:
    """The first option that fits `budget`; the last one cut to it when none does."""
    last = ""
    for option in options:
        last = spoken(option)
        if len(last.split()) <= budget:
            return last
    return spoken(" ".join(last.split()[:budget])) if budget else ""


def _rotated(bank: tuple[str, ...], brief: ScriptBrief, index: int, slot: str) -> list[str]:
    """`bank` starting at the phrasing the seed picks for this slot, one further on for each beat
    so neighbours differ; the rest follow in case the first does not fit."""
    start = (random.Random(f"{brief.seed}/{slot}").randrange(len(bank)) + index) % len(bank)
    return [*bank[start:], *bank[:start]]


def _names(brief: ScriptBrief) -> list[str]:
    """The product as the voice says it, fullest first: with its brand, without, the bare name;
    the brand alone when no product is named, nothing when neither is."""
    product = brief.product
    if product and product.lower().startswith("the "):
        product = product[4:]
    if not product:
        return [brief.brand] if brief.brand else []
    names = [f"the {product}", product]
    if brief.brand and not product.lower().startswith(brief.brand.lower()):
        names.insert(0, f"the {brief.brand} {product}")
    return names


def _opening(index: int, register: Register, brief: ScriptBrief) -> Iterator[str]:
    for name in _names(brief) or [SPOKEN_FOR_UNNAMED]:
        for opening in _rotated(register.openings, brief, index, "opening"):
            yield opening.format(name=name)
        yield name


def _middle(index: int, register: Register, brief: ScriptBrief) -> Iterator[str]:
    benefits = SPOKEN_BENEFITS[brief.category]
    benefit = benefits[(index - 1) % len(benefits)] + "."
    # A benefit said again in a long ad comes with other words around it.
    turn = index + (index - 1) // len(benefits)
    lead = _rotated(register.leads, brief, turn, "lead")[0]
    tails = [
        tail.format(name=name)
        for name in _names(brief) or [""]
        for tail in _rotated(register.tails, brief, turn, "tail")
        if name or "{name}" not in tail
    ]
    for tail in tails:
        yield f"{lead} {benefit} {tail}"
    for tail in tails:
        yield f"{benefit} {tail}"
    yield f"{lead} {benefit}"
    yield benefit


def _closing(index: int, register: Register, brief: ScriptBrief) -> Iterator[str]:
    cta = sanitise(brief.call_to_action)
    if cta:
        for name in _names(brief):
            for closing in _rotated(register.closings, brief, index, "closing"):
                yield closing.format(cta=cta, name=name)
        yield cta
    else:
        yield from _names(brief) or [SPOKEN_FOR_UNNAMED]
