"""How a user's product photo is separated from its background, so the studio renderer can stand the
product in a designed set instead of pasting a rectangle, and where its most detailed region is.

What it decides, and why:

* An image with a meaningful alpha channel (some pixels transparent, some opaque) already says what
  the product is: treatment **alpha**, used as is, cropped to what is visible.
* Otherwise the background is modelled from the image's border (a band BORDER_SHARE wide): a 2-D
  quadratic per Lab channel, fitted robustly, which explains a flat colour, a grey sweep's gradient
  and a soft vignette alike. Its residual on the border is the background's noise; a border it does
  not explain (a room, a table, a street) is a busy background, and no cut-out is attempted there.
* On a plain background the per-pixel distance to that model seeds OpenCV's GrabCut (probable
  foreground/background from the distance, sure background on the border), run on a copy at most
  WORK_EDGE a side so a 2048 px photo takes a fraction of a second. Pixels that are the backdrop
  darkened, with its hue, are a shadow and not product, unless a sharp edge outlines them (a steel
  part, a grey print on white): a contact shadow's edge is soft. The largest component(s) are kept;
  holes are filled unless they show the backdrop (the white cup inside a red saucer is product, the
  gap between legs or in a handle is not); the edge is re-decided at full size in a thin band,
  feathered by FEATHER_SHARE of the size, and its colour taken from inside so no backdrop halo remains.
* Confidence is the product of measurable scores (how smooth the border is, how much of it the model
  explains, how cleanly the mask's edge separates product-like from backdrop-like pixels, whether
  sharp edges are left outside the mask, how much of the frame's edge the mask touches, its area
  share); below CONFIDENCE_MIN the photo is **framed** (shown whole, as a print, by the renderer)
  and the note names the weakest score. A confident wrong mask is the one outcome worse than a
  framed photo, so every score errs low: a textured backdrop (a table, a room) is framed.
* Refused with a ValueError (the message says why; the caller draws the frame without the product):
  an image under MIN_SIDE px on a side, a fully transparent one, and one that is all background (a
  flat colour or a smooth gradient with nothing on it).

`detail_region` finds the window of a given aspect with the most local gradient energy inside the
product's mask, never smaller than the caller's minimum side, so a detail beat's zoom lands on
texture (a dial, a weave, a label) and never beyond what the source resolution supports.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_SIDE = 16  # px: below this there is nothing recognisable to show
MAX_EDGE = 2048  # px: larger inputs are scaled down first, so time and memory stay bounded
WORK_EDGE = 384  # px: GrabCut's long side; its cost grows faster than the pixel count
BORDER_SHARE = 0.04  # of the short side: the band the background is learned from
PAD_SHARE = 0.015  # of the long side: room around the product's bounding box
FEATHER_SHARE = 0.0012  # of the long side (about 2.5 px at 2048): the soft edge of a cut-out
CONFIDENCE_MIN = 0.6  # below this the photo is framed rather than cut out
NOISE_FLOOR = 1.0  # Lab units: a perfectly flat render still has quantisation and JPEG noise
# The border's noise (Lab units, robust sigma of the smooth model's residual): a paper backdrop or
# a lit sweep is within PLAIN_NOISE, a room, a table or foliage well above BUSY_NOISE.
PLAIN_NOISE, BUSY_NOISE = 2.5, 6.0
SEED_SIGMAS, SEED_MIN = 4.5, 5.0  # a pixel this far from the background model is probably product
SHADOW_FLOOR = 0.45  # a shadow keeps at least this share of the backdrop's lightness (Lab L)
EDGE_SIGMAS, EDGE_MIN, EDGE_MAX = 5.0, 4.0, 12.0  # Lab units per px: a sharp edge, not noise or a soft shadow
VISIBLE_ALPHA = 5  # of 255: what "transparent" means in an alpha channel
OPAQUE_ALPHA = 250  # of 255: an alpha channel with nothing below this says nothing


@dataclass(frozen=True)
class Cutout:
    """The product as the renderer composites it."""

    rgba: np.ndarray  # float32 (h, w, 4), straight colour in [0, 1]; for "framed" the whole photo, alpha 1
    treatment: str  # "alpha" | "cutout" | "framed"
    confidence: float  # 0..1, how sure the separation is
    note: str  # one line for the progress stream

    @property
    def mask(self) -> np.ndarray:
        """The alpha, float32 (h, w)."""
        return self.rgba[..., 3]


# ----------------------------------------------------------------------------------------- inputs


def _as_rgb_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """uint8 RGB and the uint8 alpha (or None) of a grey, RGB or RGBA image, uint8 or float in [0, 1]."""
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise ValueError(f"the image has shape {img.shape}; a grey, RGB or RGBA image was expected")
    if img.dtype != np.uint8:
        scale = 1.0 / 257.0 if img.dtype == np.uint16 else 255.0
        img = np.clip(np.nan_to_num(img.astype(np.float32) * scale) + 0.5, 0, 255).astype(np.uint8)
    h, w = img.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"the image is {w}x{h} px, under {MIN_SIDE} px on a side: too small to show")
    if max(h, w) > MAX_EDGE:
        f = MAX_EDGE / max(h, w)
        img = cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB), None
    if img.shape[2] == 4:
        return np.ascontiguousarray(img[..., :3]), np.ascontiguousarray(img[..., 3])
    return np.ascontiguousarray(img), None


def _bbox(mask: np.ndarray, pad: int) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    return (
        max(0, int(xs.min()) - pad),
        max(0, int(ys.min()) - pad),
        min(w, int(xs.max()) + 1 + pad),
        min(h, int(ys.max()) + 1 + pad),
    )


def _framed(rgb: np.ndarray, confidence: float, why: str) -> Cutout:
    rgba = np.dstack([rgb.astype(np.float32) / 255.0, np.ones(rgb.shape[:2], np.float32)])
    return Cutout(rgba, "framed", round(float(confidence), 3), f"framed as a print: {why}")


# ------------------------------------------------------------------------------- background model


def _design(xs: np.ndarray, ys: np.ndarray, w: int, h: int) -> np.ndarray:
    """The 2-D quadratic's terms at pixel coordinates, normalised to [-1, 1] so the fit is well posed."""
    x = xs.astype(np.float32) * (2.0 / max(w - 1, 1)) - 1.0
    y = ys.astype(np.float32) * (2.0 / max(h - 1, 1)) - 1.0
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


