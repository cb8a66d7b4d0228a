"""Accepting videos and reading their state, independent of REST or gRPC."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import asyncpg
import nats.errors
import nats.js.errors
from google.protobuf.message import Message
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from adgen.common.v1 import common_pb2 as c
from adgen.events.v1 import events_pb2
from adgen.planner.v1 import planner_service_pb2
from adgen_gateway.clients.planner import PlannerClient
from adgen_gateway.paging import decode_cursor, encode_cursor
from adgen_gateway.progress import STATUS, agreed_snapshot, fold, recorded, settled
from adgen_kernel.db import Connection
from adgen_kernel.jetstream import EVENTS_STREAM, PROGRESS_BUCKET, event_subject, publish_event, publish_work
from adgen_video.accounts import lock_user
from adgen_video.ready_units import describe
from adgen_video.request_limits import FieldError
from adgen_video.resume import enqueue, ready_units_of
from adgen_video.review_gate import (
    GATE_NAMES,
    GATE_STAGES,
    asked_for_review,
    gate_of,
    gate_reached,
    pass_gate,
    pending_gate,
    reopen_gate,
    review_of,
)
from adgen_video.unit_inputs import Remade, remade
from adgen_video.unit_rows import done_counts, frames_in_flight, replace_units, start_take, start_takes
from adgen_video.version_rows import versions_of
from adgen_video.video_reads import owns_video as owns_video  # routes/videos.py asks it here
from adgen_video.video_reads import video_of_user, videos_page
from adgen_video.video_runs import (
    active_video_ids,
    insert_video,
    locked_video_of_user,
    mark_cancelled,
    mark_not_queued,
    plan_of,
    replace_plan,
    replace_spec,
    start_run,
    start_version,
)
from adgen_video.video_state import FINISHED, cost_of, from_json, msg_id, to_json
from adgen_video.voice_lines import keep_lines, replace_lines, spoken_beats, start_line_takes


class AlreadyFinished(Exception):
    """Only a video that is still running can be cancelled."""

    def __init__(self, video_id: str, status: str) -> None:
        super().__init__(
            f"video {video_id} is already {status}; only a video that is still being made can be cancelled"
        )


class NotRetryable(Exception):
    """Only a failed or cancelled video can be retried."""

    def __init__(self, video_id: str, status: str) -> None:
        super().__init__(f"video {video_id} is {status}; only a failed or cancelled video can be retried")


RETRYABLE = tuple(status for status in FINISHED if status != "completed")


class NotAtGate(Exception):
    """Only a video waiting at its review gate can be approved, edited, or have a frame drawn again."""


class PlanChanged(Exception):
    """An edit made on a revision of the plan that is no longer the video's."""

    def __init__(self, video_id: str, revision: int) -> None:
        super().__init__(
            f"the plan of video {video_id} was edited meanwhile: it is at revision {revision};"
            " read it again and edit that revision"
        )
        self.revision = revision


class PlanFaults(Exception):
    """An edit the plan's rules refuse, with every field at fault."""

    def __init__(self, faults: list[FieldError]) -> None:
        super().__init__("; ".join(f"{f.field}: {f.message}" for f in faults))
        self.faults = faults


class TooManyActiveVideos(Exception):
    def __init__(self, active_ids: list[str], limit: int) -> None:
        super().__init__(
            f"you already have {len(active_ids)} video(s) rendering ({', '.join(active_ids)}); "
            f"the limit is {limit} at a time — wait for it to finish"
        )


@dataclass(frozen=True)
class VideoView:
    video_id: str
    status: str
    request: c.VideoRequest
    spec: c.Spec | None
    progress: c.Progress
    cost: c.Cost
    error: str
    created_at: str
    completed_at: str
    run: int
    review: c.Review | None  # while the video waits at its review gate
    plan_revision: int
    version: int  # being made, or the last made


