"""Semantic search in the assets service: CLIP (the real model, random weights) and pgvector on the
real infrastructure, always filtered to the caller's own assets."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc
import nats
import numpy as np
import pytest
import seeding
from conftest import base_settings
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from adgen.assets.v1 import assets_service_pb2 as pb
from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.events.v1 import events_pb2
from adgen_assets.embeddings import load_embedder
from adgen_assets.search import INDEX_SETTINGS_SQL, INDEX_SQL, AssetSearch, nearest
from adgen_assets.search_indexes import Pass, SearchIndexes
from adgen_assets.search_plan import (
    INDEX_BUILD,
    INDEX_BUILD_ROWS,
    INDEX_DROP_ROWS,
    index_name,
    parse_vector,
    rerank_depth,
    vector_literal,
)
from adgen_assets.server import build
from adgen_assets.settings import AssetsSettings
from adgen_embedded.infra import InfraEndpoints
from adgen_kernel.db import create_pool
from adgen_kernel.jetstream import publish_work
from adgen_kernel.serve import RunningService, start_service

pytestmark = pytest.mark.xdist_group("stack")


@pytest.fixture(scope="module")
async def clip_assets(infra: InfraEndpoints) -> AsyncIterator[RunningService]:
    settings = AssetsSettings(**base_settings(infra), clip_random_weights=True, search_index_interval_s=3600)
    service = await start_service("assets", settings, build)
    yield service
    await service.stop()


async def new_user(db: asyncpg.Pool) -> str:
    return (await seeding.user(db)).user_id


def picture(colour: tuple[int, int, int], mark: tuple[int, int, int] = (255, 255, 255)) -> bytes:
    image = Image.new("RGB", (80, 60), colour)
    image.paste(mark, (20, 15, 50, 40))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def upload(stub: assets_service_pb2_grpc.AssetsServiceStub, user_id: str, data: bytes) -> pb.UploadAssetResponse:
    async def parts() -> AsyncIterator[pb.UploadAssetRequest]:
        yield pb.UploadAssetRequest(metadata=pb.UploadAssetMetadata(user_id=user_id, filename="product.png"))
        yield pb.UploadAssetRequest(chunk=data)

    return await stub.UploadAsset(parts())


async def stored_vector(db: asyncpg.Pool, asset_id: str) -> np.ndarray | None:
    text = await db.fetchval("SELECT embedding::text FROM assets WHERE asset_id = $1", uuid.UUID(asset_id))
    return None if text is None else parse_vector(text)


async def embedding_of(db: asyncpg.Pool, asset_id: str) -> np.ndarray:
    """The asset's stored embedding, which the test expects to be there."""
    vector = await stored_vector(db, asset_id)
    assert vector is not None, f"asset {asset_id} has no embedding"
    return vector


async def expect(call, code: grpc.StatusCode, *words: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == code, caught.value.details()
    for word in words:
        assert word in (caught.value.details() or "")


@contextlib.asynccontextmanager
async def channel_for(service: RunningService) -> AsyncIterator[assets_service_pb2_grpc.AssetsServiceStub]:
    channel, stub = stub_for(service)
    async with channel:
        yield stub


def stub_for(service: RunningService) -> tuple[grpc.aio.Channel, assets_service_pb2_grpc.AssetsServiceStub]:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.port}")
    return channel, assets_service_pb2_grpc.AssetsServiceStub(channel)


async def test_search_is_ordered_scored_and_never_shows_a_strangers_asset(clip_assets, db) -> None:
    owner, stranger = await new_user(db), await new_user(db)
    channel, stub = stub_for(clip_assets)
    async with channel:
        mine = [
            (await upload(stub, owner, picture(colour, mark))).asset.asset_id
            for colour, mark in [((200, 20, 20), (0, 0, 0)), ((20, 200, 20), (255, 255, 0)), ((20, 20, 200), (9, 9, 9))]
        ]
        theirs = (await upload(stub, stranger, picture((120, 120, 120)))).asset.asset_id
        query = "a red watch on a black table"
        model, _ = load_embedder(clip_assets.settings)  # the service's own model: loaded once per process
        assert model is not None
        query_vector = model.embed_texts([query])[0]
        # The stranger's asset is the exact query vector: the nearest row in the whole table.
        await db.execute(
            "UPDATE assets SET embedding = $2::vector WHERE asset_id = $1",
            uuid.UUID(theirs),
            vector_literal(query_vector),
        )

        found = (await stub.SearchAssets(pb.SearchAssetsRequest(user_id=owner, query=query, min_score=-1.0))).results
        assert sorted(r.asset.asset_id for r in found) == sorted(mine)
        assert all(r.asset.user_id == owner for r in found)
        scores = [r.score for r in found]
        assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0 for s in scores)
        for result in found:
            expected = float(np.dot(await embedding_of(db, result.asset.asset_id), query_vector))
            assert result.score == pytest.approx(expected, abs=1e-4)

        # The default threshold (0.25) drops what scores below it.
        default = (await stub.SearchAssets(pb.SearchAssetsRequest(user_id=owner, query=query))).results
        assert [r.asset.asset_id for r in default] == [r.asset.asset_id for r in found if r.score >= 0.25]

        theirs_found = (
            await stub.SearchAssets(pb.SearchAssetsRequest(user_id=stranger, query=query, min_score=-1.0))
        ).results
        assert [r.asset.asset_id for r in theirs_found] == [theirs]
        assert theirs_found[0].score == pytest.approx(1.0, abs=1e-4)


