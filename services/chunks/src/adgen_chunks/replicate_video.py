"""Chunks from Replicate image-to-video models, paid for at most once.

Decided here: what a model is asked (the init frame as a lossless PNG, the prompt, the model's own
clip length); the tag its prediction carries, the chunk's unit key, kept in the chunk's row, by which
`adgen_providers.replicate_predictions` resumes the prediction, finds a create whose answer was lost, or
creates one; a deadline Replicate enforces itself (`Cancel-After`: a clip past it is not canceled
here, it is paid for and a later attempt polls it again); at most `concurrency` predictions per model
at once; and that a clip is used only once it is conformed to the plan's frame rate and size with
the frames the chunk needs.
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

from adgen_chunks.clip_conform import conform_clip
from adgen_chunks.providers import ClipRequest, RenderedClip
from adgen_providers.replicate_predictions import (
    PredictionOrder,
    PredictionRefused,
    ReplicateConfig,
    ReplicatePredictions,
)


@dataclass(frozen=True, kw_only=True)
class ReplicateVideoConfig(ReplicateConfig):
    """A clip may take minutes: a long deadline, and polls that slow down."""

    timeout_s: float = 600.0
    poll_interval_s: float = 2.0
    longest_poll_s: float | None = 15.0


def png_data_uri(image: np.ndarray) -> str:
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("could not encode the init frame")
    return "data:image/png;base64," + base64.b64encode(data.tobytes()).decode()


def prediction_input(request: ClipRequest) -> dict[str, Any]:
    model = request.model
    return {model.image_input: png_data_uri(request.init), "prompt": request.prompt, "duration": round(model.clip_s)}


class ReplicateVideo:
    def __init__(self, config: ReplicateConfig) -> None:
        self._replicate = ReplicatePredictions(config, provider_deadline=True)

    async def aclose(self) -> None:
        await self._replicate.aclose()

    async def clip_for(self, request: ClipRequest, path: Path) -> RenderedClip:
        model = request.model
        name = model.replicate_model
        replicate = self._replicate
        order = PredictionOrder(name, prediction_input(request), request.unit, request.record)
        async with replicate.call(name) as call:
            prediction = await replicate.finished(call, order)
            video = await replicate.output(call, order, prediction, "a video URL")
            # The clip's ledger amount, on the call that delivered it (the conform below runs outside the slot).
            call.billed(model.price_per_clip_micros)
        handoff = await asyncio.to_thread(self._conform, request, prediction.id, video, path)
        return RenderedClip(handoff, "replicate", name, model.price_per_clip_micros)

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