async def create_video(
    db: asyncpg.Pool,
    js: JetStreamContext,
    *,
    user_id: str,
    max_active: int,
    request: c.VideoRequest,
    review_ttl_s: int = 7 * 24 * 3600,
) -> str:
    """Records the video and enqueues its plan. The per-user limit is checked under a lock on the
    user's row, so two simultaneous requests cannot both slip under it."""
    video_id = str(uuid.uuid4())
    async with db.acquire() as conn, conn.transaction():
        await lock_user(conn, user_id)
        active = await active_video_ids(conn, user_id)
        if len(active) >= max_active:
            raise TooManyActiveVideos(active, max_active)
        await insert_video(
            conn,
            video_id=video_id,
            user_id=user_id,
            request=to_json(request),
            review_gate=gate_of(request),
            review_ttl_s=review_ttl_s,
        )
    # Enqueued after the commit: a planner that picked the work up before it would find no row and
    # drop the video. If the publish fails, the row is marked failed so it holds no active slot.
    try:
        await publish_work(
            js,
            "plan",
            events_pb2.PlanWork(video_id=video_id, user_id=user_id, request=request),
            msg_id(video_id, 1, "plan:0"),
        )
    except BaseException:
        await mark_not_queued(db, video_id)
        raise
    return video_id


async def stored_progress(js: JetStreamContext, video_id: str) -> c.Progress | None:
    kv = await js.key_value(PROGRESS_BUCKET)
    try:
        entry = await kv.get(video_id)
    except nats.js.errors.KeyNotFoundError:
        return None
    return c.Progress.FromString(entry.value) if entry and entry.value else None


async def save_progress(js: JetStreamContext, event: events_pb2.Event) -> None:
    """Folds one event into the KV snapshot; compare-and-set so concurrent projectors lose nothing."""
    kv = await js.key_value(PROGRESS_BUCKET)
    for _ in range(10):
        try:
            entry = await kv.get(event.video_id)
            current, revision = c.Progress.FromString(entry.value or b""), entry.revision
        except nats.js.errors.KeyNotFoundError:
            current, revision = c.Progress(), None
        updated = fold(current, event).SerializeToString()
        try:
            if revision is None:
                await kv.create(event.video_id, updated)
            else:
                await kv.update(event.video_id, updated, last=revision)
            return
        except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.BadRequestError, nats.js.errors.APIError):
            await asyncio.sleep(0.01)
    raise RuntimeError(f"progress of {event.video_id} kept changing; giving up this update")


async def _progress_from_postgres(
    db: asyncpg.Pool, row: asyncpg.Record, spec: c.Spec | None, cost: c.Cost
) -> c.Progress:
    video_id = str(row["video_id"])
    frames_done, chunks_done = await done_counts(db, video_id)
    return recorded(
        video_id,
        STATUS[row["status"]],
        error=(row["error"] or "") if row["status"] == "failed" else "",
        # protoc's stubs type an enum's Value() as int, not as the enum
        failed_phase=cast(c.Phase, c.Phase.Value(row["failed_phase"])) if row["failed_phase"] else c.PHASE_UNSPECIFIED,
        spec=spec,
        frames_done=frames_done,
        chunks_done=chunks_done,
        cost_micros=cost.total_micros,
    )


async def get_video(db: asyncpg.Pool, js: JetStreamContext, *, user_id: str, video_id: str) -> VideoView | None:
    row = await video_of_user(db, user_id=user_id, video_id=video_id)
    if row is None:
        return None
    return await _view(db, js, row)


@dataclass(frozen=True)
class VideoPage:
    videos: list[VideoView]
    next_page_token: str  # empty on the last page


async def list_videos(
    db: asyncpg.Pool, js: JetStreamContext, *, user_id: str, page_size: int, page_token: str
) -> VideoPage:
    """One page of the user's videos, newest first. Raises ValueError for a page token this API did
    not make."""
    before = decode_cursor(page_token) if page_token else None
    rows = await videos_page(db, user_id=user_id, limit=page_size + 1, before=before)
    # One row past the page says whether another page follows; only the page's rows are read further.
    page = rows[:page_size]
    token = encode_cursor(page[-1]["created_at"], str(page[-1]["video_id"])) if len(rows) > page_size else ""
    return VideoPage([await _view(db, js, row) for row in page], token)


