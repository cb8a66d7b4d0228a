"""Decoding what adgen produced, the way a person would judge it: length, size, rate, sound, content."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class DecodedVideo:
    width: int
    height: int
    frame_count: int
    fps: float
    pts_steps: set[int]
    duration_s: float
    audio_streams: int
    audio_duration_s: float
    audio_rms: float
    frames: list[np.ndarray]  # one small frame per second, for content checks


def decode(path: Path) -> DecodedVideo:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.average_rate is not None and video.time_base is not None
        fps = float(video.average_rate)
        pts: list[int] = []
        samples: list[np.ndarray] = []
        for frame in container.decode(video):
            assert frame.pts is not None
            pts.append(frame.pts)
            if len(pts) % round(fps) == 1:
                samples.append(frame.to_ndarray(format="rgb24")[::8, ::8])
        width, height = video.width, video.height
        float(video.time_base)
    audio_streams = 0
    audio_seconds = 0.0
    rms = 0.0
    with av.open(str(path)) as container:
        if container.streams.audio:
            audio_streams = len(container.streams.audio)
            stream = container.streams.audio[0]
            chunks = [f.to_ndarray() for f in container.decode(stream)]
            data = np.concatenate(chunks, axis=1) if chunks else np.zeros((1, 0))
            audio_seconds = data.shape[1] / stream.rate
            rms = float(np.sqrt(np.mean(np.square(data.astype(np.float64))))) if data.size else 0.0
    steps = {b - a for a, b in itertools.pairwise(pts)}
    return DecodedVideo(
        width=width,
        height=height,
        frame_count=len(pts),
        fps=fps,
        pts_steps=steps,
        duration_s=len(pts) / fps,
        audio_streams=audio_streams,
        audio_duration_s=audio_seconds,
        audio_rms=rms,
        frames=samples,
    )


def sift_matches(photo: np.ndarray, frame: np.ndarray, *, ratio: float = 0.75, reprojection_px: float = 5.0) -> int:
    """How many of the photo's own local features reappear in the frame under one homography.

    SIFT keypoints of both images, Lowe's ratio test (0.75) on the two nearest neighbours, one match
    per frame feature, then a RANSAC homography: its inliers are features that agree on one placement
    of the photo (or of a crop of it) in the frame, which chance matches between unrelated images do
    not (they give 0 to 4). 0 when either image has too few features. RGB(A) or grey uint8; the
    alpha channel is ignored.
    """
    import cv2

    def grey(image: np.ndarray) -> np.ndarray:
        image = np.asarray(image)
        if image.ndim == 3:
            image = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
        return image.astype(np.uint8)

    sift = cv2.SIFT_create()  # type: ignore[attr-defined]  # opencv's own stub leaves SIFT out
    kp_photo, des_photo = sift.detectAndCompute(grey(photo), None)
    kp_frame, des_frame = sift.detectAndCompute(grey(frame), None)
    if des_photo is None or des_frame is None or len(kp_photo) < 4 or len(kp_frame) < 4:
        return 0
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(des_photo, des_frame, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < ratio * p[1].distance]
    # one-to-one: many photo features matching one frame feature (a flat shape's corner) agree on a
    # degenerate homography that is no evidence of the photo; each frame feature keeps its best match
    best: dict[int, cv2.DMatch] = {}
    for m in good:
        if m.trainIdx not in best or m.distance < best[m.trainIdx].distance:
            best[m.trainIdx] = m
    good = list(best.values())
    if len(good) < 4:
        return 0
    src = np.array([kp_photo[m.queryIdx].pt for m in good], dtype=np.float32).reshape(-1, 1, 2)
    dst = np.array([kp_frame[m.trainIdx].pt for m in good], dtype=np.float32).reshape(-1, 1, 2)
    cv2.setRNGSeed(0)  # RANSAC's sampling: the same images always give the same count
    _, inliers = cv2.findHomography(src, dst, cv2.RANSAC, reprojection_px)
    return 0 if inliers is None else int(inliers.sum())


# Two consecutive decoded frames show one frozen picture when their luma differs by less than 0.05
# of a code level on average. Measured through the final encode (libx264 crf 20, veryfast): a picture
# that does not change comes back with mean steps of at most 0.01 level (skipped P-frames are 0; a
# new GOP's I-frame re-quantises), while a soft storyboard-like picture drifting at 0.1 % of the
# frame width a second (1.2 px/s at 640 px: hardly visible) gives about 0.045, and at 0.4 % a
# second (clearly moving) about 0.09. A mean over the frame is texture-dependent (a flat picture
# moving gives small steps), so a threshold such as 0.25 flags visibly moving pans as frozen; 0.05
# is five times the encoder's own noise and just under the slowest drift a viewer notices.
FROZEN_LUMA_LEVELS = 0.05


def encode_decode_luma(frames: list[np.ndarray], fps: int) -> list[np.ndarray]:
    """RGB frames through the final encode (refine's own H.264 settings and colour conversion),
    decoded again; returns each decoded frame's luma plane (Y' code values) as float32."""
    import tempfile
    from fractions import Fraction

    from adgen_refine.encoding import OutputFormat, _video_stream, yuv420_frame

    height, width = frames[0].shape[:2]
    fmt = OutputFormat(width=width, height=height, fps=fps)
    with tempfile.TemporaryDirectory(prefix="adgen-frozen-") as folder:
        path = Path(folder) / "encoded.mp4"
        with av.open(str(path), "w", format="mp4") as out:
            video = _video_stream(out, fmt)
            for t, image in enumerate(frames):
                frame = yuv420_frame(image)
                frame.pts, frame.time_base = t, Fraction(1, fps)
                out.mux(video.encode(frame))
            out.mux(video.encode(None))
        with av.open(str(path)) as container:
            return [f.to_ndarray()[:height].astype(np.float32) for f in container.decode(video=0)]


def luma_steps(lumas: list[np.ndarray]) -> list[float]:
    """Mean absolute luma difference of each frame to the one before (len(lumas) − 1 values)."""
    return [float(np.abs(b - a).mean()) for a, b in itertools.pairwise(lumas)]


def frozen_runs(steps: list[float], threshold: float = FROZEN_LUMA_LEVELS) -> list[tuple[int, int]]:
    """Runs of frames a viewer sees as one frozen picture, as (first frame, length in frames), from
    the frames' luma steps (`luma_steps`, or the same figure measured while decoding a long video).

    Frame i + 1 is frozen when steps[i] is below `threshold` levels; a run of n frozen frames holds
    the picture of the frame before it for n + 1 frames, and that is the length reported (a single
    frame is never a run)."""
    runs: list[tuple[int, int]] = []
    start = -1
    for i, step in enumerate([*steps, float("inf")]):
        if step < threshold and start < 0:
            start = i
        elif step >= threshold and start >= 0:
            runs.append((start, i - start + 1))
            start = -1
    return runs


def ebur128(path: Path) -> tuple[float, float]:
    """ffmpeg's own verdict on the file: (integrated LUFS, true peak dBTP)."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is missing: `make ffmpeg` installs it (scripts/debian.sh ffmpeg)"
    report = subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-filter_complex",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = report[report.rindex("Summary:") :]
    integrated = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+) dBFS", summary)
    assert integrated and peak, summary
    return float(integrated.group(1)), float(peak.group(1))
