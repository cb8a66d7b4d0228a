"""Decoding what adgen produced, the way a person would judge it: length, size, rate, sound, content."""

from __future__ import annotations

import itertools
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
        fps = float(video.average_rate)
        pts: list[int] = []
        samples: list[np.ndarray] = []
        for frame in container.decode(video):
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
