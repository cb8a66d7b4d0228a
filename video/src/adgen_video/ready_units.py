"""Which units of a video can run now, given what Postgres says is done.

A video's work is a graph: the plan, then a storyboard frame per beat and, beside them, a voiceover
line per beat that has one; then each beat's chunks in order (the first from its beat's frame, each
later one from the previous chunk's hand-off frame); then refine once every chunk and every line is
done (refine enqueues export itself). Resuming a video — a retry by
its owner, or a reconciler after work messages were lost — enqueues exactly the frontier: the
units that are not done and whose dependencies are, so that nothing stored is made again and the
rest follows from the handlers as usual. A review gate still ahead holds back what lies beyond it:
everything after the plan (`plan`), or the chunks and refine (`storyboard`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, order=True)
class Unit:
    """`kind` is plan, frame, voice, chunk or refine; `index` the beat (frame, voice) or chunk
    index, else 0."""

    kind: str
    index: int = 0

    @property
    def name(self) -> str:
        """How people and message ids name it: "plan", "frame 2", "voice 2", "chunk 5"."""
        return self.kind if self.kind in ("plan", "refine") else f"{self.kind} {self.index}"


@dataclass(frozen=True)
class ChunkState:
    index: int
    beat_index: int
    done: bool


@dataclass(frozen=True)
class VideoWork:
    """What Postgres knows of a video's units: `planned` is False until the spec is stored."""

    planned: bool
    frames_done: dict[int, bool]  # beat index -> done
    chunks: tuple[ChunkState, ...]  # in chunk order
    lines_done: dict[int, bool] = field(default_factory=dict)  # beat index -> spoken; beats with a line only
    gate: str | None = None  # the review gate still ahead: "plan", "storyboard" or None


def ready_units(work: VideoWork) -> list[Unit]:
    if not work.planned:
        return [Unit("plan")]
    if work.gate == "plan":
        return []
    ready = [Unit("frame", beat) for beat, done in sorted(work.frames_done.items()) if not done]
    ready += [Unit("voice", beat) for beat, done in sorted(work.lines_done.items()) if not done]
    if work.gate == "storyboard":
        return ready
    previous: ChunkState | None = None
    for chunk in work.chunks:
        if not chunk.done:
            if previous is None or previous.beat_index != chunk.beat_index:
                depends_done = work.frames_done.get(chunk.beat_index, False)
            else:
                depends_done = previous.done
            if depends_done:
                ready.append(Unit("chunk", chunk.index))
        previous = chunk
    if work.chunks and all(c.done for c in work.chunks) and all(work.lines_done.values()):
        ready.append(Unit("refine"))
    return ready


class PlannedChunk(Protocol):
    """A chunk slot of a plan (`common_pb2.ChunkSlot`), as far as the graph needs it."""

    @property
    def beat_index(self) -> int: ...

    @property
    def index(self) -> int: ...


def clips_ahead(slots: Iterable[PlannedChunk], beat_index: int, from_chunk: int = 0) -> int:
    """The beat's clips from chunk `from_chunk` on: the chain a unit of that beat holds up, which
    ranks it for the provider slots (the beat's image counts all of them)."""
    return sum(1 for s in slots if s.beat_index == beat_index and s.index >= from_chunk)


def describe(units: Iterable[Unit]) -> list[str]:
    return [u.name for u in units]
