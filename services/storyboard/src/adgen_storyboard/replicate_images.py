"""Storyboard images from Replicate through the official SDK: flux-dev, or flux-dev-controlnet on the
product's Canny edges when the beat shows a product.

Each request is retried on throttling, server and network errors (backoff with jitter, Retry-After
honoured); at most `concurrency` predictions run at once; a prediction not finished within the
timeout is canceled. When the ControlNet model fails, the beat is drawn by plain flux-dev and the
reason travels with the image, so the ledger and the log say what happened.

A prediction is paid for the moment it is created, so a frame is never paid for twice: every create
carries a tag (the frame's unit and the model, as an extra input the models ignore), written to the
frame's row before the create is sent, and the prediction id right after it answers. A worker that
draws the frame again polls the recorded prediction, or, when the create's answer was lost, finds it
by its tag among the recent predictions before posting anything again.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import replicate
from replicate.helpers import FileOutput
from replicate.prediction import Prediction

from adgen_kernel import replicate_predictions
from adgen_kernel.logs import get_logger
from adgen_kernel.prediction_record import PredictionRecord
from adgen_kernel.provider_calls import ProviderCall, ProviderCalls, RateLimited, RetryPolicy, is_refusal
from adgen_kernel.replicate_predictions import PredictionRefused, ProviderUnavailable, ReplicatePredictions, first_url
from adgen_kernel.replicate_tags import TERMINAL, UNSUCCESSFUL
from adgen_storyboard.control_image import cover, place_edges, png_data_uri
from adgen_storyboard.image_bounds import UnusableImage, read_bounded
from adgen_storyboard.providers import BeatImage, BeatImageRequest
from adgen_storyboard.settings import StoryboardSettings
from adgen_storyboard.studio import encode_png

log = get_logger(__name__)

FLUX_DEV = "black-forest-labs/flux-dev"
FLUX_CONTROLNET = "xlabs-ai/flux-dev-controlnet"
FALLBACK_MODEL = f"{FLUX_DEV} (controlnet fallback)"
PRICE_MICROS = {FLUX_DEV: 25_000, FLUX_CONTROLNET: 58_000}  # per image
CONTROL_STRENGTH = 0.5
CONTROL_STEPS = 45
CONTROL_GUIDANCE = 5.0
FLUX_ASPECTS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")

# Any failure of one model's prediction: a product beat then falls back to plain flux-dev.
ReplicateFailure = (ProviderUnavailable, PredictionRefused)


@dataclass(frozen=True)
class ReplicateConfig:
    api_token: str
    base_url: str | None = None
    concurrency: int = 4
    timeout_s: float = 180.0
    request_timeout_s: float = 30.0
    max_attempts: int = 4
    backoff_s: float = 1.0
    poll_interval_s: float = 0.5
    longest_wait_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: StoryboardSettings) -> ReplicateConfig:
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
        )


def flux_aspect(width: int, height: int) -> str:
    """The aspect ratio flux-dev offers that is nearest the output's (the image is cropped after)."""
    target = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = ratio.split(":")
        return abs(math.log(int(w) / int(h)) - target)

    return min(FLUX_ASPECTS, key=distance)


def flux_input(request: BeatImageRequest) -> dict[str, Any]:
    frame = request.frame
    return {
        "prompt": request.prompt,
        "aspect_ratio": flux_aspect(frame.width, frame.height),
        "num_outputs": 1,
        "output_format": "png",
        "seed": frame.seed,
    }


def controlnet_input(request: BeatImageRequest) -> dict[str, Any]:
    assert request.product is not None and request.product.edges is not None
    frame = request.frame
    return {
        "prompt": request.prompt,
        "control_type": "canny",
        "control_image": png_data_uri(place_edges(request.product.edges, frame.width, frame.height)),
        "control_strength": CONTROL_STRENGTH,
        "steps": CONTROL_STEPS,
        "guidance_scale": CONTROL_GUIDANCE,
        "output_format": "png",
        "return_preprocessed_image": False,
        "seed": frame.seed,
    }


def unit_tag(request: BeatImageRequest, model: str) -> str | None:
    """The tag a create for this frame and model carries, the same on every attempt (a product beat
    may try two models); none outside the pipeline, where nothing is resumed."""
    return f"{request.unit}:{model}" if request.unit else None