async def _view(db: asyncpg.Pool, js: JetStreamContext, row: asyncpg.Record) -> VideoView:
    """A video as every read shows it (one video or a page of them, REST or gRPC): the progress is
    `settled` from the snapshot and, when that is missing or behind, from Postgres."""
    video_id = str(row["video_id"])
    spec = from_json(row["spec"], c.Spec()) if row["spec"] else None
    cost = await cost_of(db, video_id)
    snapshot = await stored_progress(js, video_id)
    # When the snapshot agrees with Postgres, `settled` needs no counts from Postgres.
    agreed = agreed_snapshot(snapshot, STATUS[row["status"]]) if snapshot is not None else None
    progress = agreed if agreed is not None else settled(snapshot, await _progress_from_postgres(db, row, spec, cost))
    if snapshot is None:
        # Only where there is nothing to lose: the projector stays the one writer of a snapshot that
        # exists, or an event it has yet to fold (a cost, a last chunk) would be dropped behind a
        # finished status.
        kv = await js.key_value(PROGRESS_BUCKET)
        await kv.put(video_id, progress.SerializeToString())
    return VideoView(
        video_id=video_id,
        status=row["status"],
        request=from_json(row["request"], c.VideoRequest()),
        spec=spec,
        progress=progress,
        cost=cost,
        error=row["error"] or "",
        created_at=row["created_at"].isoformat(),
        completed_at=row["completed_at"].isoformat() if row["completed_at"] else "",
        run=row["run"],
        review=await review_of(db, video_id) if row["status"] == "awaiting_review" else None,
        plan_revision=row["plan_revision"],
        version=row["version"],
    )


@dataclass(frozen=True)
class VersionView:
    version: int
    plan_revision: int
    completed_at: datetime
    cost: c.Cost


async def list_versions(db: asyncpg.Pool, *, user_id: str, video_id: str) -> list[VersionView] | None:
    """The video's completed versions, the first first, each with what making it cost; None when the
    user has no such video."""
    if not await owns_video(db, user_id=user_id, video_id=video_id):
        return None
    return [
        VersionView(row.version, row.plan_revision, row.completed_at, await cost_of(db, video_id, row.version))
        for row in await versions_of(db, video_id)
    ]


async def cancel_video(db: asyncpg.Pool, js: JetStreamContext, *, user_id: str, video_id: str) -> bool:
    """Marks a running video cancelled and tells everyone; False when the user has no such video.

    Workers read the status before each unit, so nothing new starts once the row says cancelled;
    units already running finish, but their successors stop at that check."""
    async with db.acquire() as conn, conn.transaction():
        row = await locked_video_of_user(conn, user_id=user_id, video_id=video_id)
        if row is None:
            return False
        if row.status in FINISHED:
            raise AlreadyFinished(video_id, row.status)
        await mark_cancelled(conn, video_id)
        # Published inside the transaction, as in create_video: no cancelled row without its event.
        cancelled = events_pb2.VideoCancelled(previous_status=STATUS[row.status])
        await publish_event(
            js,
            events_pb2.Event(video_id=video_id, video_cancelled=cancelled),
            msg_id=msg_id(video_id, row.run, "cancelled"),
        )
    return True


