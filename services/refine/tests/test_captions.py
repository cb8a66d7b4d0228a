"""Supers and the WebVTT sidecar: which text, exact cue times, legible, inside the safe area."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from adgen.common.v1 import common_pb2
from adgen_refine.captions import Caption, captions, webvtt
from adgen_refine.supers import contrast, luminance, render_caption, safe_area

FPS = 24
CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)$")


def spec(fps: int = FPS) -> common_pb2.Spec:
    return common_pb2.Spec(
        duration_s=20,
        call_to_action="Shop now",
        output=common_pb2.OutputFormat(width=1280, height=720, fps=fps),
        beats=[
            common_pb2.Beat(index=0, start_s=0, duration_s=5, headline="Titanium <Watch>", subline="Made to last"),
            common_pb2.Beat(index=1, start_s=5, duration_s=10),
            common_pb2.Beat(index=2, start_s=15, duration_s=5, headline="Own the moment"),
        ],
    )


def parse_vtt(text: str, fps: int) -> list[tuple[int, int, list[str]]]:
    """(first frame, end frame, lines) per cue, asserting the times land exactly on frames."""
    assert text.startswith("WEBVTT\n\n")
    cues = []
    for block in text.strip().split("\n\n")[1:]:
        _, timing, *lines = block.split("\n")
        match = CUE.match(timing)
        assert match, timing
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, match.groups())
        frames = []
        for seconds in ((h1 * 60 + m1) * 60 + s1 + ms1 / 1000, (h2 * 60 + m2) * 60 + s2 + ms2 / 1000):
            frame = round(seconds * fps)
            assert abs(seconds - frame / fps) <= 0.0005, "cue time is a frame time to the millisecond"
            frames.append(frame)
        cues.append((frames[0], frames[1], lines))
    return cues


@pytest.mark.parametrize("fps", [24, 25, 30])
def test_vtt_has_one_cue_per_beat_with_text_on_exact_frames(fps: int) -> None:
    cues = parse_vtt(webvtt(spec(fps)), fps)
    assert [lines for _, _, lines in cues] == [
        ["Titanium &lt;Watch&gt;", "Made to last"],
        ["Own the moment"],
        ["Shop now"],
    ]
    settle = round(0.25 * fps)
    card = round(1.75 * fps)
    assert cues[0][:2] == (settle, 5 * fps - settle)
    assert cues[1][:2] == (15 * fps + settle, 20 * fps - card), "the closing text gives way to the end card"
    assert cues[2][:2] == (20 * fps - card, 20 * fps), "which holds to the last frame"
    shown = [c for c in captions(spec(fps))]
    assert [(c.first_frame, c.end_frame) for c in shown] == [c[:2] for c in cues]


def test_caption_fades_in_and_out_within_its_window() -> None:
    caption = captions(spec())[0]
    curve = [caption.opacity(f) for f in range(0, 5 * FPS)]
    assert curve[caption.first_frame - 1] == 0 and curve[caption.end_frame] == 0
    assert 0 < curve[caption.first_frame] < 0.2 and curve[caption.first_frame + caption.fade_frames] == 1.0
    assert 0 < curve[caption.end_frame - 1] < 0.2
    assert max(abs(a - b) for a, b in itertools.pairwise(curve)) <= 1 / caption.fade_frames


def test_the_call_to_action_is_not_repeated() -> None:
    repeated = spec()
    repeated.beats[2].headline = "shop NOW"
    assert [c.lines for c in captions(repeated)][1:] == [(("cta", "Shop now"),)], "said once, on the end card"


def test_the_closing_beat_does_not_say_what_its_end_card_says() -> None:
    branded = spec()
    branded.brand = "Aurum"
    branded.beats[2].headline, branded.beats[2].subline = "Shop now", "AURUM"
    assert [c.lines for c in captions(branded)][1:] == [(("brand", "Aurum"), ("cta", "Shop now"))]


def test_a_line_on_its_own_is_set_as_a_headline() -> None:
    lone = spec()
    lone.beats[1].subline = "Crafted in Geneva"
    assert captions(lone)[1].lines == (("headline", "Crafted in Geneva"),)


LINES = (
    ("headline", "A rather long headline that has to wrap on a phone"),
    ("subline", "Made to last"),
)


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (720, 1280), (1080, 1080), (1920, 1080)])
@pytest.mark.parametrize("background", ["white", "grey", "noise"])
def test_supers_are_legible_and_inside_the_safe_area(width: int, height: int, background: str) -> None:
    frame = {
        "white": np.full((height, width, 3), 255, np.uint8),
        "grey": np.full((height, width, 3), 128, np.uint8),
        "noise": np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8),
    }[background]
    track = render_caption(Caption(0, LINES, 0, 96, 10), width, height, FPS, [frame])
    assert safe_area(width, height).contains(track.motion_box)
    mask = track.glyph_mask(height, width)
    with_text, behind = frame.copy(), frame.copy()
    track.draw(with_text, 60)
    track.draw(behind, 60, glyphs=False)
    ratio = contrast(luminance(with_text[mask]), luminance(behind[mask]))
    assert ratio.min() >= 4.5, ratio.min()
    # Mid grey is where neither white nor black type has a margin over 4.5 : 1; white needs none.
    assert (track.scrim is None) == (background == "white"), "a scrim only where no type colour is enough"


def test_a_9_16_super_keeps_clear_of_the_phone_controls() -> None:
    track = render_caption(Caption(0, LINES, 0, 96, 10), 720, 1280, FPS)
    box = track.motion_box
    assert box.bottom <= 1280 * 0.80 and box.top >= 1280 * 0.10 and box.right <= 720 * 0.85
