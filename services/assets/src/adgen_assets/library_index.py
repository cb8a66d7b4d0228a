"""Which of a large library's rows are worth scoring exactly: an in-memory inverted-file index over one
user's embeddings, tuned on the library itself (search_cache keeps these; search_plan says why).

The index (faiss IVF with 8-bit scalar quantisation, inner product on unit vectors) splits the library
into `nlist` lists around k-means centres and stores each vector in 512 bytes. A search compares the
query with the centres, scans the lists whose centre scores within `margin` of the best one, and
returns the best `count` rows by the quantised score; the caller re-scores those exactly. The lists
follow the library's own clusters: a query near one cluster scans that cluster's lists only, a query
between clusters (the centre of a mixed selection) scans the lists of each, because their centres score
alike. A fixed number of lists would be too many for the first or too few for the second.

How many lists, and the margin, are not constants: they depend on how clustered the library is.
`build` measures them on the library itself: calibration queries like the service's (its own vectors:
"similar to this"; the means of a few vectors of one list: a text query; the means of a few vectors
from anywhere: a mixed selection's centre), their exact top-10 by NumPy, and for each candidate `nlist`
the smallest margin whose recall@10 after the exact re-score reaches RECALL_TARGET. The build keeps the
layout that scans clearly fewer rows (FINER_GAIN).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import faiss
import numpy as np

DIMS = 512
K = 10  # calibration measures recall@10, the default search limit
NLISTS = (8, 16, 32, 64)
ROWS_PER_LIST = 500  # fewest rows per list worth the extra list
RECALL_TARGET = 0.99  # recall@10 of the worst kind of calibration query
BYTES_PER_ROW = DIMS + 8 + 16  # the 8-bit code, its id in the list, the asset id
CANDIDATES_PER_RESULT = 5  # rows returned for exact re-scoring, per row the search keeps
MIN_CANDIDATES = 100
CALIBRATION_QUERIES = 48  # of each kind
KINDS = 3  # own vectors, one list's means, mixed means (in that order)
# A finer layout is kept only if it scans this share of the coarser one's rows or less: calibration is a
# sample, and fewer, larger lists are the more robust bet at equal cost.
FINER_GAIN = 0.8
# Margins calibration tries (in inner-product units: a centre's score is the query's cosine with it
# times the centre's norm, below 1); the last scans every list.
MARGINS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 4.0)


@dataclass(frozen=True)
class Tuning:
    """The layout a build chose, and what calibration measured for it."""

    nlist: int
    margin: float  # lists whose centre scores within this of the best one are scanned
    recall: float  # recall@10 of the worst kind of calibration query, after the exact re-score
    scanned: float  # the share of the library a calibration query scanned, on average


def candidates_for(depth: int) -> int:
    """How many rows the quantised scan returns for a search that keeps `depth` after re-scoring."""
    return max(MIN_CANDIDATES, CANDIDATES_PER_RESULT * depth)


class LibraryIndex:
    """One library's rows (`ids`, in the order they were added) and their quantised index."""

    def __init__(self, ids: np.ndarray, index: faiss.IndexIVFScalarQuantizer, tuning: Tuning) -> None:
        self._ids = ids
        self._index = index
        self.tuning = tuning
        # One query's lists are scanned by several threads: the scan is the search's whole cost.
        self._index.parallel_mode = 1

    @property
    def rows(self) -> int:
        return len(self._ids)

    @property
    def nbytes(self) -> int:
        """Memory held: codes, list ids, centres and the row ids."""
        return self.rows * BYTES_PER_ROW + self._index.nlist * DIMS * 4

    @classmethod
    def build(cls, ids: Sequence[uuid.UUID], vectors: np.ndarray, seed: int = 0) -> LibraryIndex:
        """Trains and fills an index over `vectors` (unit rows, float32 or float16), with the layout that
        reaches RECALL_TARGET scanning the fewest rows (every list, if nothing else does)."""
        x = vectors  # kept as given (float16 from search_cache: half the memory); float32 a block at a time
        if x.ndim != 2 or x.shape[1] != DIMS or len(x) != len(ids) or len(x) < K + 1:
            raise ValueError(f"need more than {K} vectors of {DIMS} dims and one id each, got {x.shape}")
        rng = np.random.default_rng(seed)
        best: tuple[faiss.IndexIVFScalarQuantizer, Tuning] | None = None
        for nlist in [n for n in NLISTS if n * ROWS_PER_LIST <= len(x)] or [NLISTS[0]]:
            index = _trained(x, nlist, rng)
            tuning = _tune(index, x, *_calibration(x, index, rng))
            if best is not None and tuning.scanned > FINER_GAIN * best[1].scanned:
                break  # finer lists did not pay: the next ones will not either
            best = index, tuning
        assert best is not None
        row_ids = np.frombuffer(b"".join(u.bytes for u in ids), dtype="V16")
        return cls(row_ids, *best)

    def candidates(self, vector: np.ndarray, count: int) -> list[uuid.UUID]:
        """The `count` rows nearest to `vector` by the quantised score, best first."""
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, DIMS)
        _, found = _search(self._index, query, min(count, self.rows), self.tuning.margin)
        return [uuid.UUID(bytes=self._ids[i].tobytes()) for i in found[0] if i >= 0]


