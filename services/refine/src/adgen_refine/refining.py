"""The refine service's work: stitch the video's chunks, add the music bed, encode once."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_kernel import keys
from adgen_kernel.errors import FailedPrecondition
from adgen_kernel.jetstream import WorkContext, publish_work
from adgen_kernel.serve import Connections
from adgen_kernel.video_state import emit, fail_video, set_status
from adgen_refine.music import normalise_loudness, synthesise_music
from adgen_refine.stitch import OutputFormat, render_final
from adgen_refine.timeline import Placement, Transition, choose_transition

SAMPLE_RATE = 48_000
ENERGIES = {common_pb2.ENERGY_LOW: "low", common_pb2.ENERGY_MEDIUM: "medium", common_pb2.ENERGY_HIGH: "high"}


def placements(spec: common_pb2.Spec) -> list[Placement]:
    return [
        Placement(
            index=s.index,
            beat_index=s.beat_index,
            start_frame=s.start_frame,
            used_frames=s.used_frames,
            overlap_in_frames=s.overlap_in_frames,
        )
        for s in spec.chunk_plan.slots
    ]


def transitions(spec: common_pb2.Spec) -> dict[int, Transition]:
    """The transition into each beat after the first, keyed by the incoming beat's index."""
    chosen = {}
    for before, after in zip(spec.beats, spec.beats[1:], strict=False):
        chosen[after.index] = choose_transition(
            ENERGIES.get(before.energy, "medium"),
            ENERGIES.get(after.energy, "medium"),
            before.beat_id,
            after.beat_id,
            fps=spec.output.fps,
        )
    return chosen


def music_for(spec: common_pb2.Spec):  # type: ignore[no-untyped-def]
    curve = [(float(b.start_s), ENERGIES.get(b.energy, "medium")) for b in spec.beats]
    audio = synthesise_music(
        float(spec.duration_s), sample_rate=SAMPLE_RATE, energy_curve=curve, archetype=spec.archetype_id, seed=spec.seed
    )
    return normalise_loudness(audio, SAMPLE_RATE)


@dataclass(frozen=True)
class RefinedVideo:
    video_key: str
    frame_count: int
    reused: bool


class Refiner:
    def __init__(self, connections: Connections, *, crf: int, preset: str) -> None:
        self._c = connections
        self._crf = crf
        self._preset = preset

    async def refine(self, video_id: str, user_id: str, spec: common_pb2.Spec) -> RefinedVideo:
        key = keys.refined_key(user_id, video_id)
        total = spec.chunk_plan.total_frames
        store = self._c.store
        if await store.exists(key):
            return RefinedVideo(key, total, reused=True)
        fmt = OutputFormat(
            width=spec.output.width, height=spec.output.height, fps=spec.output.fps, crf=self._crf, preset=self._preset
        )
        with tempfile.TemporaryDirectory(prefix="adgen-refine-") as folder:
            paths: dict[int, Path] = {}
            for slot in spec.chunk_plan.slots:
                chunk = keys.chunk_key(user_id, video_id, slot.index)
                if not await store.exists(chunk):
                    raise FailedPrecondition(f"chunk {slot.index} of video {video_id} is missing ({chunk})")
                paths[slot.index] = Path(folder) / f"chunk_{slot.index:03d}.mp4"
                await store.download_file(chunk, paths[slot.index])
            audio = await asyncio.to_thread(music_for, spec)
            out = Path(folder) / "refined.mp4"
            await asyncio.to_thread(
                render_final, paths, placements(spec), total, transitions(spec), audio, SAMPLE_RATE, fmt, out
            )
            await store.put_file(key, out, "video/mp4")
        return RefinedVideo(key, total, reused=False)

    async def handle(self, work: events_pb2.RefineWork, _: WorkContext) -> None:
        db, js, vid = self._c.db, self._c.js, work.video_id
        status = await db.fetchval("SELECT status FROM videos WHERE video_id = $1", vid)
        if status is None or status in ("completed", "failed"):
            return
        await emit(
            js, vid, f"{vid}:refine:started", phase_started=events_pb2.PhaseStarted(phase=common_pb2.PHASE_REFINE)
        )
        refined = await self.refine(vid, work.user_id, work.spec)
        await emit(
            js, vid, f"{vid}:refine:completed", phase_completed=events_pb2.PhaseCompleted(phase=common_pb2.PHASE_REFINE)
        )
        await set_status(db, vid, "exporting")
        await publish_work(
            js,
            "export",
            events_pb2.ExportWork(video_id=vid, user_id=work.user_id, spec=work.spec, refined_key=refined.video_key),
            f"{vid}:export",
        )

    async def dead_letter(self, work: events_pb2.RefineWork, error: BaseException) -> None:
        await fail_video(
            self._c.db,
            self._c.js,
            video_id=work.video_id,
            phase=common_pb2.PHASE_REFINE,
            unit="refine",
            reason=str(error),
        )
