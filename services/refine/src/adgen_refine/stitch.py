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
* **One encode, constant frame rate:** H.264 (libx264, yuv420p, BT.709 limited range, tagged as
  such; the conversion is one ``cv2.transform`` and a 2x2 chroma average, a third of what swscale
  takes for the same frame), ``pts = frame number`` in a ``1/fps`` time base, ``+faststart`` so playback can start
  before the download ends. The audio is AAC, 48 kHz stereo, resampled if needed and trimmed or
  padded with silence to exactly the video's duration, interleaved as the video is written.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final, TypeVar

import av
import cv2
import numpy as np
from av.video.reformatter import ColorRange, Colorspace
from scipy.signal import resample_poly

from adgen_refine.framing import CENTRE, crop_centre
from adgen_refine.luts import GradeTable
from adgen_refine.seams import EASE_S, ExposureMatch, apply_match, channel_stats, match_exposure, seam_strength
from adgen_refine.supers import TextTrack
from adgen_refine.timeline import Contribution, Placement, Transition, compose_timeline

AUDIO_RATE: Final = 48_000
_AAC_FRAME: Final = 1024
_BT709: Final = 1
_LOOKAHEAD_FRAMES: Final = 4
T = TypeVar("T")
_LIMITED_RANGE: Final = 1


@dataclass(frozen=True)
class OutputFormat:
    """What the final file is: size, frame rate and encoder settings."""

    width: int
    height: int
    fps: int
    crf: int = 20
    preset: str = "veryfast"
    audio_bitrate: int = 160_000

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise ValueError(f"yuv420p needs a positive, even size, got {self.width}x{self.height}")
        if self.fps <= 0:
            raise ValueError(f"fps must be positive, got {self.fps}")


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
    supers: Sequence[TextTrack] = (),
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
    track = _Track(audio, sample_rate, round(total_frames * AUDIO_RATE / fmt.fps))

    partial = out_path.with_name(out_path.name + ".partial")
    try:
        with av.open(str(partial), "w", format="mp4", container_options={"movflags": "+faststart"}) as out:
            video = _video_stream(out, fmt)
            # The muxer may change the stream's time base (mp4 uses 1/12288 at 24 fps); frames are
            # numbered in 1/fps and rescaled on the way out.
            frame_time = Fraction(1, fmt.fps)
            sound = _audio_stream(out, fmt) if track.expected else None
            pictures = _pictures(timeline, chunk_paths, placements, fmt, grade, supers, match_seams, focus or {})
            # The pictures are made on a worker thread, a few frames ahead of the encoder: decoding,
            # grading and blending overlap with x264 (both release the GIL).
            for t, frame in enumerate(_ahead(pictures, _LOOKAHEAD_FRAMES)):
                frame.pts = t
                frame.time_base = frame_time
                out.mux(video.encode(frame))
                # Keep the audio level with the video so the file is interleaved.
                if sound is not None:
                    for block in track.until((t + 1) * AUDIO_RATE / fmt.fps):
                        out.mux(sound.encode(block))
            out.mux(video.encode(None))
            if sound is not None:
                for block in track.until(math.inf, wait=True):
                    out.mux(sound.encode(block))
                out.mux(sound.encode(None))
        if sound is not None and not track.present:
            _drop_audio(partial)  # the music did not come: no empty audio stream
        partial.replace(out_path)
    finally:
        partial.unlink(missing_ok=True)


