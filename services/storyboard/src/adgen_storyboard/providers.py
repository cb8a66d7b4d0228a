"""One small interface, "the image for this beat", and the choice of who draws it.

The studio renderer draws locally and is the default; with a Replicate token the images come from
flux models. Either way the frame comes back as PNG bytes at the output size, with what it cost and
any note worth keeping (a fallback and its reason).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from adgen_providers.prediction_record import NoRecord, PredictionRecord
from adgen_storyboard.studio import FrameRequest, draw, encode_png


@dataclass(frozen=True)
class ProductReference:
    """The product a beat shows: its pixels (bounded) and its Canny edge map (uint8, 0/255)."""

    asset_id: str
    image: np.ndarray
    edges: np.ndarray | None  # loaded only for providers that want them


@dataclass(frozen=True)
class BeatImageRequest:
    frame: FrameRequest  # size, beat, style, text and the product pixels, as the studio draws them
    prompt: str
    product: ProductReference | None = None
    # The frame as a unit of paid work ("{video_id}:frame:{beat}") and where it remembers the
    # prediction drawing it, so that a restarted worker resumes it; none outside the pipeline.
    unit: str = ""
    record: PredictionRecord = field(default_factory=NoRecord)


@dataclass(frozen=True)
class BeatImage:
    png: bytes  # exactly frame.width × frame.height
    provider: str
    model: str  # as the cost ledger records it
    usd_micros: int
    notes: tuple[str, ...] = field(default=())


class ImageProvider(Protocol):
    name: str
    wants_edges: bool  # whether the product's edge map should be loaded for it

    def price_micros(self, request: BeatImageRequest) -> int:
        """The most `image_for` can charge for this request: what the video's budget reserves."""
        ...

    async def image_for(self, request: BeatImageRequest) -> BeatImage:
        """The beat's image; a paid provider resumes the prediction `request.record` holds."""
        ...

    async def aclose(self) -> None: ...


class StudioImages:
    """The built-in renderer: free, deterministic; it features the product in every beat it is given
    (cut out or framed, see studio.py) and composites the beat's text."""

    name = "studio"
    wants_edges = False

    def __init__(self, fonts: Path | None = None) -> None:
        self._fonts = fonts  # a folder to find the wordmark's face in first (settings.font_dir)

    def price_micros(self, request: BeatImageRequest) -> int:
        return 0

    async def image_for(self, request: BeatImageRequest) -> BeatImage:
        def render() -> tuple[bytes, tuple[str, ...]]:
            drawing = draw(request.frame, self._fonts)
            return encode_png(drawing.image), drawing.notes

        png, notes = await asyncio.to_thread(render)
        # the notes say how the product was shown (cut out, framed) or why it was not
        return BeatImage(png=png, provider="studio", model="studio-renderer", usd_micros=0, notes=notes)

    async def aclose(self) -> None:
        return None
