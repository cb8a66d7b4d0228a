"""The music bed from Replicate's MusicGen, when ``ADGEN_MUSIC_PROVIDER=replicate``.

Decisions made here:

* **One pinned model version** (``meta/musicgen``, stereo-large; ``ADGEN_MUSICGEN_VERSION``): a bed
  must not change its sound because the model's owner pushed a new version.
* **The prompt is the plan's**: the archetype's genre and instruments, the mood, the tempo the
  synthesised bed would use, and the energy arc of the beats, always instrumental. The track is
  asked for at the video's whole duration (in seconds, rounded up) with the plan's seed.
* **Never paid twice.** The create carries the tag ``{video}:music``, recorded beside the chunks
  before it is sent, with the prediction id as soon as it answers (the providers'
  ``replicate_predictions``); the downloaded track is stored as soon as it arrives. A redelivered
  refine reuses the track, polls the prediction it already paid for, or finds a create whose answer
  was lost by its tag, instead of creating another. The ledger row ($0.15 a track) carries the same
  key, so it is written once whatever happens.
* **The downloaded file is only trusted once decoded** (PyAV, any container and codec it reads),
  then fitted to the exact duration with fades and normalised like every bed
  (``music.fit_with_fades``, ``music.normalise_loudness``).
* Every failure (a failed or canceled prediction, throttling or 5xx past the retries, the time
  limit, an undecodable or silent file) raises ``MusicGenFailed``; refine then plays the
  synthesised bed and says why.
"""

from __future__ import annotations

import asyncio
import io
import math
from dataclasses import dataclass
from typing import Any, Final, Self

import av
import numpy as np

from adgen.common.v1 import common_pb2
from adgen_kernel.logs import get_logger
from adgen_kernel.serve import Connections
from adgen_providers.prediction_record import StoredRecord
from adgen_providers.replicate_predictions import (
    PredictionOrder,
    PredictionRefused,
    ProviderUnavailable,
    ReplicateConfig,
    ReplicatePredictions,
    ReplicateSettings,
)
from adgen_refine.music import ENERGY_TEMPO, archetype_bpm, fit_with_fades, normalise_loudness
from adgen_refine.settings import RefineSettings
from adgen_video import keys
from adgen_video.video_state import record_cost, reserve_budget

log = get_logger(__name__)

MUSICGEN: Final = "meta/musicgen"
MUSICGEN_MODEL: Final = "stereo-large"
PRICE_MICROS: Final = 150_000  # per track
_MAX_DOWNLOAD_BYTES: Final = 64 * 1024 * 1024  # a minute of 48 kHz stereo float WAV is 23 MB

_STYLES: Final = {
    "luxury_showcase": "elegant slow cinematic ambient, soft felt piano, warm strings, subtle pulsing synth",
    "energetic_lifestyle": "upbeat modern pop, punchy drums, claps, bright synth chords, driving bass",
    "minimalist_reveal": "minimal airy electronic, sparse piano notes, soft clicks, wide pads",
    "emotional_storytelling": "warm emotional acoustic, piano and strings, gentle build",
    "feature_demo": "confident clean corporate pop, light percussion, plucked synths, steady groove",
}
_ENERGY_WORDS: Final = {
    common_pb2.ENERGY_LOW: "calm",
    common_pb2.ENERGY_MEDIUM: "steady",
    common_pb2.ENERGY_HIGH: "intense",
}


class MusicGenFailed(Exception):
    """No usable track came from MusicGen; the message says why, for the video's warning."""


@dataclass(frozen=True, kw_only=True)
class MusicGenConfig(ReplicateConfig):
    version: str
    concurrency: int = 2

    @classmethod
    def from_settings(cls, settings: ReplicateSettings, **extra: Any) -> Self:
        assert isinstance(settings, RefineSettings)
        return super().from_settings(settings, version=settings.musicgen_version, **extra)


def music_unit(video_id: str) -> str:
    """The music bed as a unit of paid work: its ledger key and the tag its prediction carries."""
    return f"{video_id}:music"


def music_prompt(spec: common_pb2.Spec) -> str:
    """What MusicGen is asked for: genre and instruments, mood, tempo and the energy arc."""
    style = _STYLES.get(spec.archetype_id, _STYLES["feature_demo"])
    arc: list[str] = []
    for beat in sorted(spec.beats, key=lambda b: b.index):
        word = _ENERGY_WORDS.get(beat.energy, "steady")
        if not arc or arc[-1] != word:
            arc.append(word)
    energies = [b.energy for b in spec.beats] or [common_pb2.ENERGY_MEDIUM]
    names = {common_pb2.ENERGY_LOW: "low", common_pb2.ENERGY_MEDIUM: "medium", common_pb2.ENERGY_HIGH: "high"}
    tempo = archetype_bpm(spec.archetype_id) * ENERGY_TEMPO[names.get(max(energies), "medium")]
    parts = [style]
    if spec.style.mood.strip():
        parts.append(f"{spec.style.mood.strip().lower()} mood")
    parts.append(f"{round(tempo)} bpm")
    if len(arc) > 1:
        parts.append("energy " + " then ".join(arc))
    parts.append("instrumental, no vocals, background music for an advert, clean ending")
    return ", ".join(parts)


