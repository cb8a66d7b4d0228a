from __future__ import annotations

import grpc

from adgen.export.v1 import export_service_pb2, export_service_pb2_grpc
from adgen_export.worker import Exporter, to_timestamp
from adgen_video.request_limits import ASPECT_RATIOS

# The ids and the shape are checked against the contract before a call gets here (adgen_kernel.validation).
_SHAPES = {value: name for name, value in ASPECT_RATIOS.items()}


class ExportServicer(export_service_pb2_grpc.ExportServiceServicer):
    def __init__(self, exporter: Exporter) -> None:
        self._exporter = exporter

    async def Export(
        self, request: export_service_pb2.ExportRequest, context: grpc.aio.ServicerContext
    ) -> export_service_pb2.ExportResponse:
        final, poster = await self._exporter.export(
            request.video_id, request.user_id, request.spec, request.refined_key, request.version or 1
        )
        return export_service_pb2.ExportResponse(final_key=final, poster_key=poster)

    async def GetDownloadUrl(
        self, request: export_service_pb2.GetDownloadUrlRequest, context: grpc.aio.ServicerContext
    ) -> export_service_pb2.GetDownloadUrlResponse:
        shape = _SHAPES.get(request.aspect_ratio, "")  # unspecified: the primary
        url, expires = await self._exporter.download_url(request.video_id, request.user_id, shape, request.version)
        return export_service_pb2.GetDownloadUrlResponse(url=url, expires_at=to_timestamp(expires))

    async def GetRenditions(
        self, request: export_service_pb2.GetRenditionsRequest, context: grpc.aio.ServicerContext
    ) -> export_service_pb2.GetRenditionsResponse:
        found = await self._exporter.renditions(request.video_id, request.user_id, request.version)
        return export_service_pb2.GetRenditionsResponse(
            renditions=[
                export_service_pb2.Rendition(
                    aspect_ratio=ASPECT_RATIOS[r.aspect_ratio],
                    width=r.width,
                    height=r.height,
                    primary=r.primary,
                    download_url=r.video[0],
                    poster_url=r.poster[0],
                    captions_url=r.captions[0] if r.captions else "",
                    expires_at=to_timestamp(min(link[1] for link in (r.video, r.poster, r.captions) if link)),
                )
                for r in found
            ]
        )