@dataclass(frozen=True)
class _Background:
    coef: np.ndarray  # (6, 3): the quadratic per Lab channel
    sigma: float  # robust noise of the border around the model, Lab units
    explained: float  # share of the border's pixels the model explains
    band: int  # px at the working scale


def _fit_background(lab: np.ndarray) -> _Background:
    """A robust quadratic fit to the border band: refitted on the pixels it explains, so a product
    that touches an edge (a bottle standing on the frame's bottom) does not bend the model."""
    h, w = lab.shape[:2]
    band = max(2, round(BORDER_SHARE * min(h, w)))
    ring = np.zeros((h, w), bool)
    ring[:band], ring[-band:], ring[:, :band], ring[:, -band:] = True, True, True, True
    ys, xs = np.nonzero(ring)
    a = _design(xs, ys, w, h)
    values = lab[ys, xs]
    keep = np.ones(len(values), bool)
    coef = np.zeros((6, 3), np.float32)
    sigma = thr = 0.0
    for _ in range(4):
        coef = np.linalg.lstsq(a[keep], values[keep], rcond=None)[0].astype(np.float32)
        r = np.linalg.norm(values - a @ coef, axis=1)
        # over the whole band, so a busy border cannot talk itself plain by dropping its own outliers:
        # the 70th percentile of a 3-D Gaussian residual's length is about 1.91 sigma, and a product
        # touching the frame is well under 30 % of the band
        sigma = float(np.quantile(r, 0.7)) / 1.91
        thr = 3.5 * max(sigma, NOISE_FLOOR)
        new = r < thr
        if new.sum() < 0.3 * len(values) or np.array_equal(new, keep):
            break
        keep = new
    explained = float(np.mean(np.linalg.norm(values - a @ coef, axis=1) < thr))
    return _Background(coef, sigma, explained, band)


