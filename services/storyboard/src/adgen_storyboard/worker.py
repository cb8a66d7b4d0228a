"""The storyboard's work: one image per beat, stored, recorded, and its beat's first chunk started.

A beat's product reference that is not the user's to use (another user's asset, a deleted one, an id
that is not one) is treated two ways. A `RenderFrame` call names it: NOT_FOUND (or INVALID_ARGUMENT)
with the asset id, before anything is drawn, since the caller can fix its spec. A queued frame keeps
drawing the beat without the product and logs why: the planner already refused such requests when
the video was accepted, so at that point the asset was deleted mid-render, and failing the whole
video for a missing product shot would cost the user more than the shot.

How the product was shown (the studio's cut-out treatment and its confidence) and every fallback
taken are the frame's notes: logged, and carried on its FrameReady event, so the progress stream
tells the user what was made of their photo. A reused image has no notes (they were sent with it
the first time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import grpc
import numpy as np

from adgen.assets.v1 import assets_service_pb2, assets_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_kernel.errors import InvalidArgument, NotFound
from adgen_kernel.jetstream import WorkContext, publish_work
from adgen_kernel.logs import get_logger
from adgen_kernel.serve import Connections
from adgen_providers.prediction_record import FrameRowRecord
from adgen_providers.shared_slots import SharedSlots
from adgen_storyboard.control_image import canny_edges
from adgen_storyboard.image_bounds import UnusableImage, read_bounded
from adgen_storyboard.providers import BeatImageRequest, ImageProvider, ProductReference
from adgen_storyboard.studio import FrameRequest
from adgen_video import keys
from adgen_video.naming import shown_name
from adgen_video.ready_units import clips_ahead
from adgen_video.refine_gate import lock_video
from adgen_video.review_gate import pending_gate, reach_gate, review_of, storyboard_complete
from adgen_video.unit_rows import count_frame_attempt, mark_frame_done
from adgen_video.video_state import emit, fail_video, live_run, msg_id, record_cost, reserve_budget, video_exists

log = get_logger(__name__)

POSITIONS = {
    common_pb2.BEAT_POSITION_OPENING: "opening",
    common_pb2.BEAT_POSITION_MIDDLE: "middle",
    common_pb2.BEAT_POSITION_CLOSING: "closing",
}
ENERGIES = {common_pb2.ENERGY_LOW: "low", common_pb2.ENERGY_MEDIUM: "medium", common_pb2.ENERGY_HIGH: "high"}
# What the assets service says when the asset is not this user's to use: the beat goes on without it.
UNAVAILABLE_ASSET = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED)


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
        # On-screen text is drawn once, by refine's supers, where no camera move can crop it.
        headline="",
        subline="",
        product_image=product,
        seed=spec.seed * 1000 + beat.index,
        brand=wordmark(spec, beat),
    )


def wordmark(spec: common_pb2.Spec, beat: common_pb2.Beat) -> str:
    """The name a frame without a product image sets as its hero (`naming.shown_name`); none where the
    beat's own headline already says it: the super is then the hero, and the same words twice on one
    screen read as a mistake."""
    name = shown_name(spec.brand, spec.product_name)
    return "" if name.lower() == " ".join(beat.headline.split()).lower() else name


def beat_prompt(spec: common_pb2.Spec, beat: common_pb2.Beat) -> str:
    """The planner's per-beat prompt; a plain description when a hand-made spec has none."""
    if beat.prompt.strip():
        return beat.prompt.strip()
    subject = spec.product_name or "the product"
    style = ", ".join(part for part in (spec.style.aesthetic, spec.style.lighting) if part)
    return f"{beat.shot_type.replace('_', ' ') or 'product'} shot of {subject}" + (f", {style}" if style else "")


@dataclass(frozen=True)
class RenderedFrame:
    image_key: str
    reused: bool
    notes: tuple[str, ...] = ()  # fallbacks taken and why, e.g. a product image that could not be used


@dataclass(frozen=True)
class Take:
    """Which drawing of a beat's image: 0 the first, n its n-th regeneration at a review gate; `seed`
    a regeneration's own seed (0: derived from the plan's seed and the take)."""

    number: int = 0
    seed: int = 0

    def seed_for(self, plan_seed: int) -> int:
        if self.seed:
            return self.seed
        return plan_seed + self.number * 1_000_003


