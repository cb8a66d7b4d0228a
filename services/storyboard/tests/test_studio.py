"""What a person relies on from the studio storyboard renderer, checked on the pixels it draws."""

from __future__ import annotations

import dataclasses
from itertools import pairwise

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adgen_storyboard.studio import (
    FrameRequest,
    contrast_ratio,
    decode_image,
    draw,
    encode_png,
    luminance,
    render_frame,
)

LUXURY = ("#0b0b0d", "#2a2622", "#c9a45c", "#efe3c8")
WARM = ("#3a120a", "#c8553d", "#f28f3b", "#ffd5c2")
COOL = ("#06121f", "#1f4e79", "#3fa9f5", "#d6ecff")
MINIMAL = ("#f4f4f2", "#d9d9d6", "#1f1f1f", "#7a8b99")
MID_GREY = ("#777777", "#888888", "#999999")

# luxury_showcase: hero_shot → detail_showcase → lifestyle_context → call_to_action
PLAN = (
    ("hero_shot", "close_up", "opening", "medium", "AURUM TITANIUM", "Crafted for the moment"),
    ("detail_showcase", "macro", "middle", "low", "Sapphire crystal", "Scratch-proof for life"),
    ("lifestyle_context", "medium", "middle", "medium", "Made for evenings that matter", ""),
    ("call_to_action", "close_up", "closing", "medium", "Shop now at aurum.com", "Free engraving"),
)