async def retry_video(
    db: asyncpg.Pool, js: JetStreamContext, *, user_id: str, max_active: int, video_id: str
) -> int | None:
    """Starts the next run of a failed or cancelled video and enqueues the units that have no stored
    output (see ready_units); returns the new run, or None when the user has no such video. The
    retried video takes an active slot again, so the per-user limit applies as to a new one."""
    async with db.acquire() as conn, conn.transaction():
        await lock_user(conn, user_id)
        row = await locked_video_of_user(conn, user_id=user_id, video_id=video_id)
        if row is None:
            return None
        if row.status not in RETRYABLE:
            raise NotRetryable(video_id, row.status)
        active = await active_video_ids(conn, user_id)
        if len(active) >= max_active:
            raise TooManyActiveVideos(active, max_active)
        run = row.run + 1
        await start_run(conn, video_id, run=run, status="rendering" if row.planned else "queued")
        # A gate the video had reached before it stopped waits again, for a whole new period.
        waiting = await gate_reached(conn, video_id)
        if waiting:
            await reopen_gate(conn, video_id)
    # The event first, then the work (after the commit, as in create_video): watchers see the new run
    # begin before any of its units report.
    units = await ready_units_of(db, video_id)
    retried = events_pb2.VideoRetried(run=run, units=describe(units))
    await publish_event(
        js, events_pb2.Event(video_id=video_id, video_retried=retried), msg_id(video_id, run, "retried")
    )
    await enqueue(db, js, video_id, units)
    if waiting:
        await _tell_gate_reached(db, js, video_id, run)
    return run


async def _tell_gate_reached(db: asyncpg.Pool, js: JetStreamContext, video_id: str, run: int) -> None:
    review = await review_of(db, video_id)
    if review is not None:
        await publish_event(
            js,
            events_pb2.Event(video_id=video_id, review_reached=events_pb2.ReviewReached(review=review)),
            msg_id(video_id, run, f"review:{GATE_NAMES[review.stage]}"),
        )


async def approve_video(
    db: asyncpg.Pool, js: JetStreamContext, *, user_id: str, max_active: int, video_id: str
) -> bool:
    """Lets the video at its review gate go on from what exists; False when the user has no such
    video. Approving a video already past its gate changes nothing; one that is not at a gate is
    NotAtGate. Going on takes a rendering slot again, so the per-user limit applies as to a retry."""
    async with db.acquire() as conn, conn.transaction():
        await lock_user(conn, user_id)
        row = await locked_video_of_user(conn, user_id=user_id, video_id=video_id)
        if row is None:
            return False
        gate = await pending_gate(conn, video_id)
        if row.status != "awaiting_review" or gate is None:
            if gate is None and await asked_for_review(conn, video_id) and row.status not in RETRYABLE:
                return True  # approved already: a second approval is harmless
            raise NotAtGate(
                f"video {video_id} is {row.status}; only a video waiting at its review gate can be approved"
            )
        busy = await frames_in_flight(conn, video_id) if gate == "storyboard" else []
        if busy:
            raise NotAtGate(
                f"video {video_id}: the storyboard image of beat {busy[0]} is being drawn again;"
                " approve once it is ready"
            )
        active = await active_video_ids(conn, user_id)
        if len(active) >= max_active:
            raise TooManyActiveVideos(active, max_active)
        await pass_gate(conn, video_id)
    units = await ready_units_of(db, video_id)
    approved = events_pb2.VideoApproved(stage=GATE_STAGES[gate], units=describe(units))
    await publish_event(
        js, events_pb2.Event(video_id=video_id, video_approved=approved), msg_id(video_id, row.run, "approved")
    )
    await enqueue(db, js, video_id, units)
    return True


@dataclass(frozen=True)
class FrameEdit:
    """A storyboard image to draw again: a new prompt (empty keeps the plan's) and seed (0: a new one)."""

    beat_index: int
    prompt: str = ""
    seed: int = 0


