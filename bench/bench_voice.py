"""The voice: how fast each provider speaks a line, and the 30 s studio ad with its voiceover.

* **Real-time factor** (seconds of speech per second of work, higher is faster; 1.0 is real time,
  the named baseline) over the lines the rule-based planner writes for the README's demo prompts,
  spoken one after another on this machine. Piper is the offline voice itself. OpenAI is the real
  SDK against the local fake speech endpoint (tests/fakes/openai_api.py), so its figure is the
  client's own overhead (request, PCM decode, resample, word alignment), not OpenAI's servers.
* **End to end:** the README's 30 s 720p demo ad on a full dev stack (`adgen up`), submit →
  downloaded MP4, with and without its voiceover in the same run, beside a plain libx264 encode of
  the same frames (bench_e2e's baseline).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from bench_e2e import (
    DURATION_S,
    FPS,
    PLAIN_PROMPT,
    PRODUCT_PROMPT,
    TARGET_S,
    dev_stack_client,
    plain_encode_s,
    render_s,
)
from run import Report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fakes.openai_api import Reply, fake_openai  # the tests' fake speech endpoint

from adgen_planner.composer import PlanRequest, compose
from adgen_voice.openai_voice import OpenAiVoiceConfig, OpenAiVoices
from adgen_voice.piper_voice import DEFAULT_VOICE, PiperVoices
from adgen_voice.speech import VoiceProvider


def demo_lines() -> list[str]:
    lines = []
    for prompt in (PLAIN_PROMPT, PRODUCT_PROMPT):
        plan = compose(PlanRequest(prompt=prompt, duration_s=DURATION_S, creativity=0.5, seed=7))
        lines += [beat.voiceover for beat in plan.beats if beat.voiceover]
    return lines


async def real_time_factor(provider: VoiceProvider, voice: str, lines: list[str]) -> tuple[float, float]:
    """(seconds of speech, real-time factor) of speaking every line once, after one warm-up line."""
    await provider.speak(lines[0], voice, 1.0)
    spoken, started = 0.0, time.perf_counter()
    for line in lines:
        spoken += (await provider.speak(line, voice, 1.0)).duration_s
    return spoken, spoken / (time.perf_counter() - started)


async def speed_rows(lines: list[str]) -> list[list[str]]:
    rows = []
    piper = PiperVoices()
    spoken, factor = await real_time_factor(piper, DEFAULT_VOICE, lines)
    rows.append(["piper (joe, offline)", f"{len(lines)} lines, {spoken:.1f} s", f"{factor:.1f}×", "1.0× (real time)"])
    with fake_openai() as server:
        server.default = Reply()  # every request answered, no faults
        openai = OpenAiVoices(
            OpenAiVoiceConfig(
                api_key="sk-bench", base_url=server.base_url, model="tts-1", timeout_s=10, max_attempts=1,
                max_in_flight=1,
            )
        )  # fmt: skip
        try:
            spoken, factor = await real_time_factor(openai, "openai-alloy", lines)
        finally:
            await openai.aclose()
    rows.append(["openai (tts-1, local fake)", f"{len(lines)} lines, {spoken:.1f} s", f"{factor:.1f}×", "1.0×"])
    return rows


def run() -> Report:
    lines = demo_lines()
    rows = asyncio.run(speed_rows(lines))
    with dev_stack_client("adgen-voice-") as client:
        render_s(client, PLAIN_PROMPT, [])  # warm-up: first imports and connections of every service
        voiced, _ = render_s(client, PLAIN_PROMPT, [])
        silent, _ = render_s(client, PLAIN_PROMPT, [], voiceover=False)
    baseline = plain_encode_s(DURATION_S * FPS)
    verdict = "within" if voiced <= TARGET_S else "OVER"
    report = Report(
        "Voice: speech per provider, and the 30 s ad with its voiceover",
        ["what", "work", "measured", "baseline"],
        rows=[
            *rows,
            ["30 s 720p ad with voiceover, submit → download", f"target {TARGET_S:.0f} s ({verdict})",
             f"{voiced:.1f} s", f"plain encode {baseline:.1f} s ({voiced / baseline:.2f}×)"],
            ["the same ad without voiceover", "", f"{silent:.1f} s", f"voice adds {voiced - silent:+.1f} s"],
        ],
    )  # fmt: skip
    report.notes = [
        "real-time factor = seconds of speech / seconds of work, one line at a time, after a warm-up line",
        "the OpenAI row is the SDK against the local fake: the client's overhead, not OpenAI's latency",
        "the ads run on one stack, one after another, after a warm-up ad",
    ]
    return report