def _distance(
    lab: np.ndarray, bg: _Background, xs: np.ndarray, ys: np.ndarray, w: int, h: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's Lab distance to the background model at its place in a w x h image, and whether
    it looks like the backdrop in shadow: darker, with the backdrop's hue, not near-black. A contact
    shadow on a sweep is the backdrop, not the product; a black product on white is far darker than
    any soft shadow."""
    diff = lab - _design(xs, ys, w, h) @ bg.coef
    dist = np.linalg.norm(diff, axis=-1).astype(np.float32)
    lift = diff[..., 0]
    chroma = np.hypot(diff[..., 1], diff[..., 2])
    tolerance = max(3.0 * max(bg.sigma, NOISE_FLOOR), 4.0) + 0.25 * np.abs(lift)
    shadow = (lift < 0) & (chroma < tolerance) & (lab[..., 0] > SHADOW_FLOOR * (lab[..., 0] - lift))
    return dist, shadow


def _distance_map(lab: np.ndarray, bg: _Background) -> tuple[np.ndarray, np.ndarray]:
    h, w = lab.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    return _distance(lab, bg, xs, ys, w, h)


def _lab(rgb_u8: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb_u8.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


# ------------------------------------------------------------------------------------------- scores


def _ramp(value: float, zero: float, one: float) -> float:
    """0 at `zero`, 1 at `one`, smooth in between (either direction)."""
    t = min(1.0, max(0.0, (value - zero) / (one - zero)))
    return t * t * (3 - 2 * t)


def _components(mask: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """The largest connected component and any at least a fifth its size (a pair of earrings), with
    its holes filled unless a hole shows the backdrop: the gap between a horse's legs, closed off by
    its shadow, or a mug's handle stays open, the white cup inside a red saucer is filled."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(mask, bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.nonzero(areas >= 0.2 * areas.max())[0] + 1
    out = np.isin(labels, keep)
    # holes: what is not reachable from outside the image (padded, so every edge is outside)
    padded = np.pad(out, 1).astype(np.uint8)
    cv2.floodFill(padded, np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8), (0, 0), 1)
    holes = (padded[1:-1, 1:-1] == 0).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
    if n <= 1:
        return out
    tiny = stats[1:, cv2.CC_STAT_AREA] < max(4, 0.002 * out.sum())
    shown = np.bincount(labels.ravel(), weights=backdrop.ravel(), minlength=n)[1:] / stats[1:, cv2.CC_STAT_AREA]
    fill = np.nonzero(tiny | (shown < 0.6))[0] + 1
    return out | np.isin(labels, fill)


def _edge_scores(mask: np.ndarray, backdrop: np.ndarray) -> tuple[float, float]:
    """How cleanly the mask's edge separates: the share of a ring just outside it that looks like
    the backdrop, and of a ring just inside it that does not."""
    k = np.ones((5, 5), np.uint8)
    m = mask.astype(np.uint8)
    outside = (cv2.dilate(m, k) > 0) & ~mask
    inside = mask & ~(cv2.erode(m, k) > 0)
    if not outside.any() or not inside.any():
        return 0.0, 0.0
    return float(np.mean(backdrop[outside])), float(np.mean(~backdrop[inside]))


def _stray_edges(strong: np.ndarray, mask: np.ndarray) -> float:
    """Sharp edges the mask leaves out, per pixel of the mask's outline. A soft shadow or a sweep's
    gradient has none; a part of the product taken for the backdrop leaves its outline outside, and
    that is the confident wrong mask this measure is for."""
    m = mask.astype(np.uint8)
    near = cv2.dilate(m, np.ones((7, 7), np.uint8)) > 0
    outline = m.sum() - (cv2.erode(m, np.ones((3, 3), np.uint8)) > 0).sum()
    return float((strong & ~near).sum()) / max(1.0, float(outline))


def _strong_edges(lab: np.ndarray, noise: float) -> np.ndarray:
    """Where the photo's lightness steps sharply: more than noise or a soft shadow's falloff."""
    gx = cv2.Sobel(lab[..., 0], cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab[..., 0], cv2.CV_32F, 0, 1, ksize=3)
    # Sobel gives 8 times the slope; a step of height H reads about H / 2 at its centre
    # capped, so a noisy backdrop cannot raise the bar above a plain, visible edge
    return np.hypot(gx, gy) / 8.0 > min(max(EDGE_SIGMAS * noise, EDGE_MIN), EDGE_MAX)


