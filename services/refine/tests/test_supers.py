"""Designed supers on real photos: contrast in every fully shown frame, safe zones, word-by-word
reveal, placement in calm space, the end card, fonts, determinism."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import skimage.data

from adgen.common.v1 import common_pb2
from adgen_refine.burned_captions import burned_captions
from adgen_refine.captions import Caption, captions
from adgen_refine.framing import fit_to_cover
from adgen_refine.spoken_captions import cues as spoken_cues
from adgen_refine.supers import (
    Box,
    CaptionSuper,
    EndCard,
    accent_of,
    contrast,
    load_fonts,
    luminance,
    render_caption,
    safe_area,
    sample_frames_of,
    supers_for,
)
from adgen_refine.voice_mix import Word, place

FPS = 24
SHAPES = [(640, 360), (360, 640), (480, 480)]


def photo(name: str) -> np.ndarray:
    """Real photographs: ``light`` is a high-key (bleached) coffee cup, ``dark`` a low-key one (as
    at night), the rest as they are (gravel, the astronaut, the Hubble deep field: busy)."""
    if name == "light":
        image = 255 - 0.3 * (255 - skimage.data.coffee().astype(np.float32))
    elif name == "dark":
        image = 0.22 * skimage.data.coffee().astype(np.float32)
    elif name == "gravel":
        image = np.repeat(skimage.data.gravel()[..., None], 3, axis=-1).astype(np.float32)
    else:
        image = getattr(skimage.data, name)().astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def camera(picture: np.ndarray, width: int, height: int, frames: int) -> list[np.ndarray]:
    """A slow push-in and pan across the picture, as the chunks animate a beat's still."""
    big = cv2.resize(picture, (picture.shape[1] * 2, picture.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
    shots = []
    for t in range(frames):
        zoom = 1.0 + 0.08 * t / frames
        scaled = cv2.resize(big, (round(big.shape[1] * zoom), round(big.shape[0] * zoom)), interpolation=cv2.INTER_AREA)
        shots.append(fit_to_cover(scaled, width, height, (0.42 + 0.16 * t / frames, 0.5)))
    return shots


def beat_spec(width: int, height: int, **fields: Any) -> common_pb2.Spec:
    return common_pb2.Spec(
        duration_s=8,
        brand="Aurum",
        call_to_action="Shop now",
        style=common_pb2.Style(palette=["#101820", "#C9A227", "#F2F2F2"]),
        output=common_pb2.OutputFormat(width=width, height=height, fps=FPS),
        beats=[
            common_pb2.Beat(
                index=0, start_s=0, duration_s=4, shot_type="close_up",
                headline="Crafted for every moment", subline="Titanium case, sapphire glass",
            ),
            common_pb2.Beat(
                index=1, start_s=4, duration_s=4, shot_type="wide", headline="Made to last",
                reference_asset_ids=["a-packshot"],
            ),
        ],
        **fields,
    )  # fmt: skip


def composite(frames: list[np.ndarray], tracks: list, *, glyphs: bool = True) -> list[np.ndarray]:
    out = []
    for t, frame in enumerate(frames):
        image = frame.copy()
        for track in tracks:
            track.draw(image, t, glyphs=glyphs)
        out.append(image)
    return out


def rendered(
    width: int, height: int, pictures: list[np.ndarray], spec: common_pb2.Spec | None = None
) -> tuple[list[np.ndarray], list]:
    """The frames of a two-beat spec (one picture per beat) and its text tracks, laid out on them."""
    spec = spec or beat_spec(width, height)
    per_beat = 4 * FPS
    frames = [f for p in pictures for f in camera(p, width, height, per_beat)]
    shown = captions(spec)
    wanted = {f for c in shown if not c.end_card for f in sample_frames_of(c, FPS)}
    tracks = supers_for(shown, width, height, FPS, {f: frames[f] for f in wanted}, palette=spec.style.palette)
    return frames, tracks


def worst_contrast(track: CaptionSuper | EndCard, frames: list[np.ndarray]) -> float:
    """The WCAG contrast between the glyph pixels and the picture behind them (with any scrim or
    card background, without the text) that nearly every glyph pixel (99 %) reaches, at its lowest
    over every frame where the text is fully shown (a star behind one stroke is no failure)."""
    height, width = frames[0].shape[:2]
    mask = track.glyph_mask(height, width)
    worst = np.inf
    shown = [t for t in range(len(frames)) if track.fully_shown(t)]
    assert shown, "the text is fully shown in some frames"
    for t in shown:
        with_text, behind = frames[t].copy(), frames[t].copy()
        track.draw(with_text, t)
        track.draw(behind, t, glyphs=False)
        ratio = contrast(luminance(with_text[mask]), luminance(behind[mask]))
        worst = min(worst, float(np.percentile(ratio, 1)))
    return worst


@pytest.mark.parametrize(("width", "height"), SHAPES)
@pytest.mark.parametrize("background", ["light", "dark", "gravel", "astronaut", "coffee", "hubble_deep_field"])
def test_every_super_reaches_4_5_to_1_in_every_fully_shown_frame(width: int, height: int, background: str) -> None:
    picture = photo(background)
    frames, tracks = rendered(width, height, [picture, picture])
    assert len(tracks) == 3 and isinstance(tracks[-1], EndCard)
    for track in tracks:
        assert worst_contrast(track, frames) >= 4.5, (background, track.caption.lines)
    first = tracks[0]
    assert isinstance(first, CaptionSuper)
    if background == "light":
        assert first.scrim is None and first.text_colour[0] < 50, "dark type, no box, on a light picture"
    if background == "dark":
        assert first.scrim is None and first.text_colour == (255, 255, 255), "white type, no box, on a dark one"


@pytest.mark.parametrize(("width", "height"), SHAPES)
def test_every_super_stays_inside_its_safe_zone_in_every_frame(width: int, height: int) -> None:
    frames, tracks = rendered(width, height, [photo("astronaut"), photo("coffee")])
    safe = safe_area(width, height)
    drawn = 0
    for track in tracks:
        assert safe.contains(track.motion_box)
        for t in range(len(frames)):
            for box in track.drawn_boxes(t):
                assert safe.contains(box), (t, box, safe)
                drawn += 1
    assert drawn > len(frames)
    if (width, height) == (360, 640):
        assert safe.bottom <= 0.80 * height and safe.right <= 0.85 * width and safe.top >= 0.10 * height


def test_words_are_revealed_one_by_one_in_reading_order() -> None:
    width, height = 640, 360
    grey = np.full((height, width, 3), 90, np.uint8)
    caption = Caption(0, (("headline", "Crafted for every moment"), ("subline", "Made to last")), 6, 90, 10)
    track = render_caption(caption, width, height, FPS, [grey])
    assert [w.text for w in track.words] == "Crafted for every moment Made to last".split()
    frames = composite([grey] * 100, [track])
    # Coverage per word: how much of its glyphs are in place, in its column span at rest.
    reached = []
    for word in track.words:
        box = word.layer.box
        rows = slice(box.top, box.bottom)
        cols = slice(box.left, box.right)
        final = np.abs(frames[60][rows, cols].astype(int) - 90).sum()
        coverage = [np.abs(f[rows, cols].astype(int) - 90).sum() / final for f in frames]
        assert coverage[caption.first_frame - 1] == 0
        reached.append(next(t for t, c in enumerate(coverage) if c >= 0.5))
    assert reached == sorted(reached) and len(set(reached[:4])) == 4, reached
    assert reached[-1] - reached[0] >= 6, "a stagger, not all at once"
    assert max(reached) < caption.first_frame + 0.4 * (caption.end_frame - caption.first_frame)
    # Something shows from the window's first frame, nothing after it; it leaves by sliding out.
    assert frames[caption.first_frame].astype(int).sum() != grey.astype(int).sum()
    assert np.array_equal(frames[caption.end_frame], grey)
    assert track.fully_shown(60) and not track.fully_shown(caption.end_frame - 2)


def test_the_text_goes_where_the_picture_is_calm_and_alternates() -> None:
    width, height = 640, 360
    texture = cv2.resize(photo("gravel"), (width, height))
    picture = np.full((height, width, 3), 200, np.uint8)
    picture[height // 2 :] = texture[height // 2 :]  # busy lower half, calm sky above
    caption = Caption(0, (("headline", "Own the moment"),), 6, 90, 10)
    assert render_caption(caption, width, height, FPS, [picture]).band == "top"
    calm = np.full((height, width, 3), 60, np.uint8)
    first = render_caption(caption, width, height, FPS, [calm])
    second = render_caption(caption, width, height, FPS, [calm], previous_band=first.band)
    assert first.band != second.band


def test_a_hero_beat_carries_a_bigger_headline_in_bold() -> None:
    lines = (("headline", "Own it"), ("subline", "Now"))
    grey = [np.full((360, 640, 3), 40, np.uint8)]
    hero = render_caption(Caption(0, lines, 0, 60, 8, "close_up"), 640, 360, FPS, grey)
    wide = render_caption(Caption(0, lines, 0, 60, 8, "wide"), 640, 360, FPS, grey)
    assert (
        hero.words[0].layer.box.bottom - hero.words[0].layer.box.top
        > wide.words[0].layer.box.bottom - wide.words[0].layer.box.top
    )
    head, sub = hero.words[0].mask, hero.words[-1].mask
    assert head.sum() / head.size > sub.sum() / sub.size, "the headline's strokes are heavier than the subline's"


@pytest.mark.parametrize(("width", "height"), SHAPES)
def test_the_end_card_shows_the_brand_and_the_cta_on_an_accent_plate(width: int, height: int) -> None:
    spec = beat_spec(width, height)
    shown = captions(spec)
    card = shown[-1]
    assert card.end_card and card.lines == (("brand", "Aurum"), ("cta", "Shop now"))
    assert card.end_frame == 8 * FPS and card.end_frame - card.first_frame == round(1.75 * FPS)
    still = [photo("chelsea")] * 2
    frames, tracks = rendered(width, height, still)
    end = tracks[-1]
    assert isinstance(end, EndCard)
    final = composite(frames, tracks)
    last = final[-1]
    # The card darkens the picture behind its text, the brand's glyphs white; above the scrim the
    # picture (the packshot) is as it was.
    card_box = end.box
    behind = (slice(card_box.bottom, height), slice(0, width))
    assert last[behind].mean() < frames[-1][behind].mean() * 0.6
    above = slice(0, max(1, end.scrim_top - end.feather_px - round(0.05 * height) - 1))
    assert np.array_equal(last[above], frames[-1][above])
    safe = safe_area(width, height)
    assert card_box.top > safe.top + 0.3 * (safe.bottom - safe.top), "the card leaves the packshot above it"
    brand = end.brand
    assert brand is not None and brand.text == "Aurum"
    b = brand.layer.box
    assert np.all(last[b.top : b.bottom, b.left : b.right][brand.mask] == 255)
    assert end.box.right - end.box.left > 0.25 * width, "the brand is big"
    plate = end.plate
    assert plate is not None
    centre = plate.box
    row = (centre.top + centre.bottom) // 2
    accent = np.array(accent_of(spec.style.palette))
    assert np.abs(last[row, centre.left + (centre.right - centre.left) // 6].astype(int) - accent).max() <= 40
    # A subtle motion keeps the card alive: no two frames alike, even over a still picture.
    card_frames = final[card.first_frame : card.end_frame]
    assert all(not np.array_equal(a, b) for a, b in itertools.pairwise(card_frames))
    assert worst_contrast(end, frames) >= 4.5


@pytest.mark.parametrize(("width", "height"), SHAPES)
def test_an_end_card_without_a_product_is_the_whole_picture(width: int, height: int) -> None:
    spec = beat_spec(width, height)
    del spec.beats[1].reference_asset_ids[:]  # a design without a product: nothing to keep in view
    frames, tracks = rendered(width, height, [photo("chelsea")] * 2, spec)
    end = tracks[-1]
    assert isinstance(end, EndCard) and end.scrim_top == 0
    last = composite(frames, tracks, glyphs=False)[-1]
    top_rows = slice(0, max(1, end.box.top - 1))
    assert last[top_rows].mean() < frames[-1][top_rows].mean() * 0.3, "darkened from the top, not only behind the text"
    safe = safe_area(width, height)
    middle = (end.box.top + end.box.bottom) / 2
    assert abs(middle - (safe.top + safe.bottom) / 2) < 0.12 * (safe.bottom - safe.top), "centred in the safe area"


def test_no_end_card_without_a_brand_or_a_cta() -> None:
    spec = beat_spec(640, 360)
    spec.brand, spec.call_to_action, spec.product_name = "", "", ""
    assert not any(c.end_card for c in captions(spec))
    spec.product_name = "Aurum Watch"
    assert captions(spec)[-1].lines == (("brand", "Aurum Watch"),)


def test_layout_is_deterministic() -> None:
    pictures = [photo("astronaut"), photo("coffee")]
    _, first = rendered(640, 360, pictures)
    _, again = rendered(640, 360, pictures)
    for a, b in zip(first, again, strict=True):
        assert a.box == b.box
        assert getattr(a, "band", None) == getattr(b, "band", None)
        layers = [(a.block, b.block)] if isinstance(a, CaptionSuper) else [(a.brand_layer, b.brand_layer)]
        for x, y in layers:
            assert x is not None and y is not None
            assert np.array_equal(x.colour, y.colour) and np.array_equal(x.alpha, y.alpha)


def test_missing_fonts_fall_back_to_pillows_own(tmp_path: Path) -> None:
    fonts = load_fonts(tmp_path)
    assert fonts.bold is None and fonts.regular is None
    caption = Caption(0, (("headline", "Still legible"),), 0, 48, 8)
    track = render_caption(caption, 640, 360, FPS, [np.full((360, 640, 3), 30, np.uint8)], fonts=fonts)
    assert track.glyph_mask(360, 640).sum() > 100
    shipped = load_fonts()
    assert shipped.bold is not None and shipped.bold.name == "DejaVuSans-Bold.ttf"


# --- the voice's captions, burned in -------------------------------------------------------


def spoken(spec_beats: list[tuple[float, str]]) -> list:
    """Lines said through each beat (start, text): a word every 0.3 s from a breath in."""
    lines = []
    for index, (start, text) in enumerate(spec_beats):
        words = [Word(w, 0.3 * i, 0.3 * i + 0.25) for i, w in enumerate(text.split())]
        lines.append(place(index, start + 0.5, np.zeros(10), words))
    return spoken_cues(lines, {0: 4.0, 1: 8.0})


LINES = [(0.0, "Crafted for every single moment, in titanium."), (4.0, "Made to last. Find it near you.")]


def meets(a: Box, b: Box) -> bool:
    return min(a.right, b.right) > max(a.left, b.left) and min(a.bottom, b.bottom) > max(a.top, b.top)


@pytest.mark.parametrize(("width", "height"), SHAPES)
def test_no_caption_meets_a_super_on_screen_with_it_and_all_stay_in_the_safe_area(width: int, height: int) -> None:
    _, supers = rendered(width, height, [photo("coffee"), photo("astronaut")], beat_spec(width, height))
    burned = burned_captions(spoken(LINES), width, height, FPS, supers, load_fonts())
    assert len(burned) >= 4
    safe = safe_area(width, height)
    for caption in burned:
        assert safe.contains(caption.box), (caption.box, safe)
        for track in supers:
            if track.first_frame < caption.end_frame and caption.first_frame < track.end_frame:
                assert not meets(caption.box, track.motion_box), (caption.box, track.motion_box)


def test_words_arrive_as_they_are_spoken_on_a_plate_that_keeps_them_legible() -> None:
    width, height = 640, 360
    frames, supers = rendered(width, height, [photo("light"), photo("gravel")], beat_spec(width, height))
    [first, *_] = burned_captions(spoken(LINES), width, height, FPS, supers, load_fonts())
    box = first.box

    def white(t: int) -> int:
        image = frames[t].copy()
        first.draw(image, t)
        return int((luminance(image[box.top : box.bottom, box.left : box.right]) > 0.9).sum())

    starts = sorted({w.start_frame for w in first.words})
    counts = [white(t) for t in starts]
    assert counts == sorted(counts) and counts[0] < counts[-1], counts  # more of the line as it is said
    assert white(first.first_frame - 1) == 0 or not first.active(first.first_frame - 1)
    # Contrast of the glyph pixels against the plate behind them, over the bleached picture.
    t = starts[-1]
    with_text, behind = frames[t].copy(), frames[t].copy()
    first.draw(with_text, t)
    first.draw(behind, t, glyphs=False)
    glyphs = first.glyph_mask(height, width)
    assert glyphs.sum() > 50
    assert float(np.percentile(contrast(luminance(with_text[glyphs]), luminance(behind[glyphs])), 1)) >= 4.5
