"""The storyboard's work: one image per beat, stored, recorded, and its beat's first chunk started."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np

from adgen.assets.v1 import assets_service_pb2, assets_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_kernel import keys
from adgen_kernel.errors import InvalidArgument
from adgen_kernel.jetstream import WorkContext, publish_work
from adgen_kernel.serve import Connections
from adgen_kernel.video_state import emit, fail_video, record_cost
from adgen_storyboard.studio import FrameRequest, decode_image, encode_png, render_frame

POSITIONS = {
    common_pb2.BEAT_POSITION_OPENING: "opening",
    common_pb2.BEAT_POSITION_MIDDLE: "middle",
    common_pb2.BEAT_POSITION_CLOSING: "closing",
}
ENERGIES = {common_pb2.ENERGY_LOW: "low", common_pb2.ENERGY_MEDIUM: "medium", common_pb2.ENERGY_HIGH: "high"}


def frame_request(spec: common_pb2.Spec, beat_index: int, product: np.ndarray | None) -> FrameRequest:
    if not 0 <= beat_index < len(spec.beats):
        raise InvalidArgument(f"beat_index {beat_index} is out of range: the plan has {len(spec.beats)} beats")
    beat = spec.beats[beat_index]
    return FrameRequest(
        width=spec.output.width,
        height=spec.output.height,
        beat_index=beat.index,
        beat_count=len(spec.beats),
        beat_id=beat.beat_id,
        shot_type=beat.shot_type,
        position=POSITIONS.get(beat.position, "middle"),
        energy=ENERGIES.get(beat.energy, "medium"),
        palette=tuple(spec.style.palette),
        mood=spec.style.mood,
        lighting=spec.style.lighting,
        aesthetic=spec.style.aesthetic,
        headline=beat.headline,
        subline=beat.subline,
        product_image=product,
        seed=spec.seed * 1000 + beat.index,
    )


@dataclass(frozen=True)
class RenderedFrame:
    image_key: str
    reused: bool


class Storyboard:
    def __init__(self, connections: Connections, assets: assets_service_pb2_grpc.AssetsServiceStub) -> None:
        self._c = connections
        self._assets = assets

    async def _product_image(self, user_id: str, beat: common_pb2.Beat) -> np.ndarray | None:
        if not beat.reference_asset_ids:
            return None
        response = await self._assets.GetAsset(
            assets_service_pb2.GetAssetRequest(user_id=user_id, asset_id=beat.reference_asset_ids[0]), timeout=10
        )
        data = await self._c.store.get_bytes(response.asset.original_key)
        return await asyncio.to_thread(decode_image, data)

    async def render(self, video_id: str, user_id: str, spec: common_pb2.Spec, beat_index: int) -> RenderedFrame:
        """Draws (or reuses) the beat's image at its fixed key; safe to call again."""
        key = keys.storyboard_key(user_id, video_id, beat_index)
        if await self._c.store.exists(key):
            return RenderedFrame(key, reused=True)
        request = frame_request(spec, beat_index, None)
        product = await self._product_image(user_id, spec.beats[beat_index])
        if product is not None:
            request = frame_request(spec, beat_index, product)
        png = await asyncio.to_thread(lambda: encode_png(render_frame(request)))
        await self._c.store.put_bytes(key, png, "image/png")
        if await self._video_exists(video_id):  # internal callers may render outside a video
            await record_cost(
                self._c.db,
                self._c.js,
                idempotency_key=f"{video_id}:frame:{beat_index}",
                video_id=video_id,
                phase=common_pb2.PHASE_STORYBOARD,
                provider="studio",
                model="studio-renderer",
                units=1,
                usd_micros=0,
            )
        return RenderedFrame(key, reused=False)

    async def _video_exists(self, video_id: str) -> bool:
        return bool(await self._c.db.fetchval("SELECT true FROM videos WHERE video_id = $1", video_id))

    async def handle(self, work: events_pb2.FrameWork, _: WorkContext) -> None:
        db, js = self._c.db, self._c.js
        status = await db.fetchval("SELECT status FROM videos WHERE video_id = $1", work.video_id)
        if status is None or status in ("completed", "failed"):
            return
        await db.execute(
            "UPDATE frames SET attempts = attempts + 1, updated_at = now() WHERE video_id = $1 AND beat_index = $2",
            work.video_id,
            work.beat_index,
        )
        frame = await self.render(work.video_id, work.user_id, work.spec, work.beat_index)
        done = await db.fetchval(
            "WITH updated AS (UPDATE frames SET status = 'done', image_key = $3, updated_at = now()"
            "  WHERE video_id = $1 AND beat_index = $2 RETURNING 1)"
            " SELECT count(*) FROM frames WHERE video_id = $1 AND (status = 'done' OR beat_index = $2)",
            work.video_id,
            work.beat_index,
            frame.image_key,
        )
        await emit(
            js,
            work.video_id,
            f"{work.video_id}:frame_ready:{work.beat_index}",
            frame_ready=events_pb2.FrameReady(beat_index=work.beat_index, image_key=frame.image_key, frames_done=done),
        )
        first = next(s for s in work.spec.chunk_plan.slots if s.beat_index == work.beat_index and s.index_in_beat == 0)
        await publish_work(
            js,
            "chunk",
            events_pb2.ChunkWork(video_id=work.video_id, user_id=work.user_id, spec=work.spec, chunk_index=first.index),
            f"{work.video_id}:chunk:{first.index}",
        )

    async def dead_letter(self, work: events_pb2.FrameWork, error: BaseException) -> None:
        await fail_video(
            self._c.db,
            self._c.js,
            video_id=work.video_id,
            phase=common_pb2.PHASE_STORYBOARD,
            unit=f"storyboard image of beat {work.beat_index}",
            reason=str(error),
        )
