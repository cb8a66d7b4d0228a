"""Whether one more upload fits in the user's storage quota (a count of assets and their bytes).

The library asks twice: before the objects are written (a cheap early refusal) and again inside the
transaction that inserts the row, holding the user's row lock, so concurrent uploads by one user
cannot together overshoot; a refusal there undoes the objects already written. The refusal is
RESOURCE_EXHAUSTED (HTTP 429) with a Retry-After: room appears only when the user deletes assets
(or a concurrent upload fails), so the hint only keeps clients from retrying in a tight loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from adgen_kernel.errors import ResourceExhausted

RETRY_AFTER_S = 60


@dataclass(frozen=True)
class Quota:
    max_assets: int
    max_bytes: int


@dataclass(frozen=True)
class Usage:
    assets: int
    bytes: int


def _size(n: int) -> str:
    return f"{n / 1024**2:.1f} MiB" if n < 1024**3 else f"{n / 1024**3:.2f} GiB"


def check(quota: Quota, used: Usage, incoming_bytes: int) -> None:
    """Refuses an upload of `incoming_bytes` that would take `used` past `quota`, saying how to make room."""
    if used.assets + 1 > quota.max_assets:
        raise ResourceExhausted(
            f"asset quota: {used.assets} of {quota.max_assets} assets stored; delete some before uploading more",
            retry_after_s=RETRY_AFTER_S,
        )
    if used.bytes + incoming_bytes > quota.max_bytes:
        raise ResourceExhausted(
            f"asset quota: {_size(used.bytes)} of {_size(quota.max_bytes)} stored and this upload needs "
            f"{_size(incoming_bytes)}; delete some assets before uploading more",
            retry_after_s=RETRY_AFTER_S,
        )
