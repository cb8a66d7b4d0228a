"""Token buckets on an injected clock: the burst, the steady rate, the wait a 429 announces, and
callers forgotten once their bucket is full again."""

from __future__ import annotations

from adgen_gateway.rate_limits import TokenBuckets, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_admitted_then_the_steady_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=2.0, burst=5, clock=clock)
    assert [buckets.take("alice") for _ in range(5)] == [0.0] * 5
    assert buckets.take("alice") == 0.5  # one token comes every 0.5 s
    clock.now += 0.25
    assert buckets.take("alice") == 0.25
    clock.now += 0.25
    assert buckets.take("alice") == 0.0
    assert buckets.take("alice") == 0.5


def test_callers_have_buckets_of_their_own() -> None:
    buckets = TokenBuckets(rate_per_s=1.0, burst=2, clock=Clock())
    assert buckets.take("alice") == buckets.take("alice") == 0.0
    assert buckets.take("alice") > 0
    assert buckets.take("bob") == 0.0


def test_refused_requests_do_not_drain_the_bucket_further() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=1.0, burst=1, clock=clock)
    assert buckets.take("alice") == 0.0
    for _ in range(100):
        assert buckets.take("alice") == 1.0
    clock.now += 1.0
    assert buckets.take("alice") == 0.0


def test_the_bucket_never_holds_more_than_the_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=10.0, burst=3, clock=clock)
    buckets.take("alice")
    clock.now += 3600
    assert [buckets.take("alice") for _ in range(4)][-1] > 0


def test_full_buckets_are_forgotten() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=1.0, burst=4, clock=clock)
    for caller in range(1000):
        buckets.take(f"address-{caller}")
    assert len(buckets) == 1000
    clock.now += 4.0  # every bucket has refilled
    buckets.take("late")
    assert len(buckets) == 1


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.0) == "1"
    assert retry_after_header(1.2) == "2"
