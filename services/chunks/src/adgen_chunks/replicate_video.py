"""Chunks from Replicate image-to-video models through the official SDK, paid for at most once.

A prediction costs money the moment it is created, and Replicate's API has no idempotency key. So
every create carries a tag (the chunk's unit key, as an extra input the models ignore), the tag is
stored in the chunk's row before the create is sent and the prediction id right after it answers,
before any waiting. A worker that starts the chunk again polls the recorded prediction; when a
create's answer was lost (a timeout, a dropped connection, a 5xx), recent predictions are listed
and the tag looked up before anything is posted again.

Requests are retried on throttling, server and network errors (backoff with jitter, Retry-After
honoured); at most `concurrency` predictions per model run at once; every create carries a
`Cancel-After` deadline so Replicate itself stops a prediction nobody waits for any more.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from replicate.helpers import FileOutput
from replicate.prediction import Prediction

from adgen_chunks.clip_conform import conform_clip
from adgen_chunks.providers import ClipRequest, RenderedClip
from adgen_chunks.settings import ChunksSettings
from adgen_kernel import replicate_predictions
from adgen_kernel.logs import get_logger
from adgen_kernel.provider_calls import ProviderCall, ProviderCalls, RetryPolicy, is_refusal
from adgen_kernel.replicate_predictions import PredictionRefused, ProviderUnavailable, ReplicatePredictions, first_url
from adgen_kernel.replicate_tags import TERMINAL, UNSUCCESSFUL

log = get_logger(__name__)


@dataclass(frozen=True)
class ReplicateVideoConfig:
    api_token: str
    base_url: str | None = None
    concurrency: int = 4
    timeout_s: float = 600.0
    request_timeout_s: float = 30.0
    max_attempts: int = 4
    backoff_s: float = 1.0
    poll_interval_s: float = 2.0
    longest_poll_s: float = 15.0
    longest_wait_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: ChunksSettings) -> ReplicateVideoConfig:
        assert settings.replicate_api_token is not None
        return cls(
            api_token=settings.replicate_api_token.get_secret_value(),
            base_url=settings.replicate_base_url,
            concurrency=settings.replicate_concurrency,
            timeout_s=settings.replicate_timeout_s,
            request_timeout_s=settings.replicate_request_timeout_s,
            max_attempts=settings.replicate_max_attempts,
            backoff_s=settings.replicate_backoff_s,
            poll_interval_s=settings.replicate_poll_interval_s,
            longest_poll_s=settings.replicate_longest_poll_s,
        )


def png_data_uri(image: np.ndarray) -> str:
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("could not encode the init frame")
    return "data:image/png;base64," + base64.b64encode(data.tobytes()).decode()


def prediction_input(request: ClipRequest) -> dict[str, Any]:
    model = request.model
    return {model.image_input: png_data_uri(request.init), "prompt": request.prompt, "duration": round(model.clip_s)}


class ReplicateVideo:
    def __init__(self, config: ReplicateVideoConfig) -> None:
        self._config = config
        sdk = replicate_predictions.client(
            config.api_token, config.base_url, config.request_timeout_s, cancel_after_s=config.timeout_s
        )
        self._predictions = ReplicatePredictions(
            sdk, request_timeout_s=config.request_timeout_s, max_attempts=config.max_attempts
        )
        policy = RetryPolicy(config.max_attempts, config.backoff_s, config.longest_wait_s)
        self._calls = ProviderCalls("replicate", policy, concurrency=config.concurrency)

    async def aclose(self) -> None:
        await self._predictions.aclose()

    async def clip_for(self, request: ClipRequest, path: Path) -> RenderedClip:
        model = request.model
        name = model.replicate_model
        async with self._calls.call(name) as call:
            prediction = await self._prediction(call, request)
            try:
                async with asyncio.timeout(self._config.timeout_s):
                    prediction = await self._wait(call, prediction)
            except TimeoutError:
                # Not canceled: it is paid for, a later attempt polls it again, and Cancel-After ends it.
                raise ProviderUnavailable(
                    f"{name}: prediction {prediction.id} not finished within {self._config.timeout_s:g} s"
                ) from None
            url = await self._output_url(request, prediction)
            sdk = self._predictions.sdk
            video = await self._predictions.request(call, "output", lambda: FileOutput(url, sdk).aread())
            # The clip's ledger amount, on the call that delivered it (the conform below runs outside the slot).
            call.billed(model.price_per_clip_micros)
        handoff = await asyncio.to_thread(self._conform, request, prediction.id, video, path)
        return RenderedClip(handoff, "replicate", name, model.price_per_clip_micros)

    # ------------------------------------------------------------------------------ the prediction

    async def _prediction(self, call: ProviderCall, request: ClipRequest) -> Prediction:
        """The prediction rendering this chunk: the recorded one, a lost create found by its tag, or a new one."""
        recorded = await request.record.load()
        if recorded.prediction_id:
            prediction = await self._predictions.get(call, recorded.prediction_id)
            if prediction.status not in UNSUCCESSFUL:
                log.info("resuming a paid prediction", unit=request.unit, prediction=prediction.id)
                return prediction
            await request.record.forget()
        elif recorded.tag:
            found = await self._predictions.find(call, recorded.tag)
            if found is not None:
                await request.record.created(found.id)
                return found
        return await self._predictions.create(
            call, request.model.replicate_model, prediction_input(request), request.unit, request.record
        )

    async def _wait(self, call: ProviderCall, prediction: Prediction) -> Prediction:
        interval = self._config.poll_interval_s
        while prediction.status not in TERMINAL:
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, self._config.longest_poll_s)
            prediction = await self._predictions.get(call, prediction.id)
        return prediction

    async def _output_url(self, request: ClipRequest, prediction: Prediction) -> str:
        name = request.model.replicate_model
        if prediction.status in UNSUCCESSFUL:
            await request.record.forget()  # the next attempt creates a new prediction
            if prediction.status == "canceled":
                raise ProviderUnavailable(f"{name}: prediction {prediction.id} was canceled (past its deadline)")
            reason = str(prediction.error or "no reason given")
            message = f"{name}: prediction {prediction.id} failed: {reason}"
            if is_refusal(reason):
                raise PredictionRefused(message)
            raise ProviderUnavailable(message)
        url = first_url(prediction.output)
        if url is None:
            raise PredictionRefused(f"{name}: prediction {prediction.id} succeeded without a video URL")
        return url

    def _conform(self, request: ClipRequest, prediction_id: str, video: bytes, path: Path) -> np.ndarray | None:
        name = request.model.replicate_model
        width, height = request.size
        with tempfile.TemporaryDirectory(prefix="adgen-replicate-") as folder:
            source = Path(folder) / "output.mp4"
            source.write_bytes(video)
            try:
                clip = conform_clip(
                    source,
                    path,
                    fps=request.fps,
                    width=width,
                    height=height,
                    max_frames=request.clip_frames,
                    handoff_frame=request.handoff_frame,
                )
            except (ValueError, av.error.FFmpegError) as error:
                raise PredictionRefused(
                    f"{name}: prediction {prediction_id} returned an unreadable video: {error}"
                ) from None
        needed = max(request.used_frames, request.handoff_frame + 1)
        if clip.frames < needed:
            raise PredictionRefused(
                f"{name}: prediction {prediction_id} returned {clip.source_frames} frames at {float(clip.source_fps):g}"
                f" fps, {clip.frames} at {request.fps} fps; the chunk needs {needed}"
            )
        return clip.handoff
