"""The music bed from Replicate's MusicGen, when ``ADGEN_MUSIC_PROVIDER=replicate``.

Decisions made here:

* **One pinned model version** (``meta/musicgen``, stereo-large; ``ADGEN_MUSICGEN_VERSION``): a bed
  must not change its sound because the model's owner pushed a new version.
* **The prompt is the plan's**: the archetype's genre and instruments, the mood, the tempo the
  synthesised bed would use, and the energy arc of the beats, always instrumental. The track is
  asked for at the video's whole duration (in seconds, rounded up) with the plan's seed.
* **Never paid twice.** The prediction id is written next to the chunks as soon as the create
  answers, and the downloaded track as soon as it arrives: a redelivered refine polls the
  prediction it already paid for, or reuses the track, instead of creating another. The ledger row
  ($0.15 a track) carries the key ``{video}:music``, so it is written once whatever happens.
* **The downloaded file is only trusted once decoded** (PyAV, any container and codec it reads),
  then fitted to the exact duration with fades and normalised like every bed
  (``music.fit_with_fades``, ``music.normalise_loudness``).
* Every failure (a failed or canceled prediction, throttling or 5xx past the retries, the time
  limit, an undecodable or silent file) raises ``MusicGenFailed``; refine then plays the
  synthesised bed and says why. Requests are retried through the kernel's ``provider_calls``
  (Retry-After honoured, a span per attempt, provider metrics).
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import av
import httpx
import numpy as np
import replicate
from replicate.helpers import FileOutput
from replicate.prediction import Prediction

from adgen.common.v1 import common_pb2
from adgen_kernel import keys
from adgen_kernel.logs import get_logger
from adgen_kernel.provider_calls import (
    ProviderCall,
    ProviderCalls,
    RateLimited,
    RetryPolicy,
    http_status,
    raise_when_throttled,
)
from adgen_kernel.replicate_tags import TERMINAL
from adgen_kernel.serve import Connections
from adgen_kernel.video_state import record_cost, reserve_budget
from adgen_refine.music import ENERGY_TEMPO, archetype_bpm, fit_with_fades, normalise_loudness
from adgen_refine.settings import RefineSettings

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

T = TypeVar("T")


class MusicGenFailed(Exception):
    """No usable track came from MusicGen; the message says why, for the video's warning."""