class _Track:
    """The audio of a render, ready now or later, handed out in AAC frames up to a timestamp."""

    def __init__(self, audio: np.ndarray | Future[np.ndarray | None] | None, sample_rate: int, samples: int) -> None:
        self._later = audio if isinstance(audio, Future) else None
        self._sample_rate, self._samples = sample_rate, samples
        self._frames: Iterator[av.AudioFrame] | None = None
        self._pending: av.AudioFrame | None = None
        self.present = False
        self.expected = self._later is not None or audio is not None
        if self._later is None:
            self._resolve(audio)  # type: ignore[arg-type]

    def _resolve(self, audio: np.ndarray | None) -> None:
        samples = _fit_audio(audio, self._sample_rate, self._samples)
        self.present = samples is not None
        self._frames = _audio_frames(samples) if samples is not None else iter(())
        self._pending = next(self._frames, None)
        self._later = None

    def until(self, end: float, *, wait: bool = False) -> Iterator[av.AudioFrame]:
        """The frames starting before `end`; none yet while the audio is still being made, unless
        `wait` (then it waits for it)."""
        if self._later is not None:
            if not (wait or self._later.done()):
                return
            self._resolve(self._later.result())
        assert self._frames is not None
        while self._pending is not None and self._pending.pts < end:
            yield self._pending
            self._pending = next(self._frames, None)


def _drop_audio(path: Path) -> None:
    """Rewrites the file with its video stream only (packets copied, nothing re-encoded)."""
    stripped = path.with_name(path.name + ".video")
    try:
        with (
            av.open(str(path)) as source,
            av.open(str(stripped), "w", format="mp4", container_options={"movflags": "+faststart"}) as out,
        ):
            video_in = source.streams.video[0]
            video_out = out.add_stream_from_template(video_in)
            for packet in source.demux(video_in):
                if packet.dts is None:
                    continue
                packet.stream = video_out
                out.mux(packet)
        stripped.replace(path)
    finally:
        stripped.unlink(missing_ok=True)


def _pictures(
    timeline: Sequence[tuple[Contribution, ...]],
    chunk_paths: Mapping[int, Path],
    placements: Sequence[Placement],
    fmt: OutputFormat,
    grade: GradeTable | None,
    supers: Sequence[TextTrack],
    match_seams: bool,
    focus: Mapping[int, tuple[float, float]],
) -> Iterator[av.VideoFrame]:
    """Every output picture in order, ready for the encoder; each chunk is open only while used."""
    last_use = {c.chunk: t for t, parts in enumerate(timeline) for c in parts}
    sources: dict[int, _ChunkSource] = {}
    seams = _SeamMatcher(placements, fmt.fps) if match_seams else None
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


def _ahead(items: Iterator[T], depth: int) -> Iterator[T]:
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


class _ChunkSource:
    """Forward-only frames of one chunk, fitted to the output size, at the output frame rate."""

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
        self._frames = self._container.decode(stream)
        self._position = -1
        self._current: av.VideoFrame | None = None
        self._image: np.ndarray | None = None

    def image(self, local_frame: int) -> np.ndarray:
        wanted = math.floor(local_frame * self._rate / self._fmt.fps)
        if wanted < self._position:
            raise ValueError(f"chunk {self._index}: frame {wanted} requested after {self._position}")
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

    def close(self) -> None:
        self._container.close()


def fit_to_cover(image: np.ndarray, width: int, height: int, focus: tuple[float, float] = CENTRE) -> np.ndarray:
    """Scale ``image`` to cover ``width`` x ``height`` and crop the window centred on ``focus``
    (fractions of the image), kept inside the picture."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    scale = max(width / w, height / h)
    scaled_w, scaled_h = max(width, round(w * scale)), max(height, round(h * scale))
    x = min(max(round(focus[0] * scaled_w - width / 2), 0), scaled_w - width)
    y = min(max(round(focus[1] * scaled_h - height / 2), 0), scaled_h - height)
    if (scaled_w, scaled_h) != (w, h):
        interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        image = cv2.resize(image, (scaled_w, scaled_h), interpolation=interpolation)
    return np.ascontiguousarray(image[y : y + height, x : x + width])


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
    the supers out on them. Each chunk a sample needs is decoded once, forward, up to its last
    needed frame; only the needed frames are converted, graded and fitted."""
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
    result = {}
    for t in wanted:
        parts = timeline[t]
        if not parts:
            result[t] = np.zeros((fmt.height, fmt.width, 3), np.uint8)
            continue
        layers = [(pictures[c.chunk, c.local_frame], c.weight) for c in parts]
        (first, w1), *rest = layers
        second, w2 = rest[0] if rest else (first, 0.0)
        result[t] = first if not rest and w1 == 1.0 else cv2.addWeighted(first, w1, second, w2, 0.0)
    return result


