"""The gateway's client of the export service: download links."""

from __future__ import annotations

from adgen.export.v1 import export_service_pb2, export_service_pb2_grpc
from adgen_kernel.serve import grpc_channel


class ExportClient:
    def __init__(self, address: str) -> None:
        self.channel = grpc_channel(address)
        self._stub = export_service_pb2_grpc.ExportServiceStub(self.channel)

    async def download_url(self, video_id: str, user_id: str) -> str:
        response = await self._stub.GetDownloadUrl(
            export_service_pb2.GetDownloadUrlRequest(video_id=video_id, user_id=user_id), timeout=10
        )
        return response.url
