"""adgen-assets: settings -> connections -> CLIP model (when there are weights) -> AssetsService, and the
maintenance of per-user search indexes and of the replica's in-memory ones."""

from __future__ import annotations

import asyncio

from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.events.v1 import events_pb2
from adgen_assets.embeddings import load_embedder
from adgen_assets.library import Library
from adgen_assets.quota import Quota
from adgen_assets.search import AssetSearch
from adgen_assets.search_cache import SearchCache
from adgen_assets.search_indexes import SearchIndexes, maintenance_task
from adgen_assets.servicer import AssetsServicer
from adgen_assets.settings import AssetsSettings, assets_settings
from adgen_kernel.jetstream import WorkHandler
from adgen_kernel.logs import get_logger
from adgen_kernel.serve import Connections, ServiceApp, Servicer, run
from adgen_video.contract_rules import violations

log = get_logger(__name__)


async def build(connections: Connections) -> ServiceApp:
    settings = assets_settings(connections.settings)
    embedder, reason = await asyncio.to_thread(load_embedder, settings)
    cache = SearchCache(
        connections.db,
        min_rows=settings.search_cache_min_rows,
        memory_mb=settings.search_cache_memory_mb,
        fresh_rows=settings.search_cache_fresh_rows,
    )
    search = AssetSearch(connections, embedder, reason, cache)
    handlers: list[WorkHandler] = []
    if embedder is None:
        # Uploads still work; their embed items wait in the queue for a replica that has weights.
        log.warning("no CLIP weights: semantic search answers UNAVAILABLE", reason=reason)
    else:
        log.info("CLIP model loaded", model=settings.clip_model, weights=reason)
        handlers.append(WorkHandler("embed", events_pb2.EmbedWork, search.handle_embed, search.embed_dead_letter))
    quota = Quota(settings.asset_quota_count, settings.asset_quota_bytes)
    indexes = SearchIndexes(
        connections.db,
        build_rows=settings.search_index_build_rows,
        drop_rows=settings.search_index_drop_rows,
        build_memory_mb=settings.search_index_build_memory_mb,
    )
    return ServiceApp(
        servicers=[
            Servicer(
                assets_service_pb2_grpc.add_AssetsServiceServicer_to_server,
                AssetsServicer(Library(connections, quota), search),
                "adgen.assets.v1.AssetsService",
            )
        ],
        violations=violations,
        handlers=handlers,
        tasks=[maintenance_task(indexes, cache, settings.search_index_interval_s, warm=settings.search_cache_warm)],
    )


def main() -> None:
    run("assets", AssetsSettings, build)


if __name__ == "__main__":
    main()
