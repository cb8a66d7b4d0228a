"""What approving a video at its review gate will cost: the plan's quote (registry prices, written
with the plan) of the units still to make. Pure: the caller says which gate and how much of the
script is still unspoken."""

from __future__ import annotations

from collections.abc import Iterable

from adgen.common.v1 import common_pb2

# What is made before each gate, and so never part of what approving it costs.
_BEFORE_GATE: dict[int, frozenset[int]] = {
    common_pb2.REVIEW_STAGE_PLAN: frozenset({common_pb2.PHASE_PLAN}),
    common_pb2.REVIEW_STAGE_STORYBOARD: frozenset({common_pb2.PHASE_PLAN, common_pb2.PHASE_STORYBOARD}),
}


def rest_of_quote(
    quote: Iterable[common_pb2.CostLine], stage: common_pb2.ReviewStage, *, unspoken_chars: int
) -> list[common_pb2.CostLine]:
    """The quote's lines for what follows the gate. The voice speaks beside the storyboard, so at
    that gate part of the script may be spoken already: its line is priced for the characters still
    unspoken, at the quote's own price per character."""
    done = _BEFORE_GATE.get(stage, frozenset())
    rest = []
    for line in quote:
        if line.phase in done:
            continue
        if line.phase == common_pb2.PHASE_VOICE:
            if unspoken_chars <= 0:
                continue
            per_char = line.usd_micros // line.units if line.units else 0
            line = common_pb2.CostLine(
                phase=line.phase,
                provider=line.provider,
                model=line.model,
                units=min(unspoken_chars, line.units),
                usd_micros=per_char * min(unspoken_chars, line.units),
            )
        rest.append(line)
    return rest
