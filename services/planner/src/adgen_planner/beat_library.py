"""The beat library: every shot a plan can be built from.

A beat is a reusable shot with a fixed length (5, 10 or 15 s), a place in the story (opening,
middle or closing), an energy level and the product families it suits. Plans only ever use beats
from here, so the library is validated when the module loads: a bad entry fails at import, not in
the middle of a job.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from adgen_video.contract_rules import BEAT_DURATIONS_S
from adgen_video.request_limits import PROMPT_WORD_LIMIT

TEMPLATE_FIELDS = frozenset({"product_name", "style_aesthetic", "setting"})
ALL_PRODUCTS = "all"
# Image/video models follow short prompts best: a composed prompt has fewer words than PROMPT_WORD_LIMIT.
# Words each filled placeholder may bring; with the template's own words capped too, every
# composed prompt is under the limit by construction.
FIELD_WORD_CAPS: Mapping[str, int] = MappingProxyType({"product_name": 6, "setting": 6, "style_aesthetic": 8})
MAX_TEMPLATE_WORDS = 18


class Position(StrEnum):
    OPENING = "opening"
    MIDDLE = "middle"
    CLOSING = "closing"


class Energy(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """0 for low, 1 for medium, 2 for high: energy curves compare ranks."""
        return _ENERGY_RANK[self]


_ENERGY_RANK = {Energy.LOW: 0, Energy.MEDIUM: 1, Energy.HIGH: 2}


@dataclass(frozen=True)
class BeatDefinition:
    """One shot of the library.

    `shows_product` marks beats whose subject is the product itself (a hero or detail shot rather
    than a scene around it). Every beat receives the user's product images as references when the
    request has some; the flag says how central the product is, not whether it is shown.
    """

    beat_id: str
    duration_s: int
    shot_type: str
    action: str
    prompt_template: str
    camera_movement: str
    position: Position
    compatible_products: frozenset[str]
    energy: Energy
    shows_product: bool

    def suits(self, product_tags: frozenset[str]) -> bool:
        """True when the beat fits a product with these family tags ("all" fits every product)."""
        return ALL_PRODUCTS in self.compatible_products or bool(self.compatible_products & product_tags)

    def template_fields(self) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.prompt_template) if name is not None)

    def fixed_word_count(self) -> int:
        """Words of the template outside its placeholders."""
        text = "".join(literal for literal, _, _, _ in string.Formatter().parse(self.prompt_template))
        return len(text.split())


def _beat(
    beat_id: str,
    duration_s: int,
    shot_type: str,
    action: str,
    camera_movement: str,
    position: str,
    compatible: str,
    energy: str,
    shows_product: bool,
    prompt_template: str,
) -> BeatDefinition:
    return BeatDefinition(
        beat_id=beat_id,
        duration_s=duration_s,
        shot_type=shot_type,
        action=action,
        prompt_template=prompt_template,
        camera_movement=camera_movement,
        position=Position(position),
        compatible_products=frozenset(tag.strip() for tag in compatible.split(",")),
        energy=Energy(energy),
        shows_product=shows_product,
    )


# fmt: off
_BEATS: tuple[BeatDefinition, ...] = (
    _beat("hero_shot", 5, "close_up", "product_reveal", "slow_dolly_in", "opening", "all", "medium", True,
          "cinematic close-up of {product_name}, dramatic lighting, professional product photography, "
          "{style_aesthetic}, premium quality, {setting}"),
    _beat("ambient_lifestyle", 5, "wide", "establish_environment", "slow_pan", "opening",
          "lifestyle, sportswear, fashion", "low", False,
          "wide establishing shot of {setting}, natural light, lived-in atmosphere, {style_aesthetic}, "
          "hint of {product_name}"),
    _beat("teaser_reveal", 5, "extreme_close_up", "mysterious_preview", "push_in", "opening",
          "luxury, tech, fashion", "low", True,
          "extreme close-up of a detail of {product_name} emerging from shadow, mysterious, "
          "{style_aesthetic}, {setting}"),
    _beat("dynamic_intro", 5, "dynamic", "energetic_opening", "whip_pan", "opening",
          "sportswear, tech, automotive", "high", False,
          "fast energetic opening in {setting}, motion blur, bold angles, {style_aesthetic}, "
          "{product_name} flashing into frame"),
    _beat("atmospheric_setup", 5, "wide", "mood_establishment", "crane_down", "opening", "all", "low", False,
          "atmospheric wide shot of {setting}, soft haze, quiet mood, {style_aesthetic}, "
          "story about {product_name} begins"),
    _beat("detail_showcase", 5, "macro", "feature_highlight", "pan_across", "middle",
          "luxury, tech, jewelry", "low", True,
          "macro shot gliding across the materials and craftsmanship of {product_name}, crisp texture, "
          "{style_aesthetic}, {setting}"),
    _beat("product_in_motion", 5, "tracking", "dynamic_product", "tracking_shot", "middle",
          "sportswear, automotive, tech", "high", True,
          "tracking shot of {product_name} in fast motion through {setting}, dynamic energy, "
          "{style_aesthetic}"),
    _beat("usage_scenario", 10, "medium", "person_using_product", "handheld_follow", "middle", "all", "medium", False,
          "one person naturally using {product_name} in {setting}, authentic moment, candid framing, "
          "{style_aesthetic}"),
    _beat("lifestyle_context", 10, "medium", "aspirational_lifestyle", "slow_orbit", "middle",
          "luxury, fashion, lifestyle", "medium", False,
          "aspirational lifestyle scene in {setting}, one person with {product_name}, elegant composition, "
          "{style_aesthetic}"),
    _beat("feature_highlight_sequence", 10, "medium_close_up", "multiple_features", "slow_push_in", "middle",
          "tech, automotive, appliances", "medium", True,
          "medium close-up sequence revealing the key features of {product_name} one by one, clean graphics, "
          "{style_aesthetic}, {setting}"),
    _beat("action_montage", 5, "dynamic_multi", "fast_energy", "fast_cuts", "middle",
          "sportswear, energy_drinks, tech", "high", False,
          "rapid montage of athletic action in {setting}, sweat and speed, {product_name} in the mix, "
          "{style_aesthetic}"),
    _beat("benefit_showcase", 5, "medium", "demonstrate_benefit", "static", "middle", "all", "medium", True,
          "clear demonstration of the main benefit of {product_name}, simple composition, {style_aesthetic}, "
          "{setting}"),
    _beat("transformation_moment", 10, "medium_wide", "before_after", "reveal", "middle",
          "beauty, fitness, home", "medium", False,
          "before and after moment showing the change {product_name} brings, one person, {setting}, "
          "{style_aesthetic}"),
    _beat("call_to_action", 5, "close_up", "final_impression", "static_hold", "closing", "all", "medium", True,
          "final hero close-up of {product_name}, clean space for text, memorable finish, {style_aesthetic}, "
          "{setting}"),
    _beat("brand_moment", 10, "wide_cinematic", "brand_story", "crane_up", "closing",
          "luxury, automotive, fashion", "low", False,
          "cinematic wide brand moment in {setting}, {product_name} in its world, rising camera, "
          "{style_aesthetic}"),
    # Long beats: one continuous shot for long ads, where five-second cuts would feel restless.
    _beat("hero_film", 15, "cinematic_wide_to_close", "extended_product_reveal", "slow_dolly_in", "opening",
          "all", "medium", True,
          "long cinematic reveal travelling from {setting} to a close-up of {product_name}, "
          "unhurried, {style_aesthetic}"),
    _beat("day_in_the_life", 15, "medium", "story_arc", "handheld_follow", "middle", "all", "medium", False,
          "one person's day unfolding in {setting}, {product_name} part of every moment, warm continuity, "
          "{style_aesthetic}"),
    _beat("highlight_reel", 15, "dynamic_multi", "peak_performance", "tracking_shot", "middle",
          "sportswear, energy_drinks, fitness, tech, automotive", "high", True,
          "high-energy highlight reel of {product_name} at peak performance in {setting}, kinetic, "
          "{style_aesthetic}"),
    _beat("brand_film", 15, "wide_cinematic", "brand_finale", "crane_up", "closing", "all", "low", True,
          "closing brand film, {product_name} centred in {setting}, camera rising to reveal the world, "
          "{style_aesthetic}"),
)
# fmt: on


def _validated(beats: tuple[BeatDefinition, ...]) -> Mapping[str, BeatDefinition]:
    problems: list[str] = []
    longest_prompt = MAX_TEMPLATE_WORDS + sum(FIELD_WORD_CAPS.values())
    if set(FIELD_WORD_CAPS) != TEMPLATE_FIELDS or longest_prompt >= PROMPT_WORD_LIMIT:
        problems.append("template and field word caps must keep every prompt under the word limit")
    ids = [b.beat_id for b in beats]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate beat ids: {duplicates}")
    for b in beats:
        if b.duration_s not in BEAT_DURATIONS_S:
            problems.append(f"{b.beat_id}: duration {b.duration_s} s is not one of {sorted(BEAT_DURATIONS_S)}")
        unknown = b.template_fields() - TEMPLATE_FIELDS
        if unknown:
            problems.append(f"{b.beat_id}: template uses unknown placeholders {sorted(unknown)}")
        if "product_name" not in b.template_fields():
            problems.append(f"{b.beat_id}: template never names the product")
        if b.fixed_word_count() > MAX_TEMPLATE_WORDS:
            problems.append(f"{b.beat_id}: template has {b.fixed_word_count()} fixed words (max {MAX_TEMPLATE_WORDS})")
        if not (b.shot_type and b.action and b.camera_movement and b.compatible_products):
            problems.append(f"{b.beat_id}: shot type, action, camera movement and products are required")
    for position in Position:
        if not any(b.position is position and b.suits(frozenset()) for b in beats):
            problems.append(f"no {position} beat fits every product")
    if problems:
        raise ValueError("invalid beat library: " + "; ".join(problems))
    return MappingProxyType({b.beat_id: b for b in beats})


LIBRARY: Mapping[str, BeatDefinition] = _validated(_BEATS)


def get_beat(beat_id: str) -> BeatDefinition:
    try:
        return LIBRARY[beat_id]
    except KeyError:
        raise KeyError(f"unknown beat {beat_id!r}; known beats: {', '.join(LIBRARY)}") from None
