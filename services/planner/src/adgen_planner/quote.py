"""What a plan will cost and how long it will take, before anything is rendered.

Cost is per call, never per second: clips = chunks × the model's price per clip; one storyboard
image per beat (flux-dev, or flux-dev-controlnet for beats that show the user's product images);
one music track; the voiceover per character of its script, at the price the voice service lists
for the voice (Piper's offline voice is free); plus the planner's own tokens when a language model
planned. The local studio providers cost nothing.

Time follows the dependency graph rather than a row of phases: every beat's frame starts when the
plan exists and its chunks follow one another, so the wall time is the plan, then the slowest
beat (its image, then its chunks in sequence), then refine and export. The voice speaks beside the
frames and chunks, a few seconds of work per line, so it is off the critical path. Remote latencies are the
providers' typical figures (about 8 s per image and 45 s per clip); the studio ones are round
figures for a laptop-class machine, not measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adgen.common.v1 import common_pb2

FLUX_DEV = "black-forest-labs/flux-dev"
FLUX_CONTROLNET = "xlabs-ai/flux-dev-controlnet"
MUSICGEN = "meta/musicgen"
IMAGE_MICROS = 25_000
CONTROLNET_IMAGE_MICROS = 58_000
MUSIC_MICROS = 150_000


@dataclass(frozen=True)
class Latencies:
    """Seconds per unit of work, each unit on its own worker."""

    plan_s: float
    image_s: float
    clip_s: float
    refine_s: float
    export_s: float


REMOTE = Latencies(plan_s=5.0, image_s=8.0, clip_s=45.0, refine_s=30.0, export_s=5.0)
STUDIO = Latencies(plan_s=0.5, image_s=1.0, clip_s=4.0, refine_s=10.0, export_s=2.0)


def expected_latency(local: bool) -> common_pb2.ExpectedLatency:
    """The latencies a plan carries in its Spec, so progress can show an ETA without a registry."""
    latency = STUDIO if local else REMOTE
    return common_pb2.ExpectedLatency(
        plan_s=latency.plan_s,
        image_s=latency.image_s,
        clip_s=latency.clip_s,
        refine_s=latency.refine_s,
        export_s=latency.export_s,
    )


@dataclass(frozen=True)
class BeatWork:
    """One beat as the pipeline sees it: how many chunks animate it and whether its storyboard
    image is conditioned on the user's product images."""

    index: int
    chunks: int
    uses_reference: bool


@dataclass(frozen=True)
class Line:
    phase: common_pb2.Phase
    provider: str
    model: str
    units: int
    usd_micros: int


@dataclass(frozen=True)
class Quote:
    lines: tuple[Line, ...]
    estimated_seconds: float
    slowest_beat: int

    @property
    def total_micros(self) -> int:
        return sum(line.usd_micros for line in self.lines)


def estimate(
    beats: Sequence[BeatWork],
    *,
    video_model: str,
    price_per_clip_micros: int,
    local: bool,
    plan_line: Line | None = None,
    voice_line: Line | None = None,
) -> Quote:
    """The cost lines and critical-path time of rendering `beats` with `video_model` (and speaking
    the script, priced by the voice service: `voice_line`)."""
    if not beats:
        raise ValueError("a quote needs at least one beat")
    if any(b.chunks < 1 for b in beats):
        raise ValueError("every beat is animated by at least one chunk")
    lines = [plan_line] if plan_line else []
    clips = sum(b.chunks for b in beats)
    if local:
        lines.append(Line(common_pb2.PHASE_CHUNKS, "studio", video_model, clips, 0))
        lines.append(Line(common_pb2.PHASE_STORYBOARD, "studio", "studio", len(beats), 0))
    else:
        lines.append(Line(common_pb2.PHASE_CHUNKS, "replicate", video_model, clips, clips * price_per_clip_micros))
        plain = sum(1 for b in beats if not b.uses_reference)
        conditioned = len(beats) - plain
        if plain:
            lines.append(Line(common_pb2.PHASE_STORYBOARD, "replicate", FLUX_DEV, plain, plain * IMAGE_MICROS))
        if conditioned:
            lines.append(
                Line(
                    common_pb2.PHASE_STORYBOARD,
                    "replicate",
                    FLUX_CONTROLNET,
                    conditioned,
                    conditioned * CONTROLNET_IMAGE_MICROS,
                )
            )
        lines.append(Line(common_pb2.PHASE_REFINE, "replicate", MUSICGEN, 1, MUSIC_MICROS))
    if voice_line:
        lines.append(voice_line)
    latency = STUDIO if local else REMOTE
    slowest = max(beats, key=lambda b: (b.chunks, -b.index))
    seconds = latency.plan_s + latency.image_s + slowest.chunks * latency.clip_s + latency.refine_s + latency.export_s
    return Quote(tuple(lines), seconds, slowest.index)