def subject_focus(
    chunk_paths: Mapping[int, Path], placements: Sequence[Placement], width: int, height: int
) -> dict[int, tuple[float, float]]:
    """Per chunk, the centre of its crop window for a ``width`` x ``height`` output: one per beat,
    chosen on the first frame of the beat's first chunk (``framing``)."""
    first_of_beat: dict[int, Placement] = {}
    for p in sorted(placements, key=lambda p: p.start_frame):
        first_of_beat.setdefault(p.beat_index, p)
    per_beat = {}
    for beat, p in first_of_beat.items():
        with av.open(str(chunk_paths[p.index])) as container:
            frame = next(container.decode(video=0), None)
        per_beat[beat] = CENTRE if frame is None else crop_centre(frame.to_ndarray(format="rgb24"), width, height)
    return {p.index: per_beat[p.beat_index] for p in placements}


class _SeamMatcher:
    """The exposure match of every chunk that continues a beat, measured when its overlap starts."""

    def __init__(self, placements: Sequence[Placement], fps: int) -> None:
        self._overlap = {p.index: p.overlap_in_frames for p in placements}
        self._ease = round(EASE_S * fps)
        self._matches: dict[int, ExposureMatch] = {}

    def corrected(self, contribution: Contribution, image: np.ndarray, shown_before: np.ndarray | None) -> np.ndarray:
        """``image`` of the chunk, matched to ``shown_before`` (the chunk it continues, as shown)."""
        overlap = self._overlap[contribution.chunk]
        if overlap == 0:
            return image
        if contribution.chunk not in self._matches:
            if contribution.local_frame != 0 or shown_before is None:
                return image
            self._matches[contribution.chunk] = match_exposure(channel_stats(shown_before), channel_stats(image))
        strength = seam_strength(contribution.local_frame, overlap, self._ease)
        if strength <= 0:
            del self._matches[contribution.chunk]
            return image
        return apply_match(image, self._matches[contribution.chunk], strength)


def _blend(
    parts: tuple[Contribution, ...],
    sources: dict[int, _ChunkSource],
    chunk_paths: Mapping[int, Path],
    fmt: OutputFormat,
    seams: _SeamMatcher | None,
    grade: GradeTable | None,
    focus: Mapping[int, tuple[float, float]],
) -> np.ndarray:
    """One output frame: the weighted sum of its chunk frames; missing weight is black.

    ``compose_timeline`` never puts more than two chunk frames in one output frame, which lets
    OpenCV's ``addWeighted`` (float maths, rounded and saturated once) do the blend in one pass.
    """
    layers: list[tuple[np.ndarray, float]] = []
    for c in parts:
        if c.chunk not in sources:
            sources[c.chunk] = _ChunkSource(c.chunk, chunk_paths[c.chunk], fmt, grade, focus.get(c.chunk, CENTRE))
        image = sources[c.chunk].image(c.local_frame)
        if seams is not None:
            image = seams.corrected(c, image, layers[0][0] if layers else None)
        layers.append((image, c.weight))
    if len(layers) > 2:
        raise ValueError(f"{len(layers)} chunk frames in one output frame; the timeline allows two")
    (first, first_weight), *rest = layers
    if not rest and first_weight == 1.0:
        return first
    second, second_weight = rest[0] if rest else (first, 0.0)
    return cv2.addWeighted(first, first_weight, second, second_weight, 0.0)


