"""REST: /v1/plans and /v1/quotes — what a request would become and cost, without rendering it;
/v1/plans/duration — only the length it would get, cheap enough to ask while a person types."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from adgen_gateway.auth import User
from adgen_gateway.dependencies import Backends, backends, current_user
from adgen_gateway.routes.videos import cost_json
from adgen_gateway.video_request import CreateVideoBody, video_request
from adgen_video.durations import duration_of
from adgen_video.video_state import to_json

router = APIRouter(prefix="/v1", tags=["plans"])


@router.post("/plans", summary="Preview the plan of a video without rendering it")
async def preview(
    body: CreateVideoBody, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> dict:
    spec = await b.planner.plan(await video_request(body, b.chunks, b.assets, b.voice, user.user_id), user.user_id)
    return {"spec": to_json(spec)}


@router.post("/quotes", summary="Cost and time estimate of a video with the chosen video model")
async def quote(
    body: CreateVideoBody, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> dict:
    response = await b.planner.quote(await video_request(body, b.chunks, b.assets, b.voice, user.user_id), user.user_id)
    return {
        "video_model": response.spec.chunk_plan.video_model,
        "local": response.local,
        "cost": cost_json(response.cost_micros, response.lines),
        "estimated_seconds": response.estimated_seconds,
        "slowest_beat": response.slowest_beat,
        "spec": to_json(response.spec),
    }


@router.post(
    "/plans/duration",
    summary="The length a request would get, and why, without planning it",
    description="The request's `duration_s` when given, else the length its prompt states, else 30 s: what the "
    "plan will have (its notes say the same). Nothing is planned, so no model is asked and nothing is paid.",
)
async def duration(body: CreateVideoBody, user: Annotated[User, Depends(current_user)]) -> dict:
    chosen = duration_of(body.duration_s, body.prompt)
    return {"duration_s": chosen.seconds, "source": chosen.source, "note": chosen.note}
