"""The rule-based composer: a prompt becomes a plan of beats, without any model.

Decisions, in order: the duration (request, else the prompt, else 30 s); the archetype (the
product's category and the prompt's mood words vote); the beat sequence (every way of filling the
archetype's narrative stages with compatible beats to exactly the duration, within its energy
curve, ranked by how closely it follows the suggested beats); then the words and look of each beat,
and the line spoken over it (`voiceover`).

Product images go on every beat, not only on the beats whose subject is the product itself: the
product is what the ad sells, so it is on screen all through (hero, detail, in its setting, the
packshot); a beat without it would have to be a deliberate choice recorded in the plan's notes.

Creativity widens the choice among ranked sequences: at 0 the best one is always taken; above 0 a
random generator seeded from the prompt, seed and creativity samples the ranking with a temperature
that grows with creativity. The same request therefore always gives the same plan.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from dataclasses import dataclass
from functools import lru_cache

from adgen_planner.archetypes import (
    ARCHETYPES,
    CATEGORY_ARCHETYPES,
    MOOD_ARCHETYPES,
    MOOD_PALETTES,
    Archetype,
)
from adgen_planner.beat_library import FIELD_WORD_CAPS, LIBRARY, BeatDefinition, Position
from adgen_planner.plan import Plan, PlannedBeat, Style
from adgen_planner.prompt_reading import PromptReading, read_prompt
from adgen_planner.vocabulary import CATEGORIES, MOODS, mood_of
from adgen_planner.voiceover import ScriptBrief, line
from adgen_video.durations import planned_duration
from adgen_video.naming import UNNAMED_PRODUCT, as_name
from adgen_video.request_limits import DURATION_MAX_S, DURATION_MIN_S, DURATION_STEP_S, VALID_DURATIONS_S
from adgen_video.text_safety import sanitise

# The most beats this composer puts in a plan: its own target, below the bound every spec is held to
# (`adgen_video.contract_rules.SPEC_MAX_BEATS`), which a generative composer's plan may reach.
COMPOSED_MAX_BEATS = 8
# Middle shots are shared among the middle stages: a stage with many shots of the same idea would
# read as a loop, so a stage gets at most its share (three each when there are two stages).
MAX_MIDDLE_BEATS = COMPOSED_MAX_BEATS - 2  # all but the opening and the closing beat
MAX_USES_PER_BEAT = 2
# How many ranked sequences creativity may choose among.
CHOICE_POOL = 24


@dataclass(frozen=True)
class PlanRequest:
    """What the user asked for. `duration_s` None (or 0, proto3's "unset") means "read it from
    the prompt, else 30 s"; `creativity` is 0.0–1.0; `asset_ids` are the user's product images."""

    prompt: str
    duration_s: int | None = None
    creativity: float = 0.0
    seed: int = 0
    asset_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RankedSequence:
    """A valid beat sequence and its score (lower follows the archetype more closely)."""

    score: float
    beat_ids: tuple[str, ...]


def compose(request: PlanRequest) -> Plan:
    """The plan for `request`; deterministic in (prompt, duration, creativity, seed, asset ids)."""
    validate(request)
    reading = read_prompt(request.prompt)
    notes: list[str] = []
    duration = plan_duration(request.duration_s, reading.duration_s, notes)
    archetype = _archetype(reading, notes)
    if not archetype.fits_duration(duration):
        notes.append(
            f"{duration} s is outside {archetype.archetype_id}'s usual {archetype.min_duration_s}–"
            f"{archetype.max_duration_s} s: its narrative is stretched or condensed to fit"
        )
    category = CATEGORIES[reading.category]
    seed = plan_seed(request)
    rng = random.Random(seed)
    candidates = ranked_sequences(archetype.archetype_id, category.product_tags, duration)
    chosen = _choose(candidates, request.creativity, rng)
    if chosen.beat_ids != candidates[0].beat_ids:
        notes.append(f"creativity {request.creativity:g} chose an alternative sequence")
    notes.append("beats: " + ", ".join(chosen.beat_ids))
    style = _style(archetype, reading, notes)
    product = reading.product_name or UNNAMED_PRODUCT
    if not reading.product_name:
        notes.append(f"no product named in the prompt: using {UNNAMED_PRODUCT!r}")
    call_to_action = reading.call_to_action or category.call_to_action
    notes.append(
        f"call to action from prompt: {call_to_action!r}"
        if reading.call_to_action
        else f"call to action not stated: {call_to_action!r} for {category.category_id}"
    )
    setting = reading.setting or category.setting
    if request.asset_ids:
        notes.append(product_images_note(len(request.asset_ids)))
    script = ScriptBrief(
        product=reading.product_name or None,
        brand=reading.brand,
        call_to_action=call_to_action,
        category=category.category_id,
        mood=style.mood,
        seed=seed,
    )
    beats = _beats(chosen.beat_ids, product, setting, style, category.benefits, request.asset_ids, script)
    return Plan(
        archetype_id=archetype.archetype_id,
        duration_s=duration,
        product_name=product,
        category=category.category_id,
        brand=reading.brand,
        call_to_action=call_to_action,
        style=style,
        beats=beats,
        notes=tuple(notes),
    )


def product_images_note(count: int) -> str:
    """The note recording that every beat carries the request's product images."""
    images = "1 product image" if count == 1 else f"{count} product images, rotated round robin,"
    return f"{images} on every beat"


def validate(request: PlanRequest) -> None:
    if not (math.isfinite(request.creativity) and 0.0 <= request.creativity <= 1.0):
        raise ValueError(f"creativity must be between 0.0 and 1.0, got {request.creativity!r}")
    if request.duration_s and request.duration_s not in VALID_DURATIONS_S:
        raise ValueError(
            f"duration_s must be {DURATION_MIN_S}–{DURATION_MAX_S} s in steps of {DURATION_STEP_S}, "
            f"got {request.duration_s}"
        )


def plan_duration(requested: int | None, from_prompt: int | None, notes: list[str]) -> int:
    """The duration by precedence (`adgen_video.durations`: request, prompt, default), noted."""
    chosen = planned_duration(requested, from_prompt)
    notes.append(chosen.note)
    return chosen.seconds


def _archetype(reading: PromptReading, notes: list[str]) -> Archetype:
    """The category votes 3 for its best archetype and 2 for its second; every mood word votes 1.5
    for its mood's archetype. So one clear mood word moves a product to its second story, and only
    a repeated mood moves it further. Ties go to the category's preference."""
    preference = CATEGORY_ARCHETYPES[reading.category]
    scores = dict.fromkeys(ARCHETYPES, 0.0)
    for weight, archetype_id in zip((3.0, 2.0), preference, strict=False):
        scores[archetype_id] += weight
    for word in reading.style_words:
        scores[MOOD_ARCHETYPES[mood_of(word)]] += 1.5
    best = max(
        ARCHETYPES,
        key=lambda a: (scores[a], -preference.index(a) if a in preference else -len(preference)),
    )
    why = [f"category {reading.category}"]
    if reading.moods:
        why.append("mood " + "/".join(reading.moods))
    notes.append(f"archetype {best} ({', '.join(why)})")
    return ARCHETYPES[best]


def plan_seed(request: PlanRequest) -> int:
    """A stable seed (Python's own str hash changes per process)."""
    key = f"{request.prompt}\x00{request.seed}\x00{request.creativity!r}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


def _choose(candidates: tuple[RankedSequence, ...], creativity: float, rng: random.Random) -> RankedSequence:
    if creativity == 0.0 or len(candidates) == 1:
        return candidates[0]
    temperature = 3.0 * creativity
    best = candidates[0].score
    weights = [math.exp(-(c.score - best) / temperature) for c in candidates]
    return rng.choices(candidates, weights=weights, k=1)[0]


# ---------------------------------------------------------------------------------------------
# Beat sequences


def _stage_pools(archetype: Archetype, tags: frozenset[str]) -> list[tuple[BeatDefinition, ...]]:
    return [tuple(LIBRARY[b] for b in stage.beat_ids if LIBRARY[b].suits(tags)) for stage in archetype.stages]


def _stage_fills(
    pool: tuple[BeatDefinition, ...], budget: int, max_beats: int
) -> dict[int, list[tuple[tuple[str, ...], int]]]:
    """Every run of up to `max_beats` beats from `pool` (no beat twice in a row), by total seconds,
    with the sum of the beats' preference ranks."""
    rank = {b.beat_id: i for i, b in enumerate(pool)}
    fills: dict[int, list[tuple[tuple[str, ...], int]]] = {0: [((), 0)]}
    frontier: list[tuple[tuple[str, ...], int, int]] = [((), 0, 0)]
    for _ in range(max_beats):
        grown = []
        for ids, seconds, ranks in frontier:
            for beat in pool:
                total = seconds + beat.duration_s
                if total > budget or (ids and ids[-1] == beat.beat_id) or ids.count(beat.beat_id) >= MAX_USES_PER_BEAT:
                    continue
                item = ((*ids, beat.beat_id), total, ranks + rank[beat.beat_id])
                grown.append(item)
                fills.setdefault(total, []).append((item[0], item[2]))
        frontier = grown
    return fills


def _score(beat_ids: tuple[str, ...], ranks: int, empty_stages: int, duration: int) -> float:
    """Lower is better: follow the suggested beats, keep shots a comfortable length for the
    duration, use the 15 s beats in long ads (and not in short ones), avoid repeats and skipped stages."""
    beats = [LIBRARY[b] for b in beat_ids]
    ideal_count = duration / (5 + duration / 12)
    long_beats = sum(1 for b in beats if b.duration_s == 15)
    score = float(ranks) + 1.5 * abs(len(beats) - ideal_count) + 4.0 * empty_stages
    score += 3.0 * (len(beat_ids) - len(set(beat_ids)))
    if duration < 40:
        score += 3.0 * long_beats
    elif duration >= 45 and long_beats == 0:
        score += 3.0
    return score


def _acceptable(beat_ids: tuple[str, ...], archetype: Archetype) -> bool:
    if len(beat_ids) > COMPOSED_MAX_BEATS:
        return False
    if any(a == b for a, b in itertools.pairwise(beat_ids)):
        return False
    if any(beat_ids.count(b) > MAX_USES_PER_BEAT for b in set(beat_ids)):
        return False
    return archetype.energy_curve.allows([LIBRARY[b].energy for b in beat_ids])


@lru_cache(maxsize=512)
def ranked_sequences(archetype_id: str, tags: frozenset[str], duration: int) -> tuple[RankedSequence, ...]:
    """The best CHOICE_POOL beat sequences for an archetype, product tags and duration, best first.

    Every sequence opens with an opening beat, closes with a closing beat, fills the archetype's
    middle stages in narrative order with beats that suit the product, sums exactly to the
    duration and follows the energy curve.
    """
    archetype = ARCHETYPES[archetype_id]
    pools = _stage_pools(archetype, tags)
    opening, middles, closing = pools[0], pools[1:-1], pools[-1]
    found: list[RankedSequence] = []
    for first in opening:
        for last in closing:
            budget = duration - first.duration_s - last.duration_s
            if budget < 0:
                continue
            fills = [_stage_fills(pool, budget, MAX_MIDDLE_BEATS // len(middles)) for pool in middles]
            for middle, ranks, empty in _combine(fills, budget):
                ids = (first.beat_id, *middle, last.beat_id)
                if not _acceptable(ids, archetype):
                    continue
                total_rank = ranks + opening.index(first) + closing.index(last)
                found.append(RankedSequence(_score(ids, total_rank, empty, duration), ids))
    if not found:
        raise ValueError(f"no {archetype_id} sequence of {duration} s fits products tagged {sorted(tags)}")
    found.sort(key=lambda c: (c.score, c.beat_ids))
    return tuple(found[:CHOICE_POOL])


def _combine(
    fills: list[dict[int, list[tuple[tuple[str, ...], int]]]], budget: int
) -> list[tuple[tuple[str, ...], int, int]]:
    """Middle sequences filling `budget` seconds: one fill per stage, in narrative order, as
    (beat ids, summed ranks, number of empty stages)."""
    if not fills:
        return [((), 0, 0)] if budget == 0 else []
    head, rest = fills[0], fills[1:]
    combined = []
    for seconds, options in head.items():
        tails = _combine(rest, budget - seconds)
        for ids, ranks in options:
            for tail_ids, tail_ranks, tail_empty in tails:
                combined.append(((*ids, *tail_ids), ranks + tail_ranks, tail_empty + (not ids)))
    return combined


# ---------------------------------------------------------------------------------------------
# Words and look


def _style(archetype: Archetype, reading: PromptReading, notes: list[str]) -> Style:
    mood = reading.moods[0] if reading.moods else archetype.default_mood
    words = list(dict.fromkeys([*reading.style_words[:2], *archetype.style_hints]))[:3]
    aesthetic = ", ".join(words)
    if reading.colours:
        palette = reading.colours
        aesthetic += f", {' and '.join(reading.colour_names[:2])} palette"
        notes.append("palette from stated colours: " + ", ".join(reading.colour_names))
    else:
        palette = MOOD_PALETTES[mood]
        notes.append(f"no colours stated: {mood} palette")
    return Style(
        aesthetic=sanitise(aesthetic, max_words=FIELD_WORD_CAPS["style_aesthetic"]),
        palette=palette,
        mood=mood,
        lighting=MOODS[mood].lighting,
    )


def _beats(
    beat_ids: tuple[str, ...],
    product: str,
    setting: str,
    style: Style,
    benefits: tuple[str, ...],
    asset_ids: tuple[str, ...],
    script: ScriptBrief,
) -> tuple[PlannedBeat, ...]:
    """The beats of `beat_ids`: prompts, supers and lines; `script` carries the brand and the call to action."""
    brand, call_to_action = script.brand, script.call_to_action
    fields = {
        "product_name": sanitise(product, max_words=FIELD_WORD_CAPS["product_name"]) or UNNAMED_PRODUCT,
        "setting": sanitise(setting, max_words=FIELD_WORD_CAPS["setting"]),
        "style_aesthetic": style.aesthetic,
    }
    name = as_name(fields["product_name"])
    planned = []
    start = 0
    for index, beat_id in enumerate(beat_ids):
        beat = LIBRARY[beat_id]
        if beat.position is Position.OPENING:
            headline, subline = (brand, name) if brand else (name, "")
        elif beat.position is Position.CLOSING:
            headline, subline = call_to_action, brand or name
        else:
            headline, subline = benefits[(index - 1) % len(benefits)], ""
        planned.append(
            PlannedBeat(
                index=index,
                beat_id=beat_id,
                start_s=start,
                duration_s=beat.duration_s,
                shot_type=beat.shot_type,
                camera_movement=beat.camera_movement,
                energy=beat.energy,
                position=beat.position,
                prompt=sanitise(beat.prompt_template.format(**fields)),
                shows_product=beat.shows_product,
                headline=sanitise(headline),
                subline=sanitise(subline),
                # Every beat features the product when the request has images (see references.py).
                reference_asset_ids=asset_ids,
                voiceover=line(index, beat.position, beat.duration_s, script),
            )
        )
        start += beat.duration_s
    return tuple(planned)