async def regenerate_frame(
    db: asyncpg.Pool, js: JetStreamContext, *, user_id: str, video_id: str, edit: FrameEdit
) -> bool:
    """Draws one beat's storyboard image again at the storyboard gate, as a new take: only that
    image is paid for, the earlier one is kept. False when the user has no such video; NotAtGate when
    it is not waiting at its storyboard gate or that image is being drawn already; IndexError naming
    the beats when the beat is not in the plan."""
    async with db.acquire() as conn, conn.transaction():
        row = await locked_video_of_user(conn, user_id=user_id, video_id=video_id)
        if row is None:
            return False
        if row.status != "awaiting_review" or await pending_gate(conn, video_id) != "storyboard":
            raise NotAtGate(
                f"video {video_id} is not waiting at its storyboard gate ({row.status});"
                " an image can be drawn again only there"
            )
        spec = from_json((await plan_of(conn, video_id)).spec, c.Spec())
        if not 0 <= edit.beat_index < len(spec.beats):
            raise IndexError(f"the plan has beats 0 to {len(spec.beats) - 1}")
        if edit.beat_index in await frames_in_flight(conn, video_id):
            raise NotAtGate(f"video {video_id}: the image of beat {edit.beat_index} is being drawn again already")
        if edit.prompt:
            spec.beats[edit.beat_index].prompt = edit.prompt
            await replace_spec(conn, video_id, to_json(spec))
        take = await start_take(conn, video_id, edit.beat_index)
    work = events_pb2.FrameWork(
        video_id=video_id, user_id=user_id, spec=spec, beat_index=edit.beat_index, take=take, seed=edit.seed
    )
    await publish_work(js, "frame", work, msg_id(video_id, row.run, f"frame:{edit.beat_index}:take{take}"))
    return True


@dataclass(frozen=True)
class PlanEdit:
    """An owner's changes to the plan at `revision`: beat edits and, at the plan gate, a new order."""

    revision: int
    beats: Sequence[planner_service_pb2.BeatEdit]
    order: Sequence[int] = ()


# What a beat's image is drawn from: a change to any of them at the storyboard gate draws it again.
_PICTURE_FIELDS = ("prompt", "camera_movement", "shot_type")


async def edit_plan(
    db: asyncpg.Pool,
    js: JetStreamContext,
    planner: PlannerClient,
    *,
    user_id: str,
    max_active: int,
    video_id: str,
    edit: PlanEdit,
) -> bool:
    """Changes the plan of a video at its review gate or, once it is completed, makes its next
    version; checked and quoted again by the planner, the revision one more. False when the user has
    no such video. At the plan gate nothing is made yet, so the units follow the new plan; at the
    storyboard gate the beats stay in place, a beat whose picture changed is drawn again (a new
    take, the only thing paid for) and a line, already spoken, stays as it is. A completed video is
    made again from what it has, only what the edit changed made again (`_start_version`).
    NotAtGate (neither at a gate nor completed: a version being made is one), PlanChanged (another
    edit came first), PlanFaults, or TooManyActiveVideos (a new version takes a rendering slot)."""
    async with db.acquire() as conn, conn.transaction():
        await lock_user(conn, user_id)
        row = await locked_video_of_user(conn, user_id=user_id, video_id=video_id)
        if row is None:
            return False
        finished = row.status == "completed"
        gate = None if finished else await pending_gate(conn, video_id)
        if not finished and (row.status != "awaiting_review" or gate is None):
            making = f" (version {row.version} is being made)" if row.version > 1 else ""
            raise NotAtGate(
                f"video {video_id} is {row.status}{making}; its plan can be edited while it waits at its review"
                " gate, or once it is completed (as a new version)"
            )
        plan = await plan_of(conn, video_id)
        if edit.revision != plan.revision:
            raise PlanChanged(video_id, plan.revision)
        spec = from_json(plan.spec, c.Spec())
        request = from_json(plan.request, c.VideoRequest())
        if gate != "plan":
            _made_plan_faults(spec, edit, gate)
        answer = await planner.edit(
            planner_service_pb2.EditPlanRequest(
                user_id=user_id, request=request, spec=spec, beats=edit.beats, order=edit.order
            )
        )
        if answer.errors:
            raise PlanFaults([FieldError(e.field, e.message) for e in answer.errors])
        edited = answer.spec
        quote = c.Cost(total_micros=answer.cost_micros, lines=answer.lines)
        if finished:
            active = await active_video_ids(conn, user_id)
            if len(active) >= max_active:
                raise TooManyActiveVideos(active, max_active)
        await replace_plan(conn, video_id, to_json(edited), to_json(quote), plan.revision + 1)
        redraw: list[tuple[int, int]] = []
        if finished:
            redo = remade(spec, edited, request.voice)
            version, run = row.version + 1, row.run + 1
            await _start_version(conn, video_id, edited, redo, version=version, run=run)
        elif gate == "plan":
            slots = edited.chunk_plan.slots
            await replace_units(
                conn, video_id, [b.index for b in edited.beats], [(s.index, s.beat_index) for s in slots]
            )
            await replace_lines(conn, video_id, spoken_beats(edited))
        else:
            for old, new in zip(spec.beats, edited.beats, strict=True):
                if any(getattr(old, f) != getattr(new, f) for f in _PICTURE_FIELDS):
                    redraw.append((new.index, await start_take(conn, video_id, new.index)))
    if finished:
        # The event first, then the work (after the commit, as for a retry): watchers see the
        # version begin before its units report.
        units = await ready_units_of(db, video_id)
        versioned = events_pb2.VideoVersioned(version=version, run=run, units=describe(units), remade=redo.names)
        await publish_event(
            js, events_pb2.Event(video_id=video_id, video_versioned=versioned), msg_id(video_id, run, "versioned")
        )
        await enqueue(db, js, video_id, units)
    if gate == "plan":
        # The plan as it is now: its beats, chunks and lines are what the progress counts.
        await publish_event(
            js,
            events_pb2.Event(video_id=video_id, video_planned=events_pb2.VideoPlanned(spec=edited)),
            msg_id(video_id, row.run, f"planned:{plan.revision + 1}"),
        )
    for beat_index, take in redraw:
        work = events_pb2.FrameWork(video_id=video_id, user_id=user_id, spec=edited, beat_index=beat_index, take=take)
        await publish_work(js, "frame", work, msg_id(video_id, row.run, f"frame:{beat_index}:take{take}"))
    return True