async def test_similar_and_recommend_stay_within_the_callers_assets(clip_assets, db) -> None:
    owner, stranger = await new_user(db), await new_user(db)
    channel, stub = stub_for(clip_assets)
    async with channel:
        first = await upload(stub, owner, picture((240, 240, 240), (10, 10, 10)))
        assert list(first.near_duplicate_ids) == []
        again = await upload(stub, owner, picture((240, 240, 240), (10, 10, 10)))
        assert list(again.near_duplicate_ids) == [first.asset.asset_id]
        other = (await upload(stub, owner, picture((30, 90, 160), (250, 200, 0)))).asset.asset_id
        # The stranger's copy of the same picture is not a duplicate of anything of theirs.
        copy = await upload(stub, stranger, picture((240, 240, 240), (10, 10, 10)))
        assert list(copy.near_duplicate_ids) == []

        similar = (
            await stub.SimilarAssets(
                pb.SimilarAssetsRequest(user_id=owner, asset_id=first.asset.asset_id, min_score=-1.0)
            )
        ).results
        assert [r.asset.asset_id for r in similar] == [again.asset.asset_id, other]
        assert similar[0].score == pytest.approx(1.0, abs=1e-4) and similar[0].score >= similar[1].score
        default = (
            await stub.SimilarAssets(pb.SimilarAssetsRequest(user_id=owner, asset_id=first.asset.asset_id))
        ).results
        assert all(r.score >= 0.70 for r in default)

        await expect(
            stub.SimilarAssets(pb.SimilarAssetsRequest(user_id=owner, asset_id=copy.asset.asset_id)),
            grpc.StatusCode.NOT_FOUND,
            copy.asset.asset_id,
        )
        await expect(
            stub.RecommendAssets(
                pb.RecommendAssetsRequest(user_id=owner, asset_ids=[first.asset.asset_id, copy.asset.asset_id])
            ),
            grpc.StatusCode.NOT_FOUND,
            copy.asset.asset_id,
        )

        picked = [first.asset.asset_id, other]
        recommended = (await stub.RecommendAssets(pb.RecommendAssetsRequest(user_id=owner, asset_ids=picked))).results
        assert [r.asset.asset_id for r in recommended] == [again.asset.asset_id]
        centre = (await embedding_of(db, picked[0])) + (await embedding_of(db, picked[1]))
        centre /= np.linalg.norm(centre)
        expected = float(np.dot(await embedding_of(db, again.asset.asset_id), centre))
        assert recommended[0].score == pytest.approx(expected, abs=1e-4)


async def insert_embedded(db: asyncpg.Pool, user_id: str, vectors: np.ndarray) -> list[str]:
    """Rows straight into the table (no images: only the search reads them), embedded with `vectors`."""
    return await seeding.assets(db, user_id=user_id, embeddings=[vector_literal(v) for v in vectors])


