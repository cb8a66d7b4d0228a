"""The body of a video request and its validation, shared by every route that takes one
(`POST /v1/videos`, `POST /v1/plans`, `POST /v1/quotes`) so they accept and refuse the same bodies."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adgen.common.v1 import common_pb2 as c
from adgen_gateway.clients.assets import AssetsClient
from adgen_gateway.clients.chunks import ChunksClient
from adgen_gateway.clients.planner import PlannerClient
from adgen_gateway.clients.voice import VoiceClient
from adgen_gateway.errors import Problem
from adgen_gateway.text_fields import UnicodeText
from adgen_video.budget import quote_refusal
from adgen_video.contract_rules import ID_TEXT_MAX_CHARS, VOICE_KEY_PATTERN
from adgen_video.request_limits import (
    ASPECT_RATIOS,
    CAPTION_MODES,
    DURATION_MAX_S,
    DURATION_MIN_S,
    MAX_COST_MICROS,
    PROMPT_MAX_CHARS,
    REVIEW_STAGES,
    FieldError,
    request_errors,
)

AspectRatioName = Literal["16:9", "9:16", "1:1"]


class CreateVideoBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: UnicodeText = Field(description="What the ad is about", max_length=PROMPT_MAX_CHARS)
    duration_s: int | None = Field(
        None,
        ge=DURATION_MIN_S,
        le=DURATION_MAX_S,
        description="Length in seconds: a multiple of 5 from 10 to 60; omitted = the length the prompt states "
        '("20 second ad …"), else 30. The plan\'s notes say which applied',
    )
    creativity: float = Field(0.5, ge=0.0, le=1.0, description="0.0 predictable … 1.0 adventurous")
    aspect_ratio: AspectRatioName | list[AspectRatioName] = Field(
        "16:9",
        description="The shape, or a list of up to three distinct shapes rendered from the same plan "
        "(the first is the primary: what is generated, and what the plain download returns)",
    )
    video_model: UnicodeText | None = Field(None, description="Image-to-video model key; omitted = the default")
    asset_ids: list[uuid.UUID] = Field(default_factory=list, description="Product images to feature")
    seed: int | None = Field(None, ge=0, le=2**53, description="Fixes every random choice")
    max_cost_usd: float | None = Field(
        None,
        gt=0,
        le=MAX_COST_MICROS / 1_000_000,
        description="The most this video may spend, in US dollars; omitted = no cap. Refused (422) when below "
        "the plan's quote; while rendering, no paid unit starts once it would take the spend over the cap, "
        "and the video fails saying so",
    )
    voiceover: bool = Field(
        True,
        description="Speak a line over every beat (each beat's `voiceover` in the plan); false = no voice, "
        "and every line in the plan is empty",
    )
    voice: str | None = Field(
        None,
        max_length=ID_TEXT_MAX_CHARS,
        pattern=f"^{VOICE_KEY_PATTERN}$",
        description="Key of the voice that speaks the lines (`GET /v1/voices`); omitted = the default voice",
    )
    captions: Literal["sidecar", "burned", "off"] = Field(
        "sidecar",
        description="Captions of the voiceover: `sidecar` = a WebVTT file of the spoken words (a cue per phrase); "
        "`burned` = that file, and the words burned into the picture as they are spoken, clear of the supers; "
        "`off` = none (the WebVTT then carries the supers' text, as for an ad without a voice)",
    )

    review: Literal["none", "plan", "storyboard"] = Field(
        "none",
        description="Stop for your review before paying for the rest: `plan` = after the plan (beats, words, quote), "
        "`storyboard` = after an image per beat and the voiceover, before any clip; the video waits at status "
        "`awaiting_review` until `POST /v1/videos/{id}/approve` (or expires after the gateway's review time). "
        "`none` renders straight through",
    )

    @field_validator("aspect_ratio", mode="before")
    @classmethod
    def _known_shapes(cls, value: object) -> object:
        """Unknown shapes are refused here so the error names `aspect_ratio` itself, not a member of
        the union; repeats and counts are checked with the other limits (`request_errors`)."""
        names = value if isinstance(value, list) else [value]
        if not names or not all(isinstance(n, str) and n in ASPECT_RATIOS for n in names):
            raise ValueError(f"must be one of {', '.join(ASPECT_RATIOS)}, or a non-empty list of them")
        return value


async def video_request(
    body: CreateVideoBody, chunks: ChunksClient, assets: AssetsClient, voices: VoiceClient, user_id: str
) -> c.VideoRequest:
    """The request as the backends take it; 422 naming every field at fault otherwise."""
    shapes = body.aspect_ratio if isinstance(body.aspect_ratio, list) else [body.aspect_ratio]
    request = c.VideoRequest(
        prompt=body.prompt,
        duration_s=body.duration_s or 0,  # 0: not given (adgen_video.durations)
        creativity=body.creativity,
        aspect_ratio=ASPECT_RATIOS[shapes[0]],
        extra_aspect_ratios=[ASPECT_RATIOS[name] for name in shapes[1:]],
        video_model=body.video_model or "",
        asset_ids=[str(a) for a in body.asset_ids],
        seed=body.seed if body.seed is not None else uuid.uuid4().int % 2**31,
        voiceover=body.voiceover,
        voice=body.voice or "",
        captions=CAPTION_MODES[body.captions],
        review=REVIEW_STAGES[body.review],
    )
    if body.max_cost_usd is not None:
        request.max_cost_micros = round(body.max_cost_usd * 1_000_000)
    errors = await video_request_errors(request, chunks, assets, voices, user_id)
    if errors:
        raise Problem(422, "invalid request: check " + ", ".join(e.field for e in errors), errors=errors)
    return request


async def video_request_errors(
    request: c.VideoRequest, chunks: ChunksClient, assets: AssetsClient, voices: VoiceClient, user_id: str
) -> list[FieldError]:
    """Every field at fault in a request, whichever surface (REST or gRPC) it came through. The
    asset ids must be `user_id`'s own: another user's asset is not found, as everywhere. The model
    and the voice must be ones their services list, so a video never fails later for naming them."""
    errors = request_errors(request)
    for asset_id in request.asset_ids:
        try:
            uuid.UUID(asset_id)
        except ValueError:
            errors.append(FieldError("asset_ids", f"{asset_id[:64]!r} is not an asset id"))
            break
    if request.asset_ids and not any(e.field == "asset_ids" for e in errors):
        missing = await assets.missing(user_id, request.asset_ids)
        if missing:
            errors.append(FieldError("asset_ids", f"not found: {', '.join(missing)}"))
    if request.video_model:
        models = await chunks.video_models()
        known = sorted(m.key for m in models.models)
        if request.video_model not in known:
            errors.append(FieldError("video_model", f"unknown model; choose one of {', '.join(known)}"))
    if request.voice and not any(e.field == "voice" for e in errors):
        known = await voices.keys()
        if request.voice not in known:
            errors.append(FieldError("voice", f"unknown voice; choose one of {', '.join(known)}"))
    return errors


async def budget_errors(
    request: c.VideoRequest, planner: PlannerClient, user_id: str, *, field: str = "max_cost_usd"
) -> list[FieldError]:
    """A cap below the plan's quote, which the video could not finish within (`adgen_video.budget`).
    Asks the planner for the quote only when the request has a cap."""
    if not request.HasField("max_cost_micros"):
        return []
    quote = await planner.quote(request, user_id)
    reason = quote_refusal(request.max_cost_micros, quote.cost_micros)
    return [FieldError(field, reason)] if reason else []


async def within_budget(request: c.VideoRequest, planner: PlannerClient, user_id: str) -> None:
    """REST: 422 naming `max_cost_usd` when the cap is below the plan's quote."""
    errors = await budget_errors(request, planner, user_id)
    if errors:
        raise Problem(422, "invalid request: check max_cost_usd", errors=errors)
