"""Where every frame of the final video comes from.

The chunk plan places chunks on one timeline, in integer frames at the output frame rate. This
module turns that placement into a per-frame recipe: which chunk frames, with which weights, form
each output frame. It decides three things and nothing else:

* **Overlaps inside a beat are cross-faded.** Consecutive chunks of a beat share
  ``overlap_in_frames`` frames; over those frames the weight ramps linearly from the previous
  chunk to the next (the next chunk's weight at overlap frame ``p`` of ``n`` is
  ``(p + 1) / (n + 1)``), so neither side ever jumps to full or zero weight inside the overlap.
* **Beat boundaries get a transition, and the transition never changes the duration.** Chunks of
  different beats do not overlap (each beat starts from its own storyboard frame), so a
  transition cannot borrow footage beyond the chunks' used frames. A transition of ``n`` frames
  is centred on the boundary: the outgoing side keeps its last ``n // 2`` frames, the incoming
  side its first ``n - n // 2`` frames, both still playing. A *dissolve* mixes in the other side's
  edge frame held (the incoming beat's first frame before the boundary, the outgoing beat's last
  frame after it), with the incoming weight ramping linearly over the whole window. The held
  frame is therefore never the dominant image. A *dip to black* fades the outgoing side down to
  black (reaching weight 0 exactly on the last outgoing frame) and the incoming side up from
  black; the missing weight on those frames is black. A *cut* changes nothing.
* **Every frame of a chunk's used range is shown exactly once**, in order, within the chunk's own
  span; only the held edge frames of a dissolve appear outside it.

A transition longer than the room it has is shortened to fit: each side may only use frames that
belong to one chunk alone (not an intra-beat overlap), and a one-chunk beat shares those frames
between its two boundaries. The timeline length never changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

ENERGIES: Final = ("low", "medium", "high")
TRANSITION_KINDS: Final = ("cut", "dissolve", "dip_to_black")

# Beats that close on the brand rather than on an action: a short dip to black gives them a
# breath before the sign-off.
_BRAND_CLOSERS: Final = frozenset({"brand_moment"})
# Beats that build suspense for a reveal: the reveal lands as a hard cut, whatever the energy.
_TEASERS: Final = frozenset({"teaser_reveal"})
_DIP_S: Final = 0.75
_CALM_DISSOLVE_S: Final = 0.5
_SOFT_DISSOLVE_S: Final = 0.25


@dataclass(frozen=True)
class Placement:
    """One chunk on the final timeline, as the chunk plan put it there."""

    index: int
    beat_index: int
    start_frame: int
    """Timeline frame of the chunk's first used frame."""
    used_frames: int
    """Frames of the clip that are used; the clip may be longer and is then trimmed."""
    overlap_in_frames: int
    """Frames cross-faded with the previous chunk of the same beat (0 at a beat start)."""

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.used_frames


@dataclass(frozen=True)
class Transition:
    """How one beat hands over to the next: ``frames`` is the whole window, both sides."""

    kind: str
    frames: int

    def __post_init__(self) -> None:
        if self.kind not in TRANSITION_KINDS:
            raise ValueError(f"transition kind {self.kind!r} is not one of {TRANSITION_KINDS}")
        if self.frames < 0:
            raise ValueError(f"transition frames must be >= 0, got {self.frames}")
        if self.kind == "cut" and self.frames != 0:
            raise ValueError("a cut has no frames")


CUT: Final = Transition("cut", 0)


@dataclass(frozen=True)
class Contribution:
    """One chunk frame's share of an output frame."""

    chunk: int
    local_frame: int
    """Index into the chunk's used frames (0 is its first used frame)."""
    weight: float