async def test_a_library_larger_than_the_rerank_depth_gets_the_exact_top_and_never_a_strangers_copy(
    clip_assets, db
) -> None:
    owner, stranger = await new_user(db), await new_user(db)
    # 400 vectors in one tight cluster (neighbours' scores ~1e-3 apart): far more rows than the re-rank
    # depth, so the answer comes through the half-precision cut and the full-precision re-score (the
    # unit test of rerank_depth shows why the cut needs its margin). The stranger owns an exact copy
    # of each, the nearest rows in the table.
    rng = np.random.default_rng(11)
    centre = rng.normal(size=512)
    vectors = centre / np.linalg.norm(centre) + rng.normal(scale=0.045, size=(400, 512))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    mine = await insert_embedded(db, owner, vectors)
    theirs = set(await insert_embedded(db, stranger, vectors))
    limit = 20
    assert rerank_depth(limit) < len(mine)
    channel, stub = stub_for(clip_assets)
    async with channel:
        for probe in (0, 137, 399):
            request = pb.SimilarAssetsRequest(user_id=owner, asset_id=mine[probe], limit=limit, min_score=-1.0)
            found = (await stub.SimilarAssets(request)).results
            scores = vectors @ vectors[probe]
            scores[probe] = -np.inf  # the asset itself is not similar to itself
            exact = [mine[i] for i in np.argsort(-scores, kind="stable")[:limit]]
            assert [r.asset.asset_id for r in found] == exact
            assert not theirs & {r.asset.asset_id for r in found}
            assert all(r.asset.user_id == owner for r in found)
            assert [r.score for r in found] == pytest.approx([float(scores[mine.index(a)]) for a in exact], abs=1e-5)


async def test_bad_requests_name_the_field(clip_assets, db) -> None:
    owner = await new_user(db)
    channel, stub = stub_for(clip_assets)
    async with channel:
        bad = grpc.StatusCode.INVALID_ARGUMENT
        await expect(stub.SearchAssets(pb.SearchAssetsRequest(user_id="me", query="x")), bad, "user_id")
        await expect(stub.SearchAssets(pb.SearchAssetsRequest(user_id=owner, query="  ")), bad, "query")
        await expect(stub.SearchAssets(pb.SearchAssetsRequest(user_id=owner, query="x", limit=500)), bad, "limit")
        await expect(
            stub.SearchAssets(pb.SearchAssetsRequest(user_id=owner, query="x", min_score=3.0)), bad, "min_score"
        )
        await expect(stub.SimilarAssets(pb.SimilarAssetsRequest(user_id=owner, asset_id="42")), bad, "asset_id")
        await expect(stub.RecommendAssets(pb.RecommendAssetsRequest(user_id=owner)), bad, "asset_ids")
        await expect(
            stub.SimilarAssets(pb.SimilarAssetsRequest(user_id=owner, asset_id=str(uuid.uuid4()))),
            grpc.StatusCode.NOT_FOUND,
        )


async def test_the_embed_worker_fills_a_missing_embedding(clip_assets, db, infra) -> None:
    owner = await new_user(db)
    channel, stub = stub_for(clip_assets)
    async with channel:
        asset = (await upload(stub, owner, picture((10, 120, 60), (200, 0, 200)))).asset
    inline = await stored_vector(db, asset.asset_id)
    assert inline is not None and inline.shape == (512,)
    await db.execute("UPDATE assets SET embedding = NULL WHERE asset_id = $1", uuid.UUID(asset.asset_id))
    nc = await nats.connect(infra.nats_url)
    try:
        work = events_pb2.EmbedWork(asset_id=asset.asset_id, user_id=owner)
        await publish_work(nc.jetstream(), "embed", work, f"embed-again:{asset.asset_id}")
        for _ in range(200):
            vector = await stored_vector(db, asset.asset_id)
            if vector is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        await nc.close()
    assert vector is not None
    np.testing.assert_allclose(vector, inline, atol=1e-5)


async def test_a_queued_embedding_never_overwrites_one_that_landed_meanwhile(connections, db) -> None:
    """The upload queues its embedding and embeds inline too; when the queued item runs first, the
    inline vector lands while the worker computes its own, and the worker's must not replace it."""
    owner = await new_user(db)
    inline = np.zeros(512, np.float32)
    inline[0] = 1.0
    [asset] = await seeding.assets(db, user_id=owner, embeddings=[None])
    search = AssetSearch(connections, embedder=None, missing_reason="tests")

    async def computed_while_the_inline_one_lands(key: str) -> np.ndarray:
        await db.execute(
            "UPDATE assets SET embedding = $2::vector WHERE asset_id = $1", uuid.UUID(asset), vector_literal(inline)
        )
        other = np.zeros(512, np.float32)
        other[1] = 1.0
        return other

    search._embed_stored = computed_while_the_inline_one_lands  # type: ignore[method-assign]
    await search.handle_embed(events_pb2.EmbedWork(asset_id=asset, user_id=owner), None)  # type: ignore[arg-type]
    stored = await stored_vector(db, asset)
    assert stored is not None
    np.testing.assert_allclose(stored, inline, atol=1e-6)