def request(beat: int = 0, *, width: int = 320, height: int = 180, **changes: object) -> FrameRequest:
    beat_id, shot, position, energy, headline, subline = PLAN[beat]
    base = FrameRequest(
        width=width,
        height=height,
        beat_index=beat,
        beat_count=len(PLAN),
        beat_id=beat_id,
        shot_type=shot,
        position=position,
        energy=energy,
        palette=LUXURY,
        mood="luxury",
        lighting="dramatic low-key",
        aesthetic="elegant",
        headline=headline,
        subline=subline,
        product_image=None,
        seed=7000 + beat,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def logo(alpha: bool) -> np.ndarray:
    """A distinctive product reference: a magenta card with a cyan disc and a yellow bar."""
    h, w = 150, 110
    img = np.zeros((h, w, 4), np.uint8)
    img[..., :3] = 255
    img[..., 3] = 0 if alpha else 255
    cv2.rectangle(img, (15, 15), (94, 134), (220, 30, 160, 255), -1)
    cv2.circle(img, (55, 60), 26, (20, 210, 230, 255), -1)
    cv2.rectangle(img, (28, 102), (82, 118), (250, 220, 30, 255), -1)
    return img if alpha else img[..., :3].copy()


def best_match(frame: np.ndarray, template: np.ndarray) -> float:
    """Best normalised correlation of the template with the frame over a range of scales."""
    best = -1.0
    for scale in np.arange(0.12, 1.2, 0.02):
        t = cv2.resize(template, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if t.shape[0] >= frame.shape[0] or t.shape[1] >= frame.shape[1] or min(t.shape[:2]) < 8:
            continue
        best = max(best, float(cv2.matchTemplate(frame, t, cv2.TM_CCOEFF_NORMED).max()))
    return best


def text_contrast(req: FrameRequest) -> float:
    """Contrast of the glyph cores against the worst background pixel right around them, on the pixels.

    The drawing says where the glyphs are; their colour and their surroundings are read from the image.
    """
    drawing = draw(req)
    coverage = drawing.text_coverage
    core = coverage > 0.98
    mask = (coverage > 0.02).astype(np.uint8)
    near = cv2.dilate(mask, np.ones((5, 5), np.uint8)).astype(bool)
    around = cv2.dilate(mask, np.ones((13, 13), np.uint8)).astype(bool) & ~near
    lum = luminance(drawing.image.astype(np.float32) / 255.0)
    text = float(np.median(lum[core]))
    background = lum[around]
    worst = float(np.percentile(background, 99 if text > np.median(background) else 1))
    return contrast_ratio(text, worst)


def test_same_request_gives_identical_pixels() -> None:
    req = request(1, product_image=logo(alpha=True))
    assert np.array_equal(render_frame(req), render_frame(req))


@pytest.mark.parametrize("size", [(320, 180), (180, 320), (200, 200), (1280, 720), (720, 1280), (720, 720)])
def test_frame_has_the_exact_size_of_every_aspect_ratio(size: tuple[int, int]) -> None:
    width, height = size
    frame = render_frame(request(0, width=width, height=height))
    assert frame.shape == (height, width, 3)
    assert frame.dtype == np.uint8


def test_palette_sets_the_colours() -> None:
    warm = render_frame(request(0, palette=WARM, mood="warm", aesthetic="heartfelt")).astype(float)
    cool = render_frame(request(0, palette=COOL, mood="warm", aesthetic="heartfelt")).astype(float)
    warm_bias = (warm[..., 0] - warm[..., 2]).mean()
    cool_bias = (cool[..., 0] - cool[..., 2]).mean()
    assert warm_bias > 10
    assert cool_bias < -10


def test_light_and_dark_styles_differ_in_key() -> None:
    bright = render_frame(request(0, palette=MINIMAL, mood="calm", lighting="soft high-key", aesthetic="minimal"))
    dark = render_frame(request(0))
    assert bright.mean() > dark.mean() + 60


def test_consecutive_beats_of_a_plan_look_different() -> None:
    frames = [render_frame(request(i)).astype(float) for i in range(len(PLAN))]
    for before, after in pairwise(frames):
        assert np.abs(before - after).mean() > 12


def test_frame_is_not_a_flat_test_pattern() -> None:
    frame = render_frame(request(0, headline="", subline=""))
    assert frame.std() > 12
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 2000


@pytest.mark.parametrize(("beat", "alpha"), [(0, True), (1, False), (2, True), (3, False)])
def test_product_image_is_shown_where_given(beat: int, alpha: bool) -> None:
    product = logo(alpha)
    card = np.ascontiguousarray(logo(False)[15:135, 15:95])
    with_product = render_frame(request(beat, product_image=product))
    without = render_frame(request(beat))
    assert best_match(with_product, card) > 0.8
    assert best_match(without, card) < 0.5


def test_product_on_a_plain_backdrop_is_cut_out() -> None:
    frame = render_frame(request(0, product_image=logo(alpha=False), headline="", subline=""))
    near_white = (frame.min(axis=2) > 240).mean()
    assert near_white < 0.002


@pytest.mark.parametrize("palette", [LUXURY, MINIMAL, MID_GREY, WARM])
@pytest.mark.parametrize("beat", range(len(PLAN)))
@pytest.mark.parametrize("size", [(640, 360), (360, 640)])
def test_headline_is_legible(palette: tuple[str, ...], beat: int, size: tuple[int, int]) -> None:
    width, height = size
    assert text_contrast(request(beat, width=width, height=height, palette=palette, subline="")) >= 4.5


@pytest.mark.parametrize("palette", [MINIMAL, MID_GREY])
def test_subline_is_legible(palette: tuple[str, ...]) -> None:
    assert text_contrast(request(1, width=640, height=360, palette=palette, headline="")) >= 4.5


words = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headline=st.lists(words, min_size=1, max_size=12).map(" ".join),
    subline=st.lists(words, max_size=10).map(" ".join),
    size=st.sampled_from([(320, 180), (180, 320), (200, 200)]),
    beat=st.integers(0, len(PLAN) - 1),
)
def test_text_stays_inside_the_safe_margins(headline: str, subline: str, size: tuple[int, int], beat: int) -> None:
    width, height = size
    req = request(beat, width=width, height=height, headline=headline, subline=subline)
    drawing = draw(req)
    blank = render_frame(dataclasses.replace(req, headline="", subline=""))
    ys, xs = np.nonzero(drawing.text_coverage > 0.02)
    assert len(xs) > 0
    # the coverage is where the pixels really changed: the text is drawn, not just accounted for
    changed = np.abs(drawing.image.astype(int) - blank.astype(int)).max(axis=2) > 0
    assert changed[drawing.text_coverage > 0.5].mean() > 0.95
    assert xs.min() >= 0.05 * width and xs.max() < 0.95 * width
    assert ys.min() >= 0.05 * height and ys.max() < 0.95 * height


def test_png_round_trip_is_exact() -> None:
    frame = render_frame(request(2))
    assert np.array_equal(decode_image(encode_png(frame)), frame)
    rgba = logo(alpha=True)
    assert np.array_equal(decode_image(encode_png(rgba)), rgba)


@pytest.mark.parametrize("extension", [".jpg", ".webp"])
def test_decodes_jpeg_and_webp_as_rgb(extension: str) -> None:
    frame = render_frame(request(0))
    ok, data = cv2.imencode(extension, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    assert ok
    decoded = decode_image(data.tobytes())
    assert decoded.shape == frame.shape
    assert np.abs(decoded.astype(int) - frame.astype(int)).mean() < 4


def test_unreadable_bytes_are_rejected_with_a_reason() -> None:
    with pytest.raises(ValueError, match="not a readable"):
        decode_image(b"definitely not an image")


colour = st.integers(0, 0xFFFFFF).map(lambda v: f"#{v:06x}")


@settings(max_examples=40, deadline=None)
@given(
    palette=st.lists(colour, min_size=2, max_size=5).map(tuple),
    lighting=st.sampled_from(["dramatic low-key", "soft high-key", "studio", "golden hour"]),
    beat=st.integers(0, len(PLAN) - 1),
    size=st.sampled_from([(480, 270), (270, 480), (360, 360)]),
)
def test_text_is_legible_on_any_palette(
    palette: tuple[str, ...], lighting: str, beat: int, size: tuple[int, int]
) -> None:
    width, height = size
    req = request(beat, width=width, height=height, palette=palette, lighting=lighting, subline="")
    assert text_contrast(req) >= 4.5
