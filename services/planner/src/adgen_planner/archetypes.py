"""Archetypes: the five story shapes an ad can take, and which products and moods call for each.

An archetype is a narrative of stages (the first opens, the last closes, the ones between are the
middle) and an energy curve. Each stage lists the library beats that can play it, best first: the
first beat of every stage is the archetype's suggested sequence. The composer fills the stages to
the requested duration; this module only states the shapes and is validated when it loads.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from adgen_planner.beat_library import LIBRARY, Energy, Position
from adgen_planner.vocabulary import CATEGORIES, MOODS


class EnergyCurve(StrEnum):
    # Neighbouring beats never jump from low straight to high (or back).
    STEADY = "steady"
    # Energy never drops from the opening through the middle; the closing beat is a hold.
    BUILDING = "building"

    def allows(self, energies: Sequence[Energy]) -> bool:
        ranks = [e.rank for e in energies]
        if self is EnergyCurve.STEADY:
            return all(abs(a - b) <= 1 for a, b in itertools.pairwise(ranks))
        body = ranks[:-1]
        return all(a <= b for a, b in itertools.pairwise(body))


@dataclass(frozen=True)
class Stage:
    """One step of the narrative and the beats that can play it, best first."""

    name: str
    beat_ids: tuple[str, ...]


@dataclass(frozen=True)
class Archetype:
    archetype_id: str
    min_duration_s: int
    max_duration_s: int
    energy_curve: EnergyCurve
    stages: tuple[Stage, ...]
    typical_products: tuple[str, ...]
    style_hints: tuple[str, ...]
    default_mood: str

    @property
    def suggested_beats(self) -> tuple[str, ...]:
        return tuple(stage.beat_ids[0] for stage in self.stages)

    @property
    def narrative(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    def fits_duration(self, duration_s: int) -> bool:
        return self.min_duration_s <= duration_s <= self.max_duration_s


def _stages(spec: str) -> tuple[Stage, ...]:
    """ "reveal: a, b | appreciate: c" → stages."""
    stages = []
    for part in spec.split("|"):
        name, beats = part.split(":")
        stages.append(Stage(name.strip(), tuple(b.strip() for b in beats.split(","))))
    return tuple(stages)


# fmt: off
_ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        "luxury_showcase", 15, 30, EnergyCurve.STEADY,
        _stages("reveal: hero_shot, teaser_reveal, hero_film, atmospheric_setup"
                "| appreciate: detail_showcase, benefit_showcase, feature_highlight_sequence"
                "| aspire: lifestyle_context, usage_scenario, day_in_the_life"
                "| desire: call_to_action, brand_moment, brand_film"),
        ("watches", "jewelry", "luxury cars", "high-end fashion", "premium tech"),
        ("elegant", "sophisticated", "premium", "minimalist", "cinematic"),
        "luxurious",
    ),
    Archetype(
        "energetic_lifestyle", 10, 20, EnergyCurve.BUILDING,
        _stages("excite: dynamic_intro, ambient_lifestyle, hero_shot, hero_film"
                "| engage: action_montage, usage_scenario, benefit_showcase"
                "| empower: product_in_motion, highlight_reel, transformation_moment, benefit_showcase, day_in_the_life"
                "| inspire: call_to_action, brand_film, brand_moment"),
        ("sportswear", "sneakers", "fitness", "energy drinks", "outdoor"),
        ("vibrant", "dynamic", "authentic", "motivational"),
        "energetic",
    ),
    Archetype(
        "minimalist_reveal", 10, 20, EnergyCurve.STEADY,
        _stages("reveal: hero_shot, teaser_reveal, hero_film, atmospheric_setup"
                "| appreciate: detail_showcase, benefit_showcase, feature_highlight_sequence, lifestyle_context,"
                " usage_scenario, transformation_moment, day_in_the_life"
                "| conclude: call_to_action, brand_moment, brand_film"),
        ("tech gadgets", "design objects", "skincare", "minimal fashion"),
        ("clean", "modern", "simple", "focused"),
        "minimal",
    ),
    Archetype(
        "emotional_storytelling", 20, 30, EnergyCurve.BUILDING,
        _stages("relate: atmospheric_setup, ambient_lifestyle, hero_film, hero_shot"
                "| connect: usage_scenario, lifestyle_context, day_in_the_life, benefit_showcase"
                "| transform: transformation_moment, benefit_showcase, day_in_the_life"
                "| remember: call_to_action, brand_moment, brand_film"),
        ("family", "healthcare", "home goods", "insurance", "nonprofits"),
        ("warm", "human", "heartfelt"),
        "warm",
    ),
    Archetype(
        "feature_demo", 15, 30, EnergyCurve.STEADY,
        _stages("introduce: hero_shot, teaser_reveal, hero_film, dynamic_intro"
                "| demonstrate: feature_highlight_sequence, detail_showcase, product_in_motion, usage_scenario,"
                " benefit_showcase"
                "| explain: benefit_showcase, usage_scenario, transformation_moment, day_in_the_life"
                "| convince: call_to_action, brand_moment, brand_film"),
        ("tech", "appliances", "software", "tools", "automotive"),
        ("informative", "clear", "professional", "benefit-driven"),
        "informative",
    ),
)
# fmt: on

# A palette per mood: the prompt's mood, else the archetype's own (`default_mood`).
MOOD_PALETTES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "luxurious": ("#0B0B0C", "#D4AF37", "#F5F1E8", "#3A3A3C"),
        "energetic": ("#FF4D00", "#111111", "#FFFFFF", "#00C2FF"),
        "minimal": ("#FAFAFA", "#1C1C1E", "#C7C7CC", "#8E8E93"),
        "warm": ("#F2A65A", "#FFF4E6", "#7A4E2D", "#E76F51"),
        "calm": ("#E8F1F2", "#A3C4BC", "#5B7B7A", "#FFFFFF"),
        "informative": ("#0A84FF", "#FFFFFF", "#1D1D1F", "#34C759"),
        "playful": ("#FFD166", "#EF476F", "#06D6A0", "#118AB2"),
        "dramatic": ("#0D0D0D", "#8B0000", "#C9C9C9", "#2E2E2E"),
    }
)

# Which story suits a product family, best first.
CATEGORY_ARCHETYPES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "luxury": ("luxury_showcase", "minimalist_reveal"),
        "jewelry": ("luxury_showcase", "minimalist_reveal"),
        "fragrance": ("luxury_showcase", "minimalist_reveal"),
        "fashion": ("luxury_showcase", "energetic_lifestyle"),
        "sportswear": ("energetic_lifestyle", "feature_demo"),
        "fitness": ("energetic_lifestyle", "emotional_storytelling"),
        "wearables": ("feature_demo", "energetic_lifestyle"),
        "energy_drinks": ("energetic_lifestyle",),
        "food_beverage": ("emotional_storytelling", "minimalist_reveal"),
        "beauty": ("minimalist_reveal", "luxury_showcase"),
        "tech": ("feature_demo", "minimalist_reveal"),
        "software": ("feature_demo", "minimalist_reveal"),
        "finance": ("feature_demo", "emotional_storytelling"),
        "insurance": ("emotional_storytelling", "feature_demo"),
        "automotive": ("feature_demo", "luxury_showcase"),
        "appliances": ("feature_demo", "emotional_storytelling"),
        "home": ("emotional_storytelling", "minimalist_reveal"),
        "healthcare": ("emotional_storytelling", "feature_demo"),
        "family": ("emotional_storytelling",),
        "nonprofit": ("emotional_storytelling",),
        "travel": ("luxury_showcase", "emotional_storytelling"),
        "pets": ("emotional_storytelling", "energetic_lifestyle"),
        "outdoor": ("energetic_lifestyle", "emotional_storytelling"),
        "general": ("minimalist_reveal", "feature_demo"),
    }
)

# Which story a mood asks for.
MOOD_ARCHETYPES: Mapping[str, str] = MappingProxyType(
    {
        "luxurious": "luxury_showcase",
        "energetic": "energetic_lifestyle",
        "minimal": "minimalist_reveal",
        "warm": "emotional_storytelling",
        "calm": "minimalist_reveal",
        "informative": "feature_demo",
        "playful": "energetic_lifestyle",
        "dramatic": "luxury_showcase",
    }
)


def _is_hex(value: str) -> bool:
    return len(value) == 7 and value[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in value[1:])


def _validated(archetypes: tuple[Archetype, ...]) -> Mapping[str, Archetype]:
    problems: list[str] = []
    by_id = {a.archetype_id: a for a in archetypes}
    if len(by_id) != len(archetypes):
        problems.append("duplicate archetype ids")
    for a in archetypes:
        where = a.archetype_id
        if not 0 < a.min_duration_s <= a.max_duration_s:
            problems.append(f"{where}: bad duration range {a.min_duration_s}-{a.max_duration_s}")
        if len(a.stages) < 3:
            problems.append(f"{where}: a narrative needs an opening, a middle and a closing stage")
        for i, stage in enumerate(a.stages):
            expected = Position.OPENING if i == 0 else Position.CLOSING if i == len(a.stages) - 1 else Position.MIDDLE
            unknown = [b for b in stage.beat_ids if b not in LIBRARY]
            if unknown:
                problems.append(f"{where}/{stage.name}: unknown beats {unknown}")
                continue
            misplaced = [b for b in stage.beat_ids if LIBRARY[b].position is not expected]
            if misplaced:
                problems.append(f"{where}/{stage.name}: beats {misplaced} are not {expected} beats")
            if not any(LIBRARY[b].suits(frozenset()) for b in stage.beat_ids):
                problems.append(f"{where}/{stage.name}: no beat that fits every product")
        if not all(b in LIBRARY for b in a.suggested_beats):
            continue
        suggested = [LIBRARY[b] for b in a.suggested_beats]
        if not a.fits_duration(sum(b.duration_s for b in suggested)):
            problems.append(f"{where}: suggested beats do not fit its own duration range")
        if not a.energy_curve.allows([b.energy for b in suggested]):
            problems.append(f"{where}: suggested beats break its {a.energy_curve} energy curve")
        if a.default_mood not in MOODS:
            problems.append(f"{where}: unknown default mood {a.default_mood!r}")
    if set(CATEGORY_ARCHETYPES) != set(CATEGORIES):
        problems.append(f"categories without an archetype: {sorted(set(CATEGORIES) ^ set(CATEGORY_ARCHETYPES))}")
    for category, choices in CATEGORY_ARCHETYPES.items():
        if not choices or any(c not in by_id for c in choices):
            problems.append(f"category {category}: unknown archetypes {choices}")
    if set(MOOD_ARCHETYPES) != set(MOODS) or set(MOOD_PALETTES) != set(MOODS):
        problems.append("every mood needs an archetype and a palette")
    if any(a not in by_id for a in MOOD_ARCHETYPES.values()):
        problems.append("mood mapped to an unknown archetype")
    if not all(_is_hex(c) for palette in MOOD_PALETTES.values() for c in palette):
        problems.append("mood palettes must be #RRGGBB colours")
    if problems:
        raise ValueError("invalid archetypes: " + "; ".join(problems))
    return MappingProxyType(by_id)


ARCHETYPES: Mapping[str, Archetype] = _validated(_ARCHETYPES)


def get_archetype(archetype_id: str) -> Archetype:
    try:
        return ARCHETYPES[archetype_id]
    except KeyError:
        raise KeyError(f"unknown archetype {archetype_id!r}; known: {', '.join(ARCHETYPES)}") from None
