"""Chunk planning: how each beat is covered by clips of the model's real length, in whole frames.

Every beat is animated on its own: its first chunk starts from the beat's storyboard image at the
beat's first frame, and each later chunk starts from a hand-off frame of the chunk right before
it, inside that chunk, so consecutive chunks of a beat overlap and are cross-faded. A chunk never
crosses into the next beat (beat boundaries are cuts), and the last chunk of a beat is trimmed at
the beat's end, so the timeline is exactly as long as the plan whatever the clip length.

Everything is counted in integer frames at the output frame rate; a clip contributes
floor(clip_s × fps) frames, never a frame the model does not return.

Overlap: the next chunk's first frame *is* the hand-off frame, which is a frame of the previous
clip, so two chunks of a beat always share at least that one frame. An overlap fraction that
rounds to zero frames therefore still overlaps by one frame; the plan records the overlap used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from adgen_chunks.model_registry import VideoModel

DEFAULT_FPS = 24
DEFAULT_OVERLAP_FRACTION = 0.25
MAX_OVERLAP_FRACTION = 0.4
# Seconds per storyboard image and per clip from the predecessor's measurements.
IMAGE_LATENCY_S = 8.0
CLIP_LATENCY_S = 45.0


class InitSource(StrEnum):
    STORYBOARD = "storyboard"
    HANDOFF = "handoff"


@dataclass(frozen=True)
class ChunkSlot:
    index: int
    beat_index: int
    index_in_beat: int
    start_frame: int
    used_frames: int
    overlap_in_frames: int
    init_source: InitSource
    handoff_frame: int

    @property
    def end_frame(self) -> int:
        """First frame after this chunk on the timeline."""
        return self.start_frame + self.used_frames


@dataclass(frozen=True)
class ChunkPlan:
    slots: tuple[ChunkSlot, ...]
    fps: int
    clip_frames: int
    overlap_frames: int
    total_frames: int


class InvalidChunkPlan(ValueError):
    def __init__(self, violations: list[str]) -> None:
        super().__init__("invalid chunk plan: " + "; ".join(violations))
        self.violations = tuple(violations)


def clip_frames_for(clip_s: float, fps: int = DEFAULT_FPS) -> int:
    """Whole frames a clip of `clip_s` seconds gives at `fps` (4.2 s at 24 fps → 100, not 101)."""
    if clip_s <= 0 or fps <= 0:
        raise ValueError(f"clip length and fps must be positive, got {clip_s} s at {fps} fps")
    return math.floor(Fraction(str(clip_s)) * fps)


def beat_spans(beats_s: Sequence[tuple[int, int]], fps: int = DEFAULT_FPS) -> tuple[tuple[int, int], ...]:
    """(start_s, duration_s) beats → (start_frame, frame_count) spans."""
    return tuple((start * fps, duration * fps) for start, duration in beats_s)


def overlap_frames_for(clip_frames: int, overlap_fraction: float) -> int:
    """round(fraction × clip), but at least the one hand-off frame two chunks always share."""
    if not 0.0 <= overlap_fraction <= MAX_OVERLAP_FRACTION:
        raise ValueError(f"overlap_fraction must be between 0 and {MAX_OVERLAP_FRACTION}, got {overlap_fraction}")
    return max(1, round(overlap_fraction * clip_frames))


def chunks_needed(beat_frames: int, clip_frames: int, overlap_frames: int) -> int:
    """The fewest chunks that cover a beat: 1 if a clip covers it, else 1 + ceil((beat − clip) / (clip − overlap))."""
    if clip_frames >= beat_frames:
        return 1
    return 1 + -(-(beat_frames - clip_frames) // (clip_frames - overlap_frames))


def _validate_inputs(beats: Sequence[tuple[int, int]], clip_frames: int, fps: int) -> None:
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if clip_frames < 2:
        raise ValueError(f"a clip must have at least 2 frames to hand one on, got {clip_frames}")
    if not beats:
        raise ValueError("there are no beats to plan")
    expected = 0
    for i, (start, count) in enumerate(beats):
        if count <= 0:
            raise ValueError(f"beat {i} has {count} frames; beats need at least one")
        if start != expected:
            raise ValueError(f"beat {i} starts at frame {start}, expected {expected}: beats must be contiguous from 0")
        expected = start + count


def overlap_fraction_for(model: VideoModel, requested: float) -> float:
    """The share of a clip cross-faded with the next chunk of its beat: `requested`, but none for a
    seamless model, whose chunks agree frame for frame (a cross-fade would only render frames twice);
    its chunks then share just the hand-off frame."""
    return 0.0 if model.seamless else requested


def plan_chunks(
    beats: Sequence[tuple[int, int]],
    clip_frames: int,
    overlap_fraction: float = DEFAULT_OVERLAP_FRACTION,
    fps: int = DEFAULT_FPS,
) -> ChunkPlan:
    """The chunk plan for contiguous `beats` given as (start_frame, frame_count) spans."""
    _validate_inputs(beats, clip_frames, fps)
    overlap = overlap_frames_for(clip_frames, overlap_fraction)
    step = clip_frames - overlap
    slots: list[ChunkSlot] = []
    for beat_index, (beat_start, beat_frames) in enumerate(beats):
        count = chunks_needed(beat_frames, clip_frames, overlap)
        for k in range(count):
            offset = k * step
            last = k == count - 1
            slots.append(
                ChunkSlot(
                    index=len(slots),
                    beat_index=beat_index,
                    index_in_beat=k,
                    start_frame=beat_start + offset,
                    used_frames=beat_frames - offset if last else clip_frames,
                    overlap_in_frames=0 if k == 0 else overlap,
                    init_source=InitSource.STORYBOARD if k == 0 else InitSource.HANDOFF,
                    handoff_frame=-1 if last else step,
                )
            )
    total = beats[-1][0] + beats[-1][1]
    return ChunkPlan(tuple(slots), fps, clip_frames, overlap, total)


def chunk_plan_violations(plan: ChunkPlan, beats: Sequence[tuple[int, int]]) -> list[str]:
    """Every broken invariant of `plan` for these beats, a sentence each; empty when valid."""
    found: list[str] = []
    clip, overlap = plan.clip_frames, plan.overlap_frames
    if not 0 < overlap < clip:
        found.append(f"overlap of {overlap} frames must be between 1 and the clip's {clip} frames")
        return found
    total = sum(count for _, count in beats)
    if plan.total_frames != total:
        found.append(f"plan covers {plan.total_frames} frames, beats cover {total}")
    if [s.index for s in plan.slots] != list(range(len(plan.slots))):
        found.append("slot indices are not 0..n-1 in order")
    if [s.beat_index for s in plan.slots] != sorted(s.beat_index for s in plan.slots):
        found.append("slots are not in timeline order")
    for beat_index, (beat_start, beat_frames) in enumerate(beats):
        slots = [s for s in plan.slots if s.beat_index == beat_index]
        where = f"beat {beat_index}"
        expected_count = chunks_needed(beat_frames, clip, overlap)
        if len(slots) != expected_count:
            found.append(f"{where} has {len(slots)} chunks; the fewest that cover it is {expected_count}")
        if not slots:
            continue
        first = slots[0]
        if first.start_frame != beat_start or first.init_source is not InitSource.STORYBOARD:
            found.append(f"{where}: its first chunk must start at frame {beat_start} from the storyboard image")
        if first.overlap_in_frames != 0:
            found.append(f"{where}: its first chunk cannot overlap a chunk of another beat")
        for k, slot in enumerate(slots):
            chunk = f"chunk {slot.index}"
            if slot.index_in_beat != k:
                found.append(f"{chunk} is number {slot.index_in_beat} in its beat, expected {k}")
            if not 0 < slot.used_frames <= clip:
                found.append(f"{chunk} uses {slot.used_frames} frames of a {clip}-frame clip")
            if slot.start_frame < beat_start or slot.end_frame > beat_start + beat_frames:
                found.append(f"{chunk} spills out of {where}")
            is_last = k == len(slots) - 1
            if is_last != (slot.handoff_frame == -1):
                found.append(f"{chunk}: only the last chunk of a beat has no hand-off frame")
            if not is_last:
                if not 0 < slot.handoff_frame < slot.used_frames:
                    found.append(f"{chunk}: hand-off frame {slot.handoff_frame} is not inside the clip")
                if slot.used_frames != clip:
                    found.append(f"{chunk}: only the last chunk of a beat may be trimmed")
            if k == 0:
                continue
            previous = slots[k - 1]
            if slot.init_source is not InitSource.HANDOFF:
                found.append(f"{chunk} must start from the hand-off frame of chunk {previous.index}")
            if slot.start_frame != previous.start_frame + previous.handoff_frame:
                found.append(f"{chunk} does not start at chunk {previous.index}'s hand-off frame")
            shared = previous.end_frame - slot.start_frame
            if slot.overlap_in_frames != shared or shared < 1:
                found.append(
                    f"{chunk}: overlap {slot.overlap_in_frames} frames, but it shares {shared} with chunk "
                    f"{previous.index}"
                )
        if slots[-1].end_frame != beat_start + beat_frames:
            found.append(f"{where}: chunks end at frame {slots[-1].end_frame}, the beat at {beat_start + beat_frames}")
    return found


def check_chunk_plan(plan: ChunkPlan, beats: Sequence[tuple[int, int]]) -> ChunkPlan:
    """`plan` unchanged when it is valid for `beats`; raises InvalidChunkPlan otherwise."""
    problems = chunk_plan_violations(plan, beats)
    if problems:
        raise InvalidChunkPlan(problems)
    return plan


def clip_cost_usd(plan: ChunkPlan, model: VideoModel) -> Decimal:
    """What the clips cost: providers bill per clip returned, so chunks × price per clip."""
    return len(plan.slots) * model.price_per_clip_usd


def estimate_seconds(
    plan: ChunkPlan, image_latency_s: float = IMAGE_LATENCY_S, clip_latency_s: float = CLIP_LATENCY_S
) -> float:
    """Ideal wall time of storyboard + chunks with unlimited concurrency: beats run side by side, so
    the longest beat's storyboard image plus its chain of chunks is the critical path."""
    per_beat: dict[int, int] = {}
    for slot in plan.slots:
        per_beat[slot.beat_index] = per_beat.get(slot.beat_index, 0) + 1
    return image_latency_s + max(per_beat.values(), default=0) * clip_latency_s
