"""What text an ad shows, when, and the WebVTT sidecar that carries the same text.

* **What:** each beat's ``headline`` and ``subline``. The plan's call to action is not a line of
  the closing beat any more but the **end card**: the brand name (``spec.brand``, else
  ``spec.product_name``) over the CTA, in the closing beat's last 1.75 s (at most half of that
  beat). A closing-beat line that already says the CTA is left to the end card, not repeated.
  Beats without text get nothing.
* **When, in frames:** from a quarter second into the beat (after a beat transition has settled) to
  a quarter second before its end (the closing beat's caption ends where the end card begins, and
  is dropped when that leaves it under 0.75 s); the text leaves over 0.4 s (at most a third of the
  window). How words arrive inside the window is ``supers``' choice; the window is the frames with
  any of the text on screen. Burned-in supers and the sidecar cue share this one window, so the cue
  times are the frames where the text is on screen, exact to the frame. The end card holds to the
  last frame of the video.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from adgen.common.v1 import common_pb2
from adgen_video.naming import shown_name

_SETTLE_S: Final = 0.25
_FADE_S: Final = 0.4
END_CARD_S: Final = 1.75
_MIN_CAPTION_S: Final = 0.75


@dataclass(frozen=True)
class Caption:
    beat_index: int
    lines: tuple[tuple[str, str], ...]
    """(role, text) in reading order; role is "headline", "subline", or on the end card "brand"
    and "cta"."""
    first_frame: int
    end_frame: int
    """Exclusive: the first frame without the text."""
    fade_frames: int
    shot_type: str = ""
    end_card: bool = False
    over_product: bool = True
    """An end card over its beat's packshot keeps it in view; one over a design without a product
    may cover the whole picture, so the storyboard's own wordmark does not show through it."""

    def opacity(self, frame: int) -> float:
        """0 outside the window, ramping linearly over ``fade_frames`` at both ends, else 1."""
        if not self.first_frame <= frame < self.end_frame:
            return 0.0
        since, until = frame - self.first_frame + 1, self.end_frame - frame
        return min(1.0, since / (self.fade_frames + 1), until / (self.fade_frames + 1))


def captions(spec: common_pb2.Spec) -> list[Caption]:
    """One caption per beat that has text, in beat order, then the end card (if there is a brand
    name or a CTA)."""
    fps = spec.output.fps
    if fps <= 0:
        raise ValueError(f"output.fps must be positive, got {fps}")
    settle, fade = round(_SETTLE_S * fps), round(_FADE_S * fps)
    beats = sorted(spec.beats, key=lambda b: b.index)
    cta, brand = spec.call_to_action.strip(), shown_name(spec.brand, spec.product_name)
    result = []
    for beat in beats:
        start, end = beat.start_s * fps, (beat.start_s + beat.duration_s) * fps
        closing = beat is beats[-1]
        card: Caption | None = None
        if closing and (cta or brand):
            length = min(round(END_CARD_S * fps), (end - start) // 2)
            card_lines = tuple((role, text) for role, text in (("brand", brand), ("cta", cta)) if text)
            card = Caption(
                beat.index, card_lines, end - length, end, round(0.3 * fps), beat.shot_type,
                end_card=True, over_product=bool(beat.reference_asset_ids),
            )  # fmt: skip
            end = card.first_frame + settle
        lines = [(role, text.strip()) for role, text in (("headline", beat.headline), ("subline", beat.subline))]
        if card is not None:  # what the end card says a moment later is not said before it as well
            said = {text.casefold() for _, text in card.lines}
            lines = [(role, text) for role, text in lines if text.casefold() not in said]
        lines = [(role, text) for role, text in lines if text]
        if [role for role, _ in lines] == ["subline"]:  # a line on its own is read as the headline
            lines = [("headline", lines[0][1])]
        first, stop = start + settle, end - settle
        if stop - first < 3:
            first, stop = start, end
        if lines and (card is None or stop - first >= _MIN_CAPTION_S * fps):
            window = stop - first
            result.append(Caption(beat.index, tuple(lines), first, stop, min(fade, window // 3), beat.shot_type))
        if card is not None:
            result.append(card)
    return result


def webvtt(spec: common_pb2.Spec) -> str:
    """The WebVTT sidecar: one cue per caption (and the end card), timed to the frames the text is
    shown."""
    fps = spec.output.fps
    cues = ["WEBVTT", ""]
    for number, caption in enumerate(captions(spec), start=1):
        cues += [
            str(number),
            f"{timestamp(caption.first_frame / fps)} --> {timestamp(caption.end_frame / fps)}",
            *(cue_text(text) for _, text in caption.lines),
            "",
        ]
    return "\n".join(cues)


def timestamp(seconds: float) -> str:
    """hh:mm:ss.mmm; rounding to the millisecond keeps every frame distinct up to 500 fps."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def cue_text(text: str) -> str:
    """Cue text is markup: &, < and > must be escaped, and a line may not contain "-->"."""
    return " ".join(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").split())