def _outlined_shadows(shadow: np.ndarray, clean: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """The shadow-like regions whose border with the clean backdrop is mostly a sharp edge: a grey
    part of the product (a steel body, a sky in a print) rather than a shadow, whose edge is soft."""
    n, labels = cv2.connectedComponents(shadow.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(shadow)
    # the clean backdrop pixels just outside each region, labelled with the region they touch
    grown = cv2.dilate(labels.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int32)
    rim = clean & (grown > 0)
    total = np.bincount(grown[rim], minlength=n)
    sharp = np.bincount(grown[rim & strong], minlength=n)
    outlined = sharp > 0.5 * np.maximum(total, 1)
    outlined[0] = False
    return outlined[labels]


def _touch(mask: np.ndarray) -> float:
    """The share of the frame's edge the mask covers: a product cut by the frame is not all there."""
    edge = np.concatenate([mask[0], mask[-1], mask[1:-1, 0], mask[1:-1, -1]])
    return float(edge.mean())


# ------------------------------------------------------------------------------------------ cut_out


def cut_out(image: np.ndarray) -> Cutout:
    """The product in `image` (RGB or RGBA uint8, as decode_image / read_bounded return) separated
    from its background, or framed whole when that cannot be done with confidence.

    Raises ValueError (the message says why) for an image under MIN_SIDE px on a side, one that is
    fully transparent, and one that is all background: a flat colour or a smooth gradient with
    nothing distinguishable on it. Inputs over MAX_EDGE a side are scaled down to it first.
    """
    rgb, alpha = _as_rgb_alpha(image)
    h, w = rgb.shape[:2]
    pad = max(2, round(PAD_SHARE * max(h, w)))
    if alpha is not None:
        visible = alpha > VISIBLE_ALPHA
        if not visible.any():
            raise ValueError("the image is fully transparent: there is nothing in it to show")
        if (alpha < OPAQUE_ALPHA).any():
            x0, y0, x1, y1 = _bbox(visible, pad)
            if min(x1 - x0, y1 - y0) < 4 or visible.mean() < 1e-4:
                raise ValueError("the image is almost fully transparent: what is visible is too small to show")
            rgba = np.dstack([rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1]]).astype(np.float32) / 255.0
            return Cutout(rgba, "alpha", 1.0, "the image's own transparency used as is")
        # an alpha channel that is opaque everywhere says nothing: separate as an RGB photo

    f = min(1.0, WORK_EDGE / max(h, w))
    sw, sh = max(1, round(w * f)), max(1, round(h * f))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA) if f < 1 else rgb
    lab = _lab(small)
    bg = _fit_background(lab)
    noise = max(bg.sigma, NOISE_FLOOR)
    s_plain = _ramp(bg.sigma, BUSY_NOISE, PLAIN_NOISE)
    s_explained = _ramp(bg.explained, 0.7, 0.9)
    if s_plain * s_explained < CONFIDENCE_MIN:
        why = (
            "the background is not plain"
            if s_plain <= s_explained
            else "the background is not one smooth colour or gradient"
        )
        return _framed(rgb, s_plain * s_explained, f"{why} (noise {bg.sigma:.1f}), so the product cannot be cut out")

    dist, shadow = _distance_map(lab, bg)
    seed_thr = max(SEED_SIGMAS * noise, SEED_MIN)
    clean = dist < seed_thr
    strong = _strong_edges(lab, noise)
    shadow &= ~clean
    shadow &= ~_outlined_shadows(shadow, clean, strong)
    backdrop = clean | shadow
    seed = (~backdrop).astype(np.uint8)
    seed = cv2.morphologyEx(seed, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))  # lone noisy pixels are not product
    if seed.sum() < max(16, 0.002 * sw * sh):
        # nothing stands out from the backdrop: either there is nothing there (blurred, the image is
        # the smooth model to within a fraction of its noise) or something too faint to cut out
        blurred, _ = _distance_map(cv2.GaussianBlur(lab, (0, 0), 2.0), bg)
        if float(np.quantile(blurred, 0.99)) < max(1.5 * noise, 2.0):
            raise ValueError("the image is all background (a plain colour or gradient): no product was found in it")
        return _framed(rgb, 0.0, "nothing in the photo stands out from its background clearly enough to cut out")

    mask = _grabcut(small, seed.astype(bool), dist, noise, backdrop, bg.band)
    mask = _components(mask, backdrop)
    if not mask.any():
        return _framed(rgb, 0.0, "no product could be separated from the background")

    area = float(mask.mean())
    out_clean, in_distinct = _edge_scores(mask, backdrop)
    scores = {
        "the background is not plain": s_plain,
        "the background is not one smooth colour or gradient": s_explained,
        "the product's edge does not stand out from the background": _ramp(min(out_clean, in_distinct), 0.55, 0.85),
        "the photo has sharp edges outside the product": _ramp(_stray_edges(strong, mask), 0.25, 0.04),
        "the product is cut by the photo's edge": _ramp(_touch(mask), 0.35, 0.08),
        "the product is too small in the photo": _ramp(area, 0.015, 0.04),
        "the product fills almost the whole photo": _ramp(area, 0.92, 0.85),
    }
    confidence = float(np.prod(list(scores.values())))
    if confidence < CONFIDENCE_MIN:
        return _framed(rgb, confidence, min(scores, key=scores.__getitem__))

    rgba = _full_size(rgb, mask, bg, seed_thr, f, pad)
    background = "plain" if np.abs(bg.coef[1:]).max() < 2.0 else "studio (graded)"
    note = f"product cut out from a {background} background (confidence {confidence:.2f})"
    return Cutout(rgba, "cutout", round(confidence, 3), note)


