"""Which shipped colour grade an ad gets, from the plan's style.

The planner's mood is the strongest signal (it is one word from a closed set), then the words of
the aesthetic, then the archetype — every archetype has a family, so a plan always gets a grade.
An aesthetic that names no family word and an unknown mood leave the choice to the archetype.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

DEFAULT_FAMILY: Final = "clean_neutral"

_MOOD_FAMILIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "warm": "cinematic_warm",
        "dramatic": "cinematic_warm",
        "luxurious": "elegant_muted",
        "calm": "elegant_muted",
        "energetic": "modern_vibrant",
        "playful": "modern_vibrant",
        "minimal": "clean_neutral",
        "informative": "clean_neutral",
    }
)

_WORD_FAMILIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **dict.fromkeys(("cinematic", "warm", "golden", "heartfelt", "human", "nostalgic", "moody"), "cinematic_warm"),
        **dict.fromkeys(("elegant", "sophisticated", "premium", "luxurious", "refined", "timeless"), "elegant_muted"),
        **dict.fromkeys(
            ("vibrant", "dynamic", "bold", "energetic", "playful", "colourful", "punchy"), "modern_vibrant"
        ),
        **dict.fromkeys(
            ("clean", "modern", "simple", "minimal", "minimalist", "clear", "professional"), "clean_neutral"
        ),
    }
)

_ARCHETYPE_FAMILIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "luxury_showcase": "elegant_muted",
        "energetic_lifestyle": "modern_vibrant",
        "minimalist_reveal": "clean_neutral",
        "emotional_storytelling": "cinematic_warm",
        "feature_demo": "clean_neutral",
    }
)


def choose_grade(*, mood: str, aesthetic: str, archetype: str) -> str:
    """The LUT family for a plan: mood, else the first aesthetic word with a family, else archetype."""
    family = _MOOD_FAMILIES.get(mood.strip().lower())
    if family:
        return family
    for word in aesthetic.lower().replace(",", " ").split():
        if word in _WORD_FAMILIES:
            return _WORD_FAMILIES[word]
    return _ARCHETYPE_FAMILIES.get(archetype, DEFAULT_FAMILY)
