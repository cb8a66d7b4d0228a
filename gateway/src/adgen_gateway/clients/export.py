"""The gateway's client of the export service: download links."""

from __future__ import annotations

from adgen.common.v1 import common_pb2
from adgen.export.v1 import export_service_pb2, export_service_pb2_grpc
from adgen_kernel.serve import grpc_channel


class ExportClient:
    def __init__(self, address: str) -> None:
        self.channel = grpc_channel(address)
        self._stub = export_service_pb2_grpc.ExportServiceStub(self.channel)

    async def download_url(
        self,
        video_id: str,
        user_id: str,
        aspect_ratio: common_pb2.AspectRatio = common_pb2.ASPECT_RATIO_UNSPECIFIED,
        version: int = 0,
    ) -> str:
        """The primary rendition's link, or the one of ``aspect_ratio``, of that completed version
        (0: the latest)."""
        response = await self._stub.GetDownloadUrl(
            export_service_pb2.GetDownloadUrlRequest(
                video_id=video_id, user_id=user_id, aspect_ratio=aspect_ratio, version=version
            ),
            timeout=10,
        )
        return response.url

    async def renditions(self, video_id: str, user_id: str, version: int = 0) -> list[export_service_pb2.Rendition]:
        """The renditions of that completed version (0: the latest) with their links."""
        response = await self._stub.GetRenditions(
            export_service_pb2.GetRenditionsRequest(video_id=video_id, user_id=user_id, version=version), timeout=10
        )
        return list(response.renditions)
