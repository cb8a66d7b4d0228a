"""The refine service's work: stitch the video's chunks, grade, add supers, mix the voiceover over the
ducked music bed, encode once, and leave the captions sidecar next to the refined video (the spoken
words when the ad has a voice, else its supers).

Music is the one optional ingredient. With MusicGen configured, a MusicGen failure falls back to the
synthesised bed; if that fails too, the video ships silent. Either way the refine phase's completion
event says why (``PhaseCompleted.warning``), rather than the whole video failing.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_kernel.errors import FailedPrecondition
from adgen_kernel.jetstream import WorkContext, publish_work
from adgen_kernel.logs import get_logger
from adgen_kernel.serve import Connections
from adgen_refine import spoken_captions
from adgen_refine.burned_captions import burned_captions
from adgen_refine.captions import captions, webvtt
from adgen_refine.encoding import OutputFormat
from adgen_refine.framing import subject_focus
from adgen_refine.grade_choice import choose_grade
from adgen_refine.luts import GradeTable, shipped_table
from adgen_refine.music import normalise_loudness, synthesise_music
from adgen_refine.musicgen import MusicGen, MusicGenFailed, decode_audio
from adgen_refine.spoken_captions import SpokenCue
from adgen_refine.stitch import render_final, sample_frames
from adgen_refine.supers import Fonts, TextTrack, load_fonts, sample_frames_of, supers_for
from adgen_refine.timeline import Placement, Transition, choose_transition
from adgen_refine.voice_mix import PlacedLine, Word, mix, place
from adgen_video import keys
from adgen_video.renditions import Rendition, renditions
from adgen_video.speech_pace import BREATH_S
from adgen_video.unit_rows import clip_keys
from adgen_video.video_reads import status_of, version_of
from adgen_video.video_state import emit, fail_video, live_run, msg_id
from adgen_video.voice_lines import spoken_lines

SAMPLE_RATE = 48_000
ENERGIES = {common_pb2.ENERGY_LOW: "low", common_pb2.ENERGY_MEDIUM: "medium", common_pb2.ENERGY_HIGH: "high"}

log = get_logger(__name__)

MusicSource = Callable[[common_pb2.Spec], np.ndarray]


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


def grade_for(spec: common_pb2.Spec) -> str:
    return choose_grade(mood=spec.style.mood, aesthetic=spec.style.aesthetic, archetype=spec.archetype_id)


def music_for(spec: common_pb2.Spec) -> np.ndarray:
    curve = [(float(b.start_s), ENERGIES.get(b.energy, "medium")) for b in spec.beats]
    audio = synthesise_music(
        float(spec.duration_s), sample_rate=SAMPLE_RATE, energy_curve=curve, archetype=spec.archetype_id, seed=spec.seed
    )
    return normalise_loudness(audio, SAMPLE_RATE)


def supers_of(
    spec: common_pb2.Spec,
    fmt: OutputFormat,
    paths: dict[int, Path],
    grade: GradeTable | None,
    focus: dict[int, tuple[float, float]],
    fonts: Fonts | None = None,
) -> list[TextTrack]:
    """The supers of one rendition, laid out on a few frames of each caption's window as this
    rendition shows them (its own size and crop, graded), before any text."""
    shown = captions(spec)
    wanted = sorted({f for c in shown if not c.end_card for f in sample_frames_of(c, fmt.fps)})
    samples = sample_frames(
        paths, placements(spec), spec.chunk_plan.total_frames, transitions(spec), fmt, wanted, grade=grade, focus=focus
    )
    return supers_for(shown, fmt.width, fmt.height, fmt.fps, samples, palette=spec.style.palette, fonts=fonts)


def voiced(music: np.ndarray | None, lines: list[PlacedLine], spec: common_pb2.Spec) -> np.ndarray:
    """The voice over the ducked bed (or alone, when the music failed), at the delivery loudness."""
    samples = round(float(spec.duration_s) * SAMPLE_RATE)
    return normalise_loudness(mix(music, lines, SAMPLE_RATE, samples), SAMPLE_RATE)


def spoken_cues(spec: common_pb2.Spec, lines: list[PlacedLine]) -> list[SpokenCue]:
    """The captions of what the voice says; none without a voice or when the request turned them off."""
    if spec.captions == common_pb2.CAPTION_MODE_OFF:
        return []
    return spoken_captions.cues(lines, {b.index: b.start_s + b.duration_s for b in spec.beats})


def sidecar(spec: common_pb2.Spec, cues: list[SpokenCue]) -> str:
    """The WebVTT the video ships with: what the voice says, else the supers' text."""
    return spoken_captions.webvtt(cues) if cues else webvtt(spec)


