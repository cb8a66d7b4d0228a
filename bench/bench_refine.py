"""Refine's cost against the encode it cannot avoid.

A 30 s, 24 fps ad (three 10 s beats, chunks of 5 s overlapping by 25 %, dissolves between beats) is
rendered from synthetic lossless 720p chunks at 720p and at 1080p with everything refine does:
decode, cover-fit, exposure matching at seams, cross-fades, the colour grade, supers and the music
bed, then the one H.264 encode. The baseline is one plain libx264 encode of the same number of
frames at the same preset and quality, from frames already in memory, in the same run. Each side
runs twice, alternating, and the faster run counts: the machine is shared, and the better of two
is the less disturbed one.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from run import Report

from adgen.common.v1 import common_pb2
from adgen_refine.captions import captions
from adgen_refine.encoding import OutputFormat
from adgen_refine.luts import shipped_table
from adgen_refine.stitch import render_final
from adgen_refine.supers import supers_for
from adgen_refine.timeline import Placement
from adgen_refine.worker import music_for, transitions

FPS = 24
BEAT_S = 10
CLIP = 120
OVERLAP = 30
PRESET = "veryfast"
CRF = 20
CHUNK_SIZE = (1280, 720)


def plan() -> tuple[common_pb2.Spec, list[Placement]]:
    beats: list[common_pb2.Beat] = []
    placements: list[Placement] = []
    for b in range(3):
        beats.append(
            common_pb2.Beat(
                index=b, start_s=b * BEAT_S, duration_s=BEAT_S, energy=common_pb2.ENERGY_MEDIUM,
                beat_id="hero_shot", headline=f"Headline {b + 1}", subline="A subline under it",
            )
        )  # fmt: skip
        start, end = b * BEAT_S * FPS, (b + 1) * BEAT_S * FPS
        overlap = 0
        while start < end:
            used = min(CLIP, end - start)
            placements.append(Placement(len(placements), b, start, used, overlap))
            start, overlap = start + used - OVERLAP, OVERLAP
            if start + OVERLAP >= end:
                break
    spec = common_pb2.Spec(
        archetype_id="luxury_showcase", duration_s=3 * BEAT_S, seed=1, call_to_action="Shop now",
        style=common_pb2.Style(mood="warm"), beats=beats,
    )  # fmt: skip
    return spec, placements


def scene(step: int, width: int, height: int, tint: int) -> np.ndarray:
    x = np.arange(width, dtype=np.float32)[None, :] + 3 * step
    y = np.arange(height, dtype=np.float32)[:, None]
    base = 110 + 50 * np.sin(x / 37.0) * np.cos(y / 23.0)
    return np.clip(np.stack([base + tint, base, base - tint], axis=-1), 0, 255).astype(np.uint8)


def write_chunks(folder: Path, placements: list[Placement]) -> dict[int, Path]:
    paths = {}
    for p in placements:
        path = folder / f"chunk_{p.index:03d}.mp4"
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264rgb", rate=FPS, options={"crf": "0", "preset": "ultrafast"})
            stream.width, stream.height, stream.pix_fmt = *CHUNK_SIZE, "rgb24"
            for k in range(p.used_frames):
                image = scene(p.start_frame + k, *CHUNK_SIZE, tint=10 * p.beat_index + 3 * p.index)
                out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            out.mux(stream.encode(None))
        paths[p.index] = path
    return paths


def timed(function, *args):
    started = time.perf_counter()
    return function(*args), time.perf_counter() - started


def first_of(pair: Future) -> Future:
    """A Future of the first item of `pair`'s (result, seconds)."""
    first: Future = Future()
    pair.add_done_callback(lambda done: first.set_result(done.result()[0]))
    return first


def plain_encode(width: int, height: int, frames: int, out_path: Path) -> float:
    images = [scene(k, width, height, 0) for k in range(8)]
    started = time.perf_counter()
    with av.open(str(out_path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"crf": str(CRF), "preset": PRESET})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for t in range(frames):
            frame = av.VideoFrame.from_ndarray(images[t % len(images)], format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = t, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return time.perf_counter() - started


def run() -> Report:
    spec, placements = plan()
    total = 3 * BEAT_S * FPS
    report = Report(
        title="Refine: stitch + seams + grade + supers + music + encode, 30 s at 24 fps",
        header=[
            "output",
            "frames",
            "refine s",
            "music s (beside it)",
            "plain encode s",
            "ratio",
            "refine ms/frame",
            "plain ms/frame",
        ],
    )
    with tempfile.TemporaryDirectory(prefix="adgen-bench-refine-") as folder:
        paths = write_chunks(Path(folder), placements)
        started = time.perf_counter()
        shipped_table("cinematic_warm")
        table_s = time.perf_counter() - started
        for width, height in ((1280, 720), (1920, 1080)):
            spec.output.CopyFrom(common_pb2.OutputFormat(width=width, height=height, fps=FPS))
            refines, plains = [], []
            for _ in range(2):
                started = time.perf_counter()
                # As the refine service does: the music is made on another thread while the video
                # encodes, and joins the file when it is ready.
                with ThreadPoolExecutor(1) as pool:
                    audio = pool.submit(timed, music_for, spec)
                    music = first_of(audio)
                    layers = supers_for(captions(spec), width, height)
                    render_final(
                        paths, placements, total, transitions(spec), music, 48_000,
                        OutputFormat(width, height, FPS, crf=CRF, preset=PRESET),
                        Path(folder) / f"refined_{height}.mp4", grade=shipped_table("cinematic_warm"), supers=layers,
                    )  # fmt: skip
                refines.append((time.perf_counter() - started, audio.result()[1]))
                plains.append(plain_encode(width, height, total, Path(folder) / f"plain_{height}.mp4"))
            refine_s, music_s = min(refines)
            plain_s = min(plains)
            report.rows.append(
                [f"{height}p", str(total), f"{refine_s:.1f}", f"{music_s:.1f}", f"{plain_s:.1f}",
                 f"{refine_s / plain_s:.2f}x", f"{1000 * refine_s / total:.1f}", f"{1000 * plain_s / total:.1f}"]
            )  # fmt: skip
    report.notes += [
        f"{len(placements)} lossless {CHUNK_SIZE[0]}x{CHUNK_SIZE[1]} chunks; x264 preset {PRESET}, crf {CRF}; "
        "target: refine within 1.5x of the plain encode",
        f"building the 256³ grade table once per process: {table_s:.2f} s (not in the refine column)",
        "best of two alternating runs per side; the pictures are made on a worker thread while x264 encodes, and "
        "the music on another (as in the service), so the refine column is x264 plus whatever those threads "
        "cannot hide on this machine's cores (grading, music synthesis, AAC, the text)",
    ]
    return report
