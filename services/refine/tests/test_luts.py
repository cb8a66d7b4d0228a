"""The shipped grades: files match their parameters, identity is lossless, warm is warm, lookup is trilinear."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adgen_refine.grade_choice import choose_grade
from adgen_refine.luts import (
    GRADES,
    LUT_SIZE,
    Grade,
    GradeTable,
    apply_lut,
    grade_lut,
    read_cube,
    shipped_lut,
    shipped_table,
    write_cube,
)

RNG = np.random.default_rng(7)
NOISE = RNG.integers(0, 256, (90, 160, 3), dtype=np.uint8)


@pytest.mark.parametrize("name", sorted(GRADES))
def test_each_shipped_file_is_its_grade_on_a_33_lattice(name: str) -> None:
    lut = shipped_lut(name)
    assert lut.shape == (LUT_SIZE, LUT_SIZE, LUT_SIZE, 3)
    assert np.abs(lut - grade_lut(GRADES[name])).max() < 1e-5


def test_cube_round_trip_keeps_the_red_fastest_order(tmp_path: Path) -> None:
    lut = grade_lut(GRADES["cinematic_warm"], size=5)
    path = tmp_path / "warm.cube"
    write_cube(lut, path, "warm")
    text = path.read_text()
    assert "LUT_3D_SIZE 5" in text
    rows = [line for line in text.splitlines() if line[:1].isdigit()]
    # The second entry is r=1, g=0, b=0.
    assert [float(v) for v in rows[1].split()] == pytest.approx(lut[1, 0, 0].tolist(), abs=1e-6)
    assert np.abs(read_cube(text) - lut).max() < 1e-6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("LUT_1D_SIZE 2\n0 0 0\n1 1 1\n", "1D"),
        ("LUT_3D_SIZE 2\n0 0 0\n", "needs 8 entries"),
        ("LUT_3D_SIZE 2\nDOMAIN_MAX 2 2 2\n", "domain"),
        ("LUT_3D_SIZE 2\nWHAT 1\n", "unknown keyword"),
    ],
)
def test_bad_cube_files_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_cube(text)


def test_identity_changes_nothing() -> None:
    assert np.abs(apply_lut(NOISE, shipped_lut("identity")).astype(int) - NOISE).max() <= 1
    assert np.abs(shipped_table("identity").apply(NOISE)[..., :3].astype(int) - NOISE).max() <= 1


@pytest.mark.parametrize("name", ["cinematic_warm", "modern_vibrant", "elegant_muted"])
def test_the_table_is_the_trilinear_interpolation(name: str) -> None:
    lut = shipped_lut(name)
    direct = apply_lut(NOISE, lut).astype(int)
    assert np.abs(shipped_table(name).apply(NOISE)[..., :3] - direct).max() <= 1
    # At lattice points trilinear interpolation returns the lattice value itself.
    node = np.array([[[0, 255, 128]]], np.uint8)  # 128 is not a node; 0 and 255 are
    assert np.abs(apply_lut(node, lut)[0, 0, :2] / 255 - lut[0, -1, 16, :2]).max() < 0.02


def test_warm_raises_red_over_blue_and_muted_lowers_saturation() -> None:
    grey = np.full((4, 4, 3), 128, np.uint8)
    warm = shipped_table("cinematic_warm").apply(grey)[0, 0, :3].astype(float)
    assert warm[0] / warm[2] > 1.15
    colourful = np.full((4, 4, 3), (200, 80, 60), np.uint8)

    def spread(image: np.ndarray) -> float:
        return float(image[..., :3].max(axis=-1).mean() - image[..., :3].min(axis=-1).mean())

    assert spread(shipped_table("elegant_muted").apply(colourful)) < 0.85 * spread(colourful)
    assert spread(shipped_table("modern_vibrant").apply(colourful)) > spread(colourful)


def test_contrast_curve_keeps_black_grey_and_white() -> None:
    curve = Grade(contrast=1.0)
    values = curve(np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [0.25, 0.25, 0.25]], np.float32))
    assert values[:3, 0].tolist() == pytest.approx([0.0, 0.5, 1.0], abs=1e-6)
    assert values[3, 0] < 0.25
    with pytest.raises(ValueError, match="contrast"):
        Grade(contrast=1.5)


def test_table_size_is_checked() -> None:
    with pytest.raises(ValueError, match="shape"):
        GradeTable.from_lut(np.zeros((4, 4, 3, 3), np.float32))


@pytest.mark.parametrize(
    ("mood", "aesthetic", "archetype", "family"),
    [
        ("warm", "", "feature_demo", "cinematic_warm"),
        ("luxurious", "vibrant", "energetic_lifestyle", "elegant_muted"),
        ("", "bold, vibrant palette", "luxury_showcase", "modern_vibrant"),
        ("unknown", "plain words", "minimalist_reveal", "clean_neutral"),
        ("", "", "emotional_storytelling", "cinematic_warm"),
        ("", "", "nobody_knows", "clean_neutral"),
    ],
)
def test_grade_follows_mood_then_aesthetic_then_archetype(
    mood: str, aesthetic: str, archetype: str, family: str
) -> None:
    assert choose_grade(mood=mood, aesthetic=aesthetic, archetype=archetype) == family
    assert family in GRADES