@dataclass(frozen=True)
class RefinedVideo:
    video_key: str
    frame_count: int
    reused: bool
    warning: str = ""
    """Why something optional is missing or replaced (e.g. the music); empty when nothing is."""
    has_music: bool = True


class Refiner:
    def __init__(
        self,
        connections: Connections,
        *,
        crf: int,
        preset: str,
        music: MusicSource = music_for,
        musicgen: MusicGen | None = None,
        fonts: Fonts | None = None,
    ) -> None:
        self._c = connections
        self._fonts = fonts or load_fonts()
        self._crf = crf
        self._preset = preset
        self._music = music
        self._musicgen = musicgen

    async def refine(self, video_id: str, user_id: str, spec: common_pb2.Spec, version: int = 1) -> RefinedVideo:
        """Every rendition of the video's `version`, each rendered in turn from the same downloaded
        chunks and the same music; a rendition already stored (a redelivery) is not rendered again."""
        key = keys.refined_key(user_id, video_id, version=version)
        total = spec.chunk_plan.total_frames
        store = self._c.store
        # The primary goes last: its refined video existing means every rendition exists.
        shapes = sorted(renditions(spec), key=lambda r: r.primary)
        todo = [r for r in shapes if not await store.exists(keys.refined_key(user_id, video_id, r.tag, version))]
        if not todo:
            return RefinedVideo(key, total, reused=True)
        lines = await self._spoken(video_id, user_id, spec)
        # The soundtrack is made while the chunks download and the first rendition encodes.
        music = asyncio.create_task(self._soundtrack(video_id, user_id, spec, lines))
        audio_later: Future[np.ndarray | None] = Future()
        music.add_done_callback(lambda task: audio_later.set_result(None if task.cancelled() else task.result()[0]))
        cues = spoken_cues(spec, lines)
        burned = cues if spec.captions == common_pb2.CAPTION_MODE_BURNED else []
        try:
            await self._render_all(video_id, user_id, spec, version, todo, audio_later, sidecar(spec, cues), burned)
        except BaseException:
            music.cancel()
            raise
        audio, warning = await music
        return RefinedVideo(key, total, reused=False, warning=warning, has_music=audio is not None)

    async def _render_all(
        self,
        video_id: str,
        user_id: str,
        spec: common_pb2.Spec,
        version: int,
        todo: list[Rendition],
        audio_later: Future[np.ndarray | None],
        captions_vtt: str,
        burned: list[SpokenCue],
    ) -> None:
        store = self._c.store
        with tempfile.TemporaryDirectory(prefix="adgen-refine-") as folder:
            paths: dict[int, Path] = {}
            made = await clip_keys(self._c.db, video_id)  # each chunk's latest take
            for slot in spec.chunk_plan.slots:
                chunk = made.get(slot.index) or keys.chunk_key(user_id, video_id, slot.index)
                if not await store.exists(chunk):
                    raise FailedPrecondition(f"chunk {slot.index} of video {video_id} is missing ({chunk})")
                paths[slot.index] = Path(folder) / f"chunk_{slot.index:03d}.mp4"
                await store.download_file(chunk, paths[slot.index])
            grade = await asyncio.to_thread(shipped_table, grade_for(spec))
            # The sidecar goes up first: the refined videos' existence is what marks refine done.
            await store.put_bytes(
                keys.refined_captions_key(user_id, video_id, version), captions_vtt.encode(), "text/vtt"
            )
            for rendition in todo:
                out = Path(folder) / f"refined_{rendition.tag or 'primary'}.mp4"
                await asyncio.to_thread(self._render, spec, rendition.output, paths, audio_later, grade, burned, out)
                await store.put_file(keys.refined_key(user_id, video_id, rendition.tag, version), out, "video/mp4")
                out.unlink()

    def _render(
        self,
        spec: common_pb2.Spec,
        output: common_pb2.OutputFormat,
        paths: dict[int, Path],
        audio: Future[np.ndarray | None],
        grade: GradeTable,
        burned: list[SpokenCue],
        out: Path,
    ) -> None:
        """One rendition: the chunks cover-fitted to its size with each beat's subject in frame,
        supers laid out for its shape, and the `burned` captions clear of them."""
        fmt = OutputFormat(width=output.width, height=output.height, fps=output.fps, crf=self._crf, preset=self._preset)
        slots = placements(spec)
        focus = subject_focus(paths, slots, fmt.width, fmt.height)
        supers = supers_of(spec, fmt, paths, grade, focus, self._fonts)
        captions = burned_captions(burned, fmt.width, fmt.height, fmt.fps, supers, self._fonts)
        render_final(
            paths,
            slots,
            spec.chunk_plan.total_frames,
            transitions(spec),
            audio,
            SAMPLE_RATE,
            fmt,
            out,
            grade=grade,
            supers=[*supers, *captions],
            focus=focus,
        )

    async def _spoken(self, video_id: str, user_id: str, spec: common_pb2.Spec) -> list[PlacedLine]:
        """The video's spoken lines, each placed a breath into its beat (none without a voiceover)."""
        starts = {b.index: float(b.start_s) for b in spec.beats}
        placed = []
        for line in await spoken_lines(self._c.db, video_id):
            if line.beat_index not in starts:
                raise FailedPrecondition(f"voiceover line of beat {line.beat_index} is not a beat of the plan")
            audio, timings = await asyncio.gather(
                self._c.store.get_bytes_if_exists(line.audio_key),
                self._c.store.get_bytes_if_exists(keys.voice_words_key(user_id, video_id, line.beat_index, line.take)),
            )
            if audio is None or timings is None:
                raise FailedPrecondition(f"the voiceover of beat {line.beat_index} of video {video_id} is missing")
            try:
                samples = (await asyncio.to_thread(decode_audio, audio, SAMPLE_RATE)).mean(axis=1)
            except MusicGenFailed as error:  # the decoder's own error names MusicGen, its first user
                raise FailedPrecondition(f"the voiceover of beat {line.beat_index} is not audio: {error}") from None
            words = [Word(w["text"], w["start_s"], w["end_s"]) for w in json.loads(timings)["words"]]
            placed.append(place(line.beat_index, starts[line.beat_index] + BREATH_S, samples, words))
        return placed

    async def _soundtrack(
        self, video_id: str, user_id: str, spec: common_pb2.Spec, lines: list[PlacedLine]
    ) -> tuple[np.ndarray | None, str]:
        """The music (or its fallback), with the voice mixed over it when the ad has one."""
        music, warning = await self._music_or_silence(video_id, user_id, spec)
        if not lines:
            return music, warning
        return await asyncio.to_thread(voiced, music, lines, spec), warning

    async def _music_or_silence(
        self, video_id: str, user_id: str, spec: common_pb2.Spec
    ) -> tuple[np.ndarray | None, str]:
        """MusicGen's track when configured, else (or when it fails) the synthesised bed, else
        silence; the warning says what was missed and why."""
        notes = []
        if self._musicgen is not None:
            try:
                return await self._musicgen.track(video_id, user_id, spec), ""
            except Exception as error:  # any MusicGen failure means the synthesised bed, not a failed video
                notes.append(f"MusicGen failed ({error}); the synthesised music bed plays instead")
                log.warning("musicgen failed; using the synthesised bed", video_id=video_id, error=str(error))
        try:
            return await asyncio.to_thread(self._music, spec), "; ".join(notes)
        except Exception as error:  # any music failure means a silent video, not a failed one
            notes.append(f"music failed, the video has no soundtrack: {type(error).__name__}: {error}")
            log.warning("music failed; rendering without audio", video_id=video_id, error=str(error))
            return None, "; ".join(notes)

    async def handle(self, work: events_pb2.RefineWork, _: WorkContext) -> None:
        db, js, vid = self._c.db, self._c.js, work.video_id
        run = await live_run(db, vid)
        if run is None:
            return
        await emit(
            js,
            vid,
            msg_id(vid, run, "refine:started"),
            phase_started=events_pb2.PhaseStarted(phase=common_pb2.PHASE_REFINE),
        )
        version = await version_of(db, vid)
        refined = await self.refine(vid, work.user_id, work.spec, version)
        if not refined.reused and await status_of(db, vid) == "completed":
            # Another delivery of this work (one the reconciler re-enqueued after the work stream
            # was lost) exported the version while this one rendered: export has already cleaned its
            # refined videos up, so what this delivery wrote would be orphaned.
            tags = [r.tag for r in renditions(work.spec)]
            await self._c.store.delete(*keys.refined_keys(work.user_id, vid, tags, version))
            log.info("video already exported; discarded this refine's output", video_id=vid)
            return
        await emit(
            js,
            vid,
            msg_id(vid, run, "refine:completed"),
            phase_completed=events_pb2.PhaseCompleted(phase=common_pb2.PHASE_REFINE, warning=refined.warning),
        )
        await publish_work(
            js,
            "export",
            events_pb2.ExportWork(video_id=vid, user_id=work.user_id, spec=work.spec, refined_key=refined.video_key),
            msg_id(vid, run, "export:0"),
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
