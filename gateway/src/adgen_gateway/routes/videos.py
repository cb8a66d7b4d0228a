"""REST: /v1/videos — create, read, follow live, download."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sse_starlette import EventSourceResponse

from adgen.common.v1 import common_pb2 as c
from adgen.planner.v1 import planner_service_pb2
from adgen_gateway import video_feeds
from adgen_gateway.api_docs import links, problems
from adgen_gateway.auth import User
from adgen_gateway.dependencies import Backends, backends, canonical_video_id, current_user, watcher_id
from adgen_gateway.errors import Problem
from adgen_gateway.renditions import published_json, renditions_json
from adgen_gateway.text_fields import OneLineText
from adgen_gateway.video_request import CreateVideoBody, video_request, within_budget
from adgen_gateway.videos import (
    AlreadyFinished,
    FrameEdit,
    NotAtGate,
    NotRetryable,
    PlanChanged,
    PlanEdit,
    PlanFaults,
    TooManyActiveVideos,
    VideoView,
    approve_video,
    cancel_video,
    create_video,
    edit_plan,
    ending,
    get_video,
    list_versions,
    list_videos,
    owns_video,
    regenerate_frame,
    retry_video,
    version_start,
)
from adgen_video.contract_rules import ID_TEXT_MAX_CHARS, SPEC_MAX_BEATS, VOICEOVER_MAX_CHARS
from adgen_video.request_limits import ASPECT_RATIOS, PROMPT_WORD_LIMIT, FieldError
from adgen_video.review_gate import GATE_NAMES
from adgen_video.video_state import to_json

router = APIRouter(prefix="/v1/videos", tags=["videos"])


def _links(video_id: str) -> dict[str, str]:
    base = f"/v1/videos/{video_id}"
    return {"self": base, "events": f"{base}/events", "download": f"{base}/download"}


def cost_json(total_micros: int, lines: Iterable[c.CostLine]) -> dict:
    return {
        "total_usd": total_micros / 1e6,
        "lines": [
            {
                "phase": c.Phase.Name(line.phase).removeprefix("PHASE_").lower(),
                "provider": line.provider,
                "model": line.model,
                "units": line.units,
                "usd": line.usd_micros / 1e6,
            }
            for line in lines
        ],
    }


def _view_json(view: VideoView) -> dict:
    return {
        "id": view.video_id,
        "status": view.status,
        "progress": to_json(view.progress),
        "request": to_json(view.request),
        "spec": to_json(view.spec) if view.spec else None,
        "cost": cost_json(view.cost.total_micros, view.cost.lines),
        "max_cost_usd": view.request.max_cost_micros / 1e6 if view.request.HasField("max_cost_micros") else None,
        "error": view.error or None,
        "created_at": view.created_at,
        "completed_at": view.completed_at or None,
        "run": view.run,
        "review": review_json(view.review) if view.review else None,
        "plan_revision": view.plan_revision,
        "version": view.version,
        "links": _links(view.video_id),
    }


def review_json(review: c.Review) -> dict:
    """A video at its review gate: what is ready, what was spent, what approving will cost, and
    until when it waits."""
    return {
        "stage": GATE_NAMES[review.stage],
        "ready": {
            "frames": review.frames_ready,
            "beats": review.beats_total,
            "voice_lines": review.lines_ready,
            "voice_lines_total": review.lines_total,
        },
        "spent_usd": review.spent_micros / 1e6,
        "quote_usd": review.quote_micros / 1e6,
        "quote": cost_json(review.quote_micros, review.quote_lines)["lines"],
        "expires_at": review.expires_at.ToDatetime(tzinfo=UTC).isoformat() if review.HasField("expires_at") else None,
    }


async def _video_json(b: Backends, view: VideoView, user_id: str) -> dict:
    """A video as both the list and the one-video read show it: the same progress (`settled`),
    and the renditions with their pre-signed links (video, poster, captions) once completed."""
    return {**_view_json(view), "renditions": await renditions_json(b.export, view, user_id)}


def _too_many(busy: TooManyActiveVideos) -> Problem:
    return Problem(429, str(busy), headers={"Retry-After": "30"})


VIDEO = "/v1/videos/{video_id}"
_VIDEO_LINKS = links(
    "/id",
    {
        "GetVideo": ("GET", VIDEO),
        "GetFrames": ("GET", f"{VIDEO}/frames"),
        "CancelVideo": ("POST", f"{VIDEO}/cancel"),
        "RetryVideo": ("POST", f"{VIDEO}/retry"),
        "ApproveVideo": ("POST", f"{VIDEO}/approve"),
        "StreamToken": ("POST", f"{VIDEO}/stream-token"),
    },
)


@router.post(
    "",
    status_code=202,
    summary="Start rendering a video",
    responses={202: {"description": "Accepted: the video is queued", "links": _VIDEO_LINKS}},
)
async def create(
    body: CreateVideoBody,
    user: Annotated[User, Depends(current_user)],
    b: Annotated[Backends, Depends(backends)],
) -> dict:
    request = await video_request(body, b.chunks, b.assets, b.voice, user.user_id)
    await within_budget(request, b.planner, user.user_id)
    try:
        video_id = await create_video(
            b.db,
            b.js,
            user_id=user.user_id,
            max_active=user.max_active_videos,
            request=request,
            review_ttl_s=b.review_ttl_s,
        )
    except TooManyActiveVideos as busy:
        raise _too_many(busy) from None
    return {"id": video_id, "status": "queued", "links": _links(video_id)}


@router.get(
    "",
    summary="Your videos, newest first",
    description="Each as `GET /v1/videos/{id}` shows it: progress, plan, cost, and renditions with their links.",
    responses=problems(400),
)
async def list_(
    user: Annotated[User, Depends(current_user)],
    b: Annotated[Backends, Depends(backends)],
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    page_token: Annotated[str | None, Query(max_length=200)] = None,
) -> dict:
    try:
        page = await list_videos(b.db, b.js, user_id=user.user_id, page_size=page_size, page_token=page_token or "")
    except ValueError as error:
        raise Problem(400, str(error), errors=[FieldError("page_token", str(error))]) from None
    videos = await asyncio.gather(*(_video_json(b, v, user.user_id) for v in page.videos))
    return {"videos": list(videos), "next_page_token": page.next_page_token or None}


@router.get("/{video_id}", summary="Status, progress, plan, cost and error of a video", responses=problems(404))
async def read(
    video_id: str, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> dict:
    view = await get_video(b.db, b.js, user_id=user.user_id, video_id=canonical_video_id(video_id))
    if view is None:
        raise Problem(404, f"video {video_id} not found")
    return await _video_json(b, view, user.user_id)


@router.get(
    "/{video_id}/events",
    summary="Live progress as Server-Sent Events",
    description="Each event's id is its stream sequence: reconnecting with `Last-Event-ID` delivers every later "
    "event once. The stream ends with the terminal event; a reconnect after it gets 204, which stops EventSource. "
    "Authenticate with the API key, or with `?token=` from `POST /v1/videos/{id}/stream-token`.",
    response_model=None,
    responses={
        200: {"description": "The event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
        204: {"description": "The video has ended and `Last-Event-ID` is its last event: nothing more will come"},
        **problems(404),
    },
)
async def events(
    video_id: str,
    user_id: Annotated[str, Depends(watcher_id)],
    b: Annotated[Backends, Depends(backends)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse | Response:
    vid = canonical_video_id(video_id)
    view = await get_video(b.db, b.js, user_id=user_id, video_id=vid)
    if view is None:
        raise Problem(404, f"video {video_id} not found")
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    end = await ending(b.js, vid, view.status)
    if end is not None and after >= end.sequence:
        return Response(status_code=204)

    async def stream() -> AsyncIterator[dict[str, str]]:
        if end is not None and (not after or not end.replayable):
            # A finished video answers from Postgres at once, with the id that makes a reconnect a 204.
            yield {"id": str(end.sequence), "event": view.status, "data": _terminal_json(view)}
            return
        # One shared subscription per video: with hundreds of watchers each event is folded and
        # serialized once (video_feeds.py); the progress starts from what the video shows now. A
        # new watcher sees the version being made from its start, not an earlier one's ending.
        start = max(after, await version_start(b.js, vid) - 1)
        async for item, data in video_feeds.watch(b.js, vid, after_sequence=start, shown=view.progress):
            yield {"id": str(item.sequence), "event": item.event.WhichOneof("kind"), "data": data}

    return EventSourceResponse(stream(), ping=10, send_timeout=30)


@router.post(
    "/{video_id}/stream-token",
    summary="A short-lived token to follow this video's events from EventSource",
    responses=problems(404),
)
async def stream_token(
    video_id: str, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> dict:
    vid = canonical_video_id(video_id)
    if not await owns_video(b.db, user_id=user.user_id, video_id=vid):
        raise Problem(404, f"video {video_id} not found")
    issued = b.stream_tokens.issue(user.user_id, vid)
    return {"token": issued.token, "expires_at": datetime.fromtimestamp(issued.expires_at, UTC).isoformat()}


@router.post("/{video_id}/cancel", status_code=202, summary="Stop rendering a video", responses=problems(404, 409))
async def cancel(
    video_id: str, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> dict:
    vid = canonical_video_id(video_id)
    try:
        found = await cancel_video(b.db, b.js, user_id=user.user_id, video_id=vid)
    except AlreadyFinished as finished:
        raise Problem(409, str(finished)) from None
    if not found:
        raise Problem(404, f"video {video_id} not found")
    return {"id": vid, "status": "cancelled", "links": _links(vid)}


@router.post(
    "/{video_id}/retry",
    status_code=202,
    summary="Run a failed or cancelled video again",
    description="Starts a new run that regenerates only the units with no stored output: finished storyboard "
    "images and chunks are reused and not paid for again. 409 when the video is still running or completed.",
    responses=problems(404, 409),
)
async def retry(
    video_id: str, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> dict:
    vid = canonical_video_id(video_id)
    try:
        run = await retry_video(b.db, b.js, user_id=user.user_id, max_active=user.max_active_videos, video_id=vid)
    except NotRetryable as not_retryable:
        raise Problem(409, str(not_retryable)) from None
    except TooManyActiveVideos as busy:
        raise _too_many(busy) from None
    if run is None:
        raise Problem(404, f"video {video_id} not found")
    view = await get_video(b.db, b.js, user_id=user.user_id, video_id=vid)
    assert view is not None  # the retry just found it
    return _view_json(view)


@router.post(
    "/{video_id}/approve",
    status_code=202,
    summary="Let a video waiting at its review gate go on",
    description="The graph goes on from what exists: nothing made before the gate is made again. Approving a "
    "video already past its gate changes nothing; 409 when it is not at a gate (or a storyboard image is being "
    "drawn again), 429 when your rendering slots are full.",
    responses=problems(404, 409, 429),
)
async def approve(
    video_id: str, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> dict:
    vid = canonical_video_id(video_id)
    try:
        found = await approve_video(b.db, b.js, user_id=user.user_id, max_active=user.max_active_videos, video_id=vid)
    except NotAtGate as not_at_gate:
        raise Problem(409, str(not_at_gate)) from None
    except TooManyActiveVideos as busy:
        raise _too_many(busy) from None
    if not found:
        raise Problem(404, f"video {video_id} not found")
    return await _current_json(b, user.user_id, vid)


class RegenerateFrameBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: OneLineText | None = Field(
        None,
        min_length=1,
        max_length=400,
        description=f"The beat's new image prompt, under {PROMPT_WORD_LIMIT} words; omitted keeps the plan's",
    )
    seed: int | None = Field(None, ge=1, le=2**31 - 1, description="The new image's seed; omitted draws a new one")

    @field_validator("prompt")
    @classmethod
    def _few_words(cls, prompt: str | None) -> str | None:
        if prompt is not None and not 0 < len(prompt.split()) < PROMPT_WORD_LIMIT:
            raise ValueError(f"must have 1 to {PROMPT_WORD_LIMIT - 1} words")
        return prompt


@router.post(
    "/{video_id}/frames/{beat}/regenerate",
    status_code=202,
    summary="Draw one storyboard image again at the storyboard gate",
    description="Only that image is paid for; the earlier one is kept (`GET /v1/videos/{id}/frames` shows the "
    "latest). 409 when the video is not waiting at its storyboard gate or the image is being drawn already.",
    responses=problems(404, 409, 422),
)
async def regenerate(
    video_id: str,
    beat: int,
    user: Annotated[User, Depends(current_user)],
    b: Annotated[Backends, Depends(backends)],
    body: RegenerateFrameBody | None = None,
) -> dict:
    vid = canonical_video_id(video_id)
    edit = body or RegenerateFrameBody(prompt=None, seed=None)
    seed = edit.seed or uuid.uuid4().int % 2**31 + 1
    try:
        found = await regenerate_frame(
            b.db, b.js, user_id=user.user_id, video_id=vid, edit=FrameEdit(beat, edit.prompt or "", seed)
        )
    except NotAtGate as not_at_gate:
        raise Problem(409, str(not_at_gate)) from None
    except IndexError as outside:
        raise Problem(
            422, f"invalid request: check beat: {outside}", errors=[FieldError("beat", str(outside))]
        ) from None
    if not found:
        raise Problem(404, f"video {video_id} not found")
    return await _current_json(b, user.user_id, vid)


class BeatEditBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, le=SPEC_MAX_BEATS - 1, description="The beat, by its index in the plan edited")
    headline: OneLineText | None = Field(None, max_length=200, description="On-screen words, at most 8")
    subline: OneLineText | None = Field(None, max_length=200, description="On-screen words under the headline")
    voiceover: OneLineText | None = Field(
        None, max_length=VOICEOVER_MAX_CHARS, description="The line spoken over the beat, within its word budget"
    )
    prompt: OneLineText | None = Field(
        None, max_length=1000, description=f"The beat's image prompt, under {PROMPT_WORD_LIMIT} words"
    )
    camera_movement: str | None = Field(None, max_length=ID_TEXT_MAX_CHARS, description="e.g. slow_dolly_in")
    shot_type: str | None = Field(None, max_length=ID_TEXT_MAX_CHARS, description="e.g. close_up")
    duration_s: int | None = Field(
        None, description="5, 10 or 15 s, at the plan gate only; the ad lasts the sum of its beats (10 to 60 s)"
    )


class EditPlanBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_revision: int = Field(ge=1, description="The revision you edited (`plan_revision` of the video)")
    beats: list[BeatEditBody] = Field(default_factory=list, max_length=SPEC_MAX_BEATS)
    order: list[int] | None = Field(
        None,
        max_length=SPEC_MAX_BEATS,
        description="Every beat's index in its new place (the plan gate only): an opening beat first, "
        "a closing one last",
    )


@router.patch(
    "/{video_id}/plan",
    summary="Edit the plan of a video at its review gate, or make a new version of a completed one",
    description="Beat words, image prompts, camera and shot; the order and the beats' lengths at the plan gate. "
    "The plan is checked by "
    "the rules every plan meets (422 naming each field at fault) and quoted again. At the storyboard gate a beat "
    "whose prompt, camera or shot changed is drawn again (only that image is paid for). On a completed video the "
    "edit makes its next `version` from the frames, clips and lines it has: only what the edit changed is made "
    "and paid for again (a headline or subline: nothing but refine and export; a prompt, camera or shot: that "
    "beat's image and clips; a voiceover: that line), and every version stays downloadable "
    "(`/download?version=N`). "
    "409 when the video is neither at a gate nor completed (a version being made included), or when "
    "`plan_revision` is not the current one (another edit came first; the answer says which is current); 429 "
    "when a new version would pass your rendering slots.",
    responses=problems(404, 409, 422, 429),
)
async def edit_plan_route(
    video_id: str,
    body: EditPlanBody,
    user: Annotated[User, Depends(current_user)],
    b: Annotated[Backends, Depends(backends)],
) -> dict:
    vid = canonical_video_id(video_id)
    edit = PlanEdit(
        body.plan_revision,
        [planner_service_pb2.BeatEdit(**beat.model_dump(exclude_none=True)) for beat in body.beats],
        body.order or [],
    )
    try:
        found = await edit_plan(
            b.db, b.js, b.planner, user_id=user.user_id, max_active=user.max_active_videos, video_id=vid, edit=edit
        )
    except NotAtGate as not_at_gate:
        raise Problem(409, str(not_at_gate)) from None
    except PlanChanged as changed:
        current = [FieldError("plan_revision", f"the current one is {changed.revision}")]
        raise Problem(409, str(changed), errors=current) from None
    except PlanFaults as faults:
        errors = [FieldError(re.sub(r"\[(\d+)\]", r".\1", f.field), f.message) for f in faults.faults]
        raise Problem(422, "invalid plan: check " + ", ".join(e.field for e in errors), errors=errors) from None
    except TooManyActiveVideos as busy:
        raise _too_many(busy) from None
    if not found:
        raise Problem(404, f"video {video_id} not found")
    return await _current_json(b, user.user_id, vid)


async def _current_json(b: Backends, user_id: str, video_id: str) -> dict:
    view = await get_video(b.db, b.js, user_id=user_id, video_id=video_id)
    assert view is not None  # the caller just found it
    return _view_json(view)


def _terminal_json(view: VideoView) -> str:
    return json.dumps({"event": {"video_id": view.video_id}, "progress": to_json(view.progress)})


@router.get(
    "/{video_id}/versions",
    summary="The completed versions of a video",
    description="The first first, each with what making it cost, its download link and its renditions with "
    "pre-signed links (as a video's `renditions`). An edit of a completed video (`PATCH /v1/videos/{id}/plan`) "
    "makes the next version; every version stays downloadable.",
    responses=problems(404),
)
async def versions(
    video_id: str, user: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> dict:
    vid = canonical_video_id(video_id)
    found = await list_versions(b.db, user_id=user.user_id, video_id=vid)
    if found is None:
        raise Problem(404, f"video {video_id} not found")
    return {
        "versions": [
            {
                "version": v.version,
                "plan_revision": v.plan_revision,
                "completed_at": v.completed_at.isoformat(),
                "cost": cost_json(v.cost.total_micros, v.cost.lines),
                "download": f"/v1/videos/{vid}/download?version={v.version}",
                "renditions": await published_json(b.export, vid, user.user_id, v.version),
            }
            for v in found
        ]
    }


@router.get(
    "/{video_id}/download",
    summary="Redirect to a short-lived download link",
    status_code=302,
    responses={302: {"description": "`Location` is a pre-signed link to the MP4"}, **problems(404, 409)},
)
async def download(
    video_id: str,
    user: Annotated[User, Depends(current_user)],
    b: Annotated[Backends, Depends(backends)],
    aspect_ratio: Annotated[
        str | None, Query(description="Which rendition: 16:9, 9:16 or 1:1; the primary if omitted")
    ] = None,
    version: Annotated[
        int | None, Query(description="Which completed version (1 is the first); the latest if omitted")
    ] = None,
) -> RedirectResponse:
    shape = ASPECT_RATIOS.get(aspect_ratio or "", c.ASPECT_RATIO_UNSPECIFIED)
    if aspect_ratio is not None and shape == c.ASPECT_RATIO_UNSPECIFIED:
        message = f"must be one of {', '.join(ASPECT_RATIOS)}"
        raise Problem(422, "invalid request: check aspect_ratio", errors=[FieldError("aspect_ratio", message)])
    if version is not None and version < 1:
        message = "must be a version number: 1 is the first"
        raise Problem(422, "invalid request: check version", errors=[FieldError("version", message)])
    url = await b.export.download_url(canonical_video_id(video_id), user.user_id, shape, version or 0)
    return RedirectResponse(url, status_code=302)