def _grabcut(
    small: np.ndarray, seed: np.ndarray, dist: np.ndarray, noise: float, backdrop: np.ndarray, band: int
) -> np.ndarray:
    """GrabCut seeded from the distance map, on the region around the seed only."""
    sh, sw = seed.shape
    labels = np.where(seed, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    # far from every seed and well explained by the background: sure background, which keeps GrabCut
    # from growing the product into a shadow or a gradient's darker corner
    near = cv2.dilate(seed.astype(np.uint8), np.ones((2 * band + 1, 2 * band + 1), np.uint8)) > 0
    labels[(dist < 2.5 * noise) & ~near] = cv2.GC_BGD
    edge = np.zeros_like(seed)
    edge[:band], edge[-band:], edge[:, :band], edge[:, -band:] = True, True, True, True
    labels[edge & backdrop] = cv2.GC_BGD
    # the work is confined to the seed's bounding box and a margin, the rest is background already
    margin = 3 * band
    x0, y0, x1, y1 = _bbox(seed, margin)
    roi = labels[y0:y1, x0:x1].copy()
    if (roi == cv2.GC_BGD).all() or not np.isin(roi, (cv2.GC_PR_BGD, cv2.GC_BGD)).any():
        return seed
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = np.ascontiguousarray(small[y0:y1, x0:x1, ::-1])
    try:
        # the rectangle is what None converts to; GC_INIT_WITH_MASK never reads it
        cv2.grabCut(bgr, roi, (0, 0, 0, 0), bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # a degenerate colour model (too few pixels of a class): the seed is the answer
        return seed
    out = np.zeros((sh, sw), bool)
    out[y0:y1, x0:x1] = (roi == cv2.GC_FGD) | (roi == cv2.GC_PR_FGD)
    return out


def _full_size(rgb: np.ndarray, mask: np.ndarray, bg: _Background, seed_thr: float, f: float, pad: int) -> np.ndarray:
    """The working-scale mask at full size: upsampled, its edge re-decided per pixel in a thin band,
    feathered, and the edge's colour taken from inside the product so no background halo remains."""
    h, w = rgb.shape[:2]
    sh, sw = mask.shape
    x0, y0, x1, y1 = _bbox(mask, 2)
    x0, y0, x1, y1 = (
        max(0, int(x0 / f) - pad),
        max(0, int(y0 / f) - pad),
        min(w, int(np.ceil(x1 / f)) + pad),
        min(h, int(np.ceil(y1 / f)) + pad),
    )
    crop = rgb[y0:y1, x0:x1]
    ch, cw = crop.shape[:2]
    # upsample from the working grid: pixel centres of the crop in working coordinates
    mx = ((np.arange(x0, x1, dtype=np.float32) + 0.5) * (sw / w) - 0.5)[None, :].repeat(ch, 0)
    my = ((np.arange(y0, y1, dtype=np.float32) + 0.5) * (sh / h) - 0.5)[:, None].repeat(cw, 1)
    soft = cv2.remap(mask.astype(np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    hard = soft >= 0.5
    if f < 1:
        # within a band about one working pixel wide either side of the edge, each full-size pixel is
        # decided by its own distance to the background model
        band = (soft > 0.02) & (soft < 0.98)
        by, bx = np.nonzero(band)
        if len(by):
            lab = _lab(crop[by, bx][None])[0]
            # the background model is normalised to the image, so it is evaluated in working coordinates
            d, shadow = _distance(lab, bg, (bx + x0 + 0.5) * (sw / w) - 0.5, (by + y0 + 0.5) * (sh / h) - 0.5, sw, sh)
            hard[by, bx] = (d >= 0.6 * seed_thr) & ~shadow
        hard = cv2.medianBlur(hard.astype(np.uint8), 3) > 0
    feather = max(0.7, FEATHER_SHARE * max(h, w))
    alpha = cv2.GaussianBlur(hard.astype(np.float32), (0, 0), feather)
    alpha = np.clip((alpha - 0.02) / 0.96, 0.0, 1.0)
    colour = crop.astype(np.float32) / 255.0
    # edge colour by normalised convolution from the solid interior: the feathered rim otherwise
    # carries the backdrop's white or grey onto the new set
    core = cv2.erode(hard.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
    if core.any():
        s = 2.0 * feather + 1.0
        spread = cv2.GaussianBlur(colour * core[..., None], (0, 0), s)
        weight = cv2.GaussianBlur(core, (0, 0), s)[..., None]
        inner = spread / np.maximum(weight, 1e-6)
        rim = ((core == 0) & (weight[..., 0] > 1e-3))[..., None]
        colour = np.where(rim, inner, colour)
    return np.dstack([np.clip(colour, 0.0, 1.0), alpha]).astype(np.float32)


# ------------------------------------------------------------------------------------- detail_region


def detail_region(image: np.ndarray, aspect: float, min_side_px: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the window with the most local gradient energy inside the product's mask
    (the alpha of an RGBA image or cut-out; all of an RGB one), `aspect` (width / height) wide and
    `min_side_px` on its short side. When the image cannot hold that window, the largest window of
    the aspect that fits, so the region is always inside the image and the zoom never exceeds what
    the source resolution supports."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., None]
    h, w = img.shape[:2]
    if h < 1 or w < 1 or not np.isfinite(aspect) or aspect <= 0:
        raise ValueError(f"no detail region in a {w}x{h} image at aspect {aspect}")
    # the window at full size
    side = max(1, int(min_side_px))
    ww, wh = (side * aspect, float(side)) if aspect >= 1 else (float(side), side / aspect)
    fit = min(1.0, w / ww, h / wh)
    ww, wh = max(1, min(w, round(ww * fit))), max(1, min(h, round(wh * fit)))
    if ww >= w and wh >= h:
        return 0, 0, w, h
    # energy on a copy at most 256 px a side: texture at the scale a detail beat shows it
    f = min(1.0, 256 / max(h, w))
    small = (
        cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA) if f < 1 else img
    )
    small = small.reshape(small.shape[0], small.shape[1], -1).astype(np.float32)
    if img.dtype == np.uint8:
        small /= 255.0
    channels = small.shape[2]
    colour = small[..., :3] if channels >= 3 else np.repeat(small[..., :1], 3, axis=2)
    grey: np.ndarray = colour @ np.array([0.299, 0.587, 0.114], np.float32)
    mask = small[..., 3] if channels == 4 else np.ones(grey.shape, np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    # the silhouette's own edge against transparent pixels is not detail: only the solid interior counts
    solid = cv2.erode((mask > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
    energy = np.sqrt(gx * gx + gy * gy) * solid
    sh, sw = energy.shape
    kw, kh = max(1, min(sw, round(ww * f))), max(1, min(sh, round(wh * f)))
    total = cv2.integral(energy.astype(np.float64))
    sums = total[kh:, kw:] - total[:-kh, kw:] - total[kh:, :-kw] + total[:-kh, :-kw]
    # ties (a flat image, a uniform texture) go to the window nearest the product's centre
    ys, xs = np.mgrid[0 : sums.shape[0], 0 : sums.shape[1]]
    weight = solid if solid.any() else np.ones_like(solid)
    gy, gx = np.mgrid[0:sh, 0:sw]
    cy, cx = np.average(gy, weights=weight), np.average(gx, weights=weight)
    near = -np.hypot(xs + kw / 2 - cx, ys + kh / 2 - cy)
    best = sums.max()
    candidates = sums >= best - 1e-6 * max(best, 1e-12) - 1e-9
    iy, ix = np.unravel_index(np.argmax(np.where(candidates, near, -np.inf)), sums.shape)
    x0 = min(max(0, round((ix + kw / 2) / f - ww / 2)), w - ww)
    y0 = min(max(0, round((iy + kh / 2) / f - wh / 2)), h - wh)
    return int(x0), int(y0), int(x0 + ww), int(y0 + wh)
