"""What a voice provider gives back, and the one audio format the service stores: 48 kHz mono WAV.

Every provider's audio is brought to the mix's rate here (refine mixes at 48 kHz), so what is stored
and measured does not depend on which engine spoke it.
"""

from __future__ import annotations

import io
import math
import wave
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.signal import resample_poly

from adgen_voice.voice_timing import WordTiming

SAMPLE_RATE = 48_000


@dataclass(frozen=True)
class VoiceInfo:
    key: str
    provider: str
    language: str
    label: str
    model: str
    usd_micros_per_char: int
    scripts: tuple[str, ...] = ()
    """The scripts it reads (`line_script.script_of` names, e.g. "LATIN"); empty: any."""


@dataclass(frozen=True)
class Speech:
    """A line spoken at `rate`: mono float samples at `SAMPLE_RATE`, its words, and what it cost."""

    samples: np.ndarray
    words: list[WordTiming]
    rate: float
    provider: str
    model: str
    usd_micros: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


class VoiceProvider(Protocol):
    name: str

    def voices(self) -> list[VoiceInfo]: ...

    async def speak(self, text: str, voice: str, rate: float) -> Speech:
        """`text` spoken by `voice` (a key from `voices()`) at `rate` times the voice's pace."""
        ...

    async def aclose(self) -> None: ...


def to_mix_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 samples resampled to `SAMPLE_RATE` (polyphase, anti-aliased)."""
    mono = np.asarray(samples, dtype=np.float64)
    if sample_rate != SAMPLE_RATE:
        common = math.gcd(SAMPLE_RATE, sample_rate)
        mono = resample_poly(mono, SAMPLE_RATE // common, sample_rate // common)
    return np.clip(mono, -1.0, 1.0).astype(np.float32)


def wav_bytes(samples: np.ndarray) -> bytes:
    """16-bit PCM WAV at `SAMPLE_RATE`: the stored form of a line."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes((np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float samples in [-1, 1] and the rate of a 16-bit PCM WAV."""
    with wave.open(io.BytesIO(data), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit PCM, got {8 * wav.getsampwidth()}-bit")
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float32) / 32768
        channels, rate = wav.getnchannels(), wav.getframerate()
    return frames.reshape(-1, channels).mean(axis=1), rate
