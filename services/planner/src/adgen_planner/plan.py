"""What a plan is: the archetype, the look and the beats, in the planner's own terms.

Every composer (the rules, a language model) answers with a `Plan`; `spec_rules` judges it and
`spec_mapping` turns it into the Spec contract. Only data lives here, so the rules that judge a
plan need not import the composer that makes one.
"""

from __future__ import annotations

from dataclasses import dataclass

from adgen_planner.beat_library import Energy, Position


@dataclass(frozen=True)
class Style:
    aesthetic: str
    palette: tuple[str, ...]
    mood: str
    lighting: str


@dataclass(frozen=True)
class PlannedBeat:
    index: int
    beat_id: str
    start_s: int
    duration_s: int
    shot_type: str
    camera_movement: str
    energy: Energy
    position: Position
    prompt: str
    shows_product: bool
    headline: str
    subline: str
    reference_asset_ids: tuple[str, ...]
    # Spoken over the beat (`voiceover.line`), within the beat's word budget.
    voiceover: str


@dataclass(frozen=True)
class Plan:
    archetype_id: str
    duration_s: int
    product_name: str
    category: str
    brand: str | None
    call_to_action: str
    style: Style
    beats: tuple[PlannedBeat, ...]
    notes: tuple[str, ...]