class ReplicateImages:
    name = "replicate"
    wants_edges = True

    def __init__(self, config: ReplicateConfig) -> None:
        self._config = config
        sdk = replicate_predictions.client(config.api_token, config.base_url, config.request_timeout_s)
        sdk.poll_interval = config.poll_interval_s
        self._predictions = ReplicatePredictions(
            sdk, request_timeout_s=config.request_timeout_s, max_attempts=config.max_attempts
        )
        policy = RetryPolicy(config.max_attempts, config.backoff_s, config.longest_wait_s)
        self._calls = ProviderCalls("replicate", policy, concurrency=config.concurrency, per_model=False)

    def price_micros(self, request: BeatImageRequest) -> int:
        # A product beat tries controlnet first; its flux-dev fallback costs less.
        return PRICE_MICROS[FLUX_CONTROLNET if request.product is not None else FLUX_DEV]

    async def image_for(self, request: BeatImageRequest) -> BeatImage:
        frame = request.frame
        if request.product is None:
            return self._beat_image(await self._generate(FLUX_DEV, flux_input(request), request), request, FLUX_DEV)
        recorded = await request.record.load()
        if recorded.tag is not None and recorded.tag == unit_tag(request, FLUX_DEV):
            # The worker had already fallen back when it stopped: its flux-dev prediction is paid for.
            note = (
                f"beat {frame.beat_index}: {FLUX_CONTROLNET} failed on an earlier attempt; "
                f"drawn by {FLUX_DEV} without the product's edges"
            )
            log.warning("resuming the flux-dev fallback", beat_index=frame.beat_index, unit=request.unit)
        else:
            try:
                picture = await self._generate(FLUX_CONTROLNET, controlnet_input(request), request)
                return self._beat_image(picture, request, FLUX_CONTROLNET)
            except ReplicateFailure as error:
                note = (
                    f"beat {frame.beat_index}: {FLUX_CONTROLNET} failed ({error.message}); "
                    f"drawn by {FLUX_DEV} without the product's edges"
                )
                log.warning("controlnet failed, using flux-dev", beat_index=frame.beat_index, reason=error.message)
        picture = await self._generate(FLUX_DEV, flux_input(request), request)
        return self._beat_image(picture, request, FLUX_DEV, model=FALLBACK_MODEL, notes=(note,))

    async def aclose(self) -> None:
        await self._predictions.aclose()

    def _beat_image(
        self,
        pixels: np.ndarray,
        request: BeatImageRequest,
        priced: str,
        *,
        model: str = "",
        notes: tuple[str, ...] = (),
    ) -> BeatImage:
        frame = request.frame
        png = encode_png(cover(pixels, frame.width, frame.height))
        return BeatImage(png, "replicate", model or priced, PRICE_MICROS[priced], notes)

    async def _generate(self, model: str, inputs: dict[str, Any], request: BeatImageRequest) -> np.ndarray:
        """One prediction, start (or resumption) to a usable image, holding one of the provider's slots
        throughout."""
        async with self._calls.call(model) as call:
            prediction: Prediction | None = None
            try:
                async with asyncio.timeout(self._config.timeout_s):
                    prediction = await self._prediction(call, model, inputs, request)
                    while prediction.status not in TERMINAL:
                        await asyncio.sleep(self._config.poll_interval_s)
                        prediction = await self._predictions.get(call, prediction.id)
                    url = await self._output_url(model, prediction, request.record)
                    sdk = self._predictions.sdk
                    picture = await self._predictions.request(call, "output", lambda: FileOutput(url, sdk).aread())
            except TimeoutError:
                if prediction is not None and prediction.status not in TERMINAL and await self._cancel(prediction):
                    await request.record.forget()  # canceled: the next attempt creates a new one
                raise ProviderUnavailable(
                    f"{model}: no result within {self._config.timeout_s:g} s"
                    + (f"; prediction {prediction.id} canceled" if prediction is not None else "")
                ) from None
            try:
                pixels = read_bounded(picture)
            except UnusableImage as error:
                raise PredictionRefused(f"{model}: the returned image is unusable: {error}") from None
            call.billed(PRICE_MICROS[model])
            return pixels

    async def _prediction(
        self, call: ProviderCall, model: str, inputs: dict[str, Any], request: BeatImageRequest
    ) -> Prediction:
        """The prediction drawing this frame with `model`: the recorded one, a lost create found by its
        tag, or a new one."""
        tag = unit_tag(request, model)
        recorded = await request.record.load() if tag is not None else None
        if recorded is not None and recorded.tag == tag:
            if recorded.prediction_id:
                prediction = await self._predictions.get(call, recorded.prediction_id)
                if prediction.status not in UNSUCCESSFUL:
                    log.info("resuming a paid prediction", unit=request.unit, prediction=prediction.id)
                    return prediction
                await request.record.forget()
            else:
                found = await self._predictions.find(call, tag)
                if found is not None:
                    log.info("a lost create was found by its tag", unit=request.unit, prediction=found.id)
                    await request.record.created(found.id)
                    return found
        return await self._predictions.create(call, model, inputs, tag or uuid.uuid4().hex, request.record)

    @staticmethod
    async def _output_url(model: str, prediction: Prediction, record: PredictionRecord) -> str:
        if prediction.status in UNSUCCESSFUL:
            await record.forget()  # the next attempt creates a new prediction
        if prediction.status == "failed":
            reason = str(prediction.error or "no reason given")
            message = f"{model}: prediction {prediction.id} failed: {reason}"
            # A refused input stays refused; a crash (out of memory, a lost worker) may not happen again.
            raise PredictionRefused(message) if is_refusal(reason) else ProviderUnavailable(message)
        if prediction.status == "canceled":
            raise PredictionRefused(f"{model}: prediction {prediction.id} was canceled")
        url = first_url(prediction.output)
        if url is None:
            raise PredictionRefused(f"{model}: prediction {prediction.id} succeeded without an image URL")
        return url

    async def _cancel(self, prediction: Prediction) -> bool:
        try:
            await asyncio.wait_for(self._predictions.sdk.predictions.async_cancel(prediction.id), timeout=10)
        except (replicate.exceptions.ReplicateError, httpx.HTTPError, RateLimited, TimeoutError) as error:
            log.warning("could not cancel a timed-out prediction", prediction=prediction.id, error=str(error))
            return False
        return True
