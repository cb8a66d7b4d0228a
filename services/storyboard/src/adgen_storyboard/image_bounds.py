"""Whether stored image bytes may be decoded at all: the header is read first and anything over the
pixel budget, in an unknown format or unreadable is refused before a single pixel is decompressed.

Product images pass the assets service's intake, but the bytes in the bucket can still be replaced,
truncated or a decompression bomb; a provider's output is bounded the same way.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image

from adgen_storyboard.studio import decode_image
from adgen_video.asset_limits import MAX_PIXELS  # the intake refuses more: a larger stored image was not uploaded so

MAX_BYTES = 50 * 1024 * 1024
WORKING_EDGE = 2048  # what compositing and edge maps need at most; larger images are scaled down once
FORMATS = ("PNG", "JPEG", "WEBP")


class UnusableImage(ValueError):
    """The bytes are not an image this service will decode; the message says why."""


def read_bounded(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """RGB(A) pixels of a PNG, JPEG or WebP within the budget, scaled to at most WORKING_EDGE a side."""
    if not data:
        raise UnusableImage("the image is empty")
    if len(data) > MAX_BYTES:
        raise UnusableImage(f"the image is {len(data) // (1024 * 1024)} MB, more than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:  # reads the header only
                kind, (width, height) = probe.format or "", probe.size
    except Image.DecompressionBombError as error:  # Pillow's own, far higher limit: refused all the same
        raise UnusableImage(f"more than the {max_pixels:,} pixel limit ({error}); not decoded") from None
    except (OSError, SyntaxError, ValueError):
        raise UnusableImage("the bytes are not a readable PNG, JPEG or WebP image") from None
    if kind not in FORMATS:
        raise UnusableImage(f"{kind or 'unknown'} images are not used; PNG, JPEG or WebP only")
    if width * height > max_pixels:
        raise UnusableImage(f"{width}x{height} is more than the {max_pixels:,} pixel limit; not decoded")
    try:
        pixels = decode_image(data)
    except ValueError:
        raise UnusableImage("the image is truncated or corrupt") from None
    if pixels.shape[:2] != (height, width):
        raise UnusableImage("the image's pixels do not match its header; it is corrupt")
    scale = WORKING_EDGE / max(width, height)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    return pixels
