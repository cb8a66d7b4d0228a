"""`make chaos` (= `make bench ONLY=chaos`): the full chaos run, 20 videos with provider faults at
30 %, while every service is killed once, NATS and Postgres restart, S3 goes away and NATS loses its
data (tests/chaos/chaos_run.py says how). CHAOS_VIDEOS, CHAOS_FAULT_RATE and CHAOS_SEED override the
defaults for a medium run."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from run import Report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from chaos.chaos_run import ChaosConfig, run_chaos


def run() -> Report:
    videos = int(os.environ.get("CHAOS_VIDEOS", "20"))
    config = ChaosConfig(
        videos=videos,
        fault_rate=float(os.environ.get("CHAOS_FAULT_RATE", "0.3")),
        seed=int(os.environ.get("CHAOS_SEED", "1")),
        window_s=max(90.0, 12.0 * videos),
        timeout_s=1800.0,
    )
    load = os.getloadavg()[1]
    with tempfile.TemporaryDirectory(prefix="adgen-chaos-") as folder:
        result = run_chaos(config, Path(folder))
    for line in result.lines():
        print(line, flush=True)
    problems = result.problems()
    report = Report(
        "Chaos: kills, restarts, outages and provider faults while videos render",
        ["figure", "value"],
    )
    report.rows = [
        ["videos submitted", str(len(result.videos))],
        ["completed", str(result.completed)],
        ["failed with a reason (a provider refused for good), then retried to completion",
         str(len(result.failed_with_reason))],
        ["lost videos (never ended)", str(result.lost)],
        ["kills survived (SIGKILL + restart)", f"{result.kills_survived} / 7"],
        ["other actions", "NATS restart, Postgres restart, S3 stopped 4 s, NATS restarted with its data deleted"],
        ["outputs decoding to their planned length (to the frame)",
         f"{sum(1 for v in result.videos if v.frames and v.frames == v.planned_frames)} / {result.completed}"],
        ["ledger rows / billable units", f"{result.ledger_rows} / {result.billable_units}"],
        ["duplicate charges (a unit paid for twice at the provider)", str(result.duplicate_charges)],
        ["work messages left unacked in ADGEN_WORK", str(result.unacked_work)],
        ["orphaned intermediate objects after export", str(len(result.orphaned_objects))],
        ["provider faults injected", ", ".join(f"{k} {v}" for k, v in result.faults_injected.items())],
        ["predictions paid at the fake provider", ", ".join(f"{k} {v}" for k, v in result.provider_paid.items())],
        ["problems found", "; ".join(problems) if problems else "none"],
    ]  # fmt: skip
    report.notes = [
        f"{config.videos} videos of {config.duration_s} s on `wan` through the fake Replicate, storyboard on flux-dev,"
        f" MusicGen, plan by the fake OpenAI; provider fault rate {config.fault_rate:.0%} (seed {config.seed}), spread"
        " over 429 with Retry-After, 5xx, answers held past the client's timeout, failed predictions and truncated"
        " downloads; one video refused by its model until retried",
        "actions, in plan order: " + "; ".join(result.actions_done),
        f"chaos wall time {result.wall_s:.0f} s on {os.cpu_count()} cores; 5-minute load average {load:.1f} at the"
        " start (other work shared the machine, so the timings are noisy)",
    ]
    return report
