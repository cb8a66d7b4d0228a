"""Provider faults at a rate, for the local fake servers: reproducible, counted, one draw per request.

A `Faults` has one `rate` (the share of requests that go wrong) and per-kind `weights` (how the
wrong ones are shared among the kinds). Each request asks `draw(kinds)` with the kinds that make
sense for it (a create can be throttled, fail or time out; an output download can be truncated);
the seeded RNG makes a run with the same seed and the same request order draw the same faults.

    faults = Faults(rate=0.3, seed=7)
    FakeReplicate(faults=faults)  # or fake.faults = faults later; Faults() injects nothing
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["rate_limit", "server_error", "timeout", "fail", "truncate"]
KINDS: tuple[FaultKind, ...] = ("rate_limit", "server_error", "timeout", "fail", "truncate")


def _even_weights() -> dict[str, float]:
    return dict.fromkeys(KINDS, 1.0)


@dataclass
class Faults:
    """`rate` of requests get a fault; `weights` share them among the kinds a request allows.

    `retry_after_s` is what a 429 asks for; `timeout_s` how long a `timeout` reply is held back
    (set it above the client's request timeout); a `server_error` answers one of `statuses`.
    """

    rate: float = 0.0
    weights: Mapping[str, float] = field(default_factory=_even_weights)
    seed: int = 0
    retry_after_s: float = 1.0
    timeout_s: float = 3.0
    statuses: tuple[int, ...] = (500, 502, 503)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], not {self.rate}")
        unknown = set(self.weights) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; expected some of {KINDS}")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()  # kind -> how many were injected

    def draw(self, kinds: tuple[FaultKind, ...]) -> FaultKind | None:
        """The fault this request gets (one of `kinds`), or None; counted in `injected`."""
        allowed = [k for k in kinds if self.weights.get(k, 0.0) > 0]
        with self._lock:
            roll = self._rng.random()
            if not allowed or roll >= self.rate:
                return None
            kind = self._rng.choices(allowed, weights=[self.weights[k] for k in allowed])[0]
            self.injected[kind] += 1
            return kind

    def status(self) -> int:
        with self._lock:
            return self._rng.choice(self.statuses)

    def summary(self) -> dict[str, int]:
        with self._lock:
            return dict(self.injected)
