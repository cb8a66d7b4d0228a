"""Assets: per-user vector search on the real Postgres + pgvector, the candidate plans side by side at
100 000 vectors / 100 users and 1 000 000 vectors / 1 000 users, and how fast CLIP embeds on the CPU.

Synthetic unit vectors (512 dims) belong to users of very different sizes (Zipf-like); vectors come
from 40 shared clusters and every user draws from 4 of them, so users overlap in the space the way
product catalogues do. Rows are loaded in shuffled order (uploads interleave), with COPY. Each query
is a user's cluster direction plus noise; the truth is the exact top-10 over that user's rows in
NumPy. Queries are stratified by user size so that the largest users are measured, not sampled away.

The plans over one HNSW index of every row are measured first; then that index is dropped, the
service's own maintenance pass (search_indexes.SearchIndexes) builds the per-user HNSW indexes, and
the per-user plans and the service's code (search.nearest) are measured with those indexes in place.

`make bench ONLY=assets` runs both scales; `ADGEN_BENCH_ASSETS_SCALES=100k` (or `1m`) runs one, and
`bench/bench_assets.py --scale 100k` prints one section without writing the report.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import numpy as np
from pgvector.asyncpg import register_vector
from PIL import Image
from run import Report

from adgen_assets import search, search_plan
from adgen_assets.embeddings import ClipEmbedder
from adgen_assets.search_cache import CachedLibrary, SearchCache
from adgen_assets.search_indexes import SearchIndexes
from adgen_embedded.infra import EmbeddedInfra
from adgen_kernel.db import create_pool
from adgen_video.schema import migrate, migration_files

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import seeding

SCALES = {"100k": (100_000, 100), "1m": (1_000_000, 1_000), "smoke": (10_000, 20)}
DEFAULT_SCALES = "100k,1m"
CLUSTERS = 40
K = 10
DIMS = 512
# User-size buckets (rows): every bucket gets the same number of queries.
BUCKETS = ((0, 1_000, "< 1k"), (1_000, 10_000, "1k–10k"), (10_000, 10**9, "≥ 10k"))
QUERIES_PER_BUCKET = 80
SHARED_BUFFERS = "6GB"  # the data (≈3 GB at 1M) + the HNSW index (≈2.6 GB) stay in memory
HALF_MIGRATION = "0005_asset_search.sql"


def dataset(rng: np.random.Generator, n: int, users: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors, owner index per vector, one cluster centre per user): Zipf-like sizes, shared clusters."""
    centres = rng.normal(size=(CLUSTERS, DIMS)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = 1.0 / np.arange(1, users + 1) ** 1.1
    sizes = np.maximum(20, np.round(weights / weights.sum() * n)).astype(int)
    sizes[0] += n - sizes.sum()
    owners = np.repeat(np.arange(users), sizes)
    user_clusters = np.stack([rng.choice(CLUSTERS, size=4, replace=False) for _ in range(users)])
    picked = user_clusters[owners, rng.integers(0, 4, size=n)]
    vectors = np.empty((n, DIMS), np.float32)
    for start in range(0, n, 50_000):  # float32 throughout: 1M x 512 in float64 would be 4 GB
        end = min(n, start + 50_000)
        noisy = centres[picked[start:end]] + rng.standard_normal((end - start, DIMS), dtype=np.float32) * 0.045
        vectors[start:end] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return vectors, owners, centres[user_clusters[:, 0]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Query:
    bucket: int
    user: uuid.UUID
    vector: np.ndarray
    truth: set[uuid.UUID]


async def load(
    conn: asyncpg.Connection, rng: np.random.Generator, vectors: np.ndarray, owners: np.ndarray, users: int
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    user_ids = [uuid.UUID((await seeding.user(conn, name=f"bench-{i}")).user_id) for i in range(users)]
    ids = [uuid.uuid4() for _ in range(len(vectors))]
    columns = [
        "asset_id", "user_id", "name", "source", "content_type", "width", "height",
        "original_key", "thumbnail_key", "edges_key", "embedding",
    ]  # fmt: skip
    order = rng.permutation(len(vectors))
    for start in range(0, len(order), 50_000):
        records = [
            (
                ids[i],
                user_ids[owners[i]],
                "p.png",
                "USER_UPLOAD",
                "image/png",
                1,
                1,
                f"k/{ids[i]}",
                "t",
                "e",
                vectors[i],
            )
            for i in order[start : start + 50_000]
        ]
        await conn.copy_records_to_table("assets", records=records, columns=columns)
    return user_ids, ids


def make_queries(
    rng: np.random.Generator,
    vectors: np.ndarray,
    owners: np.ndarray,
    centres: np.ndarray,
    user_ids: list[uuid.UUID],
    ids: list[uuid.UUID],
) -> list[Query]:
    sizes = np.bincount(owners)
    starts = np.concatenate([[0], np.cumsum(sizes)])  # owners is sorted: each user's rows are contiguous
    queries = []
    for bucket, (low, high, _) in enumerate(BUCKETS):
        candidates = np.flatnonzero((sizes >= low) & (sizes < high))
        if len(candidates) == 0:
            continue
        for u in rng.choice(candidates, size=QUERIES_PER_BUCKET):
            q = centres[u] + rng.normal(scale=0.03, size=DIMS).astype(np.float32)
            q = (q / np.linalg.norm(q)).astype(np.float32)
            rows = np.arange(starts[u], starts[u + 1])
            best = rows[np.argsort(-(vectors[rows] @ q), kind="stable")[:K]]
            queries.append(Query(bucket, user_ids[u], q, {ids[i] for i in best}))
    return queries


Search = Callable[[Query], Awaitable[list[uuid.UUID]]]


def sql_plan(conn: asyncpg.Connection, sql: str, setup: list[str]) -> Callable[[], Awaitable[tuple[Search, str]]]:
    """A candidate measured inside a transaction that applies `setup` (dropping an index, SET LOCAL)."""

    async def prepare() -> tuple[Search, str]:
        for statement in setup:
            await conn.execute(statement)

        async def run(query: Query) -> list[uuid.UUID]:
            return [r["asset_id"] for r in await conn.fetch(sql, query.user, query.vector)]

        return run, sql

    return prepare


async def measure_plans(
    conn: asyncpg.Connection, pool: asyncpg.Pool, queries: list[Query]
) -> list[tuple[str, list[float], list[float], list[int], str]]:
    hnsw = f"SELECT asset_id FROM assets WHERE user_id = $1 ORDER BY embedding <=> $2 LIMIT {K}"
    exact = (
        f"SELECT asset_id, 1 - (embedding <=> $2) AS score FROM assets WHERE user_id = $1 ORDER BY score DESC LIMIT {K}"
    )
    half = (
        f"SELECT asset_id FROM assets WHERE user_id = $1 AND embedding_half IS NOT NULL"
        f" ORDER BY embedding_half <=> $2::vector::halfvec(512) LIMIT {K}"
    )
    binary = (
        "SELECT asset_id, 1 - (embedding <=> $2) AS score FROM ("
        " SELECT asset_id, embedding FROM assets WHERE user_id = $1"
        " ORDER BY embedding_bits <~> binary_quantize($2::vector)::bit(512) LIMIT 400"
        f") AS c ORDER BY score DESC LIMIT {K}"
    )
    no_btree = ["DROP INDEX assets_user_created", "SET LOCAL enable_seqscan = off"]
    iterative = [*no_btree, "SET LOCAL hnsw.iterative_scan = relaxed_order"]
    no_hnsw = ["DROP INDEX assets_embedding_hnsw"]
    candidates = {
        "HNSW, post-filter (ef_search 40)": sql_plan(conn, hnsw, no_btree),
        "HNSW, iterative relaxed_order (ef_search 40)": sql_plan(conn, hnsw, iterative),
        "HNSW, iterative relaxed_order (ef_search 400, max_scan_tuples 40000)": sql_plan(
            conn, hnsw, [*iterative, "SET LOCAL hnsw.ef_search = 400", "SET LOCAL hnsw.max_scan_tuples = 40000"]
        ),
        "B-tree on user + exact vector (the previous plan)": sql_plan(conn, exact, no_hnsw),
        "B-tree on user + exact halfvec, no re-rank": sql_plan(conn, half, no_hnsw),
        "B-tree on user + binary quantisation (hamming), top 400 re-ranked": sql_plan(
            conn,
            binary,
            [
                *no_hnsw,
                "ALTER TABLE assets ADD COLUMN embedding_bits bit(512)",
                "UPDATE assets SET embedding_bits = binary_quantize(embedding)::bit(512)",
            ],
        ),
    }
    measured = []
    for label, prepare in candidates.items():
        transaction = conn.transaction()
        await transaction.start()
        try:
            run, sql = await prepare()
            measured.append((label, *await timed(run, queries), await index_of(conn, sql, queries[-1])))
        finally:
            await transaction.rollback()

    return measured


async def measure_per_user(
    conn: asyncpg.Connection, pool: asyncpg.Pool, queries: list[Query]
) -> tuple[list[tuple[str, list[float], list[float], list[int], str]], SearchCache, float]:
    """With the per-user HNSW indexes built: a fixed ef_search, the exact plan alone, and the service's
    code without and with its in-memory indexes (and those indexes, and how long they took to build)."""
    depth = search_plan.rerank_depth(K)
    measured = []

    def with_settings(sql: str, ef: int | None) -> Search:
        async def run(query: Query) -> list[uuid.UUID]:
            async with pool.acquire() as c, c.transaction():
                if ef is not None:
                    await c.execute(search.INDEX_SETTINGS_SQL, str(ef))
                rows = await c.fetch(sql, query.user, search_plan.vector_literal(query.vector), [], K, depth)
            return [r["asset_id"] for r in rows]

        return run

    for ef in (40, 100):
        label = f"per-user HNSW (ef_search {ef}) + re-score; exact below {search_plan.INDEX_BUILD_ROWS} rows"
        run = with_settings(search.INDEX_SQL, ef)
        measured.append((label, *await timed(run, queries), await index_of(pool, search.INDEX_SQL, queries[-1], ef)))
    label = f"B-tree on user + exact halfvec, top {depth} re-scored (the previous adgen plan, every user)"
    run = with_settings(search.EXACT_SQL, None)
    measured.append((label, *await timed(run, queries), await index_of(pool, search.EXACT_SQL, queries[-1], None)))

    def service(cache: SearchCache | None) -> Search:  # the service's own code path and SQL
        async def run(query: Query) -> list[uuid.UUID]:
            return [r["asset_id"] for r in (await search.nearest(pool, query.user, query.vector, [], K, cache))[0]]

        return run

    label = (
        "adgen without in-memory indexes: per-user HNSW, ef_search by size,"
        f" from {search_plan.INDEX_BUILD_ROWS} rows; exact below"
    )
    ready = await conn.fetchrow(search.READY_INDEX_SQL, queries[-1].user)
    chosen = search_plan.scan(None if ready is None else (ready["index_name"], ready["rows_indexed"]), depth)
    index = await index_of(pool, search.INDEX_SQL, queries[-1], chosen.ef_search) if chosen.index else "exact"
    measured.append((label, *await timed(service(None), queries), index))

    # The replica's in-memory indexes of the libraries the queries search, built as a search's miss would.
    cache = SearchCache(pool, min_rows=search_plan.MEMORY_MIN_ROWS, memory_mb=8192, fresh_rows=1_000)
    started = time.perf_counter()
    for user in dict.fromkeys(q.user for q in queries):
        await cache.build(user)
    cache_s = time.perf_counter() - started
    label = (
        f"adgen (the service's code): in-memory IVF-SQ8 + exact re-score from {search_plan.MEMORY_MIN_ROWS} rows,"
        f" per-user HNSW from {search_plan.INDEX_BUILD_ROWS}, exact below"
    )
    largest = cache.get(queries[-1].user)
    index = (
        f"in memory ({_tuning(largest)}), then {await memory_index_of(pool, largest.xmin, queries[-1])}"
        if largest
        else "exact"
    )
    measured.append((label, *await timed(service(cache), queries), index))
    return measured, cache, cache_s


def _tuning(library: CachedLibrary) -> str:
    t = library.index.tuning
    return f"{t.nlist} lists, margin {t.margin}, scans {t.scanned:.0%}"


async def memory_index_of(pool: asyncpg.Pool, xmin: int, query: Query) -> str:
    """The indexes of the in-memory path's re-scoring SQL, for 100 of the user's ids as candidates."""
    async with pool.acquire() as c:
        ids = [
            r["asset_id"] for r in await c.fetch("SELECT asset_id FROM assets WHERE user_id = $1 LIMIT 100", query.user)
        ]
        vector = search_plan.vector_literal(query.vector)
        depth = search_plan.rerank_depth(K)
        plan = json.loads(
            await c.fetchval("EXPLAIN (FORMAT JSON) " + search.memory_sql(xmin), query.user, vector, [], K, depth, ids)
        )
    return ", ".join(dict.fromkeys(_indexes(plan[0]["Plan"])))


async def timed(run: Search, queries: list[Query]) -> tuple[list[float], list[float], list[int]]:
    for query in queries:  # warm pass: every page the plan touches is in shared_buffers
        await run(query)
    latencies, recalls, short = [], [], []
    for query in queries:
        started = time.perf_counter()
        found = await run(query)
        latencies.append((time.perf_counter() - started) * 1000)
        recalls.append(len(query.truth & set(found)) / K)
        short.append(int(len(found) < K))
    return latencies, recalls, short


async def index_of(conn: asyncpg.Connection | asyncpg.Pool, sql: str, query: Query, ef: int | None = 0) -> str:
    """The indexes EXPLAIN shows for `sql`: a candidate's (two parameters), or the service's SQL (five,
    `ef` None for the exact plan, a number for the index path's settings)."""
    if ef == 0:
        plan = json.loads(await conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, query.user, query.vector))
    else:
        assert isinstance(conn, asyncpg.Pool), "the settings are set on a connection of the pool's own"
        async with conn.acquire() as c, c.transaction():
            if ef is not None:
                await c.execute(search.INDEX_SETTINGS_SQL, str(ef))
            vector = search_plan.vector_literal(query.vector)
            depth = search_plan.rerank_depth(K)
            plan = json.loads(await c.fetchval("EXPLAIN (FORMAT JSON) " + sql, query.user, vector, [], K, depth))
    names = dict.fromkeys(_indexes(plan[0]["Plan"]))
    return (
        ", ".join(search_plan.INDEX_PREFIX + "<user>" if search_plan.index_owner(n) else n for n in names) or "seq scan"
    )


def _indexes(plan: dict) -> list[str]:
    found = [plan["Index Name"]] if "Index Name" in plan else []
    for child in plan.get("Plans", []):
        found += _indexes(child)
    return found


async def measure_scale(scale: str) -> tuple[list[list[str]], list[str]]:
    n, users = SCALES[scale]
    rng = np.random.default_rng(7)
    vectors, owners, centres = dataset(rng, n, users)
    with tempfile.TemporaryDirectory() as state:
        infra = EmbeddedInfra(Path(state))
        endpoints = infra.start()
        try:
            conn = await asyncpg.connect(endpoints.database_url, command_timeout=7200)
            await conn.execute(f"ALTER SYSTEM SET shared_buffers = '{SHARED_BUFFERS}'")
            await conn.close()
            infra.stop_component("postgres")
            infra.start_component("postgres")
            await migrate(endpoints.database_url)
            conn = await asyncpg.connect(endpoints.database_url, command_timeout=7200)
            await register_vector(conn)
            # Load without the migration's column, then apply the migration to the full table: its cost.
            await conn.execute("ALTER TABLE assets DROP COLUMN embedding_half")
            started = time.perf_counter()
            user_ids, ids = await load(conn, rng, vectors, owners, users)
            load_s = time.perf_counter() - started
            migration = next(sql for _, name, sql in migration_files() if name == HALF_MIGRATION)
            started = time.perf_counter()
            await conn.execute(migration)
            migration_s = time.perf_counter() - started
            await conn.execute("SET maintenance_work_mem = '6GB'")
            await conn.execute("SET max_parallel_maintenance_workers = 1")
            started = time.perf_counter()
            await conn.execute("CREATE INDEX assets_embedding_hnsw ON assets USING hnsw (embedding vector_cosine_ops)")
            build_s = time.perf_counter() - started
            await conn.execute("VACUUM ANALYZE assets")
            version = await conn.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            queries = make_queries(rng, vectors, owners, centres, user_ids, ids)
            pool = await create_pool(endpoints.database_url, min_size=1, max_size=1)
            try:
                measured = await measure_plans(conn, pool, queries)
                await conn.execute("DROP INDEX assets_embedding_hnsw")
                indexes = SearchIndexes(
                    pool, build_rows=search_plan.INDEX_BUILD_ROWS, drop_rows=search_plan.INDEX_DROP_ROWS
                )
                started = time.perf_counter()
                built = (await indexes.maintain()).built
                per_user_s = time.perf_counter() - started
                await conn.execute("VACUUM ANALYZE assets")
                per_user, cache, cache_s = await measure_per_user(conn, pool, queries)
                measured += per_user
                cached = cache.libraries
                layouts = sorted({(c.index.tuning.nlist, c.index.tuning.margin) for c in cached.values()})
                cached_rows = sum(c.index.rows for c in cached.values())
                cache_note = (
                    f"The in-memory indexes: {len(cached)} libraries ({cached_rows} rows, "
                    f"{sum(c.index.nbytes for c in cached.values()) / 2**20:.0f} MB) built one after another in "
                    f"{cache_s:.0f} s (read from Postgres, k-means, calibration); layouts (lists, margin): {layouts}."
                )
            finally:
                await pool.close()
            await conn.close()
        finally:
            infra.stop()
    sizes = np.bincount(owners)
    buckets = [q.bucket for q in queries]
    rows = []
    for label, latencies, recalls, short, index in measured:
        cells = [scale, label, f"{percentile(latencies, 0.5):.2f}", f"{percentile(latencies, 0.95):.2f}"]
        cells.append(f"{statistics.mean(recalls):.3f}")
        for b in range(len(BUCKETS)):
            mine = [i for i, qb in enumerate(buckets) if qb == b]
            p95 = percentile([latencies[i] for i in mine], 0.95) if mine else 0.0
            cells.append(f"{p95:.1f} / {statistics.mean(recalls[i] for i in mine):.3f}" if mine else "–")
        rows.append([*cells, str(sum(short)), index])
    counts = {label: int(((sizes >= lo) & (sizes < hi)).sum()) for lo, hi, label in BUCKETS}
    notes = [
        f"{scale}: {n} vectors, {users} users ({sizes.min()}–{sizes.max()} rows each, median {int(np.median(sizes))}; "
        + ", ".join(f"{c} users {label}" for label, c in counts.items())
        + f"), {QUERIES_PER_BUCKET} queries per size bucket. COPY of the shuffled rows {load_s:.0f} s; migration "
        f"0005 (generated halfvec column) on the loaded table {migration_s:.0f} s; HNSW (m 16, ef_construction 64, "
        f"1 parallel worker) built in {build_s:.0f} s. The service's maintenance pass built {len(built)} per-user "
        f"HNSW indexes (users with >= {search_plan.INDEX_BUILD_ROWS} rows; m {search_plan.INDEX_BUILD.m}, "
        f"ef_construction {search_plan.INDEX_BUILD.ef_construction}, CREATE INDEX "
        f"CONCURRENTLY one after another: two table scans each) in {per_user_s:.0f} s. pgvector {version}, "
        f"shared_buffers {SHARED_BUFFERS}, every plan after a warm pass. {cache_note}",
    ]
    return rows, notes


def embedding_rates() -> list[list[str]]:
    model = ClipEmbedder("ViT-B-32", None)  # random weights: the same compute as trained ones
    rng = np.random.default_rng(3)
    images = []
    for _ in range(64):
        out = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, size=(480, 640, 3), dtype=np.uint8)).save(out, "JPEG")
        images.append(out.getvalue())
    texts = [f"30 second ad for product number {i}, luxury feel, studio lighting" for i in range(256)]
    model.embed_images(images[:4])
    model.embed_texts(texts[:4])
    started = time.perf_counter()
    model.embed_images(images)
    image_rate = len(images) / (time.perf_counter() - started)
    started = time.perf_counter()
    model.embed_texts(texts)
    text_rate = len(texts) / (time.perf_counter() - started)
    blank = [""] * (len(HEADER) - 3)
    return [
        ["CPU", "CLIP ViT-B-32 images (640×480 JPEG, batches of 32)", f"{image_rate:.1f}/s", *blank],
        ["CPU", "CLIP ViT-B-32 texts (batches of 32)", f"{text_rate:.1f}/s", *blank],
    ]


