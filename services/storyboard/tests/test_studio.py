"""What a person relies on from the studio storyboard renderer, checked on the pixels it draws.

Product presence is measured the way a viewer recognises a product: the photo's own local features
(SIFT) found again in the frame, agreeing on one placement (a RANSAC homography). MIN_INLIERS = 12:
frames without the product give 0 to 4 such inliers (chance matches rarely agree on one homography,
which needs 4 to be defined at all), frames with the coffee photo give about 90 and more, even the
detail crop and the small packshot; 12 is three times the worst chance agreement and far below the
weakest real one, so it passes only when a recognisable part of the photo is really in the frame.
"""

from __future__ import annotations

import dataclasses
import io
import time
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from media_checks import sift_matches
from PIL import Image, ImageFont
from skimage import data as skimage_data

from adgen.common.v1 import common_pb2
from adgen_storyboard import studio
from adgen_storyboard.image_bounds import read_bounded
from adgen_storyboard.providers import BeatImageRequest, StudioImages
from adgen_storyboard.studio import (
    DETAIL,
    HERO,
    LIFESTYLE,
    PACKSHOT,
    FrameRequest,
    compose,
    contrast_ratio,
    decode_image,
    draw,
    encode_png,
    luminance,
    render_frame,
    role_of,
)
from adgen_storyboard.worker import frame_request

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
        brand="Aurum",
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


@pytest.mark.parametrize(("beat", "alpha"), [(0, True), (2, False), (3, True), (3, False)])
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


# -- the product in every beat, measured on a real photo -------------------------------------------

COFFEE = skimage_data.coffee()  # CC0: an espresso cup on a saucer, a wooden table behind it
MIN_INLIERS = 12  # see the module docstring
ROLES = {HERO: 0, DETAIL: 1, LIFESTYLE: 2, PACKSHOT: 3}  # PLAN's beats, one per role


def test_each_beat_of_the_plan_has_its_role() -> None:
    assert [role_of(request(beat)) for beat in ROLES.values()] == list(ROLES)
    assert role_of(request(0, shot_type="wide", position="opening")) == LIFESTYLE
    assert role_of(request(1, shot_type="extreme_close_up")) == DETAIL
    assert role_of(request(1, shot_type="dynamic")) == HERO
    assert role_of(request(3, shot_type="wide_cinematic")) == PACKSHOT


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280)])
@pytest.mark.parametrize("role", list(ROLES))
def test_the_photo_is_recognisable_in_every_beat_and_in_no_frame_without_it(role: str, size: tuple[int, int]) -> None:
    width, height = size
    req = request(ROLES[role], width=width, height=height, headline="", subline="")
    with_product = draw(dataclasses.replace(req, product_image=COFFEE))
    without = draw(req)
    assert sift_matches(COFFEE, with_product.image) >= MIN_INLIERS
    assert sift_matches(COFFEE, without.image) < MIN_INLIERS
    [note] = with_product.notes
    assert note.startswith(f"beat {ROLES[role]}: ") and "[treatment framed, confidence " in note  # a busy table
    assert without.notes == ()


