"""Deciding what an uploaded file is and what we keep of it: sniffed from its bytes, bounded before
decoding, orientation applied, metadata stripped, a thumbnail and a Canny edge map made."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

from adgen_kernel.errors import InvalidArgument
from adgen_video.asset_limits import MAX_BYTES, MAX_PIXELS, NAME_MAX_CHARS

THUMBNAIL = (400, 400)
CANNY_LOW, CANNY_HIGH = 100, 200
TOO_LARGE = f"file: larger than {MAX_BYTES // (1024 * 1024)} MB"
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@dataclass(frozen=True)
class Intake:
    content_type: str
    extension: str
    width: int
    height: int
    original: bytes  # re-encoded without metadata
    thumbnail_jpeg: bytes
    edges_png: bytes


def safe_stem(filename: str) -> str:
    """A key-safe stem of the user's filename: no path, no control or odd characters, never empty."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_.")[:80]
    return stem or "asset"


def display_name(name: str) -> str:
    """The name a person sees: trimmed, one line, bounded; it never reaches a key."""
    clean = " ".join(name.split())
    if not clean:
        raise InvalidArgument("name: must not be empty")
    if any(unicodedata.category(c) == "Cc" for c in clean):
        raise InvalidArgument("name: must not contain control characters")
    if len(clean) > NAME_MAX_CHARS:
        raise InvalidArgument(f"name: at most {NAME_MAX_CHARS} characters")
    return clean


def take_in(data: bytes) -> Intake:
    if not data:
        raise InvalidArgument("file: the upload is empty")
    if len(data) > MAX_BYTES:
        raise InvalidArgument(TOO_LARGE)
    try:
        # Opening reads the header only: the size is known before a single pixel is decoded.
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            width, height = probe.size
    except Image.DecompressionBombError:
        raise InvalidArgument(f"file: more than {MAX_PIXELS // 1_000_000} megapixels") from None
    except Exception:
        raise InvalidArgument("file: not a PNG, JPEG or WebP image") from None
    if kind not in FORMATS:
        raise InvalidArgument(f"file: {kind or 'unknown'} images are not accepted; use PNG, JPEG or WebP")
    if width * height > MAX_PIXELS:
        raise InvalidArgument(f"file: {width}x{height} is more than {MAX_PIXELS // 1_000_000} megapixels")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
            mode = "RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB"
            clean = image.convert(mode)
    except Exception:
        raise InvalidArgument("file: the image is truncated or corrupt") from None
    out = io.BytesIO()
    save_format = "PNG" if kind == "PNG" else kind
    clean.save(out, format=save_format)  # a fresh encode carries no EXIF/ICC/text metadata
    thumb = clean.convert("RGB")
    thumb.thumbnail(THUMBNAIL)
    thumb_bytes = io.BytesIO()
    thumb.save(thumb_bytes, format="JPEG", quality=85)
    gray = cv2.cvtColor(np.asarray(clean.convert("RGB")), cv2.COLOR_RGB2GRAY)
    ok, edges = cv2.imencode(".png", cv2.Canny(gray, CANNY_LOW, CANNY_HIGH))
    if not ok:
        raise InvalidArgument("file: could not compute edges")
    return Intake(
        content_type=FORMATS[kind],
        extension={"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}[kind],
        width=clean.width,
        height=clean.height,
        original=out.getvalue(),
        thumbnail_jpeg=thumb_bytes.getvalue(),
        edges_png=edges.tobytes(),
    )
