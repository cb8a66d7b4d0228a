"""What the studio renderer relies on from `cutout`: a product photo is cut out where that is safe,
framed where it is not, and never given a confident wrong mask.

The products are real photographs with a known outline: the espresso cup and saucer of
`skimage.data.coffee()` (CC0) inside an ellipse, and the cat of `skimage.data.chelsea()` inside the
silhouette of `skimage.data.horse()` (legs, ears and a tail: concave, thin parts). They are placed on
the backgrounds product photos come on (pure white, a lit grey studio sweep with a vignette, a soft
contact shadow and sensor noise) and on a busy one (another photograph), and every mask is measured
against the known outline by IoU.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from skimage import data as skimage_data

from adgen_storyboard.cutout import CONFIDENCE_MIN, Cutout, cut_out, detail_region
from adgen_storyboard.studio import decode_image

MIN_IOU = 0.9


def _soft_shape(draw, h: int, w: int, ss: int = 4) -> np.ndarray:
    """An anti-aliased float mask in [0, 1], drawn at `ss` times the size and averaged down."""
    big = np.zeros((h * ss, w * ss), np.uint8)
    draw(big, ss)
    return cv2.resize(big.astype(np.float32) / 255.0, (w, h), interpolation=cv2.INTER_AREA)


def coffee_product() -> tuple[np.ndarray, np.ndarray]:
    """The cup and saucer of the coffee photo inside an ellipse: (RGB float 400x600, alpha)."""
    photo = skimage_data.coffee().astype(np.float32) / 255.0
    h, w = photo.shape[:2]

    def ellipse(img: np.ndarray, ss: int) -> None:
        cv2.ellipse(img, (278 * ss, 230 * ss), (190 * ss, 150 * ss), -8, 0, 360, 255, -1, cv2.LINE_AA)

    return photo, _soft_shape(ellipse, h, w)


def cat_horse_product() -> tuple[np.ndarray, np.ndarray]:
    """The cat's fur inside the horse silhouette: (RGB float, alpha), the size of the chelsea photo."""
    photo = skimage_data.chelsea().astype(np.float32) / 255.0
    h, w = photo.shape[:2]
    horse = (~skimage_data.horse()).astype(np.float32)  # True is the background in skimage's horse
    horse = cv2.resize(horse, (round(horse.shape[1] * 0.7), round(horse.shape[0] * 0.7)), interpolation=cv2.INTER_AREA)
    alpha = np.zeros((h, w), np.float32)
    oy, ox = (h - horse.shape[0]) // 2, (w - horse.shape[1]) // 2
    alpha[oy : oy + horse.shape[0], ox : ox + horse.shape[1]] = horse
    return photo, alpha


def white(h: int, w: int) -> np.ndarray:
    return np.ones((h, w, 3), np.float32)


def grey_sweep(h: int, w: int, seed: int = 3) -> np.ndarray:
    """A lit seamless sweep: light grey at the top to mid grey at the bottom, a soft vignette, noise."""
    y = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    x = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
    tone = 0.88 - 0.3 * y
    vignette = 1.0 - 0.18 * (x * x + (2 * y - 1) ** 2) / 2
    rng = np.random.default_rng(seed)
    grey = tone * vignette + rng.normal(0.0, 0.008, (h, w)).astype(np.float32)
    return np.repeat(grey[..., None], 3, axis=2) * np.array([1.0, 0.99, 0.97], dtype=np.float32)


