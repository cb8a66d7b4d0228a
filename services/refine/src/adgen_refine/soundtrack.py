"""The delivered audio: the bed fitted to the video, encoded to AAC, and measured as it will be heard.

* **Fitted:** whatever rate and layout the bed comes in, it is resampled to 48 kHz, made stereo,
  clipped to [-1, 1] and trimmed or padded with silence to exactly the video's length.
* **Measured after the codec:** the bed is encoded to AAC (48 kHz stereo) on its own, the packets
  are decoded again and the true peak of the *decoded* signal is measured (4x oversampled), because
  the codec moves peaks and a level set on the PCM alone overshot the ceiling on delivered files.
  Where the decoded signal passes ``loudness.DELIVERED_PEAK_DBTP``, the PCM is limited there by as
  much as the decoded signal passed it and encoded again; the packets muxed are exactly the ones
  measured. The PCM already carries headroom for the codec, so a second encode is the exception.
* **Made beside the video:** the waiting, fitting and encoding run on a thread of their own while
  the video encodes; the packets are handed out up to a timestamp, for muxing interleaved.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

import av
import numpy as np
from scipy.signal import resample_poly

from adgen_refine.loudness import DELIVERED_PEAK_DBTP, db_to_gain, limit, peak_envelope

AUDIO_RATE: Final = 48_000
_AAC_FRAME: Final = 1024
# A change of gain reaches every AAC frame whose 2048-sample window covers it: the decoded peak
# answers to the PCM up to one frame either side.
_LIMITER_WINDOW: Final = _AAC_FRAME
# Each corrective pass aims this far under the ceiling: the codec's error does not scale exactly
# with the gain.
_CORRECTION_MARGIN_DB: Final = 0.3
_MAX_ENCODES: Final = 4
# FFmpeg's constant-quantiser AAC coder: its documentation calls it better and much faster than the
# default two-loop search above 64 kb/s, and on these beds the two-loop search left clicks (a
# decoded step twice the largest step of the PCM) and peaks 2 dB over the PCM's; this one neither.
_AAC_OPTIONS: Final = {"aac_coder": "fast"}


@dataclass(frozen=True)
class EncodedAudio:
    """AAC packets (1/48000 time base, the codec's priming first) and what their decoding measured."""

    packets: list[av.Packet[av.AudioStream]]
    true_peak_dbtp: float
    encodes: int


def encode_aac(samples: np.ndarray, bit_rate: int, ceiling_dbtp: float = DELIVERED_PEAK_DBTP) -> EncodedAudio:
    """``samples`` (stereo float32 at 48 kHz) as AAC whose decoded true peak is ≤ ``ceiling_dbtp``.

    Each pass encodes, decodes and measures; over the ceiling, the PCM is limited where the decoded
    signal is over it and the next pass encodes that. Should the limiter not have done it by the
    last pass, a static gain does, favouring the ceiling over the loudness.
    """
    ceiling = db_to_gain(ceiling_dbtp)
    aim = ceiling * db_to_gain(-_CORRECTION_MARGIN_DB)
    for encodes in range(1, _MAX_ENCODES):
        packets, decoded = _encode_and_decode(samples, bit_rate)
        envelope = peak_envelope(decoded)
        peak = float(envelope.max(initial=0.0))
        if peak <= ceiling:
            return EncodedAudio(packets, _dbtp(peak), encodes)
        if encodes < _MAX_ENCODES - 1:
            samples = limit(samples, envelope, aim, _LIMITER_WINDOW)
        else:
            samples = samples * (aim / peak)
    packets, decoded = _encode_and_decode(samples, bit_rate)
    return EncodedAudio(packets, _dbtp(float(peak_envelope(decoded).max(initial=0.0))), _MAX_ENCODES)


def _fit_audio(audio: np.ndarray, sample_rate: int, samples: int) -> np.ndarray:
    """Stereo float32 at 48 kHz, exactly ``samples`` long: resampled, clipped, trimmed or padded."""
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


class Soundtrack:
    """The audio of a render, ready now or later, encoded on its own thread and handed out in
    packets up to a timestamp."""

    def __init__(
        self, audio: np.ndarray | Future[np.ndarray | None] | None, sample_rate: int, samples: int, bit_rate: int
    ) -> None:
        self.expected = audio is not None
        self.present = False
        self._encoded: Future[EncodedAudio | None] | None = Future() if audio is not None else None
        self._packets: Iterator[av.Packet[av.AudioStream]] = iter(())
        self._pending: av.Packet[av.AudioStream] | None = None
        if audio is not None:
            threading.Thread(
                target=self._encode, args=(audio, sample_rate, samples, bit_rate), name="refine-audio", daemon=True
            ).start()

    def _encode(
        self, audio: np.ndarray | Future[np.ndarray | None], sample_rate: int, samples: int, bit_rate: int
    ) -> None:
        assert self._encoded is not None
        try:
            bed = audio.result() if isinstance(audio, Future) else audio
            encoded = None if bed is None else encode_aac(_fit_audio(bed, sample_rate, samples), bit_rate)
        except BaseException as error:  # handed to the muxing thread, which raises it
            self._encoded.set_exception(error)
        else:
            self._encoded.set_result(encoded)

    def until(self, end: float, *, wait: bool = False) -> Iterator[av.Packet[av.AudioStream]]:
        """The packets starting before ``end`` (in 1/48000 s); none while the audio is still being
        made or encoded, unless ``wait`` (then it waits for it)."""
        if self._encoded is not None:
            if not (wait or self._encoded.done()):
                return
            encoded = self._encoded.result()
            self._encoded = None
            self.present = encoded is not None
            self._packets = iter(encoded.packets if encoded is not None else ())
            self._pending = next(self._packets, None)
        while self._pending is not None and self._pending.pts is not None and self._pending.pts < end:
            yield self._pending
            self._pending = next(self._packets, None)


def aac_stream(out: av.container.OutputContainer, bit_rate: int) -> av.AudioStream:
    """The stream of ``out`` that a ``Soundtrack``'s packets are muxed into, configured as their
    encoder was so the file's header describes them (its own encoder opens with the header and is
    never fed)."""
    sound = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
    _configure(sound.codec_context, bit_rate)
    sound.time_base = Fraction(1, AUDIO_RATE)
    return sound


def _configure(encoder: av.AudioCodecContext, bit_rate: int) -> None:
    encoder.sample_rate, encoder.layout, encoder.format = AUDIO_RATE, "stereo", "fltp"
    encoder.bit_rate = bit_rate
    encoder.time_base = Fraction(1, AUDIO_RATE)
    encoder.options = dict(_AAC_OPTIONS)


def _encode_and_decode(samples: np.ndarray, bit_rate: int) -> tuple[list[av.Packet[av.AudioStream]], np.ndarray]:
    """The AAC packets of ``samples`` and their decoding, sample-aligned with ``samples`` (the
    codec's priming dropped, its tail cut at the input's length)."""
    encoder = av.CodecContext.create("aac", "w")
    assert isinstance(encoder, av.AudioCodecContext)
    _configure(encoder, bit_rate)
    packets: list[av.Packet[av.AudioStream]] = []
    for frame in _audio_frames(samples):
        packets += encoder.encode(frame)
    packets += encoder.encode(None)

    decoder = av.CodecContext.create("aac", "r")
    assert isinstance(decoder, av.AudioCodecContext)
    decoder.extradata = encoder.extradata
    blocks = [frame.to_ndarray() for packet in packets for frame in decoder.decode(packet)]
    blocks += [frame.to_ndarray() for frame in decoder.decode(None)]
    decoded = np.concatenate(blocks, axis=1).T if blocks else np.zeros((0, 2), np.float32)
    priming = -packets[0].pts if packets and packets[0].pts is not None and packets[0].pts < 0 else 0
    return packets, decoded[priming : priming + len(samples)]


def _dbtp(peak: float) -> float:
    return 20 * math.log10(max(peak, 1e-10))


def _audio_frames(samples: np.ndarray) -> Iterator[av.AudioFrame]:
    """AAC-sized planar frames with sample-exact timestamps; the last one may be short."""
    for start in range(0, len(samples), _AAC_FRAME):
        block = np.ascontiguousarray(samples[start : start + _AAC_FRAME].T, dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, AUDIO_RATE)
        yield frame
