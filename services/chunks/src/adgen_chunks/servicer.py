"""ChunksService: the registry, chunk plans and single-chunk renders for internal callers."""

from __future__ import annotations

import grpc

from adgen.chunks.v1 import chunks_service_pb2 as pb
from adgen.chunks.v1 import chunks_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen_chunks.chunk_plan import (
    ChunkPlan,
    InitSource,
    beat_spans,
    clip_frames_for,
    overlap_fraction_for,
    plan_chunks,
)
from adgen_chunks.model_registry import REGISTRY, UnknownVideoModel, VideoModel, get_model
from adgen_chunks.worker import Chunks
from adgen_kernel.errors import InvalidArgument

_INIT = {InitSource.STORYBOARD: common_pb2.INIT_SOURCE_STORYBOARD, InitSource.HANDOFF: common_pb2.INIT_SOURCE_HANDOFF}


def plan_to_proto(plan: ChunkPlan, model: VideoModel) -> common_pb2.ChunkPlan:
    return common_pb2.ChunkPlan(
        video_model=model.key,
        clip_s=model.clip_s,
        fps=plan.fps,
        clip_frames=plan.clip_frames,
        overlap_frames=plan.overlap_frames,
        total_frames=plan.total_frames,
        price_per_clip_micros=model.price_per_clip_micros,
        slots=[
            common_pb2.ChunkSlot(
                index=s.index,
                beat_index=s.beat_index,
                index_in_beat=s.index_in_beat,
                start_frame=s.start_frame,
                used_frames=s.used_frames,
                overlap_in_frames=s.overlap_in_frames,
                init_source=_INIT[s.init_source],
                handoff_frame=s.handoff_frame,
            )
            for s in plan.slots
        ],
    )


class ChunksServicer(chunks_service_pb2_grpc.ChunksServiceServicer):
    def __init__(self, chunks: Chunks, *, default_model: str, overlap_fraction: float) -> None:
        self._chunks = chunks
        self._default_model = default_model
        self._overlap = overlap_fraction

    async def ListVideoModels(
        self, request: pb.ListVideoModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListVideoModelsResponse:
        return pb.ListVideoModelsResponse(
            models=[
                pb.VideoModel(
                    key=m.key,
                    clip_s=m.clip_s,
                    fps=m.fps,
                    width=m.width,
                    height=m.height,
                    price_per_clip_micros=m.price_per_clip_micros,
                    local=m.is_local,
                )
                for m in REGISTRY.values()
            ],
            default_model=self._default_model,
        )

    async def PlanChunks(
        self, request: pb.PlanChunksRequest, context: grpc.aio.ServicerContext
    ) -> pb.PlanChunksResponse:
        try:
            model = get_model(request.video_model or self._default_model)
        except UnknownVideoModel as error:
            raise InvalidArgument(f"video_model: {error}") from None
        fps = request.fps or 24
        overlap = overlap_fraction_for(model, request.overlap_fraction or self._overlap)
        try:
            plan = plan_chunks(
                beat_spans([(b.start_s, b.duration_s) for b in request.beats], fps),
                clip_frames_for(model.clip_s, fps),
                overlap_fraction=overlap,
                fps=fps,
            )
        except ValueError as error:
            raise InvalidArgument(f"beats: {error}") from None
        return pb.PlanChunksResponse(chunk_plan=plan_to_proto(plan, model))

    async def RenderChunk(
        self, request: pb.RenderChunkRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenderChunkResponse:
        chunk = await self._chunks.render(request.video_id, request.user_id, request.spec, request.chunk_index)
        return pb.RenderChunkResponse(clip_key=chunk.clip_key, handoff_key=chunk.handoff_key, reused=chunk.reused)
