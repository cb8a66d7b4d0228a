from __future__ import annotations

import grpc

from adgen.storyboard.v1 import storyboard_service_pb2, storyboard_service_pb2_grpc
from adgen_storyboard.worker import Storyboard


class StoryboardServicer(storyboard_service_pb2_grpc.StoryboardServiceServicer):
    def __init__(self, storyboard: Storyboard) -> None:
        self._storyboard = storyboard

    async def RenderFrame(
        self, request: storyboard_service_pb2.RenderFrameRequest, context: grpc.aio.ServicerContext
    ) -> storyboard_service_pb2.RenderFrameResponse:
        # The caller sent this spec: a product asset it may not use is its error (NOT_FOUND naming it).
        frame = await self._storyboard.render(
            request.video_id, request.user_id, request.spec, request.beat_index, strict_assets=True
        )
        return storyboard_service_pb2.RenderFrameResponse(image_key=frame.image_key, reused=frame.reused)
