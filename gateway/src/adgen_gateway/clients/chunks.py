"""The gateway's client of the chunks service: which video models exist."""

from __future__ import annotations

import time

from adgen.chunks.v1 import chunks_service_pb2, chunks_service_pb2_grpc
from adgen_kernel.serve import grpc_channel

CACHE_S = 60.0


class ChunksClient:
    def __init__(self, address: str) -> None:
        self.channel = grpc_channel(address)
        self._stub = chunks_service_pb2_grpc.ChunksServiceStub(self.channel)
        self._models: tuple[float, chunks_service_pb2.ListVideoModelsResponse] | None = None

    async def video_models(self) -> chunks_service_pb2.ListVideoModelsResponse:
        if self._models is None or time.monotonic() - self._models[0] > CACHE_S:
            response = await self._stub.ListVideoModels(chunks_service_pb2.ListVideoModelsRequest(), timeout=10)
            self._models = (time.monotonic(), response)
        return self._models[1]
