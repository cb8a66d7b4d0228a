"""The reference mapping: which of the request's product images each beat shows.

The images must be the caller's own; the planner asks the assets service (GetAsset with the
caller's user id, its only way in), so another user's asset is NOT_FOUND exactly as it is everywhere
else, and a plan never names an image its storyboard could not use.

Every beat carries the request's images (the composers put them on all beats: the product is on
screen through the whole ad, not only in the beats about the product itself), and keeps all of them
(a ControlNet or a later phase may use any), in an order that puts a different image first on each
beat, round robin: the storyboard composites the first, so each supplied image is featured instead of
the first one on every beat. A beat the plan deliberately leaves without images is skipped by the
rotation, so the images still alternate over the beats that show them.
Choosing by CLIP likeness between a beat's description and the images was considered; it needs a
search restricted to the request's images, which SearchAssets does not offer, and a ranking over the
user's whole library could miss some of them. Round robin is deterministic, costs no model, and works
without CLIP weights.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc

from adgen.assets.v1 import assets_service_pb2, assets_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen_kernel.errors import InvalidArgument, NotFound

TIMEOUT_S = 10.0


async def verify_assets(
    assets: assets_service_pb2_grpc.AssetsServiceStub, user_id: str, asset_ids: Sequence[str]
) -> None:
    """Refuses the request unless every asset id names one of the caller's assets. Other failures of
    the assets service (UNAVAILABLE, a timeout) are raised as they are: trying again may work."""
    if not asset_ids:
        return
    if not user_id:
        raise InvalidArgument("user_id: required when the request names asset_ids")

    async def check(asset_id: str) -> None:
        try:
            await assets.GetAsset(
                assets_service_pb2.GetAssetRequest(user_id=user_id, asset_id=asset_id), timeout=TIMEOUT_S
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound(f"asset_ids: asset {asset_id} not found") from None
            if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidArgument(f"asset_ids: {asset_id[:64]!r} is not an asset id") from None
            raise

    await asyncio.gather(*(check(a) for a in dict.fromkeys(asset_ids)))


def rotate_references(spec: common_pb2.Spec) -> None:
    """Puts a different image first on each beat that has images, round robin, keeping them all."""
    shown = 0
    for beat in spec.beats:
        ids = list(beat.reference_asset_ids)
        if not ids:
            continue
        start = shown % len(ids)
        beat.reference_asset_ids[:] = ids[start:] + ids[:start]
        shown += 1
