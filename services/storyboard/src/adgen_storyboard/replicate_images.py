"""Storyboard images from Replicate: flux-dev, or flux-dev-controlnet on the product's Canny edges
when the beat shows a product.

Decided here: what each model is asked; at most `concurrency` predictions at once across both
models; a prediction not finished within the timeout is canceled; and when the ControlNet model
fails, the beat is drawn by plain flux-dev and the reason travels with the image, so the ledger and
the log say what happened.

A frame is never paid for twice: every create carries a tag (the frame's unit and the model, as an
extra input the models ignore), kept in the frame's row, by which the providers'
`replicate_predictions` resumes the prediction, finds a create whose answer was lost, or creates
one. A worker that had already fallen back to flux-dev when it stopped finishes that fallback.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from adgen_kernel.logs import get_logger
from adgen_providers.replicate_predictions import (
    PredictionOrder,
    PredictionRefused,
    ProviderUnavailable,
    ReplicateConfig,
    ReplicatePredictions,
)
from adgen_storyboard.control_image import cover, place_edges, png_data_uri
from adgen_storyboard.image_bounds import UnusableImage, read_bounded
from adgen_storyboard.providers import BeatImage, BeatImageRequest
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


@dataclass(frozen=True, kw_only=True)
class ReplicateImagesConfig(ReplicateConfig):
    """An image takes seconds: a short deadline, and quick polls."""

    timeout_s: float = 180.0
    poll_interval_s: float = 0.5


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
        self._replicate = ReplicatePredictions(config, per_model=False)

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
        await self._replicate.aclose()

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
        replicate = self._replicate
        # Outside the pipeline nothing is resumed: a fresh tag still lets a lost create be found.
        order = PredictionOrder(model, inputs, unit_tag(request, model) or uuid.uuid4().hex, request.record)
        async with replicate.call(model) as call:
            prediction = await replicate.finished(call, order)
            picture = await replicate.output(call, order, prediction, "an image URL")
            try:
                pixels = read_bounded(picture)
            except UnusableImage as error:
                raise PredictionRefused(f"{model}: the returned image is unusable: {error}") from None
            call.billed(PRICE_MICROS[model])
            return pixels