def _probed(index: faiss.IndexIVFScalarQuantizer, queries: np.ndarray, margin: float) -> tuple:
    """For each query, every list with its centre's score, -1 for a list whose centre scores more than
    `margin` below the best one (not scanned)."""
    scores, lists = index.quantizer.search(queries, index.nlist)
    return scores, np.where(scores >= scores[:, :1] - margin, lists, -1)


class _PreassignedSearch(Protocol):
    """`search_preassigned` as faiss's Python wrapper replaces it on import; faiss's stubs declare the
    raw SWIG method (counts and output buffers) instead."""

    def search_preassigned(
        self, x: np.ndarray, k: int, Iq: np.ndarray, Dq: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]: ...


def _search(
    index: faiss.IndexIVFScalarQuantizer, queries: np.ndarray, count: int, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Scans, for each query, the lists whose centre scores within `margin` of its best centre."""
    scores, lists = _probed(index, queries, margin)
    return cast(_PreassignedSearch, index).search_preassigned(queries, count, lists, scores)


def _trained(x: np.ndarray, nlist: int, rng: np.random.Generator) -> faiss.IndexIVFScalarQuantizer:
    quantizer = faiss.IndexFlatIP(DIMS)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, DIMS, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.nprobe = nlist  # _search chooses the lists: -1 marks one not to scan
    # k-means on up to 256 rows a list (what faiss would sample anyway); the 8-bit ranges on those too.
    sample = x[np.sort(rng.choice(len(x), size=min(len(x), 256 * nlist), replace=False))]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    for start, block in _blocks(x):
        index.add_with_ids(block, np.arange(start, start + len(block), dtype=np.int64))
    return index


def _blocks(x: np.ndarray, rows: int = 16_384) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, float32 copy) of each block of `rows` rows."""
    for start in range(0, len(x), rows):
        yield start, np.ascontiguousarray(x[start : start + rows], dtype=np.float32)


def _calibration(
    x: np.ndarray, index: faiss.IndexIVFScalarQuantizer, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Queries like the service's and their exact top-K: own vectors; unit means of 8 vectors of one list;
    unit means of 3 vectors from anywhere."""
    n = CALIBRATION_QUERIES
    assigned = np.concatenate([index.quantizer.search(block, 1)[1][:, 0] for _, block in _blocks(x)])
    one_list = []
    for chosen in rng.choice(assigned, size=n):
        members = np.flatnonzero(assigned == chosen)
        one_list.append(x[rng.choice(members, size=min(8, len(members)), replace=False)].mean(axis=0))
    mixed = x[rng.integers(0, len(x), size=(n, 3))].mean(axis=1)
    own = x[rng.choice(len(x), size=min(n, len(x)), replace=False)]
    queries = np.vstack([own, np.array(one_list), mixed]).astype(np.float32)
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    scores = np.empty((len(queries), len(x)), np.float32)
    for start, block in _blocks(x):
        scores[:, start : start + len(block)] = queries @ block.T
    return queries, np.argpartition(-scores, K, axis=1)[:, :K]  # the true top K, in no order


def _tune(index: faiss.IndexIVFScalarQuantizer, x: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> Tuning:
    """The smallest margin at which every kind of calibration query reaches RECALL_TARGET after re-scoring
    candidates_for(K + 10) rows exactly."""
    invlists = index.invlists
    assert invlists is not None  # a trained IVF index always has its lists
    sizes = np.array([invlists.list_size(i) for i in range(index.nlist)])
    count = min(candidates_for(2 * K), len(x))
    for margin in MARGINS:
        _, found = _search(index, queries, count, margin)
        hits = np.zeros(len(queries))
        for q, (query, rows, true) in enumerate(zip(queries, found, truth, strict=True)):
            rows = rows[rows >= 0]
            best = rows[np.argsort(-(x[rows] @ query))[:K]]
            hits[q] = len(set(best.tolist()) & set(true.tolist())) / K
        recall = float(min(kind.mean() for kind in np.array_split(hits, KINDS)))
        if recall >= RECALL_TARGET:
            break
    _, lists = _probed(index, queries, margin)
    scanned = np.where(lists >= 0, sizes[lists], 0).sum(axis=1).mean() / len(x)
    return Tuning(index.nlist, margin, recall, float(scanned))
