"""The in-memory search indexes of large libraries, on the real Postgres: Postgres stays the source of
truth. A search through the cache returns what the exact plan returns, sees rows embedded after the
index was built, never a deleted row, never another user's row even when the index proposes it; the
maintenance pass rebuilds a drifted library and forgets a shrunk one; the memory cap evicts the least
recently searched; the service itself warms and uses it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import numpy as np
import pytest
from conftest import base_settings
from prometheus_client import REGISTRY
from test_assets_search import insert_embedded, maintained, new_user, plan_indexes, stub_for

from adgen.assets.v1 import assets_service_pb2 as pb
from adgen_assets import search_plan
from adgen_assets.search import memory_sql, nearest
from adgen_assets.search_cache import SearchCache
from adgen_assets.search_indexes import SearchIndexes
from adgen_assets.server import build
from adgen_assets.settings import AssetsSettings
from adgen_embedded.infra import InfraEndpoints
from adgen_kernel.db import create_pool
from adgen_kernel.serve import start_service

pytestmark = pytest.mark.xdist_group("stack")

ROWS = 1_200


@pytest.fixture(scope="module")
async def db(infra: InfraEndpoints) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(infra.database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def pool(infra: InfraEndpoints) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(infra.database_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


def library(seed: int, n: int = ROWS) -> np.ndarray:
    """n unit vectors around 4 centres (the bench's shape)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, 512))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = centres[rng.integers(0, 4, size=n)] + rng.normal(scale=0.045, size=(n, 512))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def exact_top(ids: list[str], vectors: np.ndarray, query: np.ndarray, k: int = 10) -> list[str]:
    return [ids[i] for i in np.argsort(-(vectors @ query), kind="stable")[:k]]


async def test_a_cached_library_answers_as_postgres_would_and_follows_its_writes(db, pool) -> None:
    owner, stranger = await new_user(db), await new_user(db)
    vectors = library(21)
    mine = await insert_embedded(db, owner, vectors)
    theirs = await insert_embedded(db, stranger, vectors)  # an exact copy of each: the nearest rows there are
    cache = SearchCache(pool, min_rows=1_000, memory_mb=64, fresh_rows=50)
    user = uuid.UUID(owner)
    cached = await cache.build(user)
    assert cached is not None and cache.get(user) is cached and cached.index.rows == ROWS

    # The same answer as Postgres's exact plan, scores at full precision, from the in-memory path.
    for probe in (0, 500, 1_199):
        found, chosen = await nearest(pool, user, vectors[probe], [], 10, cache)
        exact, _ = await nearest(pool, user, vectors[probe], [], 10)
        assert chosen == search_plan.IN_MEMORY
        assert [r["asset_id"] for r in found] == [r["asset_id"] for r in exact]
        assert [str(r["asset_id"]) for r in found] == exact_top(mine, vectors, vectors[probe])
        assert [r["score"] for r in found] == pytest.approx(
            [float(vectors[mine.index(str(r["asset_id"]))] @ vectors[probe]) for r in found], abs=1e-5
        )
    # Excluded ids (the asset itself for "similar") stay out.
    found, _ = await nearest(pool, user, vectors[3], [uuid.UUID(mine[3])], 10, cache)
    assert mine[3] not in {str(r["asset_id"]) for r in found} and len(found) == 10

    # Written after the build: an asset embedded right on the query is the first answer at once.
    query = unit(vectors[7] + vectors[8])
    (fresh,) = await insert_embedded(db, owner, query[None, :])
    found, chosen = await nearest(pool, user, query, [], 10, cache)
    assert chosen == search_plan.IN_MEMORY and str(found[0]["asset_id"]) == fresh
    assert found[0]["score"] == pytest.approx(1.0, abs=1e-5)
    # Re-embedded after the build: found where it is now, not where the index put it.
    await db.execute(
        "UPDATE assets SET embedding = $2::vector WHERE asset_id = $1",
        uuid.UUID(mine[900]),
        search_plan.vector_literal(unit(query + 0.001)),
    )
    found, _ = await nearest(pool, user, query, [], 10, cache)
    assert {str(r["asset_id"]) for r in found[:2]} == {fresh, mine[900]}
    # Deleted after the build: gone from the answer, which still has its 10 rows.
    await db.execute("DELETE FROM assets WHERE asset_id = $1", uuid.UUID(fresh))
    found, _ = await nearest(pool, user, query, [], 10, cache)
    assert fresh not in {str(r["asset_id"]) for r in found} and len(found) == 10

    # Even a candidate list naming the stranger's rows (their copies are the nearest) returns only the
    # owner's: the owner filter is in the SQL that re-scores, not in the index.
    depth = search_plan.rerank_depth(10)
    rows = await db.fetch(
        memory_sql(cached.xmin), user, search_plan.vector_literal(vectors[0]), [], 10, depth,
        [uuid.UUID(t) for t in theirs[:50]] + [uuid.UUID(m) for m in mine[:5]],
    )  # fmt: skip
    assert rows and {str(r["user_id"]) for r in rows} == {owner}
    # That SQL reaches the candidates through the primary key and the fresh rows through the xid index.
    explained = await db.fetchval(
        "EXPLAIN (FORMAT JSON) " + memory_sql(cached.xmin), user, search_plan.vector_literal(vectors[0]), [], 10,
        depth, [uuid.UUID(m) for m in mine[:100]],
    )  # fmt: skip
    assert {"assets_pkey", "assets_user_embedded_xid"} <= plan_indexes(json.loads(explained)[0]["Plan"])


async def test_the_maintenance_pass_rebuilds_a_drifted_library_and_forgets_a_shrunk_one(db, pool) -> None:
    owner = await new_user(db)
    user = uuid.UUID(owner)
    vectors = library(22)
    mine = await insert_embedded(db, owner, vectors)
    cache = SearchCache(pool, min_rows=1_000, memory_mb=64, fresh_rows=20)
    first = await cache.build(user)
    assert first is not None
    assert await cache.refresh() == []  # nothing changed: nothing rebuilt
    assert cache.get(user) is first

    await insert_embedded(db, owner, library(23, 21))  # more fresh rows than fresh_rows
    assert await cache.refresh() == [user]
    second = cache.get(user)
    assert second is not None and second is not first
    assert second.index.rows == ROWS + 21 and second.xmin > first.xmin

    # Deleted below min_rows: the next pass forgets the library; its searches go back to Postgres.
    await db.execute("DELETE FROM assets WHERE asset_id = ANY($1::uuid[])", [uuid.UUID(m) for m in mine[:300]])
    assert await cache.refresh() == []
    assert cache.get(user) is None
    found, chosen = await nearest(pool, user, vectors[400], [], 10, cache)
    assert chosen.label == "exact" and str(found[0]["asset_id"]) == mine[400]
    assert await cache.build(user) is None  # too small to index


async def test_the_memory_cap_keeps_the_most_recently_searched_libraries(db, pool) -> None:
    users = [uuid.UUID(await new_user(db)) for _ in range(3)]
    for seed, user in enumerate(users):
        await insert_embedded(db, str(user), library(30 + seed, 1_400))
    cache = SearchCache(pool, min_rows=1_000, memory_mb=2, fresh_rows=1_000)  # room for two 1 400-row indexes
    first = await cache.build(users[0])
    assert first is not None and 2 * first.index.nbytes < 2 * 2**20 < 3 * first.index.nbytes
    await cache.build(users[1])
    assert cache.get(users[0]) is first  # searched: now the most recent
    await cache.build(users[2])
    assert [cache.get(u) is not None for u in users] == [True, False, True]

    # A library that would not fit alone is not cached, and a search's miss does not build it again.
    large = uuid.UUID(await new_user(db))
    await insert_embedded(db, str(large), library(33, 2_100))  # ~1.1 MB
    small = SearchCache(pool, min_rows=1_000, memory_mb=1, fresh_rows=1_000)
    assert await small.build(large) is None and small.libraries == {}
    small.want(large, 2_100)
    assert small.libraries == {} and small.building == set()


async def test_a_starting_replica_builds_the_largest_libraries_that_fit(db, pool) -> None:
    fits, too_large = uuid.UUID(await new_user(db)), uuid.UUID(await new_user(db))
    await insert_embedded(db, str(fits), library(40, 3_000))  # ~1.6 MB
    await insert_embedded(db, str(too_large), library(41, 4_000))  # ~2.1 MB: more than the memory
    await maintained(SearchIndexes(pool, build_rows=1_000, drop_rows=500))  # the HNSW records carry the sizes
    # From 1 500 rows: the other libraries of this module (at most 2 100 rows, ~1.1 MB) come after
    # `fits` and no longer fit beside it.
    cache = SearchCache(pool, min_rows=1_500, memory_mb=2, fresh_rows=1_000)
    assert await cache.warm() == [fits]
    assert list(cache.libraries) == [fits] and cache.libraries[fits].index.rows == 3_000


async def test_the_service_warms_a_large_library_and_then_searches_it_in_memory(infra, db, spans, stack) -> None:
    """`stack` sets up tracing, so the service's spans reach `spans`."""
    owner = await new_user(db)
    vectors = library(24)
    mine = await insert_embedded(db, owner, vectors)
    settings = AssetsSettings(
        **base_settings(infra),
        clip_random_weights=True,
        search_index_interval_s=3600,
        search_index_build_rows=1_000,
        search_cache_min_rows=1_000,
        search_cache_warm=False,  # the first search asks for the build
    )
    service = await start_service("assets", settings, build)
    try:
        # The per-user HNSW record is what tells a search the library's size (the service's own pass at
        # start may get there first).
        indexes_pool = await create_pool(infra.database_url, min_size=1, max_size=1)
        try:
            await maintained(SearchIndexes(indexes_pool, build_rows=1_000, drop_rows=500))
        finally:
            await indexes_pool.close()
        memory_searches = REGISTRY.get_sample_value("adgen_asset_searches_total", {"scan": "memory"}) or 0.0
        channel, stub = stub_for(service)
        scans: list[str] = []
        async with channel:
            for attempt in range(300):  # the first search asks for the build; a later one finds it done
                probe = attempt % ROWS
                spans.clear()
                request = pb.SimilarAssetsRequest(user_id=owner, asset_id=mine[probe], limit=10, min_score=-1.0)
                found = (await stub.SimilarAssets(request)).results
                scores = vectors @ vectors[probe]
                scores[probe] = -np.inf
                assert [r.asset.asset_id for r in found] == [mine[i] for i in np.argsort(-scores, kind="stable")[:10]]
                scans += [
                    s.attributes["adgen.assets.search_scan"]
                    for s in spans.get_finished_spans()
                    if "adgen.assets.search_scan" in (s.attributes or {})
                ]
                if scans[-1] == "memory":
                    break
                await asyncio.sleep(0.1)
        assert scans[0] != "memory" and scans[-1] == "memory", scans
        assert REGISTRY.get_sample_value("adgen_asset_searches_total", {"scan": "memory"}) == memory_searches + 1
        assert (REGISTRY.get_sample_value("adgen_asset_search_cache_bytes") or 0) >= ROWS * 512
    finally:
        await service.stop()
