"""The colour grades adgen ships: made from a few grading parameters, stored as 3D LUTs, applied fast.

Decisions made here:

* **A grade is a handful of numbers**, not a hand-painted LUT: lift/gamma/gain per channel, white
  balance (warmth), an S-shaped contrast curve around mid grey and saturation around Rec. 709
  luma, applied in that order to sRGB code values in [0, 1]. ``grade_lut`` samples that function
  on a 33³ lattice; the shipped ``luts/*.cube`` files are its output (``python -m adgen_refine.luts``
  writes them), so a reviewer can read the intent here and any grading tool can read the files.
* **.cube (Resolve/Adobe) is the file format**: red varies fastest, domain [0, 1].
* **Application is trilinear interpolation.** ``apply_lut`` is the direct, vectorised form. For
  streaming video, ``GradeTable`` evaluates the same trilinear interpolation once for every 8-bit
  input (trilinear is separable, so the 33³ → 256³ expansion is three small matrix products) and
  then grades a frame with one table lookup per pixel — the same result, a few milliseconds per
  1080p frame instead of a few hundred.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final

import numpy as np

LUT_SIZE: Final = 33
_REC709_LUMA: Final = np.array([0.2126, 0.7152, 0.0722], np.float32)
_TABLE_SLAB: Final = 32

Triple = tuple[float, float, float]


@dataclass(frozen=True)
class Grade:
    """The grading parameters; the defaults change nothing."""

    lift: Triple = (0.0, 0.0, 0.0)
    """Raises the blacks per channel (0 = none; 0.05 lifts black to 5 %)."""
    gamma: Triple = (1.0, 1.0, 1.0)
    """Mid-tone power per channel (> 1 brightens the mids)."""
    gain: Triple = (1.0, 1.0, 1.0)
    """White point per channel."""
    warmth: float = 0.0
    """White balance: > 0 pushes toward amber (red up, blue down), < 0 toward blue."""
    contrast: float = 0.0
    """S-curve strength in [0, 1] around mid grey; 0 is linear, black, grey and white stay fixed."""
    saturation: float = 1.0
    """Chroma around Rec. 709 luma; 0 is greyscale."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.contrast <= 1.0:
            raise ValueError(f"contrast must be in [0, 1] (a monotonic curve), got {self.contrast}")
        if min(self.gamma) <= 0 or min(self.gain) <= 0:
            raise ValueError("gamma and gain must be positive")
        if self.saturation < 0:
            raise ValueError(f"saturation must be >= 0, got {self.saturation}")

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Grade an (..., 3) array of values in [0, 1]."""
        x = np.asarray(rgb, np.float32)
        lift, gamma, gain = (np.array(v, np.float32) for v in (self.lift, self.gamma, self.gain))
        x = np.clip(gain * (x + lift * (1.0 - x)), 0.0, 1.0) ** (1.0 / gamma)
        balance = np.array([1.0 + 0.12 * self.warmth, 1.0 + 0.02 * self.warmth, 1.0 - 0.12 * self.warmth], np.float32)
        x = np.clip(x * balance, 0.0, 1.0)
        x = x + self.contrast * (x * x * (3.0 - 2.0 * x) - x)
        luma = (x @ _REC709_LUMA)[..., None]
        x = luma + self.saturation * (x - luma)
        return np.clip(x, 0.0, 1.0).astype(np.float32)


# One grade per style family; `grade_choice` decides which family a Spec belongs to.
GRADES: Final[Mapping[str, Grade]] = MappingProxyType(
    {
        "identity": Grade(),
        # Amber highlights, gently lifted warm shadows, a filmic S-curve, slightly held-back chroma.
        "cinematic_warm": Grade(
            lift=(0.02, 0.012, 0.0),
            gamma=(1.02, 1.0, 0.97),
            gain=(1.0, 0.98, 0.94),
            warmth=0.4,
            contrast=0.35,
            saturation=0.95,
        ),
        # Soft, low-chroma, milky blacks: restraint reads as luxury.
        "elegant_muted": Grade(
            lift=(0.035, 0.035, 0.04),
            gamma=(1.0, 1.0, 1.0),
            gain=(0.97, 0.97, 0.96),
            warmth=0.08,
            contrast=0.2,
            saturation=0.72,
        ),
        # Punchy chroma and contrast with bright mids for energetic, colourful ads.
        "modern_vibrant": Grade(gamma=(1.05, 1.05, 1.05), warmth=0.05, contrast=0.3, saturation=1.3),
        # A light touch: a little contrast and chroma, neutral balance.
        "clean_neutral": Grade(gamma=(1.02, 1.02, 1.02), contrast=0.12, saturation=1.05),
    }
)


def grade_lut(grade: Grade, size: int = LUT_SIZE) -> np.ndarray:
    """The grade sampled on a ``size``³ lattice: shape (size, size, size, 3) indexed [r, g, b]."""
    axis = np.linspace(0.0, 1.0, size, dtype=np.float32)
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    return grade(np.stack([r, g, b], axis=-1))


def write_cube(lut: np.ndarray, path: Path, title: str) -> None:
    size = _check_lut(lut)
    lines = [f'TITLE "{title}"', f"LUT_3D_SIZE {size}", "DOMAIN_MIN 0.0 0.0 0.0", "DOMAIN_MAX 1.0 1.0 1.0"]
    # .cube order: red fastest, then green, then blue.
    rows = lut.transpose(2, 1, 0, 3).reshape(-1, 3)
    lines += [f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in rows]
    path.write_text("\n".join(lines) + "\n")


def read_cube(text: str) -> np.ndarray:
    """A 3D .cube file as an array indexed [r, g, b]; 1D LUTs and other domains are refused."""
    size = 0
    rows: list[list[float]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("TITLE"):
            continue
        word, *rest = line.split()
        if word == "LUT_3D_SIZE":
            size = int(rest[0])
        elif word == "LUT_1D_SIZE":
            raise ValueError("a 1D .cube LUT is not a colour grade; expected LUT_3D_SIZE")
        elif word in ("DOMAIN_MIN", "DOMAIN_MAX"):
            expected = 0.0 if word == "DOMAIN_MIN" else 1.0
            if [float(v) for v in rest] != [expected] * 3:
                raise ValueError(f"line {number}: only the domain [0, 1] is supported, got {word} {rest}")
        else:
            try:
                values = [float(v) for v in line.split()]
            except ValueError:
                raise ValueError(f"line {number}: unknown keyword {word!r}") from None
            if len(values) != 3:
                raise ValueError(f"line {number}: expected three values, got {len(values)}")
            rows.append(values)
    if size < 2:
        raise ValueError("missing LUT_3D_SIZE (at least 2)")
    if len(rows) != size**3:
        raise ValueError(f"LUT_3D_SIZE {size} needs {size**3} entries, found {len(rows)}")
    return np.array(rows, np.float32).reshape(size, size, size, 3).transpose(2, 1, 0, 3).copy()


def apply_lut(image: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Grade an 8-bit RGB image by trilinear interpolation in ``lut``; rounded back to 8 bits."""
    size = _check_lut(lut)
    position = image.astype(np.float32) * ((size - 1) / 255.0)
    low = np.minimum(position.astype(np.int32), size - 2)
    frac = position - low
    r0, g0, b0 = low[..., 0], low[..., 1], low[..., 2]
    fr, fg, fb = frac[..., 0:1], frac[..., 1:2], frac[..., 2:3]
    out = np.zeros(image.shape, np.float32)
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dg, wg in ((0, 1 - fg), (1, fg)):
            for db, wb in ((0, 1 - fb), (1, fb)):
                out += wr * wg * wb * lut[r0 + dr, g0 + dg, b0 + db]
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class GradeTable:
    """A LUT expanded to every 8-bit input: grading a frame is one lookup per pixel.

    Each entry packs the graded R, G, B bytes (and a zero byte) into one uint32, so a lookup
    returns a whole pixel and the result can be viewed as RGBA without copying.
    """

    packed: np.ndarray = field(repr=False)

    @classmethod
    def from_lut(cls, lut: np.ndarray) -> GradeTable:
        size = _check_lut(lut)
        weights = _linear_weights(size)
        along_b = np.einsum("vk,rgkc->rgvc", weights, lut, optimize=True)
        along_g = np.einsum("vk,rkbc->rvbc", weights, along_b, optimize=True).reshape(size, -1)
        packed = np.empty(256**3, np.uint32)
        for start in range(0, 256, _TABLE_SLAB):
            slab = (weights[start : start + _TABLE_SLAB] @ along_g).reshape(-1, 3)
            rgb = np.clip(np.rint(slab * 255.0), 0, 255).astype(np.uint32)
            packed[start * 65536 : (start + _TABLE_SLAB) * 65536] = rgb[:, 0] | (rgb[:, 1] << 8) | (rgb[:, 2] << 16)
        return cls(packed)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Grade an (H, W, 3) uint8 RGB image; returns (H, W, 4) RGBA with alpha 0 (a fresh array)."""
        index = image[..., 0].astype(np.uint32) << 16
        index |= image[..., 1].astype(np.uint32) << 8
        index |= image[..., 2]
        return self._lookup(index)

    def apply_bgra(self, image: np.ndarray) -> np.ndarray:
        """Grade an (H, W, 4) uint8 BGRA image (what a decoder hands out cheaply): its pixels, read as
        little-endian 32-bit words, already are the table index once the alpha byte is masked off.
        Returns (H, W, 4) RGBA with alpha 0, the same as ``apply`` on the RGB picture."""
        if image.ndim != 3 or image.shape[2] != 4 or image.dtype != np.uint8:
            raise ValueError(f"expected (H, W, 4) uint8 BGRA, got {image.shape} {image.dtype}")
        words = np.ascontiguousarray(image).view(np.uint32)[..., 0]
        if sys.byteorder != "little":
            words = words.byteswap()
        return self._lookup(words & 0x00FFFFFF)

    def _lookup(self, index: np.ndarray) -> np.ndarray:
        graded = np.take(self.packed, index)
        if sys.byteorder != "little":
            graded = graded.byteswap()
        return graded.view(np.uint8).reshape(*index.shape[:2], 4)


@cache
def shipped_lut(name: str) -> np.ndarray:
    """One of the LUTs in ``luts/`` by family name."""
    if name not in GRADES:
        raise ValueError(f"no LUT named {name!r}; shipped: {sorted(GRADES)}")
    return read_cube(resources.files("adgen_refine").joinpath("luts", f"{name}.cube").read_text())


@cache
def shipped_table(name: str) -> GradeTable:
    """The expanded table of a shipped LUT, built once per process (a second or two)."""
    return GradeTable.from_lut(shipped_lut(name))


def _linear_weights(size: int) -> np.ndarray:
    """(256, size): for each 8-bit value, its linear-interpolation weights on the lattice axis."""
    position = np.arange(256, dtype=np.float64) * ((size - 1) / 255.0)
    low = np.minimum(position.astype(np.int64), size - 2)
    frac = position - low
    weights = np.zeros((256, size), np.float64)
    weights[np.arange(256), low] = 1.0 - frac
    weights[np.arange(256), low + 1] += frac
    return weights.astype(np.float32)


def _check_lut(lut: np.ndarray) -> int:
    size = lut.shape[0]
    if lut.ndim != 4 or lut.shape != (size, size, size, 3) or size < 2:
        raise ValueError(f"a 3D LUT has shape (n, n, n, 3) with n >= 2, got {lut.shape}")
    return size


def write_shipped(folder: Path) -> list[Path]:
    """(Re)write every shipped LUT from its grade."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, grade in GRADES.items():
        path = folder / f"{name}.cube"
        write_cube(grade_lut(grade), path, f"adgen {name}")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_shipped(Path(__file__).resolve().parent / "luts"):
        print(written_path.name)
