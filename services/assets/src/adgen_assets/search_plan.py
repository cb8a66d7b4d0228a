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
  walk with a generous `ef_search` finds the true neighbours. Its cost is the graph elements the walk
  visits (~1-1.5 us each, measured as buffer hits), and on the bench's vectors (isotropic 512-dim
  noise around 4 centres per user: the true neighbours are nearly equidistant from the query, so the
  graph has little locality to follow) recall 0.99 takes ~2 000 visits at 10k rows, ~3 000 at 20k,
  ~7 700 at 50k and ~13 000 at 150k.

So: libraries under the threshold take the exact plan; larger ones with a ready index take the
index, walked with `ef_search(rows)` and its best `rerank_depth` re-scored at full precision; from
MEMORY_MIN_ROWS, where the walk stops meeting 5 ms, the replica's in-memory index of the library
(library_index, search_cache) proposes candidates and Postgres re-scores them (docs/architecture.md,
"Large libraries"). The planner uses a partial index only when it sees the user id at plan time,
so that query runs with `plan_cache_mode = force_custom_plan` (the id stays a bound parameter). A
library that passed a threshold before its index is built keeps the plan below it: slower, never
less correct.

How the graph is built (`INDEX_BUILD`) was measured against the walk on single libraries of 5k-150k
rows (recall@10 after the re-score, 100 queries each, load average 0.5-2 on 2 cores). m 16, 24 and
32 with ef_construction 64, 128 and 200 all lie on one curve of recall against elements visited: a
larger m reaches a recall at a smaller ef_search, but visits as many elements to get there, so no
build bought latency at equal recall (at 150k rows and 7 400-8 600 visits: 0.950 for m 16 / 64,
0.964 for 24 / 64, 0.956 for 32 / 64, 0.958 for 32 / 128). ef_construction above 64 changed nothing
measurable. What m 32 does buy is reach: m 16 needs ef_search ~1 000 (pgvector's ceiling) for 0.99
at 150k rows (0.95 at 400), m 32 gets there at ~450. So m 32 / ef_construction 64: 2.3x m 16's
build time (150k rows: 251 s against 109 s, one core, 1 GB maintenance_work_mem), where m 32 / 128
took 443 s for the same recall.

The walk then meets 5 ms only up to ~20k rows: recall 0.99 costs ~11 ms at 50k and ~20 ms at 150k
of execution alone on the bench's 2 cores; hence the in-memory path from MEMORY_MIN_ROWS. The service
at 1M (bench/report.md, load average 1-2): p95 ms / recall@10 for libraries < 1k, 1k-10k and >= 10k
rows 3.1 / 1.000, 3.2 / 0.998 and 4.4 / 1.000 (20.0 / 0.999 for >= 10k through the HNSW walk; 194 ms
for the exact plan alone).
"""

from __future__ import annotations

import re
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
# From this many embedded rows a library is searched through the replica's in-memory index
# (search_cache): where the per-user HNSW walk stops meeting 5 ms at recall 0.99.
MEMORY_MIN_ROWS = 10_000


@dataclass(frozen=True)
class HnswBuild:
    """How a per-user HNSW graph is built: pgvector's `m` (links per node, twice that on the ground
    layer) and `ef_construction` (the candidate list while linking)."""

    m: int
    ef_construction: int

    @property
    def tag(self) -> str:
        return f"m{self.m}_e{self.ef_construction}"

    @property
    def options(self) -> str:
        """The index's WITH clause."""
        return f"m = {self.m}, ef_construction = {self.ef_construction}"


_TAG = re.compile(r"m[0-9]+_e[0-9]+")
INDEX_BUILD = HnswBuild(m=32, ef_construction=64)  # measured in the module docstring
EF_SEARCH_MAX = 1_000  # pgvector's ceiling
# (libraries under, ef_search) for INDEX_BUILD's graphs, see ef_search().
EF_BY_ROWS = ((10_000, 60), (20_000, 100), (35_000, 200), (50_000, 300), (100_000, 400), (2**63, 600))


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
    mean: np.ndarray = vectors.mean(axis=0)
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
    """How one search reads the user's rows: their own HNSW index (with `ef_search`), exactly, or the
    candidates of the replica's in-memory index of the library (search_cache) re-scored exactly."""

    index: str | None
    ef_search: int = 0
    in_memory: bool = False

    @property
    def kind(self) -> str:
        return "memory" if self.in_memory else "index" if self.index else "exact"

    @property
    def label(self) -> str:
        """The kind, or the index's name: what a trace shows."""
        return self.index or self.kind


