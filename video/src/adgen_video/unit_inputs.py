"""What an edit of a finished video makes again: a unit is redone exactly when the hash of its
inputs changes, never because of where it sits.

A unit's inputs are everything of the plan its worker reads: a beat's storyboard image, its beat
(prompt, shot, camera, the product shown) and the plan's look (style, shape, seed, product); a
chunk, its beat's image, its slot and the video model, and the chunk before it in the beat (its
hand-off frame: a beat's chunks form a chain, beats do not hand off to each other); a voice line,
its words, its beat's length and the voice. The on-screen words (headline, subline, the call to
action) are no unit's input: refine draws them, and refine and export run for every version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from adgen.common.v1 import common_pb2

# Drawn by refine on top of the clips: no frame, chunk or line reads them.
ON_SCREEN_FIELDS = ("headline", "subline")


def _digest(*parts: bytes) -> str:
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(len(part).to_bytes(8, "big"))
        hashed.update(part)
    return hashed.hexdigest()


def _look(spec: common_pb2.Spec) -> bytes:
    """The plan without its beats, its chunk timeline and what no unit reads."""
    look = common_pb2.Spec()
    look.CopyFrom(spec)
    for name in ("beats", "chunk_plan", "notes", "planner", "expected_latency", "captions", "call_to_action"):
        look.ClearField(name)
    return look.SerializeToString(deterministic=True)


def _pictured(beat: common_pb2.Beat) -> bytes:
    """The beat as the storyboard and the clips see it: without its words or its place in time."""
    seen = common_pb2.Beat()
    seen.CopyFrom(beat)
    for name in (*ON_SCREEN_FIELDS, "voiceover", "start_s"):
        seen.ClearField(name)
    return seen.SerializeToString(deterministic=True)


def frame_inputs(spec: common_pb2.Spec) -> dict[int, str]:
    """Beat index -> the hash of what its storyboard image is drawn from."""
    look = _look(spec)
    return {beat.index: _digest(b"frame", look, _pictured(beat)) for beat in spec.beats}


def chunk_inputs(spec: common_pb2.Spec) -> dict[int, str]:
    """Chunk index -> the hash of what its clip is rendered from (its beat's image, or the clip
    before it in the beat, whose hand-off frame it starts from)."""
    frames = frame_inputs(spec)
    model = common_pb2.ChunkPlan()
    model.CopyFrom(spec.chunk_plan)
    model.ClearField("slots")
    plan = model.SerializeToString(deterministic=True)
    found: dict[int, str] = {}
    before: dict[int, str] = {}  # beat index -> the hash of its last chunk so far
    for slot in spec.chunk_plan.slots:
        place = common_pb2.ChunkSlot()
        place.CopyFrom(slot)
        for name in ("index", "start_frame"):
            place.ClearField(name)
        start = before.get(slot.beat_index, frames.get(slot.beat_index, ""))
        found[slot.index] = before[slot.beat_index] = _digest(
            b"chunk", plan, start.encode(), place.SerializeToString(deterministic=True)
        )
    return found


def line_inputs(spec: common_pb2.Spec, voice: str) -> dict[int, str]:
    """Beat index -> the hash of what its line is spoken from, for the beats that have one."""
    return {
        beat.index: _digest(b"line", beat.voiceover.encode(), str(beat.duration_s).encode(), voice.encode())
        for beat in spec.beats
        if beat.voiceover.strip()
    }


@dataclass(frozen=True)
class Remade:
    """The units an edit makes again (beat indices for frames and lines, chunk indices for chunks)."""

    frames: tuple[int, ...]
    chunks: tuple[int, ...]
    lines: tuple[int, ...]

    @property
    def nothing_before_refine(self) -> bool:
        return not (self.frames or self.chunks or self.lines)

    @property
    def names(self) -> list[str]:
        """As people and progress events name units: "frame 2", "chunk 4", "voice 2"."""
        return [
            *(f"frame {i}" for i in self.frames),
            *(f"chunk {i}" for i in self.chunks),
            *(f"voice {i}" for i in self.lines),
        ]


def remade(old: common_pb2.Spec, new: common_pb2.Spec, voice: str = "") -> Remade:
    """The units of `new` whose inputs differ from those of the unit in `old` at the same place
    (or that `old` does not have)."""

    def changed(before: dict[int, str], after: dict[int, str]) -> tuple[int, ...]:
        return tuple(sorted(index for index, digest in after.items() if before.get(index) != digest))

    return Remade(
        frames=changed(frame_inputs(old), frame_inputs(new)),
        chunks=changed(chunk_inputs(old), chunk_inputs(new)),
        lines=changed(line_inputs(old, voice), line_inputs(new, voice)),
    )
