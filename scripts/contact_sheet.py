"""A contact sheet of a rendered ad: frames sampled evenly through the MP4, tiled with their times.

For looking at a render before calling a visual change done, and for the sheets in docs/.
Usage: python scripts/contact_sheet.py VIDEO.mp4 SHEET.png [--columns 6] [--frames 18] [--width 320]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont


def sample(path: Path, count: int) -> list[tuple[float, Image.Image]]:
    """`count` frames at evenly spaced times (the middle of each of `count` equal spans)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        total = stream.frames or round(float(stream.duration * stream.time_base) * fps)
        picks = {min(total - 1, int((i + 0.5) * total / count)) for i in range(count)}
        return [(n / fps, frame.to_image()) for n, frame in enumerate(container.decode(stream)) if n in picks]


def sheet(shots: list[tuple[float, Image.Image]], columns: int, width: int) -> Image.Image:
    first = shots[0][1]
    height = round(width * first.height / first.width)
    gap, label = 6, 18
    rows = -(-len(shots) // columns)
    canvas = Image.new("RGB", (columns * (width + gap) + gap, rows * (height + label + gap) + gap), (24, 24, 24))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=13)
    for n, (seconds, image) in enumerate(shots):
        x = gap + (n % columns) * (width + gap)
        y = gap + (n // columns) * (height + label + gap)
        canvas.paste(image.resize((width, height), Image.Resampling.LANCZOS), (x, y + label))
        draw.text((x, y + 2), f"{seconds:5.2f} s", fill=(220, 220, 220), font=font)
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument("--frames", type=int, default=18)
    parser.add_argument("--width", type=int, default=320)
    args = parser.parse_args()
    shots = sample(args.video, args.frames)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet(shots, args.columns, args.width).save(args.out, optimize=True)
    print(f"{args.out}: {len(shots)} frames of {args.video}")


if __name__ == "__main__":
    main()
