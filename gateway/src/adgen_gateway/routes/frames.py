"""REST: /v1/videos/{id}/frames — the storyboard, one image per beat, as each one is drawn.

Storyboard images live beside the video, not among the chunk intermediates that export deletes, so a
done frame has its image for as long as the video does."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends

from adgen_gateway.api_docs import problems
from adgen_gateway.auth import User
from adgen_gateway.dependencies import Backends, backends, canonical_video_id, current_user
from adgen_gateway.errors import Problem
from adgen_video.unit_rows import frames_of
from adgen_video.video_reads import owns_video

router = APIRouter(prefix="/v1/videos", tags=["videos"])

# Long enough to look at a storyboard, short enough that a copied link soon stops working.
FRAME_URL_TTL_S = 900


@router.get(
    "/{video_id}/frames",
    summary="Storyboard images of a video, one per beat",
    description="`status` is `pending` until the beat's image is drawn, then `done` with `url`, a link valid for "
    f"{FRAME_URL_TTL_S // 60} minutes. `take` counts the times it was drawn again at the storyboard gate (the "
    "latest is shown). Empty until the video is planned.",
    responses=problems(404),
)
async def frames(
    video_id: str, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> dict:
    vid = canonical_video_id(video_id)
    if not await owns_video(b.db, user_id=user.user_id, video_id=vid):
        raise Problem(404, f"video {video_id} not found")
    rows = await frames_of(b.db, vid)

    async def url(key: str | None) -> str | None:
        return await b.store.presign_get(key, FRAME_URL_TTL_S) if key else None

    urls = await asyncio.gather(*(url(r.image_key if r.status == "done" else None) for r in rows))
    return {
        "frames": [
            {"beat_index": r.beat_index, "status": r.status, "take": r.take, "url": link}
            for r, link in zip(rows, urls, strict=True)
        ]
    }
