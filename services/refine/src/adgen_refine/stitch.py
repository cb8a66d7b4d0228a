"""Render the final video: chunks blended frame by frame along the timeline, encoded once.

Decisions made here:

* **Streaming, bounded memory.** Chunks are decoded lazily, forward only; a chunk is opened at
  the first output frame that needs it and closed after the last one, so at most the two chunks
  being blended are open and only their current frames are held.
* **Time, not index, maps chunk frames to output frames.** A chunk whose clip runs at another
  frame rate than the output (e.g. a 30 fps model in a 24 fps ad) shows, for each local output
  frame, the clip frame at the same moment (rounded down). Clips longer than their used span are
  trimmed at the end; a clip too short for its placement is an error, never a silent freeze.
* **Grade, then scale to cover and crop.** Each chunk frame is graded with the colour LUT
  (``luts``) at its own resolution — a 3D LUT is a per-pixel map, so grading the 720p source
  instead of the 1080p output does the same work on 2.25× fewer pixels — then fitted to the output
  size before blending (chunks may differ in size): bicubic when enlarging (Lanczos looked no
  different at these ratios and cost 8× more), area averaging when shrinking. The crop is centred
  unless the output has another shape than the chunks; then each beat's window is placed on its
  subject (``framing``), once per beat.
* **Blending in float**, in the encoded (sRGB) domain as editing tools do for dissolves, rounded
  once to 8 bits. Before blending, a later chunk of a beat is exposure-matched to the chunk it
  continues (``seams``).
* **Then the text.** The supers are drawn on the graded, blended picture, so brand text keeps its
  colours; each text track (``supers``) blends itself into the frames of its window. The pictures
  the supers are laid out on come from ``sample_frames``: a few frames per caption, made the same
  way before the render starts.
* **One encode, constant frame rate** (``encoding``): H.264 (libx264, yuv420p, BT.709 limited range, tagged as
  such; the conversion is one ``cv2.transform`` and a 2x2 chroma average, a third of what swscale
  takes for the same frame), ``pts = frame number`` in a ``1/fps`` time base, ``+faststart`` so playback can start
  before the download ends. The audio is AAC, 48 kHz stereo, resampled if needed and trimmed or
  padded with silence to exactly the video's duration, interleaved as the video is written.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future
from fractions import Fraction
from pathlib import Path
from typing import Final, TypeVar

import av
import cv2
import numpy as np

from adgen_refine.encoding import OutputFormat, write_mp4, yuv420_frame
from adgen_refine.framing import CENTRE, fit_to_cover
from adgen_refine.luts import GradeTable
from adgen_refine.seams import SeamMatcher
from adgen_refine.supers import Overlay
from adgen_refine.timeline import Contribution, Placement, Transition, compose_timeline

_LOOKAHEAD_FRAMES: Final = 4
T = TypeVar("T")


def render_final(
    chunk_paths: Mapping[int, Path],
    placements: Sequence[Placement],
    total_frames: int,
    transitions: Mapping[int, Transition],
    audio: np.ndarray | Future[np.ndarray | None] | None,
    sample_rate: int,
    fmt: OutputFormat,
    out_path: Path,
    *,
    grade: GradeTable | None = None,
    supers: Sequence[Overlay] = (),
    match_seams: bool = True,
    focus: Mapping[int, tuple[float, float]] | None = None,
) -> None:
    """Write exactly ``total_frames`` frames (and the audio, if any) to ``out_path``.

    ``transitions`` is keyed by the incoming beat's index, as in ``compose_timeline``. The file
    is written next to ``out_path`` and moved into place only when complete. ``focus`` gives, per
    chunk, the centre of its crop window as fractions of the frame (``subject_focus``); centred
    when absent. ``audio`` may still be in the making (a Future): the video is encoded meanwhile
    and the audio joins as soon as it is there (the muxer interleaves within 10 s of media); if it
    ends up None, the file is written without an audio stream.
    """
    timeline = compose_timeline(placements, total_frames, transitions)
    missing = sorted({p.index for p in placements} - set(chunk_paths))
    if missing:
        raise ValueError(f"no file for chunks {missing}")
    # The pictures are made on a worker thread, a few frames ahead of the encoder: decoding,
    # grading and blending overlap with x264 (both release the GIL).
    pictures = _ahead(
        _pictures(timeline, chunk_paths, placements, fmt, grade, supers, match_seams, focus or {}), _LOOKAHEAD_FRAMES
    )
    try:
        write_mp4(pictures, total_frames, audio, sample_rate, fmt, out_path)
    finally:
        pictures.close()  # stops the worker when the encode fails first


def _pictures(
    timeline: Sequence[tuple[Contribution, ...]],
    chunk_paths: Mapping[int, Path],
    placements: Sequence[Placement],
    fmt: OutputFormat,
    grade: GradeTable | None,
    supers: Sequence[Overlay],
    match_seams: bool,
    focus: Mapping[int, tuple[float, float]],
) -> Iterator[av.VideoFrame]:
    """Every output picture in order, ready for the encoder; each chunk is open only while used."""
    last_use = {c.chunk: t for t, parts in enumerate(timeline) for c in parts}
    sources: dict[int, _ChunkSource] = {}
    seams = SeamMatcher(placements, fmt.fps) if match_seams else None
    try:
        for t, parts in enumerate(timeline):
            image = _blend(parts, sources, chunk_paths, fmt, seams, grade, focus)
            for c in parts:
                if last_use[c.chunk] == t:
                    sources.pop(c.chunk).close()
            shown = [s for s in supers if s.active(t)]
            if shown:
                # The blend may be a chunk's cached frame, which a held dissolve frame shows
                # again: draw the text on a copy.
                image = image.copy()
            for track in shown:
                track.draw(image, t)
            yield yuv420_frame(image)
    finally:
        for source in sources.values():
            source.close()


_DONE: Final = object()


def _ahead(items: Iterator[T], depth: int) -> Generator[T, None, None]:
    """``items``, produced on a worker thread at most ``depth`` ahead of the consumer.

    An error in the producer is raised in the consumer; when the consumer stops early (or fails),
    the producer stops at its next item and ``items`` is closed on its own thread.
    """
    handoff: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as error:  # handed to the consumer, which raises it
            put((_DONE, error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="refine-pictures", daemon=True)
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


# A wanted frame further ahead than this is reached by a seek to the key frame before it (chunks
# carry one every 24 frames, clip_io) rather than by decoding every frame on the way.
SEEK_AHEAD_FRAMES: Final = 24


class _ChunkSource:
    """Forward-only frames of one chunk, fitted to the output size, at the output frame rate.

    Forward only as the caller sees it: a frame far ahead is reached by seeking (``_seek``)."""

    def __init__(
        self, index: int, path: Path, fmt: OutputFormat, grade: GradeTable | None, focus: tuple[float, float]
    ) -> None:
        self._index = index
        self._fmt = fmt
        self._grade = grade
        self._focus = focus
        self._container = av.open(str(path))
        stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise ValueError(f"chunk {index}: {path.name} has no frame rate")
        self._rate = Fraction(rate)
        self._stream = stream
        self._frames = self._container.decode(stream)
        self._position = -1
        self._current: av.VideoFrame | None = None
        self._image: np.ndarray | None = None

    def image(self, local_frame: int) -> np.ndarray:
        wanted = math.floor(local_frame * self._rate / self._fmt.fps)
        if wanted < self._position:
            raise ValueError(f"chunk {self._index}: frame {wanted} requested after {self._position}")
        if wanted - self._position > SEEK_AHEAD_FRAMES:
            self._seek(wanted)
        while self._position < wanted:
            try:
                self._current = next(self._frames)
            except StopIteration:
                raise ValueError(
                    f"chunk {self._index} ends after {self._position + 1} frames; its placement "
                    f"needs frame {wanted} (local frame {local_frame} at {self._fmt.fps} fps)"
                ) from None
            self._position += 1
            self._image = None
        if self._image is None:
            assert self._current is not None
            if self._grade is not None:
                # Graded from the decoder's BGRA words (no index to build), then back to three
                # channels: OpenCV's per-pixel matrix maths (seams, the YUV conversion) is
                # vectorised for three channels only, and several times slower on four.
                graded = self._grade.apply_bgra(self._current.to_ndarray(format="bgra"))
                image = cv2.cvtColor(graded, cv2.COLOR_RGBA2RGB)
            else:
                image = self._current.to_ndarray(format="rgb24")
            self._image = fit_to_cover(image, self._fmt.width, self._fmt.height, self._focus)
        return self._image

    def _seek(self, wanted: int) -> None:
        """Positions the decoder just before clip frame ``wanted``: on the key frame at or before it.

        Clip frames are numbered by their timestamps from the stream's first. When the demuxer
        cannot land before ``wanted`` (no index, or a key frame past it), decoding starts over from
        the first frame, which is always right, only slower."""
        base = self._stream.start_time or 0
        time_base = self._stream.time_base
        assert time_base is not None
        target = base + math.floor(wanted / self._rate / time_base)
        self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        self._frames = self._container.decode(self._stream)
        first = next(self._frames, None)
        at = None if first is None or first.pts is None else round((first.pts - base) * time_base * self._rate)
        if at is None or at > wanted:
            self._container.seek(base, stream=self._stream, backward=True, any_frame=False)
            self._frames = self._container.decode(self._stream)
            self._position, self._current = -1, None
        else:
            self._position, self._current = at, first
        self._image = None

    def close(self) -> None:
        self._container.close()


def sample_frames(
    chunk_paths: Mapping[int, Path],
    placements: Sequence[Placement],
    total_frames: int,
    transitions: Mapping[int, Transition],
    fmt: OutputFormat,
    frames: Sequence[int],
    *,
    grade: GradeTable | None = None,
    focus: Mapping[int, tuple[float, float]] | None = None,
) -> dict[int, np.ndarray]:
    """The output pictures at ``frames`` as ``render_final`` blends them before any text (without
    the seams' exposure match, a small correction that eases out within a second), for laying
    the supers out on them. Each chunk a sample needs is opened once and read forward, seeking to
    the key frame before a sample far ahead; only the needed frames are converted, graded and
    fitted."""
    timeline = compose_timeline(placements, total_frames, transitions)
    wanted = sorted({f for f in frames if 0 <= f < total_frames})
    by_chunk: dict[int, set[int]] = {}
    for t in wanted:
        for c in timeline[t]:
            by_chunk.setdefault(c.chunk, set()).add(c.local_frame)
    pictures: dict[tuple[int, int], np.ndarray] = {}
    for chunk, locals_ in sorted(by_chunk.items()):
        source = _ChunkSource(chunk, chunk_paths[chunk], fmt, grade, (focus or {}).get(chunk, CENTRE))
        try:
            for local in sorted(locals_):
                pictures[chunk, local] = source.image(local)
        finally:
            source.close()
    result: dict[int, np.ndarray] = {}
    for t in wanted:
        parts = timeline[t]
        if not parts:
            result[t] = np.zeros((fmt.height, fmt.width, 3), np.uint8)
            continue
        result[t] = _mix([(pictures[c.chunk, c.local_frame], c.weight) for c in parts])
    return result


def _blend(
    parts: tuple[Contribution, ...],
    sources: dict[int, _ChunkSource],
    chunk_paths: Mapping[int, Path],
    fmt: OutputFormat,
    seams: SeamMatcher | None,
    grade: GradeTable | None,
    focus: Mapping[int, tuple[float, float]],
) -> np.ndarray:
    """One output frame: the weighted sum of its chunk frames (`_mix`), each exposure-matched at a seam."""
    layers: list[tuple[np.ndarray, float]] = []
    for c in parts:
        if c.chunk not in sources:
            sources[c.chunk] = _ChunkSource(c.chunk, chunk_paths[c.chunk], fmt, grade, focus.get(c.chunk, CENTRE))
        image = sources[c.chunk].image(c.local_frame)
        if seams is not None:
            image = seams.corrected(c, image, layers[0][0] if layers else None)
        layers.append((image, c.weight))
    return _mix(layers)


def _mix(layers: Sequence[tuple[np.ndarray, float]]) -> np.ndarray:
    """The weighted sum of an output frame's chunk frames; missing weight is black.

    ``compose_timeline`` never puts more than two chunk frames in one output frame, which lets
    OpenCV's ``addWeighted`` (float maths, rounded and saturated once) do the blend in one pass.
    """
    if len(layers) > 2:
        raise ValueError(f"{len(layers)} chunk frames in one output frame; the timeline allows two")
    (first, first_weight), *rest = layers
    if not rest and first_weight == 1.0:
        return first
    second, second_weight = rest[0] if rest else (first, 0.0)
    return cv2.addWeighted(first, first_weight, second, second_weight, 0.0)
