"""gRPC `adgen.video.v1.VideoService`: the REST video routes for internal callers, over the same
functions (`videos.py`) and the same validation, so both surfaces accept, refuse and report alike."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg
import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext

from adgen.events.v1 import events_pb2
from adgen.video.v1 import video_service_pb2 as v
from adgen.video.v1 import video_service_pb2_grpc
from adgen_gateway.auth import User, user_for_key
from adgen_gateway.clients.assets import AssetsClient
from adgen_gateway.clients.chunks import ChunksClient
from adgen_gateway.clients.planner import PlannerClient
from adgen_gateway.clients.voice import VoiceClient
from adgen_gateway.progress import STATUS, onward
from adgen_gateway.rate_limits import RateLimits, charge
from adgen_gateway.video_request import budget_errors, video_request_errors
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
    regenerate_frame,
    retry_video,
    stored_progress,
    version_start,
    watch_events,
)
from adgen_kernel.errors import (
    Aborted,
    AdgenError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
)
from adgen_video.request_limits import PROMPT_WORD_LIMIT


class Unauthenticated(AdgenError):
    code = grpc.StatusCode.UNAUTHENTICATED


def _timestamp(iso: str) -> Timestamp | None:
    if not iso:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(iso))
    return stamp


def _video(view: VideoView) -> v.Video:
    return v.Video(
        video_id=view.video_id,
        status=STATUS[view.status],
        request=view.request,
        spec=view.spec,
        progress=view.progress,
        cost=view.cost,
        error=view.error,
        created_at=_timestamp(view.created_at),
        completed_at=_timestamp(view.completed_at),
        run=view.run,
        review=view.review,
        plan_revision=view.plan_revision,
        version=view.version,
    )


def _terminal_event(view: VideoView) -> events_pb2.Event:
    """Stands in for a terminal event the stream no longer holds (it keeps events for an hour)."""
    event = events_pb2.Event(video_id=view.video_id)
    if view.status == "completed":
        event.video_completed.SetInParent()
    elif view.status == "failed":
        event.video_failed.reason = view.error
    elif view.status == "expired":
        event.video_expired.SetInParent()
    else:
        event.video_cancelled.SetInParent()
    return event


def _peer_host(peer: str) -> str:
    """The address part of a gRPC peer (`ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`), without the port."""
    return peer.rpartition(":")[0] or peer


class VideoServicer(video_service_pb2_grpc.VideoServiceServicer):
    """Ids, page sizes and the request's own limits are checked against the contract before a call
    gets here (`adgen_kernel.validation`); what needs the database or a backend is checked here."""

    def __init__(
        self,
        db: asyncpg.Pool,
        js: JetStreamContext,
        chunks: ChunksClient,
        assets: AssetsClient,
        voices: VoiceClient,
        planner: PlannerClient,
        limits: RateLimits,
        *,
        review_ttl_s: int = 7 * 24 * 3600,
    ) -> None:
        self._db = db
        self._js = js
        self._chunks = chunks
        self._assets = assets
        self._voices = voices
        self._planner = planner
        self._limits = limits
        self._review_ttl_s = review_ttl_s

    async def _user(self, context: grpc.aio.ServicerContext) -> User:
        """The caller, charged one request against the same rate limits as REST: per user (REST and
        gRPC share the bucket), or per client address when no valid key was sent."""
        metadata = dict(context.invocation_metadata() or ())
        scheme, _, key = str(metadata.get("authorization", "")).partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            charge(self._limits.addresses, _peer_host(context.peer()))
            raise Unauthenticated("missing API key: send 'authorization: Bearer <your key>' metadata")
        user = await user_for_key(self._db, key.strip())
        if user is None:
            charge(self._limits.addresses, _peer_host(context.peer()))
            raise Unauthenticated("unknown API key")
        charge(self._limits.users, user.user_id)
        return user

    async def _view(self, user: User, video_id: str) -> VideoView:
        view = await get_video(self._db, self._js, user_id=user.user_id, video_id=video_id)
        if view is None:
            raise NotFound(f"video {video_id} not found")
        return view

    async def CreateVideo(
        self, request: v.CreateVideoRequest, context: grpc.aio.ServicerContext
    ) -> v.CreateVideoResponse:
        user = await self._user(context)
        body = request.request
        errors = await video_request_errors(body, self._chunks, self._assets, self._voices, user.user_id)
        if not body.seed:
            # proto3 cannot tell 0 from unset; 0 means "choose one", as an omitted seed does over REST.
            body.seed = uuid.uuid4().int % 2**31
        if not errors:
            errors = await budget_errors(body, self._planner, user.user_id, field="max_cost_micros")
        if errors:
            raise InvalidArgument("invalid request: " + "; ".join(f"request.{e.field}: {e.message}" for e in errors))
        try:
            video_id = await create_video(
                self._db,
                self._js,
                user_id=user.user_id,
                max_active=user.max_active_videos,
                request=body,
                review_ttl_s=self._review_ttl_s,
            )
        except TooManyActiveVideos as busy:
            raise ResourceExhausted(str(busy)) from None
        return v.CreateVideoResponse(video=_video(await self._view(user, video_id)))

    async def GetVideo(self, request: v.GetVideoRequest, context: grpc.aio.ServicerContext) -> v.GetVideoResponse:
        user = await self._user(context)
        return v.GetVideoResponse(video=_video(await self._view(user, request.video_id)))

    async def WatchVideo(
        self, request: v.WatchVideoRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[v.WatchVideoResponse]:
        user = await self._user(context)
        view = await self._view(user, request.video_id)
        after = request.after_sequence
        end = await ending(self._js, view.video_id, view.status)
        if end is not None and after >= end.sequence:
            return
        if end is not None and not end.replayable:
            yield v.WatchVideoResponse(sequence=end.sequence, event=_terminal_event(view), progress=view.progress)
            return
        start = await stored_progress(self._js, view.video_id) if after else None
        # A new watcher sees the version being made from its start, not an earlier one's ending.
        quiet = 0 if after else await version_start(self._js, view.video_id) - 1
        sent = view.progress
        async for item in watch_events(self._js, view.video_id, after_sequence=after, start=start, quiet_until=quiet):
            sent = onward(sent, item.progress)
            yield v.WatchVideoResponse(sequence=item.sequence, event=item.event, progress=sent)

    async def ListVideos(self, request: v.ListVideosRequest, context: grpc.aio.ServicerContext) -> v.ListVideosResponse:
        user = await self._user(context)
        try:
            page = await list_videos(
                self._db,
                self._js,
                user_id=user.user_id,
                page_size=request.page_size or 20,
                page_token=request.page_token,
            )
        except ValueError as error:
            raise InvalidArgument(f"page_token: {error}") from None
        return v.ListVideosResponse(videos=[_video(view) for view in page.videos], next_page_token=page.next_page_token)

    async def CancelVideo(
        self, request: v.CancelVideoRequest, context: grpc.aio.ServicerContext
    ) -> v.CancelVideoResponse:
        user = await self._user(context)
        video_id = request.video_id
        try:
            found = await cancel_video(self._db, self._js, user_id=user.user_id, video_id=video_id)
        except AlreadyFinished as finished:
            raise FailedPrecondition(str(finished)) from None
        if not found:
            raise NotFound(f"video {video_id} not found")
        return v.CancelVideoResponse(video=_video(await self._view(user, video_id)))

    async def RetryVideo(self, request: v.RetryVideoRequest, context: grpc.aio.ServicerContext) -> v.RetryVideoResponse:
        user = await self._user(context)
        video_id = request.video_id
        try:
            run = await retry_video(
                self._db, self._js, user_id=user.user_id, max_active=user.max_active_videos, video_id=video_id
            )
        except NotRetryable as not_retryable:
            raise FailedPrecondition(str(not_retryable)) from None
        except TooManyActiveVideos as busy:
            raise ResourceExhausted(str(busy)) from None
        if run is None:
            raise NotFound(f"video {video_id} not found")
        return v.RetryVideoResponse(video=_video(await self._view(user, video_id)))

    async def ApproveVideo(
        self, request: v.ApproveVideoRequest, context: grpc.aio.ServicerContext
    ) -> v.ApproveVideoResponse:
        user = await self._user(context)
        video_id = request.video_id
        try:
            found = await approve_video(
                self._db, self._js, user_id=user.user_id, max_active=user.max_active_videos, video_id=video_id
            )
        except NotAtGate as not_at_gate:
            raise FailedPrecondition(str(not_at_gate)) from None
        except TooManyActiveVideos as busy:
            raise ResourceExhausted(str(busy)) from None
        if not found:
            raise NotFound(f"video {video_id} not found")
        return v.ApproveVideoResponse(video=_video(await self._view(user, video_id)))

    async def RegenerateFrame(
        self, request: v.RegenerateFrameRequest, context: grpc.aio.ServicerContext
    ) -> v.RegenerateFrameResponse:
        user = await self._user(context)
        video_id = request.video_id
        if request.prompt and not 0 < len(request.prompt.split()) < PROMPT_WORD_LIMIT:
            raise InvalidArgument(f"prompt: must have 1 to {PROMPT_WORD_LIMIT - 1} words")
        seed = request.seed if request.HasField("seed") and request.seed > 0 else uuid.uuid4().int % 2**31 + 1
        edit = FrameEdit(request.beat_index, request.prompt, seed)
        try:
            found = await regenerate_frame(self._db, self._js, user_id=user.user_id, video_id=video_id, edit=edit)
        except NotAtGate as not_at_gate:
            raise FailedPrecondition(str(not_at_gate)) from None
        except IndexError as outside:
            raise InvalidArgument(f"beat_index: {outside}") from None
        if not found:
            raise NotFound(f"video {video_id} not found")
        return v.RegenerateFrameResponse(video=_video(await self._view(user, video_id)))

    async def ListVersions(
        self, request: v.ListVersionsRequest, context: grpc.aio.ServicerContext
    ) -> v.ListVersionsResponse:
        user = await self._user(context)
        found = await list_versions(self._db, user_id=user.user_id, video_id=request.video_id)
        if found is None:
            raise NotFound(f"video {request.video_id} not found")
        return v.ListVersionsResponse(
            versions=[
                v.VideoVersion(
                    version=made.version,
                    plan_revision=made.plan_revision,
                    completed_at=_timestamp(made.completed_at.isoformat()),
                    cost=made.cost,
                )
                for made in found
            ]
        )

    async def EditPlan(self, request: v.EditPlanRequest, context: grpc.aio.ServicerContext) -> v.EditPlanResponse:
        user = await self._user(context)
        video_id = request.video_id
        edit = PlanEdit(request.plan_revision, list(request.beats), list(request.order))
        try:
            found = await edit_plan(
                self._db,
                self._js,
                self._planner,
                user_id=user.user_id,
                max_active=user.max_active_videos,
                video_id=video_id,
                edit=edit,
            )
        except NotAtGate as not_at_gate:
            raise FailedPrecondition(str(not_at_gate)) from None
        except PlanChanged as changed:
            raise Aborted(str(changed)) from None
        except PlanFaults as faults:
            raise InvalidArgument(f"invalid plan: {faults}") from None
        except TooManyActiveVideos as busy:
            raise ResourceExhausted(str(busy)) from None
        if not found:
            raise NotFound(f"video {video_id} not found")
        return v.EditPlanResponse(video=_video(await self._view(user, video_id)))
