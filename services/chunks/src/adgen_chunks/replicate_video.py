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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import av
import cv2
import httpx
import numpy as np
import replicate
from replicate.helpers import FileOutput
from replicate.prediction import Prediction

from adgen_chunks.clip_conform import conform_clip
from adgen_chunks.providers import ClipRequest, RenderedClip
from adgen_chunks.settings import ChunksSettings
from adgen_kernel.errors import FailedPrecondition, Unavailable
from adgen_kernel.logs import get_logger
from adgen_kernel.provider_calls import (
    ProviderCall,
    ProviderCalls,
    RetryPolicy,
    http_status,
    is_refusal,
    is_transient,
    may_have_landed,
    raise_when_throttled,
)
from adgen_kernel.replicate_tags import TAG_INPUT, TERMINAL, UNSUCCESSFUL, find_by_tag

log = get_logger(__name__)


T = TypeVar("T")


class ProviderUnavailable(Unavailable):
    """Replicate stayed throttled, erroring or unreachable past the retries, or the prediction failed
    in a way another prediction may not (a crash, a cancel at the deadline)."""


class PredictionRefused(FailedPrecondition):
    """Replicate answered, and the answer will stay no: a refused request or a refused input."""


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


def prediction_input(request: ClipRequest, tag: str) -> dict[str, Any]:
    model = request.model
    return {
        model.image_input: png_data_uri(request.init),
        "prompt": request.prompt,
        "duration": round(model.clip_s),
        TAG_INPUT: tag,
    }


def _first_url(output: Any) -> str | None:
    if isinstance(output, str):
        return output
    if isinstance(output, list) and output and isinstance(output[0], str):
        return output[0]
    return None


def _as_provider_error(what: str, error: BaseException, attempts: int) -> BaseException:
    status = http_status(error)
    if isinstance(error, replicate.exceptions.ReplicateError):
        said = f"HTTP {status} {error.title or ''}: {error.detail or ''}".replace(" :", ":")
    elif status is not None:
        said = f"HTTP {status}"
    else:
        said = str(error) or type(error).__name__
    if is_transient(error):
        return ProviderUnavailable(f"{what}: {said} (gave up after {attempts} attempts)")
    if status is not None:
        return PredictionRefused(f"{what}: Replicate refused the request: {said}")
    return error


class ReplicateVideo:
    def __init__(self, config: ReplicateVideoConfig) -> None:
        self._config = config
        cancel_after = f"{max(5, round(config.timeout_s))}s"

        async def deadline_on_create(request: httpx.Request) -> None:
            if request.method == "POST" and request.url.path.endswith("/predictions"):
                request.headers["Cancel-After"] = cancel_after

        # The SDK does not retry a throttled POST and drops the headers; the response hook keeps Retry-After.
        self._client = replicate.Client(
            api_token=config.api_token,
            base_url=config.base_url,
            timeout=httpx.Timeout(config.request_timeout_s),
            event_hooks={"request": [deadline_on_create], "response": [raise_when_throttled]},
        )
        policy = RetryPolicy(config.max_attempts, config.backoff_s, config.longest_wait_s)
        self._calls = ProviderCalls("replicate", policy, concurrency=config.concurrency)

    async def aclose(self) -> None:
        await self._client._async_client.aclose()  # the SDK offers no public close

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
            video = await self._request(call, "output", lambda: FileOutput(url, self._client).aread())
            # The clip's ledger amount, on the call that delivered it (the conform below runs outside the slot).
            call.billed(model.price_per_clip_micros)
        handoff = await asyncio.to_thread(self._conform, request, prediction.id, video, path)
        return RenderedClip(handoff, "replicate", name, model.price_per_clip_micros)

    # ------------------------------------------------------------------------------ the prediction

    async def _prediction(self, call: ProviderCall, request: ClipRequest) -> Prediction:
        """The prediction rendering this chunk: the recorded one, a lost create found by its tag, or a new one."""
        recorded = await request.record.load()
        if recorded.prediction_id:
            prediction = await self._request(
                call, "poll", lambda: self._client.predictions.async_get(recorded.prediction_id)
            )
            if prediction.status not in UNSUCCESSFUL:
                log.info("resuming a paid prediction", unit=request.unit, prediction=prediction.id)
                return prediction
            await request.record.forget()
        elif recorded.tag:
            found = await self._find(call, recorded.tag)
            if found is not None:
                await request.record.created(found.id)
                return found
        return await self._create(call, request, request.unit)

    async def _create(self, call: ProviderCall, request: ClipRequest, tag: str) -> Prediction:
        name = request.model.replicate_model
        inputs = prediction_input(request, tag)
        await request.record.begin(tag)

        async def send() -> Prediction:
            # The SDK sends creates without a timeout; an answer that does not come counts as lost.
            return await asyncio.wait_for(
                self._client.models.predictions.async_create(model=name, input=inputs), self._config.request_timeout_s
            )

        async def look_for_it(error: BaseException) -> Prediction | None:
            if not may_have_landed(error):
                return None
            found = await self._find(call, tag)
            if found is not None:
                log.info("a lost create was found by its tag", unit=request.unit, prediction=found.id)
            return found

        prediction = await self._request(call, "create", send, recover=look_for_it)
        await request.record.created(prediction.id)
        return prediction

    async def _find(self, call: ProviderCall, tag: str) -> Prediction | None:
        """The newest live prediction carrying `tag`, among the recent ones."""

        def page(cursor: Any) -> Awaitable[Any]:
            return self._request(call, "list", lambda: self._client.predictions.async_list(cursor))

        return await find_by_tag(page, tag)

    async def _wait(self, call: ProviderCall, prediction: Prediction) -> Prediction:
        interval = self._config.poll_interval_s
        while prediction.status not in TERMINAL:
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, self._config.longest_poll_s)
            prediction = await self._request(
                call, "poll", lambda pid=prediction.id: self._client.predictions.async_get(pid)
            )
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
        url = _first_url(prediction.output)
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

    # ------------------------------------------------------------------------------ requests

    async def _request(
        self,
        call: ProviderCall,
        name: str,
        send: Callable[[], Awaitable[T]],
        recover: Callable[[BaseException], Awaitable[T | None]] | None = None,
    ) -> T:
        """`send()` under the retry policy (only for requests that are safe to repeat, or that `recover`
        finds the result of); what it finally fails with, said as a provider error."""
        try:
            return await call.request(name, send, recover=recover)
        except Exception as error:
            mapped = _as_provider_error(f"{call.model} {name}", error, self._config.max_attempts)
            if mapped is error:
                raise
            raise mapped from error
