"""Schemathesis against a full dev stack (`adgen up`: every service a process, studio providers,
CLIP with random weights so that search answers), with a larger budget than the test suite's: the
figure the reliability issue asks for is the number of 5xx answers, which must be 0.
FUZZ_EXAMPLES sets the examples per operation (default 100)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from run import Report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fuzzing import Budget, fuzz

from adgen_cli.stack import DevStack
from adgen_embedded.ports import free_port

UNLIMITED = "1000000"


def run() -> Report:
    per_operation = int(os.environ.get("FUZZ_EXAMPLES", "100"))
    examples = Budget(per_operation=per_operation, anonymous=max(3, per_operation // 4), stateful=per_operation)
    env = {
        "ADGEN_CLIP_RANDOM_WEIGHTS": "true",
        # The fuzzer is one caller sending as fast as it can: the limits have tests of their own.
        "ADGEN_RATE_LIMIT_PER_S": UNLIMITED,
        "ADGEN_RATE_LIMIT_BURST": UNLIMITED,
        "ADGEN_RATE_LIMIT_ANONYMOUS_PER_S": UNLIMITED,
        "ADGEN_RATE_LIMIT_ANONYMOUS_BURST": UNLIMITED,
    }
    with tempfile.TemporaryDirectory(prefix="adgen-fuzz-") as folder:
        stack = DevStack(Path(folder) / "stack", extra_env=env)
        info = stack.up(http_port=free_port())
        try:
            started = time.monotonic()
            findings = fuzz(info.url, info.api_key, examples)
            wall_s = time.monotonic() - started
        finally:
            stack.down()
    statuses = dict(sorted(findings.statuses.items()))
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    report = Report("Fuzzing: schemathesis against the gateway's OpenAPI document", ["figure", "value"])
    report.rows = [
        ["requests sent", str(sum(statuses.values()))],
        ["5xx answers", str(server_errors)],
        ["answers by status", ", ".join(f"{status}: {count}" for status, count in statuses.items())],
        ["conformance failures (status, content type, headers, schema)", str(len(findings.failures))],
        ["wall time", f"{wall_s:.0f} s (stateless {findings.seconds.get('stateless', 0):.0f} s,"
         f" stateful {findings.seconds.get('stateful', 0):.0f} s)"],
    ]  # fmt: skip
    report.notes = [
        f"{examples.per_operation} examples per operation with a key for each of valid and invalid data,"
        f" {examples.anonymous} without a key, {examples.stateful} stateful runs along the document's links;"
        " derandomized, so a run is reproducible",
        "the test suite runs the same fuzzer with 8 / 3 / 8 (tests/test_fuzz_api.py)",
    ] + [f"failure: {failure[:300]}" for failure in findings.failures]
    return report
