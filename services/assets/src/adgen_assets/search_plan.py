"""How a per-user vector search runs, and the thresholds that decide what counts as a match.

Every search is filtered to the caller's own assets. An HNSW index over all users finds the global
nearest neighbours first and filters afterwards: for a user who owns a small share of the rows, most
of the `ef_search` candidates belong to someone else and are dropped, so the user gets fewer than k
results or misses their true nearest ones. A user's library is small (hundreds to a few thousand
images), so the exact distance over that user's rows, found through the B-tree on user_id, is both
complete and cheap; bench/bench_assets.py measures the alternatives side by side.
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

# Exact, user-filtered nearest neighbours: the planner walks the B-tree on user_id and sorts that
# user's rows by cosine distance (`<=>`); score = 1 - distance.
NEAREST_SQL = (
    "SELECT *, 1 - (embedding <=> $2::vector) AS score FROM assets"
    " WHERE user_id = $1 AND embedding IS NOT NULL AND NOT (asset_id = ANY($3::uuid[]))"
    " ORDER BY embedding <=> $2::vector LIMIT $4"
)


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