def _made_plan_faults(spec: c.Spec, edit: PlanEdit, gate: str | None) -> None:
    """What cannot change once the storyboard is made (at its gate, or in a completed video): the
    order and the beats' lengths (the images and clips belong to their beats' spans) and, at the
    storyboard gate, the lines (spoken beside the storyboard; a new version speaks an edited one)."""
    faults = []
    if list(edit.order) not in ([], list(range(len(spec.beats)))):
        faults.append(FieldError("order", "the beats can be reordered at the plan gate only"))
    for position, beat in enumerate(edit.beats):
        if beat.HasField("duration_s") and 0 <= beat.index < len(spec.beats):
            if beat.duration_s != spec.beats[beat.index].duration_s:
                faults.append(
                    FieldError(f"beats[{position}].duration_s", "a beat's length can change at the plan gate only")
                )
        if beat.HasField("voiceover") and 0 <= beat.index < len(spec.beats):
            if beat.voiceover != spec.beats[beat.index].voiceover and gate == "storyboard":
                faults.append(
                    FieldError(
                        f"beats[{position}].voiceover",
                        "the lines are spoken by the storyboard gate; edit them at the plan gate",
                    )
                )
    if faults:
        raise PlanFaults(faults)


async def _start_version(
    conn: Connection, video_id: str, edited: c.Spec, redo: Remade, *, version: int, run: int
) -> None:
    """The next version of a completed video, from its edited plan: each unit whose inputs the edit
    changed is made again as a take of its own (its own objects, its own paid call; the earlier
    take stays with the earlier version), the rest is reused; refine and export run as always."""
    await start_takes(conn, "frames", video_id, redo.frames)
    await start_takes(conn, "chunks", video_id, redo.chunks)
    await keep_lines(conn, video_id, spoken_beats(edited))
    await start_line_takes(conn, video_id, redo.lines)
    status = "refining" if redo.nothing_before_refine else "rendering"
    await start_version(conn, video_id, version=version, run=run, status=status)


