"""When a provider call is tried again, and how long to wait first.

Throttling (429), server errors (5xx) and network errors are transient; anything else a provider
says (a bad token, a refused input, a failed prediction) will not change by asking again. Waits grow
exponentially with full jitter, so many workers throttled together do not come back in step, except
that a 429's `Retry-After` is honoured as given (capped, so a bad header cannot park a worker).
"""

from __future__ import annotations

import email.utils
import time

import httpx
from replicate.exceptions import ReplicateError
from tenacity import RetryCallState
from tenacity.wait import wait_base


class RateLimited(Exception):
    """HTTP 429, with the wait the server asked for (None when it did not say)."""

    def __init__(self, retry_after_s: float | None, detail: str) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s
        self.detail = detail


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header in seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def http_status(error: BaseException) -> int | None:
    if isinstance(error, RateLimited):
        return 429
    if isinstance(error, ReplicateError):
        return error.status
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code
    return None


def is_transient(error: BaseException) -> bool:
    status = http_status(error)
    if status is not None:
        return status == 429 or status >= 500
    return isinstance(error, httpx.TransportError)


class wait_retry_after(wait_base):  # lower case, like tenacity's own wait strategies
    """The server's Retry-After when it gave one, else the fallback strategy."""

    def __init__(self, fallback: wait_base, longest_s: float) -> None:
        self._fallback = fallback
        self._longest_s = longest_s

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, RateLimited) and error.retry_after_s is not None:
            return min(error.retry_after_s, self._longest_s)
        return min(self._fallback(retry_state), self._longest_s)
