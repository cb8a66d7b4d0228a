from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from adgen.assets.v1 import assets_service_pb2 as pb
from adgen.assets.v1 import assets_service_pb2_grpc
from adgen_assets.intake import TOO_LARGE
from adgen_assets.library import Library
from adgen_assets.search import AssetSearch
from adgen_kernel.errors import InvalidArgument
from adgen_video.asset_limits import MAX_BYTES


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
                    raise InvalidArgument(TOO_LARGE)
        if metadata is None:
            raise InvalidArgument("no metadata was sent")
        library = self._library
        uploaded = await library.upload(metadata.user_id, metadata.filename, bytes(data), metadata.name)
        duplicate_ids = await self._search.after_upload(uploaded.asset, uploaded.image)
        # Read again: the inline embedding (when there is a model) has landed by now.
        asset = await library.get(uploaded.asset.user_id, uploaded.asset.asset_id)
        return pb.UploadAssetResponse(
            asset=await library.with_urls(asset),
            near_duplicate_ids=duplicate_ids,
            near_duplicates=await library.near_duplicates(asset, duplicate_ids),
        )

    async def GetAsset(self, request: pb.GetAssetRequest, context: grpc.aio.ServicerContext) -> pb.GetAssetResponse:
        asset = await self._library.get(request.user_id, request.asset_id)
        return pb.GetAssetResponse(asset=await self._library.with_urls(asset))

    async def ListAssets(
        self, request: pb.ListAssetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAssetsResponse:
        assets, token = await self._library.list(request.user_id, request.page_size, request.page_token)
        return pb.ListAssetsResponse(assets=await self._with_urls(assets), next_page_token=token)

    async def RenameAsset(
        self, request: pb.RenameAssetRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenameAssetResponse:
        asset = await self._library.rename(request.user_id, request.asset_id, request.name)
        return pb.RenameAssetResponse(asset=await self._library.with_urls(asset))

    async def DeleteAsset(
        self, request: pb.DeleteAssetRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteAssetResponse:
        await self._library.delete(request.user_id, request.asset_id)
        return pb.DeleteAssetResponse()

    async def SearchAssets(
        self, request: pb.SearchAssetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchAssetsResponse:
        min_score = request.min_score if request.HasField("min_score") else None
        results = await self._search.search(request.user_id, request.query, request.limit, min_score)
        return pb.SearchAssetsResponse(results=await self._scored_with_urls(results))

    async def SimilarAssets(
        self, request: pb.SimilarAssetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SimilarAssetsResponse:
        min_score = request.min_score if request.HasField("min_score") else None
        results = await self._search.similar(request.user_id, request.asset_id, request.limit, min_score)
        return pb.SimilarAssetsResponse(results=await self._scored_with_urls(results))

    async def RecommendAssets(
        self, request: pb.RecommendAssetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecommendAssetsResponse:
        results = await self._search.recommend(request.user_id, list(request.asset_ids), request.limit)
        return pb.RecommendAssetsResponse(results=await self._scored_with_urls(results))

    async def _with_urls(self, assets: list[pb.Asset]) -> list[pb.Asset]:
        return list(await asyncio.gather(*(self._library.with_urls(a) for a in assets)))

    async def _scored_with_urls(self, results: list[pb.ScoredAsset]) -> list[pb.ScoredAsset]:
        await self._with_urls([r.asset for r in results])
        return results
