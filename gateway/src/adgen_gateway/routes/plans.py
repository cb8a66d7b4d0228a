"""REST: /v1/plans and /v1/quotes — what a request would become and cost, without rendering it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from adgen_gateway.auth import User
from adgen_gateway.dependencies import Backends, backends, current_user
from adgen_gateway.routes.videos import cost_json
from adgen_gateway.video_request import CreateVideoBody, video_request
from adgen_kernel.video_state import to_json

router = APIRouter(prefix="/v1", tags=["plans"])


@router.post("/plans", summary="Preview the plan of a video without rendering it")
async def preview(
    body: CreateVideoBody, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> dict:
    spec = await b.planner.plan(await video_request(body, b.chunks, b.assets, user.user_id), user.user_id)
    return {"spec": to_json(spec)}


@router.post("/quotes", summary="Cost and time estimate of a video with the chosen video model")
async def quote(
    body: CreateVideoBody, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> dict:
    response = await b.planner.quote(await video_request(body, b.chunks, b.assets, user.user_id), user.user_id)
    return {
        "video_model": response.spec.chunk_plan.video_model,
        "local": response.local,
        "cost": cost_json(response.cost_micros, response.lines),
        "estimated_seconds": response.estimated_seconds,
        "slowest_beat": response.slowest_beat,
        "spec": to_json(response.spec),
    }
