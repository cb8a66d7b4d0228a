"""Archetypes carry the predecessor's five story shapes, and every one can fill every duration."""

from __future__ import annotations

import dataclasses

import pytest

from adgen_planner.archetypes import ARCHETYPES, CATEGORY_ARCHETYPES, EnergyCurve, Stage, _validated, get_archetype
from adgen_planner.beat_library import LIBRARY, Energy, Position
from adgen_planner.composer import COMPOSED_MAX_BEATS, ranked_sequences
from adgen_planner.vocabulary import CATEGORIES
from adgen_video.request_limits import VALID_DURATIONS_S

# fmt: off
PREDECESSOR = {
    "luxury_showcase": (15, 30, ("hero_shot", "detail_showcase", "lifestyle_context", "call_to_action"), "steady",
                        ("reveal", "appreciate", "aspire", "desire")),
    "energetic_lifestyle": (10, 20, ("dynamic_intro", "action_montage", "product_in_motion", "call_to_action"),
                            "building", ("excite", "engage", "empower", "inspire")),
    "minimalist_reveal": (10, 20, ("hero_shot", "detail_showcase", "call_to_action"), "steady",
                          ("reveal", "appreciate", "conclude")),
    "emotional_storytelling": (20, 30, ("atmospheric_setup", "usage_scenario", "transformation_moment",
                                        "call_to_action"), "building", ("relate", "connect", "transform", "remember")),
    "feature_demo": (15, 30, ("hero_shot", "feature_highlight_sequence", "benefit_showcase", "call_to_action"),
                     "steady", ("introduce", "demonstrate", "explain", "convince")),
}
# fmt: on


@pytest.mark.parametrize("archetype_id", sorted(PREDECESSOR))
def test_predecessor_archetypes_are_carried_over(archetype_id: str) -> None:
    low, high, suggested, curve, narrative = PREDECESSOR[archetype_id]
    a = get_archetype(archetype_id)
    assert (a.min_duration_s, a.max_duration_s, a.suggested_beats) == (low, high, suggested)
    assert a.energy_curve is EnergyCurve(curve)
    assert a.narrative == narrative
    assert a.typical_products and a.style_hints


def test_energy_curves() -> None:
    low, medium, high = Energy.LOW, Energy.MEDIUM, Energy.HIGH
    assert EnergyCurve.STEADY.allows([medium, low, medium, medium])
    assert not EnergyCurve.STEADY.allows([low, high, medium])
    assert EnergyCurve.BUILDING.allows([low, medium, high, medium])  # the closing beat is a hold
    assert not EnergyCurve.BUILDING.allows([high, low, high, medium])


def _every_tag_set() -> list[frozenset[str]]:
    return sorted({c.product_tags for c in CATEGORIES.values()}, key=sorted)


@pytest.mark.parametrize("archetype_id", sorted(ARCHETYPES))
def test_every_archetype_fills_every_duration_for_every_product_family(archetype_id: str) -> None:
    archetype = ARCHETYPES[archetype_id]
    for tags in _every_tag_set():
        for duration in VALID_DURATIONS_S:
            sequences = ranked_sequences(archetype_id, tags, duration)
            assert sequences, (tags, duration)
            for seq in sequences:
                beats = [LIBRARY[b] for b in seq.beat_ids]
                assert sum(b.duration_s for b in beats) == duration
                assert beats[0].position is Position.OPENING and beats[-1].position is Position.CLOSING
                assert all(b.position is Position.MIDDLE for b in beats[1:-1])
                assert all(b.suits(tags) for b in beats)
                assert archetype.energy_curve.allows([b.energy for b in beats])
                assert len(beats) <= COMPOSED_MAX_BEATS
                assert all(a != b for a, b in zip(seq.beat_ids, seq.beat_ids[1:], strict=False))


@pytest.mark.parametrize("archetype_id", sorted(ARCHETYPES))
def test_the_suggested_sequence_wins_at_its_own_length(archetype_id: str) -> None:
    archetype = ARCHETYPES[archetype_id]
    total = sum(LIBRARY[b].duration_s for b in archetype.suggested_beats)
    tags = frozenset().union(*(LIBRARY[b].compatible_products for b in archetype.suggested_beats)) - {"all"}
    assert ranked_sequences(archetype_id, tags, total)[0].beat_ids == archetype.suggested_beats


def test_long_ads_use_long_beats_and_short_ads_do_not() -> None:
    for archetype_id in ARCHETYPES:
        long_best = ranked_sequences(archetype_id, frozenset(), 60)[0].beat_ids
        short_best = ranked_sequences(archetype_id, frozenset(), 20)[0].beat_ids
        assert any(LIBRARY[b].duration_s == 15 for b in long_best)
        assert all(LIBRARY[b].duration_s < 15 for b in short_best)


def test_every_category_has_a_story() -> None:
    assert set(CATEGORY_ARCHETYPES) == set(CATEGORIES)


def test_a_bad_archetype_fails_at_load() -> None:
    good = ARCHETYPES["luxury_showcase"]
    misplaced = dataclasses.replace(good, stages=(Stage("reveal", ("call_to_action",)), *good.stages[1:]))
    with pytest.raises(ValueError, match="not opening beats"):
        _validated((misplaced,))
    unknown = dataclasses.replace(good, stages=(*good.stages[:-1], Stage("desire", ("fireworks",))))
    with pytest.raises(ValueError, match="unknown beats"):
        _validated((unknown,))