@dataclass(frozen=True)
class MusicGenConfig:
    api_token: str
    version: str
    base_url: str | None = None
    timeout_s: float = 300.0
    max_attempts: int = 4
    backoff_s: float = 1.0
    poll_interval_s: float = 1.0
    longest_wait_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: RefineSettings) -> MusicGenConfig:
        assert settings.replicate_api_token is not None
        return cls(
            api_token=settings.replicate_api_token.get_secret_value(),
            version=settings.musicgen_version,
            base_url=settings.replicate_base_url,
            timeout_s=settings.replicate_timeout_s,
            max_attempts=settings.replicate_max_attempts,
            backoff_s=settings.replicate_backoff_s,
            poll_interval_s=settings.replicate_poll_interval_s,
        )


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
        with av.open(io.BytesIO(data)) as container:
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
        self._config = config
        self._sample_rate = sample_rate
        # The SDK does not retry a throttled POST and drops the headers; the hook keeps Retry-After.
        self._client = replicate.Client(
            api_token=config.api_token, base_url=config.base_url, event_hooks={"response": [raise_when_throttled]}
        )
        self._client.poll_interval = config.poll_interval_s
        policy = RetryPolicy(config.max_attempts, config.backoff_s, config.longest_wait_s)
        self._calls = ProviderCalls("replicate", policy, concurrency=2)

    async def aclose(self) -> None:
        await self._client._async_client.aclose()  # the SDK offers no public close

    async def track(self, video_id: str, user_id: str, spec: common_pb2.Spec) -> np.ndarray:
        """The video's bed: stereo float32 at the refine sample rate, exactly the video's length,
        at -14 LUFS and under -1 dBTP. Raises ``MusicGenFailed``."""
        store = self._c.store
        stored = keys.music_key(user_id, video_id)
        if await store.exists(stored):
            data = await store.get_bytes(stored)
        else:
            # Over the video's budget cap this raises, and refine plays the free synthesised bed.
            await reserve_budget(self._c.db, video_id, f"{video_id}:music", PRICE_MICROS)
            data = await self._generate(video_id, user_id, spec)
            await store.put_bytes(stored, data, "application/octet-stream")
        await record_cost(
            self._c.db,
            self._c.js,
            idempotency_key=f"{video_id}:music",
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

    async def _generate(self, video_id: str, user_id: str, spec: common_pb2.Spec) -> bytes:
        """One prediction, from create (or the one a previous attempt created) to the file's bytes."""
        store = self._c.store
        pending = keys.music_prediction_key(user_id, video_id)
        async with self._calls.call(MUSICGEN, "generate") as call:
            prediction: Prediction | None = None
            try:
                async with asyncio.timeout(self._config.timeout_s):
                    if await store.exists(pending):
                        known = (await store.get_bytes(pending)).decode()
                        prediction = await self._request(
                            call, "poll", lambda: self._client.predictions.async_get(known)
                        )
                    else:
                        inputs = musicgen_input(spec)
                        prediction = await self._request(
                            call,
                            "create",
                            lambda: self._client.predictions.async_create(version=self._config.version, input=inputs),
                        )
                        await store.put_bytes(pending, prediction.id.encode(), "text/plain")
                    while prediction.status not in TERMINAL:
                        await asyncio.sleep(self._config.poll_interval_s)
                        prediction = await self._request(
                            call, "poll", lambda pid=prediction.id: self._client.predictions.async_get(pid)
                        )
                    url = _output_url(prediction)
                    data = await self._request(call, "output", lambda: FileOutput(url, self._client).aread())
            except TimeoutError:
                if prediction is not None and prediction.status not in TERMINAL:
                    await self._cancel(prediction)
                raise MusicGenFailed(f"no track within {self._config.timeout_s:g} s") from None
            if len(data) > _MAX_DOWNLOAD_BYTES:
                raise MusicGenFailed(f"the track is {len(data)} bytes, more than a bed can be")
            call.billed(PRICE_MICROS)
            log.info("musicgen track ready", video_id=video_id, prediction=prediction.id, bytes=len(data))
            return data

    async def _cancel(self, prediction: Prediction) -> None:
        try:
            await asyncio.wait_for(self._client.predictions.async_cancel(prediction.id), timeout=10)
        except (replicate.exceptions.ReplicateError, httpx.HTTPError, RateLimited, TimeoutError) as error:
            log.warning("could not cancel a timed-out prediction", prediction=prediction.id, error=str(error))

    async def _request(self, call: ProviderCall, name: str, send: Callable[[], Awaitable[T]]) -> T:
        """``send()`` under the retry policy; what it finally fails with, said as ``MusicGenFailed``."""
        try:
            return await call.request(name, send)
        except (replicate.exceptions.ReplicateError, httpx.HTTPError, RateLimited) as error:
            status = http_status(error)
            if isinstance(error, replicate.exceptions.ReplicateError):
                said = f"HTTP {status} {error.title or ''}: {error.detail or ''}"
            else:
                said = f"HTTP {status}" if status is not None else (str(error) or type(error).__name__)
            raise MusicGenFailed(f"{name}: {said} (after up to {self._config.max_attempts} attempts)") from error


def _output_url(prediction: Prediction) -> str:
    if prediction.status == "failed":
        raise MusicGenFailed(f"prediction {prediction.id} failed: {prediction.error or 'no reason given'}")
    if prediction.status == "canceled":
        raise MusicGenFailed(f"prediction {prediction.id} was canceled")
    output = prediction.output
    url = output if isinstance(output, str) else output[0] if isinstance(output, list) and output else None
    if not isinstance(url, str):
        raise MusicGenFailed(f"prediction {prediction.id} succeeded without an audio URL")
    return url
