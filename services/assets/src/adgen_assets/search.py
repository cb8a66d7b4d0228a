"""Embeddings in the database and the searches over them, always within the caller's own assets."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import numpy as np
from opentelemetry import trace

from adgen.assets.v1 import assets_service_pb2 as pb
from adgen.events.v1 import events_pb2
from adgen_assets import library_index, search_plan
from adgen_assets.embeddings import ClipEmbedder
from adgen_assets.library import parse_uuid, to_proto
from adgen_assets.search_cache import SearchCache
from adgen_kernel.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from adgen_kernel.jetstream import WorkContext, publish_work
from adgen_kernel.logs import get_logger
from adgen_kernel.metrics import ASSET_SEARCHES
from adgen_kernel.serve import Connections

log = get_logger(__name__)

# User-filtered nearest neighbours (search_plan explains the choice). Innermost: the user's $5 nearest
# rows by the inline half-precision copy, carrying only the id and the full vector (an untouched TOAST
# pointer); then those re-scored at full precision, best $4 kept; last, their other columns.
# score = 1 - cosine distance. {order} is what ranks the user's rows:
# * exact: `+ 0` makes the order an expression no index can serve, so the rows come from the B-tree
#   on user_id and are all compared, whatever per-user indexes exist;
# * index: the bare distance, which the user's partial HNSW index serves (INDEX_SETTINGS_SQL).
_ROW = (
    "a.asset_id, a.user_id, a.name, a.source, a.content_type, a.width, a.height, a.original_key,"
    " a.thumbnail_key, a.edges_key, a.created_at"
)
_NEAREST = (
    f"SELECT {_ROW}, true AS embedded, best.score FROM ("
    " SELECT asset_id, 1 - (embedding <=> $2::vector) AS score FROM ("
    "  SELECT asset_id, embedding FROM assets"
    "  WHERE user_id = $1 AND embedding_half IS NOT NULL AND NOT (asset_id = ANY($3::uuid[])){among}"
    "  ORDER BY {order} LIMIT $5"
    " ) AS candidates ORDER BY score DESC LIMIT $4"
    ") AS best JOIN assets a ON a.asset_id = best.asset_id AND a.user_id = $1 ORDER BY best.score DESC"
)
_DISTANCE = "embedding_half <=> $2::vector::halfvec(512)"
EXACT_SQL = _NEAREST.format(order=f"({_DISTANCE}) + 0", among="")
INDEX_SQL = _NEAREST.format(order=_DISTANCE, among="")
# The in-memory path: only the cache's candidates ($6) and the rows embedded since its snapshot, through
# the primary key and (user_id, embedded_xid) in one bitmap. The snapshot's xmin is written into the
# text (an integer from Postgres), so every plan, generic ones included, sees how few rows it selects.
_MEMORY_SQL = _NEAREST.format(
    order=f"({_DISTANCE}) + 0", among=" AND (asset_id = ANY($6::uuid[]) OR embedded_xid >= '{xmin}'::xid8)"
)


def memory_sql(xmin: int) -> str:
    return _MEMORY_SQL.replace("{xmin}", str(int(xmin)))


# For the index path: the walk's candidate list; a plan made for this user id (a generic plan cannot
# prove the partial index's predicate); and no sort of the user's rows, which makes the planner take
# the rows in the index's order rather than sort the B-tree's (its estimate favours the sort up to a few
# thousand rows, where the exact scan measured slower). Session settings rather than a transaction's:
# BEGIN and COMMIT would be two more round trips, and the pool's reset on release (RESET ALL) puts
# them back before the connection serves anything else.
INDEX_SETTINGS_SQL = (
    "SELECT set_config('hnsw.ef_search', $1, false), set_config('plan_cache_mode', 'force_custom_plan', false),"
    " set_config('enable_sort', 'off', false)"
)
READY_INDEX_SQL = "SELECT index_name, rows_indexed FROM asset_search_indexes WHERE user_id = $1"


async def nearest(
    db: asyncpg.Pool,
    user: uuid.UUID,
    vector: np.ndarray,
    exclude: list[uuid.UUID],
    limit: int,
    cache: SearchCache | None = None,
) -> tuple[list[asyncpg.Record], search_plan.Scan]:
    """The caller's `limit` assets nearest to `vector`, best first, never another user's row; and the
    scan that found them: the replica's in-memory index of the library (one round trip), else the user's
    own HNSW index when it is ready (three and the pool's reset), else the exact one (two). A large
    library's miss asks the cache to build its index. Round trips are a good part of a search's time on
    a busy machine (bench/report.md)."""
    depth = search_plan.rerank_depth(limit)
    args = (user, search_plan.vector_literal(vector), exclude, limit, depth)
    cached = cache.get(user) if cache is not None else None
    if cached is not None:
        _record(search_plan.IN_MEMORY)
        count = library_index.candidates_for(depth + len(exclude))
        candidates = await asyncio.to_thread(cached.index.candidates, vector, count)
        return await db.fetch(memory_sql(cached.xmin), *args, candidates), search_plan.IN_MEMORY
    async with db.acquire() as conn:
        ready = await conn.fetchrow(READY_INDEX_SQL, user)
        chosen = search_plan.scan(
            None if ready is None else (ready["index_name"], ready["rows_indexed"]), depth + len(exclude)
        )
        if cache is not None and ready is not None:
            cache.want(user, ready["rows_indexed"])
        _record(chosen)
        if chosen.index is None:
            return await conn.fetch(EXACT_SQL, *args), chosen
        await conn.execute(INDEX_SETTINGS_SQL, str(chosen.ef_search))
        return await conn.fetch(INDEX_SQL, *args), chosen


def _record(scan: search_plan.Scan) -> None:
    trace.get_current_span().set_attribute("adgen.assets.search_scan", scan.label)
    ASSET_SEARCHES.labels(scan.kind).inc()


class AssetSearch:
    def __init__(
        self,
        connections: Connections,
        embedder: ClipEmbedder | None,
        missing_reason: str,
        cache: SearchCache | None = None,
    ) -> None:
        self._c = connections
        self._embedder = embedder
        self._missing_reason = missing_reason
        self._cache = cache

    def _require_model(self) -> ClipEmbedder:
        if self._embedder is None:
            raise Unavailable(f"semantic search is off: no CLIP weights are configured ({self._missing_reason})")
        return self._embedder

    async def after_upload(self, asset: pb.Asset, image: bytes) -> list[str]:
        """Queues the asset's embedding; with a model loaded, also embeds it now so that the upload response
        can name its near-duplicates (the queued item then finds the embedding and does nothing). A failure
        here only loses the report: the queued item still embeds the asset."""
        await publish_work(
            self._c.js,
            "embed",
            events_pb2.EmbedWork(asset_id=asset.asset_id, user_id=asset.user_id),
            f"embed:{asset.asset_id}",
        )
        if self._embedder is None:
            return []
        try:
            vector = (await asyncio.to_thread(self._embedder.embed_images, [image]))[0]
            await self._save(uuid.UUID(asset.asset_id), vector)
        except Exception as error:
            log.warning(
                "inline embedding failed; the queued item will retry", asset_id=asset.asset_id, error=repr(error)
            )
            return []
        rows = await self._nearest(uuid.UUID(asset.user_id), vector, [uuid.UUID(asset.asset_id)], search_plan.MAX_LIMIT)
        return [str(r["asset_id"]) for r in rows if r["score"] >= search_plan.NEAR_DUPLICATE_SCORE]

    async def handle_embed(self, work: events_pb2.EmbedWork, context: WorkContext) -> None:
        """Idempotent: an asset that has its embedding, or is gone, is acknowledged as it is."""
        row = await self._c.db.fetchrow(
            "SELECT original_key, embedding IS NOT NULL AS done FROM assets WHERE asset_id = $1 AND user_id = $2",
            uuid.UUID(work.asset_id),
            uuid.UUID(work.user_id),
        )
        if row is None or row["done"]:
            return
        vector = await self._embed_stored(row["original_key"])
        # The upload's inline embedding may have landed while this one was computed: it stays.
        await self._save(uuid.UUID(work.asset_id), vector, only_if_missing=True)

    async def embed_dead_letter(self, work: events_pb2.EmbedWork, error: BaseException) -> None:
        log.error("embedding failed for good; the asset stays out of search", asset_id=work.asset_id, error=repr(error))

    async def search(self, user_id: str, query: str, limit: int, min_score: float | None) -> list[pb.ScoredAsset]:
        user = parse_uuid(user_id, "user_id")
        if not query.strip():
            raise InvalidArgument("query must not be empty")
        chosen = search_plan.plan(limit, min_score, search_plan.SEARCH_MIN_SCORE)
        model = self._require_model()
        vector = (await asyncio.to_thread(model.embed_texts, [query.strip()]))[0]
        return self._scored(await self._nearest(user, vector, [], chosen.limit), chosen.min_score)

    async def similar(self, user_id: str, asset_id: str, limit: int, min_score: float | None) -> list[pb.ScoredAsset]:
        user = parse_uuid(user_id, "user_id")
        asset = parse_uuid(asset_id, "asset_id")
        chosen = search_plan.plan(limit, min_score, search_plan.SIMILAR_MIN_SCORE)
        vectors = await self._own_vectors(user, [asset])
        return self._scored(await self._nearest(user, vectors[0], [asset], chosen.limit), chosen.min_score)

    async def recommend(self, user_id: str, asset_ids: list[str], limit: int) -> list[pb.ScoredAsset]:
        user = parse_uuid(user_id, "user_id")
        if not asset_ids:
            raise InvalidArgument("asset_ids must name at least one asset")
        assets = [parse_uuid(a, "asset_ids") for a in asset_ids]
        chosen = search_plan.plan(limit, -1.0, search_plan.SIMILAR_MIN_SCORE)
        centre = search_plan.centroid(await self._own_vectors(user, assets))
        return self._scored(await self._nearest(user, centre, assets, chosen.limit), chosen.min_score)

    async def _own_vectors(self, user: uuid.UUID, assets: list[uuid.UUID]) -> np.ndarray:
        """The embeddings of the caller's assets; someone else's id is NOT_FOUND, as if it did not exist."""
        rows = await self._c.db.fetch(
            "SELECT asset_id, embedding::text AS embedding FROM assets"
            " WHERE user_id = $1 AND asset_id = ANY($2::uuid[])",
            user,
            assets,
        )
        found = {r["asset_id"]: r["embedding"] for r in rows}
        for asset in assets:
            if asset not in found:
                raise NotFound(f"asset {asset} not found")
        pending = [str(a) for a in assets if found[a] is None]
        if pending:
            self._require_model()
            raise FailedPrecondition(f"asset_id: {', '.join(pending)} not embedded yet; try again in a moment")
        return np.stack([search_plan.parse_vector(found[a]) for a in assets])

    async def _nearest(self, user: uuid.UUID, vector: np.ndarray, exclude: list[uuid.UUID], limit: int) -> list:
        return (await nearest(self._c.db, user, vector, exclude, limit, self._cache))[0]

    @staticmethod
    def _scored(rows: list, min_score: float) -> list[pb.ScoredAsset]:
        return [pb.ScoredAsset(asset=to_proto(r), score=float(r["score"])) for r in rows if r["score"] >= min_score]

    async def _embed_stored(self, key: str) -> np.ndarray:
        model = self._require_model()
        data = await self._c.store.get_bytes(key)
        return (await asyncio.to_thread(model.embed_images, [data]))[0]

    async def _save(self, asset: uuid.UUID, vector: np.ndarray, *, only_if_missing: bool = False) -> None:
        await self._c.db.execute(
            "UPDATE assets SET embedding = $2::vector WHERE asset_id = $1"
            + (" AND embedding IS NULL" if only_if_missing else ""),
            asset,
            search_plan.vector_literal(vector),
        )
