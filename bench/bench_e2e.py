"""A studio ad end to end: submit → downloaded MP4 on a full dev stack, beside a plain encode.

The stack is `adgen up` (every service its own process, studio providers, no keys). Each row is a
30 s 720p (16:9) ad of the README's demo prompts, submitted through REST and polled until it is
complete, then downloaded: the figure is the wall time from the submit to the last byte. The
baseline is what the machine needs just to encode that many frames: libx264 with refine's own
settings (CRF 20, `veryfast`, yuv420p) over the same number of 1280×720 frames of a moving
gradient, in this process, in the same run. The ratio says how much more than one encode the whole
pipeline (plan, storyboard, animation, stitch, grade, supers, music, loudness, export) costs.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import httpx
import numpy as np
from run import Report

from adgen_cli.stack import DevStack
from adgen_embedded.ports import free_port

TARGET_S = 30.0
DURATION_S = 30
FPS = 24
WIDTH, HEIGHT = 1280, 720
PRODUCT_PROMPT = "30 second ad for Morning Roast espresso, warm and inviting"
PLAIN_PROMPT = "30 second ad for a matte-black titanium watch, luxury feel"


def product_photo() -> bytes:
    """The demo's product photo: scikit-image's coffee (a CC0 photograph of an espresso cup)."""
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.coffee()).save(buffer, format="PNG")
    return buffer.getvalue()


def plain_encode_s(frames: int) -> float:
    """libx264 at refine's settings over `frames` moving 1280×720 frames, written to memory."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    started = time.perf_counter()
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for i in range(frames):
            value = ((xs + 3 * i) % 256).astype(np.uint8)
            picture = np.dstack([value, ((ys + i) % 256).astype(np.uint8), np.full_like(value, 96)])
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())
    return time.perf_counter() - started


@contextmanager
def dev_stack_client(prefix: str) -> Iterator[httpx.Client]:
    """A full dev stack (`adgen up`) in a temporary folder, and a REST client signed in to it."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        stack = DevStack(Path(folder) / "stack")
        info = stack.up(http_port=free_port())
        try:
            headers = {"Authorization": f"Bearer {info.api_key}"}
            with httpx.Client(base_url=info.url, headers=headers, timeout=120) as client:
                yield client
        finally:
            stack.down()


def render_s(client: httpx.Client, prompt: str, asset_ids: list[str], **fields: object) -> tuple[float, int]:
    """Submit → downloaded bytes, in seconds, and the MP4's size (`fields`: more of the request)."""
    started = time.perf_counter()
    body = {"prompt": prompt, "duration_s": DURATION_S, "aspect_ratio": "16:9", "asset_ids": asset_ids, **fields}
    created = client.post("/v1/videos", json=body)
    created.raise_for_status()
    video_id = created.json()["id"]
    while True:
        video = client.get(f"/v1/videos/{video_id}").json()
        if video["status"] in {"failed", "cancelled"}:
            raise RuntimeError(f"video {video_id} ended {video['status']}: {video.get('error')}")
        if video["status"] == "completed":
            break
        time.sleep(0.2)
    download = client.get(f"/v1/videos/{video_id}/download", follow_redirects=True)
    download.raise_for_status()
    return time.perf_counter() - started, len(download.content)


def run() -> Report:
    frames = DURATION_S * FPS
    with dev_stack_client("adgen-e2e-") as client:
        uploaded = client.post("/v1/assets", files={"file": ("coffee.png", product_photo(), "image/png")})
        uploaded.raise_for_status()
        asset_id = uploaded.json()["asset_id"]
        render_s(client, PLAIN_PROMPT, [])  # warm-up: first imports and connections of every service
        runs = [
            ("demo prompt, no product photo", *render_s(client, PLAIN_PROMPT, [])),
            ("product photo (coffee)", *render_s(client, PRODUCT_PROMPT, [asset_id])),
        ]
    baseline = plain_encode_s(frames)
    report = Report(
        "End to end: a 30 s 720p studio ad, submit → download",
        ["ad", "submit → download", "target", "plain libx264 encode of the same frames", "ratio"],
    )
    for label, seconds, size in runs:
        verdict = "within" if seconds <= TARGET_S else "OVER"
        report.rows.append(
            [f"{label} ({size / 1e6:.1f} MB)", f"{seconds:.1f} s", f"{TARGET_S:.0f} s ({verdict})",
             f"{baseline:.1f} s", f"{seconds / baseline:.2f}×"]
        )  # fmt: skip
    report.notes = [
        f"{frames} frames at {WIDTH}×{HEIGHT}, {FPS} fps; the baseline encodes them with refine's settings"
        " (libx264 CRF 20 veryfast) and nothing else",
        "one warm-up ad first, so the figures are a running stack's, not its first imports",
    ]
    return report
