"""Storyboard: how fast the studio renderer draws a beat's frame (render + PNG encode), at 720p and
1080p, over the beats of a luxury plan in three styles, with and without a product image."""

from __future__ import annotations

import statistics
import time

import cv2
import numpy as np
from run import Report

from adgen_storyboard.studio import FrameRequest, encode_png, render_frame

BEATS = (
    ("hero_shot", "close_up", "opening", "medium", "AURUM TITANIUM", "Crafted for the moment"),
    ("detail_showcase", "macro", "middle", "low", "Sapphire crystal", "Scratch-proof for life"),
    ("lifestyle_context", "medium", "middle", "medium", "Made for evenings that matter", ""),
    ("call_to_action", "close_up", "closing", "medium", "Shop now at aurum.com", "Free engraving"),
)
STYLES = {
    "luxury": (("#0b0b0d", "#2a2622", "#c9a45c", "#efe3c8"), "luxury", "dramatic low-key", "elegant"),
    "energetic": (("#0b1020", "#ff3d57", "#ffb627", "#2ec4ff"), "energetic", "bright high-key", "vibrant"),
    "minimal": (("#f4f4f2", "#d9d9d6", "#1f1f1f", "#7a8b99"), "minimal", "soft daylight", "clean"),
}
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


def product() -> np.ndarray:
    image = np.full((900, 600, 4), 0, np.uint8)
    cv2.circle(image, (300, 450), 260, (30, 30, 36, 255), -1)
    cv2.circle(image, (300, 450), 200, (200, 170, 90, 255), 12)
    return image


def request(size: tuple[int, int], beat: int, style: str, with_product: bool) -> FrameRequest:
    beat_id, shot, position, energy, headline, subline = BEATS[beat]
    palette, mood, lighting, aesthetic = STYLES[style]
    return FrameRequest(
        width=size[0],
        height=size[1],
        beat_index=beat,
        beat_count=len(BEATS),
        beat_id=beat_id,
        shot_type=shot,
        position=position,
        energy=energy,
        palette=palette,
        mood=mood,
        lighting=lighting,
        aesthetic=aesthetic,
        headline=headline,
        subline=subline,
        product_image=product() if with_product else None,
        seed=9000 + beat,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run() -> Report:
    report = Report(
        title="Storyboard: studio renderer",
        header=["resolution", "product image", "images", "images/s", "p50 ms", "p95 ms", "PNG KB (median)"],
    )
    render_frame(request(SIZES["720p"], 0, "luxury", False))  # fonts and caches warmed once
    for label, size in SIZES.items():
        for with_product in (False, True):
            times, sizes = [], []
            for style in STYLES:
                for beat in range(len(BEATS)):
                    frame = request(size, beat, style, with_product)
                    started = time.perf_counter()
                    png = encode_png(render_frame(frame))
                    times.append(time.perf_counter() - started)
                    sizes.append(len(png))
            report.rows.append(
                [
                    label,
                    "yes" if with_product else "no",
                    str(len(times)),
                    f"{len(times) / sum(times):.1f}",
                    f"{percentile(times, 0.5) * 1000:.0f}",
                    f"{percentile(times, 0.95) * 1000:.0f}",
                    f"{statistics.median(sizes) / 1024:.0f}",
                ]
            )
    report.notes += [
        f"{len(BEATS)} beats × {len(STYLES)} styles per row, one image at a time on one core (render + PNG encode).",
        "Replicate's flux-dev takes ~8 s and flux-dev-controlnet ~8–15 s per image (predecessor figures): the "
        "studio renderer is the free local path, not a stand-in for their quality.",
    ]
    return report
