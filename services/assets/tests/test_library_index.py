"""The in-memory library index: its candidates, re-scored exactly, hold the true top 10; calibration scans
only part of a clustered library and all of an unclustered one when that is what recall takes."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from adgen_assets import library_index
from adgen_assets.library_index import LibraryIndex, candidates_for


def clustered(rng: np.random.Generator, n: int, clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around `clusters` random centres with isotropic noise (the bench's shape), and the centres."""
    centres = rng.normal(size=(clusters, 512))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = centres[rng.integers(0, clusters, size=n)] + rng.normal(scale=0.045, size=(n, 512))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), centres


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def recall_at_10(index: LibraryIndex, ids: list[uuid.UUID], x: np.ndarray, queries: np.ndarray) -> float:
    """What the service does: the index's candidates, re-scored exactly, best 10 kept; against NumPy."""
    row = {u: i for i, u in enumerate(ids)}
    hits = 0
    for q in queries:
        rows = np.array([row[u] for u in index.candidates(q, candidates_for(20))])
        best = set(rows[np.argsort(-(x[rows] @ q))[:10]].tolist())
        hits += len(best & set(np.argsort(-(x @ q))[:10].tolist()))
    return hits / (10 * len(queries))


@pytest.mark.parametrize(("n", "clusters"), [(6_000, 4), (12_000, 12)])
def test_a_clustered_library_is_searched_in_part_and_keeps_its_true_neighbours(n: int, clusters: int) -> None:
    rng = np.random.default_rng(n)
    x, centres = clustered(rng, n, clusters)
    ids = [uuid.uuid4() for _ in range(n)]
    index = LibraryIndex.build(ids, x.astype(np.float16))  # what search_cache hands it: half precision
    assert index.rows == n
    assert index.tuning.recall >= library_index.RECALL_TARGET
    assert index.tuning.scanned < 0.6, index.tuning
    # Queries the calibration never saw, of each kind the service sends: a cluster's direction (a text
    # query), a library row (similar), the centre of three rows from anywhere (recommendations).
    kinds = {
        "text": unit(centres[rng.integers(0, clusters, 40)] + rng.normal(scale=0.03, size=(40, 512))),
        "similar": x[rng.integers(0, n, 40)],
        "mixed": unit(x[rng.integers(0, n, (40, 3))].mean(axis=1)),
    }
    for kind, queries in kinds.items():
        assert recall_at_10(index, ids, x, queries) >= 0.98, kind


def test_a_library_without_clusters_is_scanned_as_far_as_recall_needs() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5_000, 512)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = [uuid.uuid4() for _ in range(len(x))]
    index = LibraryIndex.build(ids, x)
    assert index.tuning.recall >= library_index.RECALL_TARGET  # by scanning most lists: nothing to skip
    assert index.tuning.scanned > 0.5, index.tuning
    assert recall_at_10(index, ids, x, x[:30]) >= 0.99


def test_candidates_are_the_library_ids_best_first() -> None:
    rng = np.random.default_rng(3)
    x, _ = clustered(rng, 1_000, 2)
    ids = [uuid.uuid4() for _ in range(len(x))]
    index = LibraryIndex.build(ids, x)
    found = index.candidates(x[17], 50)
    assert len(found) == 50 == len(set(found)) and set(found) <= set(ids)
    assert found[0] == ids[17]  # the row itself is its own nearest
    scores = x[[ids.index(u) for u in found]] @ x[17]
    assert np.all(np.diff(scores) <= 0.02)  # quantised order: best first, up to the 8-bit error
    everything = index.candidates(x[17], 5_000)  # more than the library: all the scanned lists hold
    assert everything[:50] == found and len(everything) == len(set(everything)) <= len(ids)
    assert index.nbytes >= len(ids) * 512


@pytest.mark.parametrize(
    ("ids", "shape"), [(3, (3, 512)), (20, (20, 256)), (20, (19, 512))], ids=["too few", "wrong dims", "ids mismatch"]
)
def test_an_unusable_library_is_refused(ids: int, shape: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="vectors of 512 dims"):
        LibraryIndex.build([uuid.uuid4() for _ in range(ids)], np.ones(shape, np.float32))


def test_candidates_grow_with_the_rows_kept() -> None:
    assert candidates_for(20) == library_index.MIN_CANDIDATES
    assert candidates_for(110) == 110 * library_index.CANDIDATES_PER_RESULT
