"""The provider-call timer: every call observed, failures counted by status."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from adgen_kernel.metrics import provider_call


class RateLimited(Exception):
    status_code = 429


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_provider_calls_are_timed_and_failures_counted_by_status() -> None:
    labels = {"provider": "replicate", "model": "flux-dev-test"}
    calls = sample("adgen_provider_call_duration_seconds_count", **labels)
    with provider_call("replicate", "flux-dev-test"):
        pass
    with pytest.raises(RateLimited), provider_call("replicate", "flux-dev-test"):
        raise RateLimited
    with pytest.raises(TimeoutError), provider_call("replicate", "flux-dev-test"):
        raise TimeoutError
    assert sample("adgen_provider_call_duration_seconds_count", **labels) - calls == 3
    assert sample("adgen_provider_call_errors_total", **labels, status="429") == 1
    assert sample("adgen_provider_call_errors_total", **labels, status="TimeoutError") == 1
