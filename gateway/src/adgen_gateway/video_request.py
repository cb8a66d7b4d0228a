"""The body of a video request and its validation, shared by every route that takes one
(`POST /v1/videos`, `POST /v1/plans`, `POST /v1/quotes`) so they accept and refuse the same bodies."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adgen.common.v1 import common_pb2 as c
from adgen_gateway.clients.assets import AssetsClient
from adgen_gateway.clients.chunks import ChunksClient
from adgen_gateway.errors import Problem
from adgen_kernel.request_limits import ASPECT_RATIOS, PROMPT_MAX_CHARS, FieldError, request_errors

AspectRatioName = Literal["16:9", "9:16", "1:1"]


class CreateVideoBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(description="What the ad is about", max_length=PROMPT_MAX_CHARS)
    duration_s: int = Field(30, description="Length in seconds: a multiple of 5 from 10 to 60")
    creativity: float = Field(0.5, description="0.0 predictable … 1.0 adventurous")
    aspect_ratio: AspectRatioName | list[AspectRatioName] = Field(
        "16:9",
        description="The shape, or a list of up to three distinct shapes rendered from the same plan "
        "(the first is the primary: what is generated, and what the plain download returns)",
    )
    video_model: str | None = Field(None, description="Image-to-video model key; omitted = the default")
    asset_ids: list[uuid.UUID] = Field(default_factory=list, description="Product images to feature")
    seed: int | None = Field(None, ge=0, le=2**53, description="Fixes every random choice")

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
    body: CreateVideoBody, chunks: ChunksClient, assets: AssetsClient, user_id: str
) -> c.VideoRequest:
    """The request as the backends take it; 422 naming every field at fault otherwise."""
    shapes = body.aspect_ratio if isinstance(body.aspect_ratio, list) else [body.aspect_ratio]
    request = c.VideoRequest(
        prompt=body.prompt,
        duration_s=body.duration_s,
        creativity=body.creativity,
        aspect_ratio=ASPECT_RATIOS[shapes[0]],
        extra_aspect_ratios=[ASPECT_RATIOS[name] for name in shapes[1:]],
        video_model=body.video_model or "",
        asset_ids=[str(a) for a in body.asset_ids],
        seed=body.seed if body.seed is not None else uuid.uuid4().int % 2**31,
    )
    errors = await video_request_errors(request, chunks, assets, user_id)
    if errors:
        raise Problem(422, "invalid request: check " + ", ".join(e.field for e in errors), errors=errors)
    return request


async def video_request_errors(
    request: c.VideoRequest, chunks: ChunksClient, assets: AssetsClient, user_id: str
) -> list[FieldError]:
    """Every field at fault in a request, whichever surface (REST or gRPC) it came through. The
    asset ids must be `user_id`'s own: another user's asset is not found, as everywhere."""
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
    return errors
