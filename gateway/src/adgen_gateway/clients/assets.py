"""The gateway's client of the assets service: uploads (client streaming), the library and search."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc

from adgen.assets.v1 import assets_service_pb2 as pb
from adgen.assets.v1 import assets_service_pb2_grpc
from adgen_kernel.serve import grpc_channel

TIMEOUT_S = 10.0
# Search embeds the query on the CPU first; an upload carries up to 20 MB and is decoded and re-encoded.
SEARCH_TIMEOUT_S = 30.0
UPLOAD_TIMEOUT_S = 120.0


class Upload:
    """An UploadAsset call fed while the HTTP body is still arriving: `send` each chunk, then `finish`,
    or `cancel` (the service then stores nothing). A full queue holds the reader back, so no more than
    a few chunks wait in memory; an error of the service ends the call and surfaces at the next send."""

    def __init__(self, stub: assets_service_pb2_grpc.AssetsServiceStub, metadata: pb.UploadAssetMetadata) -> None:
        self._queue: asyncio.Queue[pb.UploadAssetRequest | None] = asyncio.Queue(maxsize=4)
        self._queue.put_nowait(pb.UploadAssetRequest(metadata=metadata))
        self._call = stub.UploadAsset(self._parts(), timeout=UPLOAD_TIMEOUT_S)
        self._task: asyncio.Future[pb.UploadAssetResponse] = asyncio.ensure_future(self._call)

    async def _parts(self) -> AsyncIterator[pb.UploadAssetRequest]:
        while (part := await self._queue.get()) is not None:
            yield part

    async def _put(self, part: pb.UploadAssetRequest | None) -> None:
        put = asyncio.ensure_future(self._queue.put(part))
        either: set[asyncio.Future[Any]] = {put, self._task}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
            await self._task  # the service ended the call: its error
            raise RuntimeError("the upload ended before the whole file was sent")

    async def send(self, chunk: bytes) -> None:
        await self._put(pb.UploadAssetRequest(chunk=chunk))

    async def finish(self) -> pb.UploadAssetResponse:
        await self._put(None)
        return await self._task

    def cancel(self) -> None:
        self._call.cancel()
        self._task.cancel()


class AssetsClient:
    def __init__(self, address: str) -> None:
        self.channel = grpc_channel(address)
        self._stub = assets_service_pb2_grpc.AssetsServiceStub(self.channel)

    def start_upload(self, metadata: pb.UploadAssetMetadata) -> Upload:
        return Upload(self._stub, metadata)

    async def get(self, user_id: str, asset_id: str) -> pb.Asset:
        response = await self._stub.GetAsset(pb.GetAssetRequest(user_id=user_id, asset_id=asset_id), timeout=TIMEOUT_S)
        return response.asset

    async def missing(self, user_id: str, asset_ids: Sequence[str]) -> list[str]:
        """Those of `asset_ids` that are not `user_id`'s assets (someone else's, deleted, never made)."""

        async def found(asset_id: str) -> bool:
            try:
                await self.get(user_id, asset_id)
            except grpc.aio.AioRpcError as error:
                if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                    return False
                raise
            return True

        unique = list(dict.fromkeys(asset_ids))
        return [a for a, ok in zip(unique, await asyncio.gather(*(found(a) for a in unique)), strict=True) if not ok]

    async def list(self, user_id: str, page_size: int, page_token: str) -> pb.ListAssetsResponse:
        return await self._stub.ListAssets(
            pb.ListAssetsRequest(user_id=user_id, page_size=page_size, page_token=page_token), timeout=TIMEOUT_S
        )

    async def rename(self, user_id: str, asset_id: str, name: str) -> pb.Asset:
        response = await self._stub.RenameAsset(
            pb.RenameAssetRequest(user_id=user_id, asset_id=asset_id, name=name), timeout=TIMEOUT_S
        )
        return response.asset

    async def delete(self, user_id: str, asset_id: str) -> None:
        await self._stub.DeleteAsset(pb.DeleteAssetRequest(user_id=user_id, asset_id=asset_id), timeout=TIMEOUT_S)

    async def search(self, user_id: str, query: str, limit: int, min_score: float) -> builtins.list[pb.ScoredAsset]:
        response = await self._stub.SearchAssets(
            pb.SearchAssetsRequest(user_id=user_id, query=query, limit=limit, min_score=min_score),
            timeout=SEARCH_TIMEOUT_S,
        )
        return list(response.results)

    async def similar(self, user_id: str, asset_id: str, limit: int, min_score: float) -> builtins.list[pb.ScoredAsset]:
        response = await self._stub.SimilarAssets(
            pb.SimilarAssetsRequest(user_id=user_id, asset_id=asset_id, limit=limit, min_score=min_score),
            timeout=SEARCH_TIMEOUT_S,
        )
        return list(response.results)

    async def recommend(self, user_id: str, asset_ids: Sequence[str], limit: int) -> builtins.list[pb.ScoredAsset]:
        response = await self._stub.RecommendAssets(
            pb.RecommendAssetsRequest(user_id=user_id, asset_ids=list(asset_ids), limit=limit),
            timeout=SEARCH_TIMEOUT_S,
        )
        return list(response.results)