def png(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


def transparent_png() -> bytes:
    return png(np.zeros((64, 64, 4), np.uint8))


@pytest.mark.parametrize(
    ("name", "image"),
    [
        ("1x1", lambda: read_bounded(png(np.full((1, 1, 3), 128, np.uint8)))),
        ("fully transparent", lambda: read_bounded(transparent_png())),
        ("all background", lambda: read_bounded(png(np.full((300, 400, 3), 245, np.uint8)))),
    ],
)
@pytest.mark.parametrize("beat", list(ROLES.values()))
def test_an_unusable_product_image_gives_a_note_and_the_frame_without_it(name: str, image, beat: int) -> None:
    req = request(beat, width=320, height=180, product_image=image())
    drawing = draw(req)
    assert drawing.image.shape == (180, 320, 3)
    [note] = drawing.notes
    assert note.startswith(f"beat {beat}: the product image cannot be used (") and note.endswith("drawn without it")
    assert drawing.wordmark_coverage is not None and drawing.wordmark_coverage.max() > 0.9  # the brand instead


def test_a_40_megapixel_photo_is_scaled_once_and_shown() -> None:
    big = cv2.resize(COFFEE, (7740, 5160), interpolation=cv2.INTER_CUBIC)  # 39.9 MP
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(big, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    product = read_bounded(jpeg.tobytes())
    assert max(product.shape[:2]) == 2048
    for beat in ROLES.values():
        drawing = draw(request(beat, width=640, height=360, headline="", subline="", product_image=product))
        assert sift_matches(COFFEE, drawing.image) >= MIN_INLIERS
        assert "treatment " in drawing.notes[0]


# -- without a product: motion design with the brand as the hero ------------------------------------


def test_there_is_no_stand_in_product() -> None:
    for gone in ("_hero_object", "_capsule", "_pedestal", "_product_rgba"):
        assert not hasattr(studio, gone)


@pytest.mark.parametrize("size", [(640, 360), (360, 640)])
@pytest.mark.parametrize("beat", list(ROLES.values()))
def test_the_brand_is_the_hero_of_a_frame_without_a_product(beat: int, size: tuple[int, int]) -> None:
    width, height = size
    req = request(beat, width=width, height=height, headline="", subline="")
    drawing = draw(req)
    mark = drawing.wordmark_coverage
    assert mark is not None
    assert (mark > 0.5).mean() > 0.005  # set large, not a caption
    # drawn in the pixels: without the brand the same frame differs exactly where the letters are
    bare = draw(dataclasses.replace(req, brand=""))
    assert bare.wordmark_coverage is not None and bare.wordmark_coverage.max() == 0
    changed = np.abs(drawing.image.astype(int) - bare.image.astype(int)).max(axis=2) > 24
    assert changed[mark > 0.9].mean() > 0.9
    # the text box stays for refine's supers
    x0, y0, x1, y1 = compose(req).text_box
    assert (mark[y0:y1, x0:x1] > 0.5).sum() < 0.2 * (mark > 0.5).sum()


def test_the_text_box_is_calm_in_a_frame_without_a_product() -> None:
    req = request(0, width=640, height=360, headline="", subline="")
    frame = render_frame(req).astype(float)
    x0, y0, x1, y1 = compose(req).text_box
    box = frame[y0:y1, x0:x1]
    outside = np.concatenate([frame[:y0].reshape(-1, 3), frame[y1:].reshape(-1, 3)])
    edges = np.abs(cv2.Laplacian(cv2.cvtColor(frame.astype(np.uint8), cv2.COLOR_RGB2GRAY), cv2.CV_32F))
    assert edges[y0:y1, x0:x1].mean() < 0.6 * edges[:y0].mean()
    assert box.std() < outside.std()


def test_frame_request_names_the_brand_for_the_wordmark() -> None:
    beat = common_pb2.Beat(
        index=0, beat_id="hero_shot", shot_type="close_up", position=common_pb2.BEAT_POSITION_OPENING
    )
    output = common_pb2.OutputFormat(width=320, height=180, fps=24)
    spec = common_pb2.Spec(beats=[beat], output=output, brand="Aurum", product_name="titanium watch")
    assert frame_request(spec, 0, None).brand == "Aurum"
    spec.brand = ""
    assert frame_request(spec, 0, None).brand == "Titanium Watch"  # set as a name, not as a prompt's words
    spec.beats[0].headline = "Titanium  watch"  # the super says it already: not twice on one screen
    assert frame_request(spec, 0, None).brand == ""
    spec.beats[0].headline = "Built to last"
    spec.product_name = "the product"  # the planner's placeholder is not a name to set large
    assert frame_request(spec, 0, None).brand == ""


async def test_the_studio_provider_returns_the_product_note() -> None:
    frame = request(0, width=320, height=180, product_image=COFFEE)
    image = await StudioImages().image_for(BeatImageRequest(frame=frame, prompt="espresso"))
    assert decode_image(image.png).shape == (180, 320, 3)
    assert len(image.notes) == 1 and "treatment " in image.notes[0]


def test_a_full_hd_frame_is_drawn_quickly() -> None:
    for product in (None, COFFEE):
        for beat in ROLES.values():
            req = request(beat, width=1280, height=720, product_image=product)
            draw(req)  # the cut-out is cached after the first beat, as in a video
            start = time.perf_counter()
            draw(req)
            assert time.perf_counter() - start < 0.6  # ~0.1 s here; generous for a loaded CI machine


def test_the_wordmark_face_is_looked_for_in_the_configured_folder_first(tmp_path) -> None:
    found = ImageFont.truetype("DejaVuSans.ttf").path  # fonts-dejavu-core (make fonts)
    assert isinstance(found, str)
    regular = Path(found)
    (tmp_path / studio.DISPLAY_FONT).write_bytes(regular.read_bytes())  # a regular face under the bold's name
    req = request(0, width=640, height=360, headline="", subline="")
    configured = draw(req, tmp_path).wordmark_coverage
    system = draw(req).wordmark_coverage
    assert configured is not None and system is not None
    assert (configured > 0.5).sum() < 0.9 * (system > 0.5).sum()  # thinner strokes: the folder's face was used