def choose_transition(
    prev_energy: str,
    next_energy: str,
    prev_beat_id: str,
    next_beat_id: str,
    *,
    fps: int = 24,
) -> Transition:
    """Pick the hand-over between two beats from their energy and role.

    * into a brand closer (``brand_moment``): dip to black, a pause before the sign-off;
    * out of a teaser (``teaser_reveal``): cut, the reveal is the hit;
    * either side high energy: cut, because momentum is the point and a dissolve would blur it;
    * into a low-energy beat: a half-second dissolve, so calm beats ease in;
    * otherwise (medium to medium, low to medium): a quarter-second dissolve.

    Lengths are decided in seconds and returned in frames at ``fps``, which should be the output
    frame rate (the default 24 only suits 24 fps output).
    """
    for energy in (prev_energy, next_energy):
        if energy not in ENERGIES:
            raise ValueError(f"energy {energy!r} is not one of {ENERGIES}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if next_beat_id in _BRAND_CLOSERS:
        return Transition("dip_to_black", round(_DIP_S * fps))
    if prev_beat_id in _TEASERS or "high" in (prev_energy, next_energy):
        return CUT
    if next_energy == "low":
        return Transition("dissolve", round(_CALM_DISSOLVE_S * fps))
    return Transition("dissolve", round(_SOFT_DISSOLVE_S * fps))


def compose_timeline(
    placements: Sequence[Placement],
    total_frames: int,
    transitions_by_boundary: Mapping[int, Transition],
) -> list[tuple[Contribution, ...]]:
    """Per output frame, the chunk frames that form it (earlier chunk first).

    ``transitions_by_boundary`` is keyed by the ``beat_index`` of the *incoming* beat; a boundary
    without an entry is a cut. Weights sum to 1, except on dip-to-black frames where the rest is
    black. Raises ``ValueError`` when the placements do not tile ``0..total_frames`` as one chain
    of beats with intra-beat overlaps, or a transition names a boundary that does not exist.
    """
    chain = _validated_chain(placements, total_frames)
    frames: list[list[Contribution]] = [[] for _ in range(total_frames)]
    for position, chunk in enumerate(chain):
        following = chain[position + 1] if position + 1 < len(chain) else None
        fade_out = (
            following.overlap_in_frames if following is not None and following.beat_index == chunk.beat_index else 0
        )
        fade_in = chunk.overlap_in_frames
        for local in range(chunk.used_frames):
            weight = 1.0
            if local < fade_in:
                weight = (local + 1) / (fade_in + 1)
            tail = local - (chunk.used_frames - fade_out)
            if tail >= 0:
                weight = 1.0 - (tail + 1) / (fade_out + 1)
            frames[chunk.start_frame + local].append(Contribution(chunk.index, local, weight))

    boundaries = {
        chain[i].beat_index: (chain[i - 1], chain[i])
        for i in range(1, len(chain))
        if chain[i].beat_index != chain[i - 1].beat_index
    }
    unknown = sorted(set(transitions_by_boundary) - set(boundaries))
    if unknown:
        raise ValueError(f"transitions given for boundaries {unknown}, where no beat starts")
    solo = _solo_runs(chain)
    for beat_index, (outgoing, incoming) in boundaries.items():
        transition = transitions_by_boundary.get(beat_index, CUT)
        if transition.kind == "cut" or transition.frames == 0:
            continue
        before = min(transition.frames // 2, solo[outgoing.index][1])
        after = min(transition.frames - transition.frames // 2, solo[incoming.index][0])
        _apply_transition(frames, transition.kind, outgoing, incoming, before, after)
    return [tuple(contributions) for contributions in frames]


def _apply_transition(
    frames: list[list[Contribution]],
    kind: str,
    outgoing: Placement,
    incoming: Placement,
    before: int,
    after: int,
) -> None:
    """Rewrite the ``before + after`` frames around the boundary at ``incoming.start_frame``."""
    boundary = incoming.start_frame
    window = before + after
    last_out = outgoing.used_frames - 1
    for p in range(window):
        t = boundary - before + p
        if kind == "dissolve":
            w_in = (p + 1) / (window + 1)
            out_local = last_out - before + 1 + p if p < before else last_out
            in_local = 0 if p < before else p - before
            frames[t] = [
                Contribution(outgoing.index, out_local, 1.0 - w_in),
                Contribution(incoming.index, in_local, w_in),
            ]
        elif p < before:
            fading = (before - 1 - p) / before
            frames[t] = [Contribution(outgoing.index, last_out - before + 1 + p, fading)]
        else:
            k = p - before
            frames[t] = [Contribution(incoming.index, k, (k + 1) / (after + 1))]


def _solo_runs(chain: Sequence[Placement]) -> dict[int, tuple[int, int]]:
    """Per chunk, how many frames at its head and at its tail a beat transition may use.

    Only frames shown by this chunk alone qualify; when the chunk is both the first and the last
    of its beat its solo frames are split between the two boundaries.
    """
    runs: dict[int, tuple[int, int]] = {}
    for position, chunk in enumerate(chain):
        following = chain[position + 1] if position + 1 < len(chain) else None
        continues_beat = following is not None and following.beat_index == chunk.beat_index
        fade_out = following.overlap_in_frames if continues_beat and following else 0
        alone = chunk.used_frames - chunk.overlap_in_frames - fade_out
        starts_beat = position == 0 or chain[position - 1].beat_index != chunk.beat_index
        if starts_beat and not continues_beat:
            runs[chunk.index] = (alone // 2, alone // 2)
        else:
            runs[chunk.index] = (alone if starts_beat else 0, alone if not continues_beat else 0)
    return runs


def _validated_chain(placements: Sequence[Placement], total_frames: int) -> list[Placement]:
    """Placements in timeline order, after checking they tile ``0..total_frames`` exactly."""
    if total_frames <= 0:
        raise ValueError(f"total_frames must be positive, got {total_frames}")
    if not placements:
        raise ValueError("no placements")
    chain = sorted(placements, key=lambda p: (p.start_frame, p.index))
    if len({p.index for p in chain}) != len(chain):
        raise ValueError("chunk indices are not unique")
    for p in chain:
        if p.used_frames <= 0:
            raise ValueError(f"chunk {p.index}: used_frames must be positive")
        if not 0 <= p.overlap_in_frames < p.used_frames:
            raise ValueError(f"chunk {p.index}: overlap_in_frames must be in [0, used_frames)")
    if chain[0].start_frame != 0 or chain[0].overlap_in_frames != 0:
        raise ValueError("the first chunk must start at frame 0 with no overlap")
    for prev, chunk in pairwise(chain):
        if chunk.beat_index == prev.beat_index:
            expected = prev.end_frame - chunk.overlap_in_frames
            if chunk.start_frame != expected:
                raise ValueError(
                    f"chunk {chunk.index} starts at {chunk.start_frame}, expected {expected} "
                    f"(chunk {prev.index} ends at {prev.end_frame}, overlap {chunk.overlap_in_frames})"
                )
            if prev.overlap_in_frames + chunk.overlap_in_frames > prev.used_frames:
                raise ValueError(f"chunk {prev.index} is shorter than the overlaps on both its sides")
        else:
            if chunk.beat_index < prev.beat_index:
                raise ValueError(f"chunk {chunk.index}: beats out of order on the timeline")
            if chunk.overlap_in_frames != 0 or chunk.start_frame != prev.end_frame:
                raise ValueError(
                    f"chunk {chunk.index} opens beat {chunk.beat_index}: it must start at frame "
                    f"{prev.end_frame} with no overlap"
                )
    if chain[-1].end_frame != total_frames:
        raise ValueError(f"placements end at frame {chain[-1].end_frame}, not at {total_frames}")
    return chain
