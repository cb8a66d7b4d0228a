"""Search limits, thresholds, the re-rank depth, the centroid and pgvector's text form."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from adgen_assets import search_plan
from adgen_kernel.errors import InvalidArgument


def test_defaults_apply_when_the_request_leaves_them_out() -> None:
    assert search_plan.plan(0, None, search_plan.SEARCH_MIN_SCORE) == search_plan.SearchPlan(10, 0.25)
    assert search_plan.plan(3, -0.5, search_plan.SIMILAR_MIN_SCORE) == search_plan.SearchPlan(3, -0.5)


@pytest.mark.parametrize(
    ("limit", "min_score", "field"), [(-1, None, "limit"), (101, None, "limit"), (5, 1.5, "min_score")]
)
def test_out_of_range_values_name_their_field(limit: int, min_score: float | None, field: str) -> None:
    with pytest.raises(InvalidArgument, match=field):
        search_plan.plan(limit, min_score, 0.25)


@pytest.mark.parametrize("limit", [1, 10, search_plan.MAX_LIMIT])
def test_half_precision_candidates_re_scored_at_full_precision_are_the_exact_top(limit: int) -> None:
    # A crowded library: 20 000 vectors in one tight cluster, where scores differ by ~1e-3 and half
    # precision (what embedding_half stores) reorders neighbours.
    rng = np.random.default_rng(5)
    centre = rng.normal(size=512)
    rows = centre / np.linalg.norm(centre) + rng.normal(scale=0.045, size=(20_000, 512))
    rows = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    for _ in range(20):
        query = rows[rng.integers(len(rows))] + rng.normal(scale=0.03, size=512).astype(np.float32)
        query /= np.linalg.norm(query)
        exact = np.argsort(-(rows @ query), kind="stable")[:limit]
        half = rows.astype(np.float16).astype(np.float32) @ query.astype(np.float16).astype(np.float32)
        candidates = np.argsort(-half, kind="stable")[: search_plan.rerank_depth(limit)]
        rescored = candidates[np.argsort(-(rows[candidates] @ query), kind="stable")][:limit]
        assert set(rescored) == set(exact)
        assert search_plan.rerank_depth(limit) < len(rows)  # a real cut, not the whole library


def test_the_rerank_depth_is_asked_only_for_a_resolved_limit() -> None:
    with pytest.raises(InvalidArgument, match="limit"):
        search_plan.rerank_depth(0)


unit_rows = arrays(np.float32, (3, 8), elements=st.floats(-1, 1, width=32)).filter(
    lambda a: bool(np.all(np.linalg.norm(a, axis=1) > 0.1)) and float(np.linalg.norm(a.mean(axis=0))) > 1e-3
)


@given(unit_rows)
def test_the_centroid_is_a_unit_vector_no_further_from_the_selection_than_its_members(rows: np.ndarray) -> None:
    rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    centre = search_plan.centroid(rows)
    assert np.linalg.norm(centre) == pytest.approx(1.0, abs=1e-5)
    # The centroid maximises the summed cosine similarity to the selection.
    assert float((rows @ centre).sum()) >= max(float((rows @ r).sum()) for r in rows) - 1e-4


def test_opposite_selections_have_no_centre() -> None:
    with pytest.raises(InvalidArgument, match="asset_ids"):
        search_plan.centroid(np.array([[1.0, 0.0], [-1.0, 0.0]], np.float32))


@given(arrays(np.float32, 512, elements=st.floats(-1, 1, width=32)))
def test_the_vector_text_form_round_trips(vector: np.ndarray) -> None:
    np.testing.assert_allclose(search_plan.parse_vector(search_plan.vector_literal(vector)), vector, rtol=1e-6)


# -- per-user HNSW indexes ---------------------------------------------------------------------------


def test_small_libraries_scan_exactly_and_indexed_ones_walk_their_own_index() -> None:
    user = uuid.uuid4()
    assert search_plan.scan(None, 20) == search_plan.Scan(None)
    indexed = search_plan.scan((search_plan.index_name(user), 5_000), 20)
    assert indexed == search_plan.Scan(search_plan.index_name(user), search_plan.ef_search(5_000, 20))
    assert indexed.index is not None and search_plan.index_owner(indexed.index) == user
    widest = search_plan.index_name(user, search_plan.HnswBuild(m=100, ef_construction=1_000))
    assert len(widest) <= 63  # a Postgres identifier


def test_ef_search_grows_with_the_library_and_always_covers_the_rows_kept() -> None:
    sizes = [1_000, 9_999, 10_000, 50_000, 1_000_000]
    efs = [search_plan.ef_search(rows, 20) for rows in sizes]
    assert efs == sorted(efs) and efs[0] < efs[-1]
    assert search_plan.ef_search(1_000, 110) >= 220  # limit 100 + margin: twice the rows kept
    assert search_plan.ef_search(10**7, 10_000) == search_plan.EF_SEARCH_MAX


def test_only_names_this_module_made_are_per_user_indexes() -> None:
    user = uuid.uuid4()
    assert search_plan.index_owner(search_plan.index_name(user)) == user
    other_build = search_plan.index_name(user, search_plan.HnswBuild(m=8, ef_construction=32))
    assert other_build != search_plan.index_name(user) and search_plan.index_owner(other_build) == user
    assert search_plan.index_owner(f"assets_hnsw_{user.hex}") == user  # the first version's, untagged
    for other in (
        "assets_pkey",
        "assets_user_created",
        f"assets_hnsw_{{{user}}}",
        f"assets_hnsw_m16_{user.hex}",
        f"assets_hnsw_x_{user.hex}",
        "assets_hnsw_xyz",
        "assets_hnsw_",
    ):
        assert search_plan.index_owner(other) is None


def test_index_changes_build_the_missing_drop_the_shrunk_the_gone_and_the_invalid() -> None:
    big, grown, shrunk, middling, gone, broken = (uuid.uuid4() for _ in range(6))
    name = search_plan.index_name
    rows = {big: 50_000, grown: 1_200, shrunk: 100, middling: 700, broken: 3_000}
    existing = {
        name(big): True,
        name(shrunk): True,
        name(middling): True,  # between the thresholds: kept, not rebuilt
        name(gone): True,  # a deleted user's
        name(broken): False,  # an interrupted build
        "assets_user_created": True,  # not ours
    }
    changes = search_plan.index_changes(rows, existing, build_rows=1_000, drop_rows=500)
    assert changes.build == [broken, grown]  # largest library first
    assert changes.drop == sorted([name(shrunk), name(gone), name(broken)])
    assert changes.retire == []
    # Nothing left to do once that is applied.
    after = {name(big): True, name(middling): True, name(broken): True, name(grown): True}
    assert search_plan.index_changes(rows, after, 1_000, 500) == search_plan.IndexChanges([], [], [])
    with pytest.raises(ValueError, match="drop_rows"):
        search_plan.index_changes(rows, existing, build_rows=100, drop_rows=500)


def test_indexes_built_with_other_parameters_are_replaced_new_one_first() -> None:
    big, middling, shrunk, both, broken = (uuid.uuid4() for _ in range(5))
    name = search_plan.index_name
    old = search_plan.HnswBuild(search_plan.INDEX_BUILD.m * 2, search_plan.INDEX_BUILD.ef_construction)
    rows = {big: 50_000, middling: 700, shrunk: 100, both: 9_000, broken: 3_000}
    existing = {
        f"assets_hnsw_{big.hex}": True,  # the first version's name: pgvector's default parameters
        name(middling, old): True,  # between the thresholds, still indexed: replaced as well
        name(shrunk, old): True,  # too small for any index now: just dropped
        name(both, old): True,  # its replacement is already built (a pass stopped before retiring)
        name(both): True,
        name(broken, old): False,  # interrupted: dropped before the build
    }
    changes = search_plan.index_changes(rows, existing, build_rows=1_000, drop_rows=500)
    assert changes.build == [big, broken, middling]
    assert changes.drop == sorted([name(shrunk, old), name(broken, old)])
    assert changes.retire == sorted([f"assets_hnsw_{big.hex}", name(middling, old), name(both, old)])
    after = {name(u): True for u in (big, middling, both, broken)}
    assert search_plan.index_changes(rows, after, 1_000, 500) == search_plan.IndexChanges([], [], [])
