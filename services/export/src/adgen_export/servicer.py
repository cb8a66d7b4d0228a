from __future__ import annotations

import uuid

import grpc

from adgen.export.v1 import export_service_pb2, export_service_pb2_grpc
from adgen_export.publishing import Exporter, to_timestamp
from adgen_kernel.errors import InvalidArgument


def _uuid(value: str, field: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgument(f"{field} must be a UUID, got {value!r}") from None


class ExportServicer(export_service_pb2_grpc.ExportServiceServicer):
    def __init__(self, exporter: Exporter) -> None:
        self._exporter = exporter

    async def Export(
        self, request: export_service_pb2.ExportRequest, context: grpc.aio.ServicerContext
    ) -> export_service_pb2.ExportResponse:
        final, poster = await self._exporter.export(
            _uuid(request.video_id, "video_id"), _uuid(request.user_id, "user_id"), request.spec, request.refined_key
        )
        return export_service_pb2.ExportResponse(final_key=final, poster_key=poster)

    async def GetDownloadUrl(
        self, request: export_service_pb2.GetDownloadUrlRequest, context: grpc.aio.ServicerContext
    ) -> export_service_pb2.GetDownloadUrlResponse:
        url, expires = await self._exporter.download_url(
            _uuid(request.video_id, "video_id"), _uuid(request.user_id, "user_id")
        )
        return export_service_pb2.GetDownloadUrlResponse(url=url, expires_at=to_timestamp(expires))
