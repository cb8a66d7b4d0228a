"""The chunks service's work: render one chunk from its init frame, record it, start what it unblocks.

A chunk's dependencies are its beat's storyboard image (first chunk of a beat) or the hand-off frame
of the chunk right before it (a studio chunk also reads its beat's storyboard image, which it renders
from), so the beat's next chunk is published as soon as the hand-off frame is
stored, before this one's clip, cost and status are (a crash in between redelivers this chunk, which
renders the same hand-off frame again without paying twice). Independent steps run at once. When
the last chunk of a video is recorded and its voiceover lines are spoken, refine is enqueued once
(`adgen_video.refine_gate`: the decision is made inside a Postgres transaction that locks the video
row, so two workers finishing the last two units at the same moment cannot both miss it).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

import cv2
import numpy as np

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_chunks.model_registry import UnknownVideoModel, VideoModel, get_model
from adgen_chunks.providers import ClipProviders, ClipRequest, RenderedClip
from adgen_kernel.errors import FailedPrecondition, InvalidArgument
from adgen_kernel.jetstream import WorkContext, publish_work
from adgen_kernel.serve import Connections
from adgen_providers.prediction_record import ChunkRowRecord, NoRecord
from adgen_providers.shared_slots import SharedSlots
from adgen_video import keys
from adgen_video.ready_units import clips_ahead
from adgen_video.refine_gate import lock_video, start_refine, unit_counts
from adgen_video.unit_rows import count_chunk_attempt, frame_image_key, mark_chunk_done, take_of
from adgen_video.video_state import emit, fail_video, live_run, msg_id, record_cost, reserve_budget, video_exists

T = TypeVar("T")


@dataclass(frozen=True)
class RenderedChunk:
    clip_key: str
    handoff_key: str
    reused: bool


def _slot(spec: common_pb2.Spec, chunk_index: int) -> common_pb2.ChunkSlot:
    slots = spec.chunk_plan.slots
    if not 0 <= chunk_index < len(slots):
        raise InvalidArgument(f"chunk_index {chunk_index} is out of range: the plan has {len(slots)} chunks")
    return slots[chunk_index]


def _unit(video_id: str, chunk_index: int, take: int) -> str:
    """The chunk's name in the ledger, the budget and the provider's tags: each take is paid for itself."""
    return f"{video_id}:chunk:{chunk_index}" + (f":take{take}" if take else "")


async def _together(*steps: Awaitable[T]) -> list[T]:
    """Runs independent steps at once, lets every one finish, then raises the first failure as it is."""
    outcomes = await asyncio.gather(*steps, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes  # type: ignore[return-value]


async def _nothing() -> None:
    return None


def encode_png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("could not encode the hand-off frame")
    return data.tobytes()


def decode_png(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("stored init frame is not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class Chunks:
    def __init__(self, connections: Connections, providers: ClipProviders, slots: SharedSlots | None = None) -> None:
        self._c = connections
        self._providers = providers
        self._slots = slots or SharedSlots(connections.settings.database_url, {})

    async def _init_frame(self, video_id: str, user_id: str, slot: common_pb2.ChunkSlot) -> np.ndarray:
        if slot.init_source == common_pb2.INIT_SOURCE_STORYBOARD:
            key = await self._storyboard_key(video_id, user_id, slot.beat_index)
        else:
            before = await take_of(self._c.db, "chunks", video_id, slot.index - 1)
            key = keys.handoff_key(user_id, video_id, slot.index - 1, before)
        return await self._image(key, f"chunk {slot.index} cannot start: its init frame")

    async def _storyboard_key(self, video_id: str, user_id: str, beat_index: int) -> str:
        """The beat's latest image (a take drawn again at a review gate replaces the first); the
        first take's key for a chunk rendered outside a video."""
        latest = await frame_image_key(self._c.db, video_id, beat_index)
        return latest or keys.storyboard_key(user_id, video_id, beat_index)

    async def _storyboard_frame(self, video_id: str, user_id: str, slot: common_pb2.ChunkSlot) -> np.ndarray:
        key = await self._storyboard_key(video_id, user_id, slot.beat_index)
        return await self._image(key, f"chunk {slot.index} cannot start: its beat's storyboard image")

    async def _image(self, key: str, what: str) -> np.ndarray:
        data = await self._c.store.get_bytes_if_exists(key)
        if data is None:
            raise FailedPrecondition(f"{what} {key} does not exist yet")
        return await asyncio.to_thread(decode_png, data)

    def _clip_request(
        self,
        video_id: str,
        spec: common_pb2.Spec,
        slot: common_pb2.ChunkSlot,
        model: VideoModel,
        init: np.ndarray,
        storyboard: np.ndarray | None = None,
        take: int = 0,
    ) -> ClipRequest:
        plan = spec.chunk_plan
        beat = spec.beats[slot.beat_index]
        fps = plan.fps
        return ClipRequest(
            unit=_unit(video_id, slot.index, take),
            model=model,
            init=init,
            prompt=beat.prompt or f"{beat.shot_type.replace('_', ' ')} shot, {beat.camera_movement.replace('_', ' ')}",
            camera_movement=beat.camera_movement,
            fps=fps,
            clip_frames=plan.clip_frames,
            used_frames=slot.used_frames,
            handoff_frame=slot.handoff_frame,
            beat_frames=beat.duration_s * fps,
            beat_offset_frames=slot.start_frame - beat.start_s * fps,
            seed=spec.seed * 1000 + beat.index,
            record=ChunkRowRecord(self._c.db, video_id, slot.index) if not model.is_local else NoRecord(),
            storyboard=storyboard,
        )

    async def render(
        self,
        video_id: str,
        user_id: str,
        spec: common_pb2.Spec,
        chunk_index: int,
        *,
        handed_off: Callable[[], Awaitable[None]] | None = None,
    ) -> RenderedChunk:
        """Renders (or reuses) one chunk at its fixed keys; safe to call again. `handed_off` runs as
        soon as the hand-off frame is stored (the next chunk may start from it), beside storing the
        clip and recording its cost."""
        slot = _slot(spec, chunk_index)
        take = await take_of(self._c.db, "chunks", video_id, chunk_index)  # an edit's redo is a take of its own
        clip_key = keys.chunk_key(user_id, video_id, chunk_index, take)
        handoff_key = keys.handoff_key(user_id, video_id, chunk_index, take) if slot.handoff_frame >= 0 else ""
        store = self._c.store
        model: VideoModel | None = None
        try:
            model = get_model(spec.chunk_plan.video_model)
        except UnknownVideoModel as error:
            unknown = InvalidArgument(f"spec.chunk_plan.video_model: {error}")
        # The studio renders every chunk from its beat's storyboard image (animator.py: why); the init
        # frame is still read, as the gate that the chunk before has handed off. Only the studio reads
        # the storyboard besides, so other providers' chunks cost no extra read.
        from_storyboard = slot.init_source == common_pb2.INIT_SOURCE_STORYBOARD
        read_storyboard = model is not None and model.is_local and not from_storyboard
        # Whether it is stored already and its frames: asked at once, the frames are needed unless it is.
        # The hand-off frame is stored before the clip, so a stored clip means both are.
        stored, init, storyboard = await asyncio.gather(
            store.exists(clip_key),
            self._init_frame(video_id, user_id, slot),
            self._storyboard_frame(video_id, user_id, slot) if read_storyboard else _nothing(),
            return_exceptions=True,
        )
        if stored is True:
            if handed_off is not None:
                await handed_off()
            return RenderedChunk(clip_key, handoff_key, reused=True)
        for outcome in (stored, init, storyboard):
            if isinstance(outcome, BaseException):
                raise outcome
        assert isinstance(init, np.ndarray)
        if model is None:
            raise unknown from None
        if model.is_local and from_storyboard:
            storyboard = init
        provider = self._providers.for_model(model)
        request = self._clip_request(
            video_id, spec, slot, model, init, storyboard if isinstance(storyboard, np.ndarray) else None, take
        )
        await reserve_budget(self._c.db, video_id, request.unit, model.price_per_clip_micros)  # the video's cap
        with tempfile.TemporaryDirectory(prefix="adgen-chunk-") as folder:
            path = Path(folder) / "clip.mp4"
            # Only the provider call holds a slot of the provider's fleet-wide limit (if it has one),
            # so a worker may run more handlers than the provider has slots: storing and recording
            # one clip overlaps with rendering the next.
            # The slot goes to the clip with the longest chain behind it, and passes on to the beat's
            # next chunk when there is one (kernel/shared_slots.py: why).
            left = clips_ahead(spec.chunk_plan.slots, slot.beat_index, slot.index)
            async with self._slots.hold(
                model.provider,
                priority=left,
                unit=request.unit,
                # A beat's chunks are made again together, so the next one is of the same take.
                successor=_unit(video_id, chunk_index + 1, take) if handoff_key else None,
                successor_priority=left - 1,
            ):
                clip = await provider.clip_for(request, path)
            if handoff_key:
                if clip.handoff is None:
                    raise FailedPrecondition(f"chunk {chunk_index}: the clip ends before its hand-off frame")
                await store.put_bytes(handoff_key, await asyncio.to_thread(encode_png, clip.handoff), "image/png")
            await _together(
                store.put_file(clip_key, path, "video/mp4"),
                self._record_cost(video_id, request.unit, clip),
                *([handed_off()] if handoff_key and handed_off is not None else []),
            )
        return RenderedChunk(clip_key, handoff_key, reused=False)

    async def _record_cost(self, video_id: str, unit: str, clip: RenderedClip) -> None:
        if await video_exists(self._c.db, video_id):
            await record_cost(
                self._c.db,
                self._c.js,
                idempotency_key=unit,
                video_id=video_id,
                phase=common_pb2.PHASE_CHUNKS,
                provider=clip.provider,
                model=clip.model,
                units=1,
                usd_micros=clip.usd_micros,
            )

    async def handle(self, work: events_pb2.ChunkWork, _: WorkContext) -> None:
        db, js = self._c.db, self._c.js
        vid = work.video_id
        run = await live_run(db, vid)
        if run is None:
            return
        slot = _slot(work.spec, work.chunk_index)

        async def start_next() -> None:
            """The beat's next chunk, published as soon as its init frame (our hand-off) is stored."""
            await publish_work(
                js,
                "chunk",
                events_pb2.ChunkWork(video_id=vid, user_id=work.user_id, spec=work.spec, chunk_index=slot.index + 1),
                msg_id(vid, run, f"chunk:{slot.index + 1}"),
            )

        attempt = count_chunk_attempt(db, vid, work.chunk_index)
        rendering = self.render(
            vid, work.user_id, work.spec, work.chunk_index, handed_off=start_next if slot.handoff_frame >= 0 else None
        )
        chunk = cast(RenderedChunk, (await _together(attempt, rendering))[1])  # the list joins both results' types
        async with db.acquire() as conn, conn.transaction():
            await lock_video(conn, vid)
            await mark_chunk_done(conn, vid, work.chunk_index, chunk.clip_key, chunk.handoff_key or None)
            counts = await unit_counts(conn, vid)
        await emit(
            js,
            vid,
            msg_id(vid, run, f"chunk_ready:{work.chunk_index}"),
            chunk_ready=events_pb2.ChunkReady(
                chunk_index=work.chunk_index, clip_key=chunk.clip_key, chunks_done=counts.chunks_done
            ),
        )
        if counts.chunks_complete:
            await emit(
                js,
                vid,
                msg_id(vid, run, "chunks:completed"),
                phase_completed=events_pb2.PhaseCompleted(phase=common_pb2.PHASE_CHUNKS),
            )
        if counts.refine_due:  # else the last voiceover line to be spoken enqueues it
            await start_refine(js, vid, work.user_id, work.spec, run)

    async def dead_letter(self, work: events_pb2.ChunkWork, error: BaseException) -> None:
        await fail_video(
            self._c.db,
            self._c.js,
            video_id=work.video_id,
            phase=common_pb2.PHASE_CHUNKS,
            unit=f"chunk {work.chunk_index}",
            reason=str(error),
        )