HEADER = [
    "scale", "plan", "p50 ms", "p95 ms", "recall@10",
    *(f"users {label}: p95 ms / recall" for _, _, label in BUCKETS), "short", "index used",
]  # fmt: skip


def run(scales: list[str] | None = None) -> Report:
    chosen = scales or os.environ.get("ADGEN_BENCH_ASSETS_SCALES", DEFAULT_SCALES).split(",")
    report = Report(title="Assets: per-user vector search and CLIP throughput", header=HEADER)
    load_before = os.getloadavg()[1]
    for scale in chosen:
        rows, notes = asyncio.run(measure_scale(scale))
        report.rows += rows
        report.notes += notes
    report.rows += embedding_rates()
    report.notes += [
        "Recall@10 against exact NumPy top-10 over the user's own rows; 'short' counts queries that returned "
        "fewer than 10 rows although every user owns at least 20.",
        "'index used' is what EXPLAIN shows for a user of the largest bucket (there Postgres prefers a seq scan "
        "to the B-tree); adgen's row is search.nearest(), the service's own code and SQL, through an asyncpg pool.",
        "Embedding rows: CPU, fp32, one process (torch uses every core); the p50 column is items/s.",
        f"5-minute load average {load_before:.1f} at the start, {os.getloadavg()[1]:.1f} at the end, on "
        f"{os.cpu_count()} cores: above the core count, other processes shared the machine and the figures "
        "are noisier and slower than on an idle one.",
    ]
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="append", choices=sorted(SCALES), help="repeatable; default: all")
    print(run(parser.parse_args().scale).markdown())