def musicgen_input(spec: common_pb2.Spec) -> dict[str, Any]:
    return {
        "prompt": music_prompt(spec),
        "model_version": MUSICGEN_MODEL,
        "duration": max(1, math.ceil(spec.duration_s)),
        "output_format": "wav",
        "normalization_strategy": "loudness",
        "seed": int(spec.seed % 2**31),
    }


def decode_audio(data: bytes, sample_rate: int) -> np.ndarray:
    """Any audio file PyAV reads, as stereo float32 at ``sample_rate``, shape (n, 2)."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise MusicGenFailed("the downloaded file has no audio stream")
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=sample_rate)
            blocks = []
            for frame in container.decode(container.streams.audio[0]):
                blocks += [f.to_ndarray() for f in resampler.resample(frame)]
            blocks += [f.to_ndarray() for f in resampler.resample(None)]
    except (av.error.FFmpegError, ValueError) as error:
        raise MusicGenFailed(f"the downloaded file is not audio PyAV can decode: {error}") from None
    if not blocks:
        raise MusicGenFailed("the downloaded file has no audio samples")
    audio = np.concatenate(blocks, axis=1).T.astype(np.float32)
    if not np.isfinite(audio).all() or float(np.max(np.abs(audio))) < 1e-4:
        raise MusicGenFailed("the downloaded track is silent or corrupt")
    return audio


class MusicGen:
    """Tracks from MusicGen for videos, stored beside their chunks until export cleans up."""

    def __init__(self, connections: Connections, config: MusicGenConfig, *, sample_rate: int) -> None:
        self._c = connections
        self._version = config.version
        self._sample_rate = sample_rate
        self._replicate = ReplicatePredictions(config)

    async def aclose(self) -> None:
        await self._replicate.aclose()

    async def track(self, video_id: str, user_id: str, spec: common_pb2.Spec) -> np.ndarray:
        """The video's bed: stereo float32 at the refine sample rate, exactly the video's length,
        at -14 LUFS and under -1 dBTP. Raises ``MusicGenFailed``."""
        store = self._c.store
        stored = keys.music_key(user_id, video_id)
        unit = music_unit(video_id)
        if await store.exists(stored):
            data = await store.get_bytes(stored)
        else:
            # Over the video's budget cap this raises, and refine plays the free synthesised bed.
            await reserve_budget(self._c.db, video_id, unit, PRICE_MICROS)
            record = StoredRecord(store, keys.music_prediction_key(user_id, video_id))
            data = await self._generate(video_id, record, spec)
            await store.put_bytes(stored, data, "application/octet-stream")
        await record_cost(
            self._c.db,
            self._c.js,
            idempotency_key=unit,
            video_id=video_id,
            phase=common_pb2.PHASE_REFINE,
            provider="replicate",
            model=MUSICGEN,
            units=1,
            usd_micros=PRICE_MICROS,
        )
        audio = await asyncio.to_thread(decode_audio, data, self._sample_rate)
        fitted = fit_with_fades(audio, self._sample_rate, float(spec.duration_s))
        return await asyncio.to_thread(normalise_loudness, fitted, self._sample_rate)

    async def _generate(self, video_id: str, record: StoredRecord, spec: common_pb2.Spec) -> bytes:
        """One prediction, from create (or the one a previous attempt created) to the file's bytes."""
        replicate = self._replicate
        order = PredictionOrder(MUSICGEN, musicgen_input(spec), music_unit(video_id), record, self._version)
        async with replicate.call(MUSICGEN, "generate") as call:
            try:
                prediction = await replicate.finished(call, order)
                data = await replicate.output(call, order, prediction, "an audio URL")
            except (ProviderUnavailable, PredictionRefused) as error:
                raise MusicGenFailed(error.message) from error
            if len(data) > _MAX_DOWNLOAD_BYTES:
                raise MusicGenFailed(f"the track is {len(data)} bytes, more than a bed can be")
            call.billed(PRICE_MICROS)
            log.info("musicgen track ready", video_id=video_id, prediction=prediction.id, bytes=len(data))
            return data