# The event that finishes a video with each of the FINISHED statuses: events.proto names it after the status.
TERMINAL_EVENT_KIND = {status: f"video_{status}" for status in FINISHED}
TERMINAL_EVENT_KINDS = tuple(TERMINAL_EVENT_KIND.values())


@dataclass(frozen=True)
class Ending:
    """Where a finished video's events end: nothing after `sequence` will ever come. `replayable`
    says whether the stream still holds the terminal event (it keeps events for an hour)."""

    sequence: int
    replayable: bool


async def ending(js: JetStreamContext, video_id: str, status: str) -> Ending | None:
    """None while the video runs."""
    if status not in TERMINAL_EVENT_KIND:
        return None
    sequence = await _last_sequence(js, video_id, TERMINAL_EVENT_KIND[status])
    if sequence:
        return Ending(sequence, replayable=True)
    info = await js.stream_info(EVENTS_STREAM)
    return Ending(info.state.last_seq, replayable=False)


async def _last_sequence(js: JetStreamContext, video_id: str, kind: str) -> int:
    """The stream sequence of the video's last event of this kind, 0 if it has none."""
    try:
        return (await js.get_last_msg(EVENTS_STREAM, event_subject(video_id, kind))).seq or 0
    except nats.js.errors.NotFoundError:
        return 0


@dataclass(frozen=True)
class StreamedEvent:
    sequence: int
    event: events_pb2.Event
    progress: c.Progress


async def _run_start(js: JetStreamContext, video_id: str) -> int:
    """The stream sequence of the event that began the video's current run: its last retry or new
    version (0 on its first run)."""
    return max([await _last_sequence(js, video_id, kind) for kind in ("video_retried", "video_versioned")])


async def version_start(js: JetStreamContext, video_id: str) -> int:
    """The stream sequence of the event that began the version being made (0 for the first). A new
    watcher is shown the events from there: an earlier version's completion is not this one's end.
    (A retried run's watcher does see the failure the retry follows.)"""
    return await _last_sequence(js, video_id, "video_versioned")


async def watch_events(
    js: JetStreamContext,
    video_id: str,
    *,
    after_sequence: int = 0,
    start: c.Progress | None = None,
    quiet_until: int = 0,
) -> AsyncIterator[StreamedEvent]:
    """The video's events from the stream, in order, each with the progress folded so far, until
    the terminal one of the current run (a retried video's earlier runs ended too). Resuming after a
    sequence starts from the stored snapshot. Events up to `quiet_until` are folded but not yielded
    (a new watcher of a later version is not shown an earlier one's ending)."""
    began = await _run_start(js, video_id)
    deliver = (
        ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after_sequence + 1)
        if after_sequence
        else ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    subscription = await js.subscribe(
        f"adgen.events.{video_id}.>", stream=EVENTS_STREAM, ordered_consumer=True, config=deliver
    )
    progress = start or c.Progress(video_id=video_id)
    try:
        while True:
            try:
                msg = await subscription.next_msg(timeout=30)
            except nats.errors.TimeoutError:
                continue
            event = events_pb2.Event.FromString(msg.data)
            progress = fold(progress, event)
            sequence = msg.metadata.sequence.stream
            if sequence > quiet_until:
                yield StreamedEvent(sequence, event, progress)
            # The event's kind, not the folded status, ends the stream: a resumed stream may start
            # from a snapshot that already folded the terminal event in.
            if event.WhichOneof("kind") in TERMINAL_EVENT_KINDS and sequence > began:
                return
    finally:
        await subscription.unsubscribe()


def message_json(message: Message) -> str:
    return json.dumps(to_json(message))


def sse_data(event_json: str, progress_json: str) -> str:
    """An SSE event's data, `{"event": …, "progress": …}`, from the two halves' JSON (a stream that
    sends some events with another progress than the one folded re-serializes only that half)."""
    return f'{{"event": {event_json}, "progress": {progress_json}}}'
