"""The beat library carries the predecessor's 15 beats unchanged, plus long beats, and rejects bad data."""

from __future__ import annotations

import dataclasses

import pytest

from adgen_planner.beat_library import (
    LIBRARY,
    Energy,
    Position,
    _validated,
    get_beat,
)
from adgen_video.request_limits import PROMPT_WORD_LIMIT

# beat_id: duration, shot type, action, camera movement, position, compatible products, energy
# fmt: off
PREDECESSOR_BEATS = {
    "hero_shot": (5, "close_up", "product_reveal", "slow_dolly_in", "opening", "all", "medium"),
    "ambient_lifestyle": (5, "wide", "establish_environment", "slow_pan", "opening",
                          "lifestyle sportswear fashion", "low"),
    "teaser_reveal": (5, "extreme_close_up", "mysterious_preview", "push_in", "opening", "luxury tech fashion", "low"),
    "dynamic_intro": (5, "dynamic", "energetic_opening", "whip_pan", "opening", "sportswear tech automotive", "high"),
    "atmospheric_setup": (5, "wide", "mood_establishment", "crane_down", "opening", "all", "low"),
    "detail_showcase": (5, "macro", "feature_highlight", "pan_across", "middle", "luxury tech jewelry", "low"),
    "product_in_motion": (5, "tracking", "dynamic_product", "tracking_shot", "middle",
                          "sportswear automotive tech", "high"),
    "usage_scenario": (10, "medium", "person_using_product", "handheld_follow", "middle", "all", "medium"),
    "lifestyle_context": (10, "medium", "aspirational_lifestyle", "slow_orbit", "middle",
                          "luxury fashion lifestyle", "medium"),
    "feature_highlight_sequence": (10, "medium_close_up", "multiple_features", "slow_push_in", "middle",
                                   "tech automotive appliances", "medium"),
    "action_montage": (5, "dynamic_multi", "fast_energy", "fast_cuts", "middle", "sportswear energy_drinks tech",
                       "high"),
    "benefit_showcase": (5, "medium", "demonstrate_benefit", "static", "middle", "all", "medium"),
    "transformation_moment": (10, "medium_wide", "before_after", "reveal", "middle", "beauty fitness home", "medium"),
    "call_to_action": (5, "close_up", "final_impression", "static_hold", "closing", "all", "medium"),
    "brand_moment": (10, "wide_cinematic", "brand_story", "crane_up", "closing", "luxury automotive fashion", "low"),
}
# fmt: on


@pytest.mark.parametrize("beat_id", sorted(PREDECESSOR_BEATS))
def test_predecessor_beats_are_carried_over_field_by_field(beat_id: str) -> None:
    duration, shot, action, camera, position, products, energy = PREDECESSOR_BEATS[beat_id]
    beat = get_beat(beat_id)
    assert (beat.duration_s, beat.shot_type, beat.action, beat.camera_movement) == (duration, shot, action, camera)
    assert beat.position is Position(position)
    assert beat.compatible_products == frozenset(products.split())
    assert beat.energy is Energy(energy)
    assert beat.template_fields() <= {"product_name", "style_aesthetic", "setting"}


def test_long_beats_exist_for_openings_and_closings() -> None:
    long_beats = {b.beat_id: b for b in LIBRARY.values() if b.duration_s == 15}
    assert {b.position for b in long_beats.values()} >= {Position.OPENING, Position.CLOSING}
    assert len(LIBRARY) == len(PREDECESSOR_BEATS) + len(long_beats)


def test_templates_cannot_exceed_the_prompt_word_limit() -> None:
    for beat in LIBRARY.values():
        filled = beat.prompt_template.format(product_name="w " * 6, setting="w " * 6, style_aesthetic="w " * 8)
        assert len(filled.split()) < PROMPT_WORD_LIMIT


def test_suits_matches_tags_or_all() -> None:
    assert get_beat("hero_shot").suits(frozenset())
    assert get_beat("detail_showcase").suits(frozenset({"jewelry"}))
    assert not get_beat("detail_showcase").suits(frozenset({"sportswear"}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"duration_s": 7}, "duration 7"),
        ({"prompt_template": "shot of {product_name} in {city}"}, "unknown placeholders"),
        ({"prompt_template": "a shot with no product"}, "never names the product"),
        ({"camera_movement": ""}, "camera movement"),
        ({"prompt_template": "{product_name} " + "word " * 30}, "fixed words"),
    ],
)
def test_a_bad_beat_fails_at_load(change: dict, message: str) -> None:
    bad = dataclasses.replace(get_beat("hero_shot"), **change)
    with pytest.raises(ValueError, match=message):
        _validated((*[b for b in LIBRARY.values() if b.beat_id != "hero_shot"], bad))


def test_duplicate_ids_fail_at_load() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        _validated((*LIBRARY.values(), get_beat("hero_shot")))


def test_unknown_beat_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="hero_shot"):
        get_beat("slow_motion_explosion")
