"""Translating the composer's plan into the Spec contract that every later phase reads, and whether
the request wants its lines spoken."""

from __future__ import annotations

from adgen.common.v1 import common_pb2
from adgen_planner.beat_library import Energy, Position
from adgen_planner.output_format import output_format
from adgen_planner.plan import Plan

_ENERGY = {
    Energy.LOW: common_pb2.ENERGY_LOW,
    Energy.MEDIUM: common_pb2.ENERGY_MEDIUM,
    Energy.HIGH: common_pb2.ENERGY_HIGH,
}
_POSITION = {
    Position.OPENING: common_pb2.BEAT_POSITION_OPENING,
    Position.MIDDLE: common_pb2.BEAT_POSITION_MIDDLE,
    Position.CLOSING: common_pb2.BEAT_POSITION_CLOSING,
}


def speaks(request: common_pb2.VideoRequest) -> bool:
    """Whether the ad has a voiceover: yes unless the request says no (unset is the default, on)."""
    return request.voiceover if request.HasField("voiceover") else True


def plan_to_spec(plan: Plan, request: common_pb2.VideoRequest, planner: str = "rules") -> common_pb2.Spec:
    """The Spec of `plan` for `request`; a request without voiceover gets every line empty."""
    voiced = speaks(request)
    return common_pb2.Spec(
        archetype_id=plan.archetype_id,
        duration_s=plan.duration_s,
        product_name=plan.product_name,
        category=plan.category,
        brand=plan.brand or "",
        call_to_action=plan.call_to_action,
        style=common_pb2.Style(
            aesthetic=plan.style.aesthetic,
            palette=list(plan.style.palette),
            mood=plan.style.mood,
            lighting=plan.style.lighting,
        ),
        beats=[
            common_pb2.Beat(
                index=b.index,
                beat_id=b.beat_id,
                start_s=b.start_s,
                duration_s=b.duration_s,
                shot_type=b.shot_type,
                camera_movement=b.camera_movement,
                energy=_ENERGY[b.energy],
                position=_POSITION[b.position],
                prompt=b.prompt,
                shows_product=b.shows_product,
                headline=b.headline,
                subline=b.subline,
                reference_asset_ids=list(b.reference_asset_ids),
                voiceover=b.voiceover if voiced else "",
            )
            for b in plan.beats
        ],
        output=output_format(request.aspect_ratio),
        extra_outputs=[output_format(r) for r in request.extra_aspect_ratios],
        seed=request.seed,
        creativity=request.creativity,
        planner=planner,
        notes=list(plan.notes),
        captions=request.captions,
    )
