"""Exposure matching at intra-beat seams: the match, its limits and its ease-out."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from adgen_refine.seams import apply_match, channel_stats, match_exposure, seam_strength

RNG = np.random.default_rng(3)
SCENE = np.clip(RNG.normal(110, 30, (72, 128, 3)), 0, 255).astype(np.uint8)


def test_a_brighter_copy_is_matched_back() -> None:
    brighter = np.clip(SCENE.astype(int) * 1.1 + 25, 0, 255).astype(np.uint8)
    match = match_exposure(channel_stats(SCENE), channel_stats(brighter))
    fixed = apply_match(brighter, match, 1.0)
    assert np.abs(fixed.mean(axis=(0, 1)) - SCENE.mean(axis=(0, 1))).max() < 1.5
    assert np.abs(fixed.astype(int) - SCENE).mean() < 2.0
    assert np.array_equal(apply_match(brighter, match, 0.0), brighter)


def test_the_match_is_limited_so_different_content_survives() -> None:
    red, blue = np.full((8, 8, 3), (220, 30, 30), np.uint8), np.full((8, 8, 3), (30, 30, 220), np.uint8)
    match = match_exposure(channel_stats(red), channel_stats(blue))
    assert max(abs(o) for o in match.offset) <= 48
    assert all(2 / 3 <= g <= 1.5 for g in match.gain)


def test_strength_holds_through_the_overlap_then_eases_out() -> None:
    curve = [seam_strength(f, 12, 24) for f in range(40)]
    assert curve[:12] == [1.0] * 12
    tail = curve[12:37]
    assert all(a > b for a, b in itertools.pairwise(tail) if a > 0)
    assert 0 < curve[12] < 1 and curve[36] == 0.0 and curve[39] == 0.0
    assert max(abs(a - b) for a, b in itertools.pairwise(curve)) < 0.07


@pytest.mark.parametrize("frame", [0, 5, 100])
def test_no_ease_means_no_correction_after_the_overlap(frame: int) -> None:
    assert seam_strength(frame, 0, 0) == 0.0
