"""How a per-user vector search runs, and the thresholds that decide what counts as a match.

Every search is filtered to the caller's own assets. bench/bench_assets.py measures the candidates
side by side at 100 000 vectors / 100 users and 1 000 000 / 1 000 (bench/report.md):

* An HNSW index over all users filters *after* its graph walk, so small users get few or wrong rows
  (post-filter recall@10 0.01-0.54); iterative scans recover only part of it (0.75-0.99) and are
  slowest exactly for small users (p95 up to 80 ms at 1M); binary quantisation with a 400-row
  re-rank loses the order inside a cluster (0.6 for large users).
* The exact scan over the user's rows (B-tree on user_id), ranked by the half-precision copy kept
  inline in the row (`embedding_half`) and the best `rerank_depth` re-scored at full precision, has
  recall 1.0 but costs ~1-2 us per row: under 5 ms p95 only for libraries under ~1 000 rows.
* A partial HNSW index over one user's rows (`search_indexes` builds it once a library passes
  `INDEX_BUILD_ROWS`) has no filter to lose rows to: its graph holds only that user's vectors, so a
  walk with a generous `ef_search` finds the true neighbours, and latency grows with log(rows).

So: libraries under the threshold take the exact plan; larger ones with a ready index take the
index, walked with `ef_search(rows)` and its best `rerank_depth` re-scored at full precision. The
planner uses a partial index only when it sees the user id at plan time, so that query runs with
`plan_cache_mode = force_custom_plan` (the id stays a bound parameter). A library that passed the
threshold before its index is built keeps the exact plan: slower, never less correct.

Measured at 1M (one run, 2 shared cores under load): p95 ms / recall@10 for libraries < 1k, 1k-10k
and >= 10k rows 3.1 / 1.000, 5.2 / 1.000, 17.5 / 0.990, against 5.2, 24.1 and 239.1 ms for the exact
plan alone. The largest libraries miss 5 ms: recall 0.99 on the bench's vectors needs ef_search 300-500.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from adgen_kernel.errors import InvalidArgument

SEARCH_MIN_SCORE = 0.25  # CLIP text->image similarities of real matches sit around 0.25-0.35
SIMILAR_MIN_SCORE = 0.70
NEAR_DUPLICATE_SCORE = 0.95
DEFAULT_LIMIT = 10
MAX_LIMIT = 100

# Candidates ranked by half precision beyond the ones asked for, re-scored at full precision. The
# halfvec order alone measured recall@10 0.997-1.0: a swap needs two scores within ~1e-3 of each
# other, so the true top `limit` sit within a few places of where half precision ranks them.
RERANK_MARGIN = 10


# A user's library gets its own HNSW index from this many embedded rows, and loses it below
# INDEX_DROP_ROWS (apart, so that a library around the threshold is not rebuilt back and forth).
INDEX_BUILD_ROWS = 1_000
INDEX_DROP_ROWS = 500
INDEX_PREFIX = "assets_hnsw_"
EF_SEARCH_MAX = 1_000  # pgvector's ceiling
EF_BY_ROWS = ((5_000, 100), (20_000, 200), (50_000, 300), (2**63, 500))  # (libraries under, ef_search)


@dataclass(frozen=True)
class SearchPlan:
    limit: int
    min_score: float


def plan(limit: int, min_score: float | None, default_min_score: float) -> SearchPlan:
    """The limit (0 = default) and threshold of one search; out-of-range values name their field."""
    if limit < 0 or limit > MAX_LIMIT:
        raise InvalidArgument(f"limit must be between 0 and {MAX_LIMIT}, got {limit}")
    threshold = default_min_score if min_score is None else min_score
    if not -1.0 <= threshold <= 1.0:
        raise InvalidArgument(f"min_score must be between -1 and 1, got {threshold}")
    return SearchPlan(limit or DEFAULT_LIMIT, threshold)


def rerank_depth(limit: int) -> int:
    """How many of the user's rows, nearest by half precision, are re-scored at full precision."""
    if limit < 1:
        raise InvalidArgument(f"limit must be at least 1, got {limit}")
    return limit + RERANK_MARGIN


def centroid(vectors: np.ndarray) -> np.ndarray:
    """The unit mean direction of a selection: what "more like these" searches from."""
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm < 1e-6:
        raise InvalidArgument("asset_ids: the selected images point in opposite directions; there is no centre")
    return mean / norm


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form, so no driver codec is needed."""
    return "[" + ",".join(f"{float(x):.8g}" for x in vector) + "]"


def parse_vector(text: str) -> np.ndarray:
    return np.array([float(x) for x in text.strip("[]").split(",")], dtype=np.float32)


@dataclass(frozen=True)
class Scan:
    """How one search reads the user's rows: their own HNSW index (with `ef_search`) or exactly."""

    index: str | None
    ef_search: int = 0


def scan(user: uuid.UUID, rows_indexed: int | None, depth: int) -> Scan:
    """The index path for a user whose index is ready (`rows_indexed` when it was built), else exact."""
    if rows_indexed is None:
        return Scan(None)
    return Scan(index_name(user), ef_search(rows_indexed, depth))


def ef_search(rows: int, depth: int) -> int:
    """The HNSW candidate list for a library of `rows`, never fewer than twice the rows the search keeps.
    Measured on the bench's clustered vectors at 1M rows: recall@10 for 1k-10k-row libraries 0.999 at
    ef_search 100; for 10k-180k rows 0.954 at 100, 0.977 at 200, 0.989 at 300, 0.995 at 500."""
    base = next(ef for limit, ef in EF_BY_ROWS if rows < limit)
    return min(EF_SEARCH_MAX, max(base, 2 * depth))


def index_name(user: uuid.UUID) -> str:
    return f"{INDEX_PREFIX}{user.hex}"


def index_owner(name: str) -> uuid.UUID | None:
    """The user a per-user index belongs to, from its name; None for any other index."""
    if not name.startswith(INDEX_PREFIX):
        return None
    suffix = name.removeprefix(INDEX_PREFIX)
    try:
        owner = uuid.UUID(hex=suffix)
    except ValueError:
        return None
    return owner if owner.hex == suffix else None  # only names this module made


@dataclass(frozen=True)
class IndexChanges:
    build: list[uuid.UUID]  # users to build an index for, largest library first
    drop: list[str]  # index names to drop


def index_changes(
    embedded_rows: Mapping[uuid.UUID, int],
    existing: Mapping[str, bool],
    build_rows: int = INDEX_BUILD_ROWS,
    drop_rows: int = INDEX_DROP_ROWS,
) -> IndexChanges:
    """What the maintenance pass changes. `embedded_rows`: each user's embedded assets (users with
    none may be absent); `existing`: the per-user indexes in the catalog, name -> valid. An invalid
    index (a build that was interrupted) is dropped and built again; an index of a user who shrank
    below `drop_rows`, or is gone, is dropped."""
    if not 0 <= drop_rows <= build_rows:
        raise ValueError(f"drop_rows {drop_rows} must be between 0 and build_rows {build_rows}")
    drop = []
    kept = set()
    for name, valid in existing.items():
        owner = index_owner(name)
        if owner is None:
            continue
        if valid and embedded_rows.get(owner, 0) >= drop_rows:
            kept.add(owner)
        else:
            drop.append(name)
    build = [u for u, n in embedded_rows.items() if n >= build_rows and u not in kept]
    build.sort(key=lambda u: -embedded_rows[u])
    return IndexChanges(build, sorted(drop))