IN_MEMORY = Scan(None, in_memory=True)


def scan(ready: tuple[str, int] | None, depth: int) -> Scan:
    """The index path for a user whose index is ready (`ready`: its name and the library's rows, as
    recorded by the maintenance pass), else the exact one."""
    if ready is None:
        return Scan(None)
    index, rows = ready
    return Scan(index, ef_search(rows, depth))


def ef_search(rows: int, depth: int) -> int:
    """The HNSW candidate list for a library of `rows`, never fewer than twice the rows the search keeps.
    The smallest that gave recall@10 >= 0.99 at the top of each band on the bench's vectors, m 32 /
    ef_construction 64 (100 queries each): 10k rows 0.994 at 60; 20k 0.998 at 100 (0.992 at 80); 35k
    0.995 at 200 (0.991 at 150); 50k 0.991 at 300, 0.995 at 400; 150k 0.989 at 400 (0.994 at 600 with
    ef_construction 128)."""
    base = next(ef for limit, ef in EF_BY_ROWS if rows < limit)
    return min(EF_SEARCH_MAX, max(base, 2 * depth))


def index_name(user: uuid.UUID, build: HnswBuild | None = None) -> str:
    """`assets_hnsw_<m>_<ef_construction>_<user hex>`: the name says how the graph was built, so that
    a change of INDEX_BUILD shows in the catalog as indexes to replace."""
    return f"{INDEX_PREFIX}{(build or INDEX_BUILD).tag}_{user.hex}"


def index_owner(name: str) -> uuid.UUID | None:
    """The user a per-user index belongs to, from its name; None for any other index. Names without a
    build tag (`assets_hnsw_<user hex>`) are the first version's, built with pgvector's defaults."""
    if not name.startswith(INDEX_PREFIX):
        return None
    tag, _, suffix = name.removeprefix(INDEX_PREFIX).rpartition("_")
    if tag and not _TAG.fullmatch(tag):
        return None
    try:
        owner = uuid.UUID(hex=suffix)
    except ValueError:
        return None
    return owner if owner.hex == suffix else None  # only names this module made


@dataclass(frozen=True)
class IndexChanges:
    build: list[uuid.UUID]  # users to build an index for, largest library first
    drop: list[str]  # index names to drop before the builds
    retire: list[str]  # indexes built otherwise than INDEX_BUILD, to drop once their replacement is built


def index_changes(
    embedded_rows: Mapping[uuid.UUID, int],
    existing: Mapping[str, bool],
    build_rows: int = INDEX_BUILD_ROWS,
    drop_rows: int = INDEX_DROP_ROWS,
) -> IndexChanges:
    """What the maintenance pass changes. `embedded_rows`: each user's embedded assets (users with
    none may be absent); `existing`: the per-user indexes in the catalog, name -> valid. An invalid
    index (a build that was interrupted) is dropped and built again; an index of a user who shrank
    below `drop_rows`, or is gone, is dropped. A valid index built with other parameters than
    INDEX_BUILD is replaced: the new one is built first and the old one retired after it, so that the
    library is never without an index meanwhile."""
    if not 0 <= drop_rows <= build_rows:
        raise ValueError(f"drop_rows {drop_rows} must be between 0 and build_rows {build_rows}")
    drop, retire = [], []
    kept, stale = set(), set()
    for name, valid in existing.items():
        owner = index_owner(name)
        if owner is None:
            continue
        if not valid or embedded_rows.get(owner, 0) < drop_rows:
            drop.append(name)
        elif name == index_name(owner):
            kept.add(owner)
        else:
            retire.append(name)
            stale.add(owner)
    build = [u for u, n in embedded_rows.items() if (n >= build_rows or u in stale) and u not in kept]
    build.sort(key=lambda u: -embedded_rows[u])
    return IndexChanges(build, sorted(drop), sorted(retire))
