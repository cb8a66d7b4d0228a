"""REST: /v1/video-models — the image-to-video models a request may name, for pickers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from adgen_gateway.auth import User
from adgen_gateway.dependencies import Backends, backends, current_user

router = APIRouter(prefix="/v1", tags=["plans"])


@router.get("/video-models", summary="The video models a request may choose, and the default one")
async def video_models(_: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]) -> dict:
    response = await b.chunks.video_models()
    return {
        "default": response.default_model,
        "models": [
            {
                "key": m.key,
                "clip_s": m.clip_s,
                "fps": m.fps,
                "width": m.width,
                "height": m.height,
                "usd_per_clip": m.price_per_clip_micros / 1e6,
                "local": m.local,
            }
            for m in response.models
        ],
    }