def busy(h: int, w: int) -> np.ndarray:
    """Another photograph behind the product: the astronaut's room, flag and shuttle."""
    return cv2.resize(skimage_data.astronaut(), (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def scene(
    product: tuple[np.ndarray, np.ndarray], background, size: tuple[int, int] = (720, 960), shadow: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The product centred low on a background of `size` (h, w): the uint8 RGB photo and the true mask."""
    photo, alpha = product
    h, w = size
    ph, pw = alpha.shape
    canvas = background(h, w).copy()
    oy, ox = (h - ph) // 2 + h // 10, (w - pw) // 2
    if shadow:  # a soft contact shadow on the floor under the product
        ys, xs = np.nonzero(alpha > 0.5)
        cy, cx, half = oy + ys.max(), ox + (xs.min() + xs.max()) / 2, (xs.max() - xs.min()) / 2
        shade: np.ndarray = np.zeros((h, w), np.float32)
        cv2.ellipse(shade, (round(cx), round(cy)), (round(half * 0.9), round(half * 0.12)), 0, 0, 360, 1.0, -1)
        shade = cv2.GaussianBlur(shade, (0, 0), half * 0.08)
        canvas *= 1.0 - 0.35 * shade[..., None]
    full = np.zeros((h, w), np.float32)
    full[oy : oy + ph, ox : ox + pw] = alpha
    region = canvas[oy : oy + ph, ox : ox + pw]
    region[:] = region * (1 - alpha[..., None]) + photo * alpha[..., None]
    return (np.clip(canvas, 0, 1) * 255 + 0.5).astype(np.uint8), full >= 0.5


def placed_mask(cut: Cutout, photo: np.ndarray) -> np.ndarray:
    """The cut-out's mask back in the photo's frame: the crop is found where its pixels match."""
    mask = cut.mask
    ch, cw = mask.shape
    h, w = photo.shape[:2]
    solid = mask > 0.99
    if ch == h and cw == w:
        return mask >= 0.5
    # the crop sits where its solid pixels equal the photo's: template matching on the colour
    colour = (cut.rgba[..., :3] * 255).astype(np.float32)
    score = cv2.matchTemplate(photo[..., :3].astype(np.float32), colour, cv2.TM_SQDIFF, mask=solid.astype(np.float32))
    y, x = np.unravel_index(np.argmin(score), score.shape)
    out = np.zeros((h, w), bool)
    out[y : y + ch, x : x + cw] = mask >= 0.5
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def alpha_png() -> tuple[np.ndarray, np.ndarray]:
    """The coffee product as a transparent PNG (encoded and decoded as the service reads it) on a
    larger transparent canvas: the decoded RGBA and the true mask."""
    photo, alpha = coffee_product()
    h, w = 520, 760
    rgba = np.zeros((h, w, 4), np.uint8)
    oy, ox = 60, 80
    ph, pw = alpha.shape
    rgba[oy : oy + ph, ox : ox + pw, :3] = (photo * 255 + 0.5).astype(np.uint8)
    rgba[oy : oy + ph, ox : ox + pw, 3] = (alpha * 255 + 0.5).astype(np.uint8)
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    assert ok
    truth = np.zeros((h, w), bool)
    truth[oy : oy + ph, ox : ox + pw] = alpha >= 0.5
    return decode_image(png.tobytes()), truth


PRODUCTS = {"coffee": coffee_product, "cat-horse": cat_horse_product}


# --------------------------------------------------------------------------------- the treatments


def test_an_images_own_alpha_is_used_as_is_cropped_to_what_is_visible() -> None:
    image, truth = alpha_png()
    cut = cut_out(image)
    assert cut.treatment == "alpha"
    assert cut.confidence == 1.0
    ch, cw = cut.mask.shape
    assert ch < image.shape[0] and cw < image.shape[1]  # cropped to the product, not the canvas
    assert iou(placed_mask(cut, image), truth) >= 0.99
    # the alpha is the PNG's own, not re-estimated: its values are the stored ones
    assert set(np.unique((cut.mask * 255).round().astype(int))) <= set(np.unique(image[..., 3]).tolist())


def test_an_alpha_channel_that_is_opaque_everywhere_is_ignored() -> None:
    rgb, truth = scene(coffee_product(), white)
    cut = cut_out(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]))
    assert cut.treatment == "cutout"
    assert iou(placed_mask(cut, rgb), truth) >= MIN_IOU


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("backdrop", ["white", "grey sweep"])
def test_a_product_on_a_plain_or_studio_background_is_cut_out(product: str, backdrop: str) -> None:
    background, shadow = (white, False) if backdrop == "white" else (grey_sweep, True)
    image, truth = scene(PRODUCTS[product](), background, shadow=shadow)
    cut = cut_out(image)
    assert cut.treatment == "cutout", cut.note
    assert cut.confidence >= CONFIDENCE_MIN
    assert iou(placed_mask(cut, image), truth) >= MIN_IOU
    assert cut.rgba.dtype == np.float32 and cut.rgba.shape[2] == 4
    assert 0.0 <= cut.rgba.min() and cut.rgba.max() <= 1.0
    assert "cut out" in cut.note and f"{cut.confidence:.2f}" in cut.note
    # cropped to the product plus a small pad, not the whole photo
    ys, xs = np.nonzero(truth)
    pad = 0.05 * max(image.shape[:2])
    assert cut.rgba.shape[0] <= ys.max() - ys.min() + 1 + pad
    assert cut.rgba.shape[1] <= xs.max() - xs.min() + 1 + pad


def test_a_grey_product_on_white_is_not_taken_for_a_shadow() -> None:
    """The cameraman photo's grey sky meets the white backdrop along a sharp edge: product, not shadow."""
    photo = np.repeat(skimage_data.camera()[..., None], 3, axis=2).astype(np.float32) / 255.0

    def ellipse(img: np.ndarray, ss: int) -> None:
        cv2.ellipse(img, (256 * ss, 230 * ss), (150 * ss, 200 * ss), 0, 0, 360, 255, -1, cv2.LINE_AA)

    image, truth = scene((photo, _soft_shape(ellipse, 512, 512)), white)
    cut = cut_out(image)
    assert cut.treatment == "cutout", cut.note
    assert iou(placed_mask(cut, image), truth) >= MIN_IOU


def test_the_cut_out_edge_is_feathered_and_carries_no_backdrop_halo() -> None:
    image, truth = scene(coffee_product(), white)
    cut = cut_out(image)
    alpha = cut.mask
    rim = (alpha > 0.05) & (alpha < 0.95)
    assert rim.sum() > 0.5 * cv2.arcLength(cv2.findContours(truth.astype(np.uint8), 0, 2)[0][0], True)
    assert (alpha[cv2.erode((alpha > 0.5).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0] > 0.99).all()
    # the edge of the saucer is dark red: a rim that took the white backdrop's colour would be near 1
    rim_colour = cut.rgba[..., :3][rim].mean(axis=0)
    solid_edge = cut.rgba[..., :3][(alpha > 0.99) & (cv2.blur(rim.astype(np.float32), (9, 9)) > 0)].mean(axis=0)
    assert np.abs(rim_colour - solid_edge).max() < 0.08
    assert rim_colour.mean() < 0.6


@pytest.mark.parametrize("product", PRODUCTS)
def test_a_product_on_a_busy_background_is_framed_whole(product: str) -> None:
    image, _ = scene(PRODUCTS[product](), busy)
    cut = cut_out(image)
    assert cut.treatment == "framed"
    assert cut.confidence < CONFIDENCE_MIN
    assert cut.rgba.shape[:2] == image.shape[:2]
    assert (cut.mask == 1.0).all()
    np.testing.assert_allclose(cut.rgba[..., :3], image / 255.0, atol=1e-6)
    assert "background is not plain" in cut.note


def _gravel(h: int, w: int) -> np.ndarray:
    return np.repeat(cv2.resize(skimage_data.gravel(), (w, h))[..., None], 3, axis=2).astype(np.float32) / 255.0


def _brick(h: int, w: int) -> np.ndarray:
    return np.repeat(cv2.resize(skimage_data.brick(), (w, h))[..., None], 3, axis=2).astype(np.float32) / 255.0


def _dark_sweep(h: int, w: int) -> np.ndarray:
    return grey_sweep(h, w, seed=9) * 0.45


def _rocket(h: int, w: int) -> np.ndarray:
    return cv2.resize(skimage_data.rocket(), (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("background", [white, grey_sweep, _dark_sweep, busy, _gravel, _brick, _rocket])
@pytest.mark.parametrize("shadow", [False, True])
def test_a_cut_out_is_never_a_confident_wrong_mask(product: str, background, shadow: bool) -> None:
    image, truth = scene(PRODUCTS[product](), background, shadow=shadow)
    cut = cut_out(image)
    assert cut.treatment in ("cutout", "framed")
    if cut.treatment == "cutout":
        assert iou(placed_mask(cut, image), truth) >= MIN_IOU, cut.note
    else:
        assert cut.confidence < CONFIDENCE_MIN and cut.note.startswith("framed")


@pytest.mark.parametrize("name", ["coffee", "astronaut", "chelsea", "rocket", "gravel", "brick", "camera"])
def test_a_photo_without_a_plain_background_is_framed(name: str) -> None:
    photo = getattr(skimage_data, name)()
    cut = cut_out(photo)
    assert cut.treatment == "framed", cut.note
    assert cut.rgba.shape[:2] == photo.shape[:2] and (cut.mask == 1.0).all()


def test_noise_everywhere_and_a_faint_low_contrast_photo_are_framed() -> None:
    rng = np.random.default_rng(5)
    noise = np.clip(rng.normal(128, 40, (480, 640, 3)), 0, 255).astype(np.uint8)
    faint = skimage_data.astronaut().astype(np.float32) / 255.0 * 20 + 110 + rng.normal(0, 4, (512, 512, 3))
    for image in (noise, np.clip(faint, 0, 255).astype(np.uint8)):
        cut = cut_out(image)
        assert cut.treatment == "framed", cut.note
        assert cut.confidence < CONFIDENCE_MIN


# --------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (np.zeros((1, 1, 3), np.uint8), "too small"),
        (np.full((12, 400, 3), 90, np.uint8), "too small"),
        (np.zeros((300, 400, 4), np.uint8), "fully transparent"),
        (np.full((300, 400, 3), 231, np.uint8), "all background"),
        (
            np.clip(200 + np.random.default_rng(1).normal(0, 2, (300, 400, 3)), 0, 255).astype(np.uint8),
            "all background",
        ),
        (
            np.repeat(np.linspace(60, 230, 400, dtype=np.float32)[None, :, None], 300, 0).repeat(3, 2).astype(np.uint8),
            "all background",
        ),
    ],
    ids=["1x1", "a sliver", "fully transparent", "flat colour", "flat with noise", "smooth gradient"],
)
def test_an_image_with_nothing_to_show_is_refused_with_the_reason(image: np.ndarray, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        cut_out(image)


def test_a_fully_transparent_png_is_refused() -> None:
    ok, png = cv2.imencode(".png", np.zeros((64, 64, 4), np.uint8))
    assert ok
    with pytest.raises(ValueError, match="transparent"):
        cut_out(decode_image(png.tobytes()))


# ------------------------------------------------------------------------------- cost and bounds


def test_a_2048_px_photo_is_cut_out_well_under_a_second() -> None:
    small, small_truth = scene(coffee_product(), grey_sweep, shadow=True)
    image = cv2.resize(small, (2048, 1536), interpolation=cv2.INTER_CUBIC)
    truth = cv2.resize(small_truth.astype(np.uint8), (2048, 1536), interpolation=cv2.INTER_NEAREST) > 0
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        cut = cut_out(image)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 1.0
    assert cut.treatment == "cutout"
    assert iou(placed_mask(cut, image), truth) >= MIN_IOU


def test_an_oversized_input_is_scaled_down_before_any_work() -> None:
    small, _ = scene(coffee_product(), white)
    image = cv2.resize(small, (4800, 3600), interpolation=cv2.INTER_NEAREST)
    start = time.perf_counter()
    cut = cut_out(image)
    assert time.perf_counter() - start < 3.0
    assert cut.treatment == "cutout"
    assert max(cut.rgba.shape[:2]) <= 2048


def test_the_same_photo_always_gives_the_same_cut_out() -> None:
    image, _ = scene(cat_horse_product(), grey_sweep, shadow=True)
    first, second = cut_out(image), cut_out(image.copy())
    assert first.treatment == second.treatment and first.confidence == second.confidence
    assert np.array_equal(first.rgba, second.rgba)


# ---------------------------------------------------------------------------------- detail_region


def half_flat_half_textured(h: int = 480, w: int = 800) -> np.ndarray:
    """Flat grey on the left half, the gravel photo's texture on the right half."""
    image = np.full((h, w, 3), 128, np.uint8)
    image[:, w // 2 :] = cv2.resize(skimage_data.gravel(), (w - w // 2, h))[..., None]
    return image


@pytest.mark.parametrize(("aspect", "min_side"), [(16 / 9, 120), (9 / 16, 150), (1.0, 200), (4 / 3, 64)])
def test_the_detail_region_is_inside_at_the_aspect_and_on_the_texture(aspect: float, min_side: int) -> None:
    image = half_flat_half_textured()
    h, w = image.shape[:2]
    x0, y0, x1, y1 = detail_region(image, aspect, min_side)
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert min(x1 - x0, y1 - y0) >= min_side
    assert abs((x1 - x0) / (y1 - y0) - aspect) < 0.02 * aspect
    assert x0 >= w // 2  # entirely on the textured half


def test_the_detail_region_only_counts_the_products_opaque_part() -> None:
    """Texture in the transparent part of a cut-out (whatever colour its hidden pixels have) is not detail."""
    h, w = 400, 600
    rgba = np.zeros((h, w, 4), np.float32)
    rgba[..., :3] = cv2.resize(skimage_data.gravel(), (w, h))[..., None] / 255.0  # texture everywhere
    rgba[:, : w // 3, :3] = cv2.resize(skimage_data.brick(), (w // 3, h))[..., None] / 255.0
    rgba[:, : w // 3, 3] = 1.0  # only the left third is the product
    x0, y0, x1, y1 = detail_region(rgba, 1.0, 100)
    assert x1 <= w // 3
    assert min(x1 - x0, y1 - y0) >= 100


def test_a_detail_region_larger_than_the_image_is_the_largest_that_fits() -> None:
    image = half_flat_half_textured(300, 400)
    x0, y0, x1, y1 = detail_region(image, 16 / 9, 1000)
    assert (x0, x1) == (0, 400)
    assert 0 <= y0 and y1 <= 300
    assert abs((x1 - x0) / (y1 - y0) - 16 / 9) < 0.02


def test_the_detail_region_of_a_cut_out_lands_inside_the_product() -> None:
    image, _ = scene(coffee_product(), white)
    cut = cut_out(image)
    x0, y0, x1, y1 = detail_region(cut.rgba, 1.0, 120)
    assert cut.mask[y0:y1, x0:x1].mean() > 0.9
