"""One small interface, "the clip for this chunk", and the choice of who animates it.

The studio animator runs in-process for free and renders every chunk from the beat's storyboard
image; the other registry models are Replicate image-to-video models, start from the init frame
and need a token. Either way the clip is written losslessly at the plan's
frame rate and the output size, with at least the frames the chunk uses, and the hand-off frame is
returned, so what refine receives does not depend on the provider.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from adgen_chunks.animator import animate
from adgen_chunks.clip_io import write_clip
from adgen_chunks.model_registry import VideoModel
from adgen_kernel.errors import FailedPrecondition
from adgen_providers.prediction_record import PredictionRecord


@dataclass(frozen=True)
class ClipRequest:
    unit: str  # "<video>:chunk:<i>": the ledger's key and the tag a paid prediction carries
    model: VideoModel
    init: np.ndarray  # RGB uint8 at the output size: the storyboard image or the previous hand-off frame
    prompt: str
    camera_movement: str
    fps: int
    clip_frames: int  # what a whole clip holds at `fps`
    used_frames: int  # what the timeline takes from it
    handoff_frame: int  # -1 for the last chunk of a beat
    beat_frames: int
    beat_offset_frames: int
    seed: int
    record: PredictionRecord
    # The beat's storyboard image (RGB uint8, output size), which the studio renders every chunk from
    # (animator.py: why); None for other providers, which start from `init`.
    storyboard: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.init.shape[1], self.init.shape[0]


@dataclass(frozen=True)
class RenderedClip:
    handoff: np.ndarray | None
    provider: str
    model: str  # as the cost ledger records it
    usd_micros: int


class ClipProvider(Protocol):
    async def clip_for(self, request: ClipRequest, path: Path) -> RenderedClip: ...

    async def aclose(self) -> None: ...


class StudioClips:
    """The built-in animator: every chunk rendered from the beat's storyboard image at absolute beat time.

    The init frame is not used (a chunk's frames do not depend on the chunk before it), but the
    hand-off frame is still returned, so the chunk graph is the same as for any other provider.
    Only the frames the timeline uses are rendered: the model is seamless (model_registry), so a
    beat's chunks share just the hand-off frame and no frame is drawn for a cross-fade."""

    async def clip_for(self, request: ClipRequest, path: Path) -> RenderedClip:
        return await asyncio.to_thread(self._render, request, path)

    @staticmethod
    def _render(request: ClipRequest, path: Path) -> RenderedClip:
        storyboard = request.storyboard
        if storyboard is None:
            raise FailedPrecondition(f"{request.unit}: the studio renders from the beat's storyboard image, none given")
        handoff: list[np.ndarray] = []

        def frames() -> Iterator[np.ndarray]:
            for i, frame in enumerate(
                animate(
                    storyboard,
                    camera_movement=request.camera_movement,
                    fps=request.fps,
                    frame_count=request.used_frames,
                    beat_frames=request.beat_frames,
                    beat_offset_frames=request.beat_offset_frames,
                    seed=request.seed,
                )
            ):
                if i == request.handoff_frame:
                    handoff.append(frame)
                yield frame

        write_clip(frames(), request.fps, path)
        return RenderedClip(handoff[0] if handoff else None, "studio", request.model.key, 0)

    async def aclose(self) -> None:
        return None


@dataclass(frozen=True)
class ClipProviders:
    """Who animates which model: the studio always, Replicate only when configured."""

    studio: ClipProvider
    replicate: ClipProvider | None = None

    def for_model(self, model: VideoModel) -> ClipProvider:
        if model.is_local:
            return self.studio
        if self.replicate is None:
            raise FailedPrecondition(
                f"video model {model.key!r} has no provider configured in this deployment"
                " (set ADGEN_REPLICATE_API_TOKEN to render with Replicate)"
            )
        if not model.image_input:
            raise FailedPrecondition(
                f"video model {model.key!r} cannot start from an init frame, so its chunks cannot continue the"
                " storyboard; choose an image-to-video model"
            )
        return self.replicate

    async def aclose(self) -> None:
        await self.studio.aclose()
        if self.replicate is not None:
            await self.replicate.aclose()
