"""The one lossy step: pictures and the music bed written as the final MP4.

* **Video:** H.264 (libx264, yuv420p) at a constant frame rate, ``pts = frame number`` in a
  ``1/fps`` time base, tagged BT.709 limited range. The RGB to Y'CbCr conversion is done here, not
  by swscale: one ``cv2.transform`` with the BT.709 matrix and a 2x2 chroma average, a third of
  swscale's time for the same frame, rounded and saturated once.
* **Audio:** AAC, 48 kHz stereo, encoded beside the video by ``soundtrack``, which measures the
  true peak of its own decoded packets; those very packets are muxed, so what was measured is
  what is delivered.
* **Interleaved as written:** after each video frame the audio up to that moment is muxed, so the
  file plays while it downloads (``+faststart`` puts the index first). The audio may still be in
  the making (or its encoding) when the video starts; it joins as soon as it is there, and when it
  never comes the file is rewritten with its video stream only (packets copied), never with an
  empty audio stream.
* **All or nothing:** the file is written beside its destination and moved into place only when
  complete.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
import cv2
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from adgen_refine.soundtrack import AUDIO_RATE, Soundtrack, aac_stream

_BT709: Final = 1
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


def write_mp4(
    frames: Iterable[av.VideoFrame],
    frame_count: int,
    audio: np.ndarray | Future[np.ndarray | None] | None,
    sample_rate: int,
    fmt: OutputFormat,
    out_path: Path,
) -> None:
    """Encode ``frames`` (the video's ``frame_count`` pictures, in order) and ``audio``, ready or
    a Future, into ``out_path``, as ``render_final`` describes."""
    track = Soundtrack(audio, sample_rate, round(frame_count * AUDIO_RATE / fmt.fps), fmt.audio_bitrate)
    partial = out_path.with_name(out_path.name + ".partial")
    try:
        with av.open(str(partial), "w", format="mp4", container_options={"movflags": "+faststart"}) as out:
            video = _video_stream(out, fmt)
            # The muxer may change the stream's time base (mp4 uses 1/12288 at 24 fps); frames are
            # numbered in 1/fps and rescaled on the way out.
            frame_time = Fraction(1, fmt.fps)
            sound = aac_stream(out, fmt.audio_bitrate) if track.expected else None
            for t, frame in enumerate(frames):
                frame.pts = t
                frame.time_base = frame_time
                out.mux(video.encode(frame))
                # Keep the audio level with the video so the file is interleaved.
                if sound is not None:
                    _mux_audio(out, sound, track.until((t + 1) * AUDIO_RATE / fmt.fps))
            out.mux(video.encode(None))
            if sound is not None:
                _mux_audio(out, sound, track.until(math.inf, wait=True))
        if sound is not None and not track.present:
            _drop_audio(partial)  # the music did not come: no empty audio stream
        partial.replace(out_path)
    finally:
        partial.unlink(missing_ok=True)


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


def _mux_audio(
    out: av.container.OutputContainer, sound: av.AudioStream, packets: Iterable[av.Packet[av.AudioStream]]
) -> None:
    for packet in packets:
        packet.stream = sound
        out.mux(packet)


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
