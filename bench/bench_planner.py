"""Planner benchmark: plans per second of the rule-based composer, and latency per plan.

A fixed set of realistic prompts, each planned at three durations and three creativity levels,
checked by the same invariants as in production. The first pass starts with an empty sequence
cache (what a fresh planner process sees); the later passes reuse it (a warm process).
"""

from __future__ import annotations

import statistics
import time

from run import Report

from adgen_planner.composer import PlanRequest, compose, ranked_sequences
from adgen_planner.spec_rules import check

PROMPTS = (
    "30 second ad for a matte-black titanium watch, luxury feel",
    "15 second ad for trail running sneakers, energetic and bold",
    "An ad for our new noise-cancelling headphones, minimal and clean",
    "Heartfelt 30s spot for a family car insurance plan",
    "Promo for a cold brew coffee brand called Northbound, upbeat",
    "Show off the features of the X200 robot vacuum, informative",
    "Luxury perfume ad, gold and black, cinematic",
    "20 second ad for a vegan protein powder, sporty, end with 'Fuel your run'",
    "Calm, serene ad for a meditation app",
    "Playful ad for colourful kids' rain boots",
    "A dramatic teaser for an electric sports car launch",
    "Skincare serum ad, soft and minimal, pastel pink palette",
    "Ad for a handmade leather wallet from Oak & Thread",
    "Energy drink commercial, high-energy, neon green",
    "45 second brand film for a mountain outdoor jacket",
    "Warm ad for a neighbourhood bakery's sourdough bread",
    "Explainer-style ad for project management software",
    "Sleek ad for a foldable smartphone, modern",
    "Ad for diamond earrings, elegant, white and silver",
    "Fitness tracker ad set in a city at dawn, motivational",
    "Cozy ad for a wool throw blanket in a cabin",
    "Ad for a cordless power drill, professional",
    "Minimal ad for a ceramic pour-over coffee set",
    "60 second story of a nonprofit planting trees, emotional",
    "Bold streetwear hoodie drop, urban rooftop, red and black",
)
DURATIONS = (15, 30, 45)
CREATIVITY = (0.0, 0.5, 1.0)
WARM_PASSES = 3


def _requests() -> list[PlanRequest]:
    return [
        PlanRequest(prompt=p, duration_s=d, creativity=c, seed=i)
        for i, p in enumerate(PROMPTS)
        for d in DURATIONS
        for c in CREATIVITY
    ]


def _timed(requests: list[PlanRequest]) -> list[float]:
    latencies = []
    for request in requests:
        started = time.perf_counter()
        check(compose(request))
        latencies.append(time.perf_counter() - started)
    return latencies


def _row(name: str, latencies: list[float]) -> list[str]:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return [
        name,
        str(len(latencies)),
        f"{len(latencies) / sum(latencies):,.0f}",
        f"{statistics.median(ordered) * 1000:.2f}",
        f"{p95 * 1000:.2f}",
        f"{ordered[-1] * 1000:.2f}",
    ]


def run() -> Report:
    requests = _requests()
    ranked_sequences.cache_clear()
    cold = _timed(requests)
    warm = [t for _ in range(WARM_PASSES) for t in _timed(requests)]
    return Report(
        title="Planner: rule-based composer",
        header=["pass", "plans", "plans/s", "p50 ms", "p95 ms", "max ms"],
        rows=[_row("cold sequence cache", cold), _row("warm", warm)],
        notes=[
            f"{len(PROMPTS)} prompts × durations {DURATIONS} s × creativity {CREATIVITY}; every plan passes the "
            "invariant checker; one process, one thread",
        ],
    )
