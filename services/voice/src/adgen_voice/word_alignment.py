"""When each word of a line is spoken, read from the audio itself, for engines that do not say.

Piper 1.8 reports phoneme alignments only for voice models patched with an extra output (and
patching at load needs the `onnx` package); the joe voice ships unpatched, and OpenAI's speech
endpoint returns audio alone. So the words are placed by the audio's energy: the voiced span runs
from the first to the last 10 ms frame within `VOICED_DB` of the loudest, each word gets a share
of it in proportion to its letters (a fair stand-in for its phonemes), and each boundary between
two words moves to the quietest frame near it, where speakers pause or close a consonant. Timings
come out monotonic and inside the audio by construction.
"""

from __future__ import annotations

import numpy as np

from adgen_voice.voice_timing import WordTiming

FRAME_S = 0.01
# Frames this far below the loudest are silence (room tone, the synthesiser's padding).
VOICED_DB = -35.0
# How far (as a share of the neighbouring words' length) a boundary may move to find a pause.
SNAP_SHARE = 0.3


def frame_db(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """The RMS level of each 10 ms frame in dB relative to the loudest frame."""
    size = max(1, round(sample_rate * FRAME_S))
    count = max(1, len(samples) // size)
    frames = np.asarray(samples[: count * size], dtype=np.float64).reshape(count, size)
    rms = np.sqrt(np.mean(frames**2, axis=1)) + 1e-12
    return 20 * np.log10(rms / rms.max())


def align_words(text: str, samples: np.ndarray, sample_rate: int) -> list[WordTiming]:
    """The words of `text` with their start and end in `samples` (seconds)."""
    words = text.split()
    if not words or len(samples) == 0:
        return []
    levels = frame_db(samples, sample_rate)
    voiced = np.flatnonzero(levels > VOICED_DB)
    first, last = (int(voiced[0]), int(voiced[-1]) + 1) if voiced.size else (0, len(levels))
    weights = np.array([sum(ch.isalnum() for ch in w) + 1 for w in words], dtype=np.float64)
    edges = first + (last - first) * np.concatenate(([0.0], np.cumsum(weights) / weights.sum()))
    bounds = [float(first)]
    for i in range(1, len(words)):
        reach = SNAP_SHARE * min(edges[i] - edges[i - 1], edges[i + 1] - edges[i])
        low = max(int(np.floor(edges[i] - reach)), int(np.ceil(bounds[-1])) + 1)
        high = min(int(np.ceil(edges[i] + reach)) + 1, last)
        bounds.append(float(low + int(np.argmin(levels[low:high]))) if low < high else max(edges[i], bounds[-1]))
    bounds.append(float(last))
    duration_s = len(samples) / sample_rate
    return [
        WordTiming(word, min(bounds[i] * FRAME_S, duration_s), min(bounds[i + 1] * FRAME_S, duration_s))
        for i, word in enumerate(words)
    ]
