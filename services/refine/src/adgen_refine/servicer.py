from __future__ import annotations

import grpc

from adgen.refine.v1 import refine_service_pb2, refine_service_pb2_grpc
from adgen_refine.worker import Refiner


class RefineServicer(refine_service_pb2_grpc.RefineServiceServicer):
    def __init__(self, refiner: Refiner) -> None:
        self._refiner = refiner

    async def Refine(
        self, request: refine_service_pb2.RefineRequest, context: grpc.aio.ServicerContext
    ) -> refine_service_pb2.RefineResponse:
        refined = await self._refiner.refine(request.video_id, request.user_id, request.spec)
        return refine_service_pb2.RefineResponse(
            video_key=refined.video_key, frame_count=refined.frame_count, has_music=refined.has_music
        )