async def test_without_weights_uploads_work_and_search_says_why(infra, db) -> None:
    service = await start_service("assets", AssetsSettings(**base_settings(infra)), build)
    try:
        owner = await new_user(db)
        channel, stub = stub_for(service)
        async with channel:
            health = health_pb2_grpc.HealthStub(channel)
            status = await health.Check(health_pb2.HealthCheckRequest(service="adgen.assets.v1.AssetsService"))  # type: ignore[attr-defined]  # the stub's HealthStub lacks its methods
            assert status.status == health_pb2.HealthCheckResponse.SERVING
            uploaded = await upload(stub, owner, picture((90, 90, 20)))
            assert list(uploaded.near_duplicate_ids) == []
            assert await stored_vector(db, uploaded.asset.asset_id) is None
            await expect(
                stub.SearchAssets(pb.SearchAssetsRequest(user_id=owner, query="watch")),
                grpc.StatusCode.UNAVAILABLE,
                "no CLIP weights are configured",
            )
            await expect(
                stub.SimilarAssets(pb.SimilarAssetsRequest(user_id=owner, asset_id=uploaded.asset.asset_id)),
                grpc.StatusCode.UNAVAILABLE,
                "no CLIP weights are configured",
            )
    finally:
        await service.stop()


def plan_indexes(plan: dict) -> set[str]:
    found = {plan["Index Name"]} if "Index Name" in plan else set()
    for child in plan.get("Plans", []):
        found |= plan_indexes(child)
    return found


async def maintained(indexes: SearchIndexes) -> Pass:
    """One maintenance pass of ours, once no other replica's is running."""
    while (done := await indexes.maintain()).skipped:
        await asyncio.sleep(0.1)
    return done


async def recorded(db: asyncpg.Pool, user_id: str) -> int | None:
    return await db.fetchval("SELECT rows_indexed FROM asset_search_indexes WHERE user_id = $1", uuid.UUID(user_id))


async def valid_indexes(db: asyncpg.Pool, *names: str) -> set[str]:
    rows = await db.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid"
        " WHERE c.relname = ANY($1::text[]) AND i.indisvalid",
        list(names),
    )
    return {r["relname"] for r in rows}


