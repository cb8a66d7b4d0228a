from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from adgen.assets.v1 import assets_service_pb2 as pb
from adgen.assets.v1 import assets_service_pb2_grpc
from adgen_assets.intake import MAX_BYTES
from adgen_assets.library import Library
from adgen_assets.search import AssetSearch
from adgen_kernel.errors import InvalidArgument


class AssetsServicer(assets_service_pb2_grpc.AssetsServiceServicer):
    def __init__(self, library: Library, search: AssetSearch) -> None:
        self._library = library
        self._search = search

    async def UploadAsset(
        self, request_iterator: AsyncIterator[pb.UploadAssetRequest], context: grpc.aio.ServicerContext
    ) -> pb.UploadAssetResponse:
        metadata: pb.UploadAssetMetadata | None = None
        data = bytearray()
        async for part in request_iterator:
            if part.HasField("metadata"):
                if metadata is not None:
                    raise InvalidArgument("metadata must be sent once, in the first message")
                metadata = part.metadata
            elif metadata is None:
                raise InvalidArgument("the first message must carry the metadata")
            else:
                data.extend(part.chunk)
                if len(data) > MAX_BYTES:
                    raise InvalidArgument(f"file: larger than {MAX_BYTES // (1024 * 1024)} MB")
        if metadata is None:
            raise InvalidArgument("no metadata was sent")
        uploaded = await self._library.upload(metadata.user_id, metadata.filename, bytes(data))
        return pb.UploadAssetResponse(
            asset=uploaded.asset, near_duplicate_ids=await self._search.after_upload(uploaded.asset, uploaded.image)
        )

    async def GetAsset(self, request: pb.GetAssetRequest, context: grpc.aio.ServicerContext) -> pb.GetAssetResponse:
        return pb.GetAssetResponse(asset=await self._library.get(request.user_id, request.asset_id))

    async def ListAssets(
        self, request: pb.ListAssetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAssetsResponse:
        assets, token = await self._library.list(request.user_id, request.page_size, request.page_token)
        return pb.ListAssetsResponse(assets=assets, next_page_token=token)

    async def DeleteAsset(
        self, request: pb.DeleteAssetRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteAssetResponse:
        await self._library.delete(request.user_id, request.asset_id)
        return pb.DeleteAssetResponse()

    async def SearchAssets(
        self, request: pb.SearchAssetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchAssetsResponse:
        min_score = request.min_score if request.HasField("min_score") else None
        return pb.SearchAssetsResponse(
            results=await self._search.search(request.user_id, request.query, request.limit, min_score)
        )

    async def SimilarAssets(
        self, request: pb.SimilarAssetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SimilarAssetsResponse:
        min_score = request.min_score if request.HasField("min_score") else None
        return pb.SimilarAssetsResponse(
            results=await self._search.similar(request.user_id, request.asset_id, request.limit, min_score)
        )

    async def RecommendAssets(
        self, request: pb.RecommendAssetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecommendAssetsResponse:
        return pb.RecommendAssetsResponse(
            results=await self._search.recommend(request.user_id, list(request.asset_ids), request.limit)
        )
