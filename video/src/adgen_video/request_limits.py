"""The limits of a video request, shared by the gateway (REST) and the planner (gRPC), so that both
surfaces accept and refuse exactly the same requests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adgen.common.v1 import common_pb2

PROMPT_MAX_CHARS = 2000
DURATION_MIN_S = 10
DURATION_MAX_S = 60
DURATION_STEP_S = 5
VALID_DURATIONS_S = tuple(range(DURATION_MIN_S, DURATION_MAX_S + 1, DURATION_STEP_S))
MAX_ASSET_IDS = 10
MAX_ASPECT_RATIOS = 3
# A per-video budget cap above this is a typo, not a budget.
MAX_COST_MICROS = 10_000 * 1_000_000

ASPECT_RATIOS: dict[str, common_pb2.AspectRatio] = {
    "16:9": common_pb2.ASPECT_RATIO_16_9,
    "9:16": common_pb2.ASPECT_RATIO_9_16,
    "1:1": common_pb2.ASPECT_RATIO_1_1,
}
# How the voiceover is captioned, by its REST name; unspecified (0) means the sidecar.
CAPTION_MODES: dict[str, common_pb2.CaptionMode] = {
    "sidecar": common_pb2.CAPTION_MODE_SIDECAR,
    "burned": common_pb2.CAPTION_MODE_BURNED,
    "off": common_pb2.CAPTION_MODE_OFF,
}
# A beat's image prompt has fewer words than this (the planner's beats, an owner's edit at a gate).
PROMPT_WORD_LIMIT = 40
# Where a video stops for its owner's review, by its REST name; none (0) renders straight through.
REVIEW_STAGES: dict[str, common_pb2.ReviewStage] = {
    "none": common_pb2.REVIEW_STAGE_UNSPECIFIED,
    "plan": common_pb2.REVIEW_STAGE_PLAN,
    "storyboard": common_pb2.REVIEW_STAGE_STORYBOARD,
}


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


def _has_control_characters(text: str) -> bool:
    return any(ord(c) < 32 and c not in "\n\t" for c in text)


def duration_given(duration_s: int | None) -> bool:
    """0 is proto3's unset and None REST's omitted: the planner then reads the length from the
    prompt, else takes 30 s (adgen_video.durations). Anything else is an explicit choice."""
    return duration_s is not None and duration_s != 0


def valid_duration(duration_s: int) -> bool:
    return duration_s in VALID_DURATIONS_S


def request_errors(request: common_pb2.VideoRequest) -> list[FieldError]:
    """Every way the request breaks the limits, each naming its field."""
    errors: list[FieldError] = []
    prompt = request.prompt.strip()
    if not prompt:
        errors.append(FieldError("prompt", "must not be empty"))
    elif len(request.prompt) > PROMPT_MAX_CHARS:
        errors.append(FieldError("prompt", f"must be at most {PROMPT_MAX_CHARS} characters"))
    elif _has_control_characters(request.prompt):
        errors.append(FieldError("prompt", "must not contain control characters"))
    if duration_given(request.duration_s) and not valid_duration(request.duration_s):
        errors.append(
            FieldError(
                "duration_s",
                f"must be a multiple of {DURATION_STEP_S} between {DURATION_MIN_S} and {DURATION_MAX_S} seconds",
            )
        )
    if not (0.0 <= request.creativity <= 1.0):
        errors.append(FieldError("creativity", "must be between 0.0 and 1.0"))
    errors += aspect_ratio_errors([request.aspect_ratio, *request.extra_aspect_ratios])
    if len(request.asset_ids) > MAX_ASSET_IDS:
        errors.append(FieldError("asset_ids", f"at most {MAX_ASSET_IDS} assets per video"))
    if request.HasField("max_cost_micros") and not 0 < request.max_cost_micros <= MAX_COST_MICROS:
        errors.append(
            FieldError("max_cost_micros", f"a cap must be above 0 and at most {MAX_COST_MICROS} micro-dollars")
        )
    if request.captions and request.captions not in CAPTION_MODES.values():
        errors.append(FieldError("captions", f"must be one of {', '.join(CAPTION_MODES)}"))
    if request.review not in REVIEW_STAGES.values():
        errors.append(FieldError("review", f"must be one of {', '.join(REVIEW_STAGES)}"))
    return errors


def aspect_ratio_errors(ratios: Sequence[int]) -> list[FieldError]:
    """The shapes asked for (the primary first): each known, none twice, at most three."""
    names: dict[int, str] = {value: name for name, value in ASPECT_RATIOS.items()}
    choices = ", ".join(ASPECT_RATIOS)
    if len(ratios) > MAX_ASPECT_RATIOS:
        return [FieldError("aspect_ratio", f"at most {MAX_ASPECT_RATIOS} shapes per video, one of each")]
    if any(r not in names for r in ratios):
        return [FieldError("aspect_ratio", f"must be one of {choices}, or a list of distinct ones")]
    repeated = sorted({names[r] for r in ratios if ratios.count(r) > 1})
    if repeated:
        return [FieldError("aspect_ratio", f"each shape at most once; {', '.join(repeated)} is repeated")]
    return []
