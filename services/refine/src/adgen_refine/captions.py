"""What text an ad shows, when, and the WebVTT sidecar that carries the same text.

* **What:** each beat's ``headline`` and ``subline``; the closing (last) beat also carries the
  plan's call to action unless one of its lines already says it. Beats without text get nothing.
* **When, in frames:** from a quarter second into the beat (after a beat transition has settled) to
  a quarter second before its end, fading in and out over 0.4 s (at most a third of the visible
  span each). Burned-in supers and the sidecar cue share this one window, so the cue times are the
  frames where the text is on screen, exact to the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from adgen.common.v1 import common_pb2

_SETTLE_S: Final = 0.25
_FADE_S: Final = 0.4


@dataclass(frozen=True)
class Caption:
    beat_index: int
    lines: tuple[tuple[str, str], ...]
    """(role, text) in reading order; role is "headline", "subline" or "cta"."""
    first_frame: int
    end_frame: int
    """Exclusive: the first frame without the text."""
    fade_frames: int

    def opacity(self, frame: int) -> float:
        """0 outside the window, ramping linearly over ``fade_frames`` at both ends, else 1."""
        if not self.first_frame <= frame < self.end_frame:
            return 0.0
        since, until = frame - self.first_frame + 1, self.end_frame - frame
        return min(1.0, since / (self.fade_frames + 1), until / (self.fade_frames + 1))


def captions(spec: common_pb2.Spec) -> list[Caption]:
    """One caption per beat that has text, in beat order."""
    fps = spec.output.fps
    if fps <= 0:
        raise ValueError(f"output.fps must be positive, got {fps}")
    settle, fade = round(_SETTLE_S * fps), round(_FADE_S * fps)
    last = max((b.index for b in spec.beats), default=-1)
    result = []
    for beat in sorted(spec.beats, key=lambda b: b.index):
        lines = [(role, text.strip()) for role, text in (("headline", beat.headline), ("subline", beat.subline))]
        cta = spec.call_to_action.strip()
        if beat.index == last and cta and cta.casefold() not in {t.casefold() for _, t in lines}:
            lines.append(("cta", cta))
        lines = [(role, text) for role, text in lines if text]
        if not lines:
            continue
        start, end = beat.start_s * fps, (beat.start_s + beat.duration_s) * fps
        first, stop = start + settle, end - settle
        if stop - first < 3:
            first, stop = start, end
        result.append(Caption(beat.index, tuple(lines), first, stop, min(fade, (stop - first) // 3)))
    return result


def webvtt(spec: common_pb2.Spec) -> str:
    """The WebVTT sidecar: one cue per beat with text, timed to the frames the text is shown."""
    fps = spec.output.fps
    cues = ["WEBVTT", ""]
    for number, caption in enumerate(captions(spec), start=1):
        cues += [
            str(number),
            f"{_timestamp(caption.first_frame, fps)} --> {_timestamp(caption.end_frame, fps)}",
            *(_escape(text) for _, text in caption.lines),
            "",
        ]
    return "\n".join(cues)


def _timestamp(frame: int, fps: int) -> str:
    """hh:mm:ss.mmm; rounding to the millisecond keeps every frame distinct up to 500 fps."""
    millis = round(frame * 1000 / fps)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _escape(text: str) -> str:
    """Cue text is markup: &, < and > must be escaped, and a line may not contain "-->"."""
    return " ".join(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").split())
