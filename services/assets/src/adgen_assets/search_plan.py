"""How a per-user vector search runs, and the thresholds that decide what counts as a match.

Every search is filtered to the caller's own assets, and it is exact. bench/bench_assets.py measured
the candidates side by side at 100 000 vectors / 100 users and 1 000 000 / 1 000 (bench/report.md):
an HNSW index over all users filters *after* its graph walk, so small users get few or wrong rows
(post-filter recall@10 0.20-0.54, 0.01-0.22 for users under 1 000 rows); iterative scans recover
only part of it (0.75-0.99) and are slowest exactly for small users (p95 up to 80 ms at 1M);
binary quantisation with a 400-row re-rank loses the order inside a cluster (0.85, 0.6 for large
users). The exact scan over the user's rows (B-tree on user_id) is the only plan with recall 1.0 at
both scales, and ranking by the half-precision copy kept inline in the row (`embedding_half`, no
TOAST fetch per row) makes it 2-3x faster than ranking by the full vector. The best
`rerank_depth` rows by half precision are re-scored at full precision: half precision only swaps
near-ties, so a small margin keeps the true top `limit` among them.

Latency grows with the user's library (~1-2 us per row on two shared cores): p95 is under 5 ms for
users under 1 000 rows (89 % of users at 1M), not above; no measured plan met both 5 ms and recall
0.99 for the larger libraries, and the service does not trade recall for it.
"""

from __future__ import annotations

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