def yuv420_frame(image: np.ndarray) -> av.VideoFrame:
    """An RGB(A) picture as a yuv420p frame: BT.709 matrix, limited range, chroma averaged over
    each 2x2 block; rounded and saturated once (``cv2.transform``)."""
    height, width = image.shape[:2]
    matrix = _RGB_TO_YCBCR if image.shape[2] == 3 else _RGBA_TO_YCBCR
    y, cb, cr = cv2.split(cv2.transform(image, matrix))
    half = (width // 2, height // 2)
    planes = (y, cv2.resize(cb, half, interpolation=cv2.INTER_AREA), cv2.resize(cr, half, interpolation=cv2.INTER_AREA))
    i420 = np.concatenate([p.reshape(-1) for p in planes]).reshape(height * 3 // 2, width)
    frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
    frame.colorspace, frame.color_range = Colorspace.ITU709, ColorRange.MPEG
    return frame


def _ycbcr_matrix(channels: int) -> np.ndarray:
    """RGB code values to BT.709 limited-range Y'CbCr: Y' in [16, 235], Cb and Cr in [16, 240]."""
    kr, kb = 0.2126, 0.0722
    kg = 1.0 - kr - kb
    rows = np.array(
        [
            [kr, kg, kb],
            [-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), 0.5],
            [0.5, -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))],
        ]
    )
    matrix = np.zeros((3, channels + 1), np.float32)
    matrix[:, :3] = rows * np.array([[219.0], [224.0], [224.0]]) / 255.0
    matrix[:, channels] = (16.0, 128.0, 128.0)
    return matrix


_RGB_TO_YCBCR: Final = _ycbcr_matrix(3)
_RGBA_TO_YCBCR: Final = _ycbcr_matrix(4)


def _video_stream(out: av.container.OutputContainer, fmt: OutputFormat) -> av.VideoStream:
    video = out.add_stream("libx264", rate=fmt.fps, options={"crf": str(fmt.crf), "preset": fmt.preset})
    video.width, video.height = fmt.width, fmt.height
    video.pix_fmt = "yuv420p"
    video.time_base = Fraction(1, fmt.fps)
    context = video.codec_context
    context.colorspace = context.color_primaries = context.color_trc = _BT709
    context.color_range = _LIMITED_RANGE
    return video


def _audio_stream(out: av.container.OutputContainer, fmt: OutputFormat) -> av.AudioStream:
    sound = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
    sound.bit_rate = fmt.audio_bitrate
    sound.time_base = Fraction(1, AUDIO_RATE)
    return sound


def _fit_audio(audio: np.ndarray | None, sample_rate: int, samples: int) -> np.ndarray | None:
    """Stereo float32 at 48 kHz, exactly ``samples`` long: resampled, trimmed or padded."""
    if audio is None:
        return None
    track = np.asarray(audio, dtype=np.float64)
    if track.ndim == 1:
        track = np.stack([track, track], axis=1)
    if track.ndim != 2 or track.shape[1] not in (1, 2):
        raise ValueError(f"audio must be (n,), (n, 1) or (n, 2), got {track.shape}")
    if track.shape[1] == 1:
        track = np.repeat(track, 2, axis=1)
    if sample_rate != AUDIO_RATE:
        divisor = math.gcd(AUDIO_RATE, sample_rate)
        track = resample_poly(track, AUDIO_RATE // divisor, sample_rate // divisor, axis=0)
    fitted = np.zeros((samples, 2), np.float32)
    length = min(samples, len(track))
    fitted[:length] = np.clip(track[:length], -1.0, 1.0)
    return fitted


def _audio_frames(samples: np.ndarray) -> Iterator[av.AudioFrame]:
    """AAC-sized planar frames with sample-exact timestamps; the last one may be short."""
    for start in range(0, len(samples), _AAC_FRAME):
        block = np.ascontiguousarray(samples[start : start + _AAC_FRAME].T)
        frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, AUDIO_RATE)
        yield frame
