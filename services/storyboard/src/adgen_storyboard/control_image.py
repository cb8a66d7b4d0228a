"""What a ControlNet sees of the product, and how a model's picture becomes the storyboard frame.

The control image is the product's Canny edge map (OpenCV, thresholds 100/200, the same the assets
service caches beside each asset) placed where the product should stand in the frame: centred, a
little below the middle, about two thirds of the frame's height, on black (no edges elsewhere, so
the model is free to invent the set). Model outputs come back at the model's own size and are
scaled to cover the output frame and centre-cropped, never stretched.
"""

from __future__ import annotations

import base64

import cv2
import numpy as np

CANNY_LOW, CANNY_HIGH = 100, 200
PRODUCT_HEIGHT = 0.66  # of the frame
PRODUCT_WIDTH = 0.8
PRODUCT_CENTRE_Y = 0.55
MODEL_MULTIPLE = 16  # flux works on 16-pixel latents; other sizes are padded by the model anyway


def canny_edges(image: np.ndarray) -> np.ndarray:
    """The product's edge map (uint8, 0 or 255), computed when the cached one is missing."""
    rgb = image[..., :3]
    if image.shape[-1] == 4:  # a cut-out product: its outline against transparency is an edge too
        alpha = image[..., 3:4].astype(np.float32) / 255.0
        rgb = (rgb.astype(np.float32) * alpha).astype(np.uint8)
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return cv2.Canny(gray, CANNY_LOW, CANNY_HIGH)


def control_size(width: int, height: int) -> tuple[int, int]:
    """The output size rounded to the model's latent multiple."""
    return (
        max(MODEL_MULTIPLE, round(width / MODEL_MULTIPLE) * MODEL_MULTIPLE),
        max(MODEL_MULTIPLE, round(height / MODEL_MULTIPLE) * MODEL_MULTIPLE),
    )


def place_edges(edges: np.ndarray, width: int, height: int) -> np.ndarray:
    """The edge map scaled to fit the product's box and placed in a black frame of the control size."""
    cw, ch = control_size(width, height)
    canvas = np.zeros((ch, cw), np.uint8)
    eh, ew = edges.shape[:2]
    scale = min(PRODUCT_WIDTH * cw / ew, PRODUCT_HEIGHT * ch / eh)
    size = (max(1, round(ew * scale)), max(1, round(eh * scale)))
    # Area-averaging then thresholding keeps one-pixel lines from vanishing when the map shrinks.
    scaled = cv2.resize(edges, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST)
    scaled = np.where(scaled > 0, 255, 0).astype(np.uint8)
    x0 = (cw - size[0]) // 2
    y0 = min(ch - size[1], max(0, round(PRODUCT_CENTRE_Y * ch - size[1] / 2)))
    canvas[y0 : y0 + size[1], x0 : x0 + size[0]] = scaled
    return canvas


def png_data_uri(gray: np.ndarray) -> str:
    """Small inputs travel inline: Replicate accepts data URIs, so nothing is uploaded first."""
    ok, data = cv2.imencode(".png", gray)
    if not ok:
        raise ValueError("could not encode the control image")
    return "data:image/png;base64," + base64.b64encode(data.tobytes()).decode()


def cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scaled to cover width × height and centre-cropped: the model's framing, at the output size."""
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    size = (max(width, round(w * scale)), max(height, round(h * scale)))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    x0, y0 = (size[0] - width) // 2, (size[1] - height) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width, :3])
