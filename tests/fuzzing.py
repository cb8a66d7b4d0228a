"""Schemathesis against the gateway's own OpenAPI document, served by a running gateway: the test
(tests/test_fuzz_api.py) runs it on the test stack with a small budget, the benchmark
(bench/bench_fuzz.py) on a full dev stack with a larger one.

Every operation is fuzzed with data that fits the schema and with data that breaks it, with a real
user's key and without one; the answers must never be a server error and must be what the document
declares (status codes, content types, problem+json bodies, response schemas). A stateful run
follows the document's links (a created video to its reads, cancel and retry; an uploaded asset to
its reads, rename, similar and delete). Generation is derandomized, so a run is reproducible.

The calls are synchronous (requests); run `fuzz` in a worker thread when the stack serves on the
caller's event loop.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def budget(max_examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk
        suppress_health_check=list(HealthCheck),
        stateful_step_count=6,
    )


@dataclass
class Findings:
    failures: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, label: str, test: Callable[[], None]) -> None:
        """Runs a hypothesis test; what it finds is kept, so every operation is reported at the end."""
        try:
            test()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # schemathesis reports failures as exception groups
            self.failures.append(f"{label}: {type(error).__name__}: {str(error)[:1500]}")


@dataclass(frozen=True)
class Budget:
    """Examples per operation with a key (each of positive and negative data), without one, and
    stateful runs through the document's links."""

    per_operation: int = 8
    anonymous: int = 3
    stateful: int = 8


def fuzz(url: str, key: str, examples: Budget = Budget()) -> Findings:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    findings = Findings()
    started = time.monotonic()
    session = requests.Session()
    auth = {"Authorization": f"Bearer {key}"}
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), [result.err() for result in results if isinstance(result, Err)]
    assert len(operations) >= 18, [op.label for op in operations]

    def with_key(operation: schemathesis.APIOperation, mode: GenerationMode) -> Callable[[], None]:

        @budget(examples.per_operation)
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=url, session=session, headers=auth, timeout=60, allow_redirects=False)
            findings.statuses[response.status_code] += 1
            case.validate_response(response, checks=CONFORMANCE)

        return run

    def without_key(operation: schemathesis.APIOperation) -> Callable[[], None]:
        """Refused with 401 (or a 4xx for the body), never a server error."""

        @budget(examples.anonymous)
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=url, session=requests.Session(), timeout=60, allow_redirects=False)
            findings.statuses[response.status_code] += 1
            case.validate_response(response, checks=CONFORMANCE)
            assert 400 <= response.status_code < 500, response.status_code

        return run

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            findings.run(f"{operation.label} [{mode.value}]", with_key(operation, mode))
        findings.run(f"{operation.label} [anonymous]", without_key(operation))
    findings.seconds["stateless"] = time.monotonic() - started

    # A live video's event stream lasts until the video ends: the stateful run, which reaches real
    # videos through the links, leaves it out (the stateless run above fuzzes it).
    linked = schema.exclude(path_regex=r"/events$")

    class Links(linked.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict:
            return {"base_url": url, "headers": auth, "timeout": 60, "allow_redirects": False}

        def validate_response(self, response, case, **kwargs) -> None:
            findings.statuses[response.status_code] += 1
            case.validate_response(response, checks=CONFORMANCE)

    findings.run("stateful", lambda: run_state_machine_as_test(Links, settings=budget(examples.stateful)))
    findings.seconds["stateful"] = time.monotonic() - started - findings.seconds["stateless"]
    return findings
