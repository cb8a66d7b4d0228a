"""Request rate limits: one token bucket per caller, refilled at a steady rate up to a burst.

A caller is an API key's user, or a client address when no valid key was sent. The buckets live
in this process, so the limit holds per gateway replica (N replicas behind a balancer admit up to N
times the rate). A bucket that has refilled to the brim is the same as no bucket, so idle callers
are forgotten and memory follows the callers active in the last `burst / rate` seconds.

A pure module with an injectable clock rather than pyrate-limiter: the limiter there keeps a
timestamp per admitted request and answers only yes or no, while a 429 needs the wait until the
next token (`Retry-After`), which is one line of arithmetic on a bucket.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from adgen_kernel.errors import ResourceExhausted


@dataclass
class TokenBuckets:
    rate_per_s: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    # key -> (tokens left, when counted); least recently used first
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    def take(self, key: str) -> float:
        """Takes one token from `key`'s bucket: 0.0 if it had one, else the seconds until it will."""
        now = self.clock()
        tokens, at = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate_per_s)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate_per_s
        self._forget_full(now)
        return wait

    def _forget_full(self, now: float) -> None:
        refill_s = self.burst / self.rate_per_s
        while self._buckets:
            oldest, (_, at) = next(iter(self._buckets.items()))
            if now - at < refill_s:
                return
            del self._buckets[oldest]

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after_header(wait_s: float) -> str:
    """`Retry-After` in whole seconds, never 0 (a client told 0 would retry at once and fail again)."""
    return str(max(1, math.ceil(wait_s)))


class RateLimited(ResourceExhausted):
    """A caller over its request rate: 429 with `Retry-After` over REST (errors.py), RESOURCE_EXHAUSTED
    with `retry-after` trailing metadata over gRPC (the kernel's error mapping)."""


def charge(buckets: TokenBuckets, key: str) -> None:
    """One request against `key`'s rate limit; raises `RateLimited` when its bucket is empty."""
    wait = buckets.take(key)
    if wait:
        seconds = retry_after_header(wait)
        raise RateLimited(f"too many requests; try again in {seconds} s", retry_after_s=int(seconds))


@dataclass(frozen=True)
class RateLimits:
    """The gateway's two kinds of caller, each with its own rate."""

    users: TokenBuckets
    addresses: TokenBuckets