FIRST_TAKE = Take()


@dataclass(frozen=True)
class ProductLookup:
    product: ProductReference | None
    note: str = ""


class Storyboard:
    def __init__(
        self,
        connections: Connections,
        assets: assets_service_pb2_grpc.AssetsServiceStub,
        images: ImageProvider,
        slots: SharedSlots | None = None,
    ) -> None:
        self._c = connections
        self._assets = assets
        self._images = images
        self._slots = slots or SharedSlots(connections.settings.database_url, {})

    async def _asset(
        self, user_id: str, beat: common_pb2.Beat, *, strict: bool
    ) -> tuple[assets_service_pb2.Asset | None, str]:
        """The beat's product asset as the assets service shows it to this user, or none and the reason.
        `strict` (a caller's RenderFrame): a reference that is not the user's is the caller's error."""
        if not beat.reference_asset_ids:
            return None, ""
        asset_id = beat.reference_asset_ids[0]
        try:
            response = await self._assets.GetAsset(
                assets_service_pb2.GetAssetRequest(user_id=user_id, asset_id=asset_id), timeout=10
            )
        except grpc.aio.AioRpcError as error:
            if error.code() not in UNAVAILABLE_ASSET:
                raise
            if strict and error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidArgument(
                    f"spec.beats[{beat.index}].reference_asset_ids: {asset_id[:64]!r} is not an asset id"
                ) from None
            if strict:
                raise NotFound(
                    f"spec.beats[{beat.index}].reference_asset_ids: asset {asset_id} not found for this user"
                ) from None
            return None, (
                f"beat {beat.index}: product asset {asset_id} is not available to this user ({error.details()});"
                " drawn without it"
            )
        return response.asset, ""

    async def _product(self, beat: common_pb2.Beat, asset: assets_service_pb2.Asset | None) -> ProductLookup:
        """The asset's image (and edges), or none and the reason: a bad stored image never fails the beat."""
        if asset is None:
            return ProductLookup(None)
        without = f"beat {beat.index}: product asset {asset.asset_id}"
        data = await self._c.store.get_bytes_if_exists(asset.original_key)
        if data is None:
            return ProductLookup(None, f"{without} has no stored image; drawn without it")
        try:
            image = await asyncio.to_thread(read_bounded, data)
        except UnusableImage as error:
            return ProductLookup(None, f"{without} cannot be used: {error}; drawn without it")
        edges = await self._edges(asset.edges_key, image) if self._images.wants_edges else None
        return ProductLookup(ProductReference(asset.asset_id, image, edges))

    async def _edges(self, edges_key: str, image: np.ndarray) -> np.ndarray:
        """The Canny map the assets service cached at upload; computed here only when it is missing."""
        data = await self._c.store.get_bytes_if_exists(edges_key) if edges_key else None
        if data is not None:
            try:
                cached = await asyncio.to_thread(read_bounded, data)
                return np.where(cached[..., 0] > 127, 255, 0).astype(np.uint8)
            except UnusableImage as error:
                log.warning("cached edge map unusable, recomputing it", edges_key=edges_key, reason=str(error))
        return await asyncio.to_thread(canny_edges, image)

    async def render(
        self,
        video_id: str,
        user_id: str,
        spec: common_pb2.Spec,
        beat_index: int,
        *,
        strict_assets: bool = False,
        take: Take = FIRST_TAKE,
        stored: Callable[[], Awaitable[None]] | None = None,
    ) -> RenderedFrame:
        """Draws (or reuses) the beat's image at the take's fixed key; safe to call again. With
        `strict_assets` a product reference the user may not use is refused (NOT_FOUND naming it),
        even for a reuse. `stored` runs as soon as the image is stored (the beat's first chunk may
        start from it), before its cost is recorded. A later take (a regeneration at a review gate)
        is its own object, provider call and ledger row; the earlier ones stay."""
        key = keys.storyboard_key(user_id, video_id, beat_index, take.number)
        unit = f"{video_id}:frame:{beat_index}" + (f":take{take.number}" if take.number else "")
        frame_request(spec, beat_index, None)  # refuses a beat outside the plan before any work
        beat = spec.beats[beat_index]
        asset, unavailable = await self._asset(user_id, beat, strict=True) if strict_assets else (None, "")
        if await self._c.store.exists(key):
            if stored is not None:
                await stored()
            return RenderedFrame(key, reused=True)
        if not strict_assets:
            asset, unavailable = await self._asset(user_id, beat, strict=False)
        lookup = ProductLookup(None, unavailable) if unavailable else await self._product(beat, asset)
        product = lookup.product
        frame = frame_request(spec, beat_index, product.image if product else None)
        request = BeatImageRequest(
            frame=replace(frame, seed=take.seed_for(frame.seed)),
            prompt=beat_prompt(spec, beat),
            product=product,
            unit=unit,
            record=FrameRowRecord(self._c.db, video_id, beat_index),  # what a restarted worker resumes
        )
        # The video's budget cap holds this image's price before the provider is called.
        await reserve_budget(self._c.db, video_id, unit, self._images.price_micros(request))
        # The image of the beat with the longest chain of clips behind it goes first (kernel/shared_slots.py).
        async with self._slots.hold(self._images.name, priority=clips_ahead(spec.chunk_plan.slots, beat_index)):
            image = await self._images.image_for(request)
        notes = ((lookup.note,) if lookup.note else ()) + image.notes
        for note in notes:
            log.warning("storyboard fallback", video_id=video_id, beat_index=beat_index, note=note)
        # Stored before it is charged: a crash in between loses a ledger row, never pays twice, since
        # a redelivery finds the image and does not call the provider again.
        await self._c.store.put_bytes(key, image.png, "image/png")
        if stored is not None:
            await stored()
        if await video_exists(self._c.db, video_id):  # internal callers may render outside a video
            await record_cost(
                self._c.db,
                self._c.js,
                idempotency_key=unit,
                video_id=video_id,
                phase=common_pb2.PHASE_STORYBOARD,
                provider=image.provider,
                model=image.model,
                units=1,
                usd_micros=image.usd_micros,
            )
        return RenderedFrame(key, reused=False, notes=notes)

    async def handle(self, work: events_pb2.FrameWork, _: WorkContext) -> None:
        db, js = self._c.db, self._c.js
        run = await live_run(db, work.video_id)
        if run is None:
            return
        await count_frame_attempt(db, work.video_id, work.beat_index)
        first = next(s for s in work.spec.chunk_plan.slots if s.beat_index == work.beat_index and s.index_in_beat == 0)
        # Before the storyboard gate no clip is paid for: the chunks wait for the owner's approval.
        held = await pending_gate(db, work.video_id) is not None

        async def start_first_chunk() -> None:
            """The beat's first chunk, published as soon as its init frame (this image) is stored."""
            await publish_work(
                js,
                "chunk",
                events_pb2.ChunkWork(
                    video_id=work.video_id, user_id=work.user_id, spec=work.spec, chunk_index=first.index
                ),
                msg_id(work.video_id, run, f"chunk:{first.index}"),
            )

        frame = await self.render(
            work.video_id,
            work.user_id,
            work.spec,
            work.beat_index,
            take=Take(work.take, work.seed),
            stored=None if held else start_first_chunk,
        )
        async with db.acquire() as conn, conn.transaction():
            await lock_video(conn, work.video_id)
            done = await mark_frame_done(conn, work.video_id, work.beat_index, frame.image_key, work.take)
            at_gate = held and await storyboard_complete(conn, work.video_id)
            reached = at_gate and await reach_gate(conn, work.video_id, "storyboard")
        await emit(
            js,
            work.video_id,
            msg_id(work.video_id, run, f"frame_ready:{work.beat_index}" + (f":take{work.take}" if work.take else "")),
            frame_ready=events_pb2.FrameReady(
                beat_index=work.beat_index, image_key=frame.image_key, frames_done=done, notes=frame.notes
            ),
        )
        review = await review_of(db, work.video_id) if reached else None
        if review is not None:
            await emit(
                js,
                work.video_id,
                msg_id(work.video_id, run, "review:storyboard"),
                review_reached=events_pb2.ReviewReached(review=review),
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