async def test_a_large_library_is_searched_through_its_own_index_and_never_shows_a_strangers_asset(
    clip_assets, db, infra, stack, spans
) -> None:
    """`stack` sets up tracing, so the service's spans reach `spans`."""
    owner, stranger = await new_user(db), await new_user(db)
    # 1 200 vectors from 4 clusters (the bench's shape): past INDEX_BUILD_ROWS. The stranger owns an
    # exact copy of each, the nearest rows in the table to every query.
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(4, 512))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    n = INDEX_BUILD_ROWS + 200
    vectors = centres[rng.integers(0, 4, size=n)] + rng.normal(scale=0.045, size=(n, 512))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    mine = await insert_embedded(db, owner, vectors)
    theirs = set(await insert_embedded(db, stranger, vectors))
    await insert_embedded(db, stranger, vectors[:1])  # the stranger's library is larger: indexed too
    pool = await create_pool(infra.database_url, min_size=1, max_size=2)
    try:
        # The same pass the service runs in the background (the stack's may get there first).
        indexes = SearchIndexes(pool, build_rows=INDEX_BUILD_ROWS, drop_rows=INDEX_DROP_ROWS)
        await maintained(indexes)
        owners_index, strangers_index = index_name(uuid.UUID(owner)), index_name(uuid.UUID(stranger))
        assert await recorded(db, owner) == len(mine) and await recorded(db, stranger) == len(mine) + 1
        assert await valid_indexes(db, owners_index, strangers_index) == {owners_index, strangers_index}
        far = rng.normal(size=(10, 512))  # random directions: nowhere near the clusters or the queries
        await insert_embedded(db, owner, (far / np.linalg.norm(far, axis=1, keepdims=True)).astype(np.float32))
        assert (await maintained(indexes)).built == []  # nothing left to do but follow the growth
        assert await recorded(db, owner) == len(mine) + 10

        # The planner walks the owner's index for the service's SQL and settings.
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(INDEX_SETTINGS_SQL, "100")
            explained = await conn.fetchval(
                "EXPLAIN (FORMAT JSON) " + INDEX_SQL, uuid.UUID(owner), vector_literal(vectors[0]), [], 10, 20
            )
        assert owners_index in plan_indexes(json.loads(explained)[0]["Plan"])

        channel, stub = stub_for(clip_assets)
        recalls = []
        async with channel:
            for probe in (0, 411, 1_100):
                spans.clear()
                request = pb.SimilarAssetsRequest(user_id=owner, asset_id=mine[probe], limit=10, min_score=-1.0)
                found = (await stub.SimilarAssets(request)).results
                scans = [
                    s.attributes["adgen.assets.search_scan"]
                    for s in spans.get_finished_spans()
                    if "adgen.assets.search_scan" in (s.attributes or {})
                ]
                assert scans == [owners_index]
                ids = [r.asset.asset_id for r in found]
                assert len(ids) == 10 and not theirs & set(ids) and all(r.asset.user_id == owner for r in found)
                assert mine[probe] not in ids
                scores = vectors @ vectors[probe]
                scores[probe] = -np.inf
                exact = {mine[i] for i in np.argsort(-scores, kind="stable")[:10]}
                recalls.append(len(exact & set(ids)) / 10)
                # Scores are exact (full precision), best first, for whatever the walk found.
                assert [r.score for r in found] == pytest.approx([float(scores[mine.index(a)]) for a in ids], abs=1e-5)
                assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
        assert np.mean(recalls) >= 0.99, recalls

        # The index path's settings hold for its own session only: the pool's reset puts them back.
        single = await create_pool(infra.database_url, min_size=1, max_size=1)
        try:
            found, chosen = await nearest(single, uuid.UUID(owner), vectors[0], [], 10)
            assert chosen.index == owners_index and len(found) == 10
            after = "SELECT current_setting('enable_sort'), current_setting('plan_cache_mode')"
            assert tuple(await single.fetchrow(after) or ()) == ("on", "auto")
        finally:
            await single.close()

        # Shrunk far below the threshold: the record goes first, then the index; the exact plan again.
        await db.execute(
            "DELETE FROM assets WHERE user_id = $1 AND asset_id <> ALL($2::uuid[])",
            uuid.UUID(owner),
            [uuid.UUID(a) for a in mine[:50]],
        )
        await db.execute("DELETE FROM users WHERE user_id = $1", uuid.UUID(stranger))  # rows cascade
        await maintained(indexes)
        assert await valid_indexes(db, owners_index, strangers_index) == set()
        assert await recorded(db, owner) is None
        async with channel_for(clip_assets) as stub:
            spans.clear()
            request = pb.SimilarAssetsRequest(user_id=owner, asset_id=mine[0], limit=10, min_score=-1.0)
            found = (await stub.SimilarAssets(request)).results
        scores = vectors[:50] @ vectors[0]
        scores[0] = -np.inf
        assert [r.asset.asset_id for r in found] == [mine[i] for i in np.argsort(-scores, kind="stable")[:10]]
        assert "exact" in [s.attributes.get("adgen.assets.search_scan") for s in spans.get_finished_spans()]
    finally:
        await pool.close()


async def test_an_index_built_with_other_parameters_is_replaced_new_one_first(clip_assets, db, infra) -> None:
    owner = await new_user(db)
    rng = np.random.default_rng(8)
    vectors = rng.normal(size=(INDEX_BUILD_ROWS, 512))
    await insert_embedded(db, owner, (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32))
    # The first version's index: named without a build tag, pgvector's default parameters.
    legacy = f"assets_hnsw_{uuid.UUID(owner).hex}"
    await db.execute(
        f"CREATE INDEX {legacy} ON assets USING hnsw (embedding_half halfvec_cosine_ops) WHERE user_id = '{owner}'"
    )
    await seeding.search_index(db, user_id=owner, index_name=legacy, rows_indexed=INDEX_BUILD_ROWS)
    pool = await create_pool(infra.database_url, min_size=1, max_size=2)
    try:
        indexes = SearchIndexes(pool, build_rows=INDEX_BUILD_ROWS, drop_rows=INDEX_DROP_ROWS)
        done = await maintained(indexes)
        current = index_name(uuid.UUID(owner))
        assert current != legacy and current in done.built and legacy in done.dropped
        assert await valid_indexes(db, legacy, current) == {current}
        assert (
            await db.fetchval("SELECT index_name FROM asset_search_indexes WHERE user_id = $1", uuid.UUID(owner))
            == current
        )
        options = await db.fetchval("SELECT reloptions FROM pg_class WHERE relname = $1", current)
        assert sorted(options) == sorted(f"{k}={v}" for k, v in vars(INDEX_BUILD).items())
        assert (await maintained(indexes)).built == []
    finally:
        await pool.close()
