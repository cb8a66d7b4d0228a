"""When a Replicate call is tried again, and how long to wait first.

Throttling (429), server errors (5xx) and network errors are transient; anything else the provider
says (a bad token, a refused input) will not change by asking again. Waits grow exponentially with
full jitter so throttled workers do not come back in step, except that a 429's `Retry-After` is
honoured as given, capped so that a bad header cannot park a worker.
"""

from __future__ import annotations

import email.utils
import random
import time

import httpx
from replicate.exceptions import ReplicateError


class RateLimited(Exception):
    """HTTP 429, with the wait the server asked for (None when it did not say)."""

    def __init__(self, retry_after_s: float | None) -> None:
        super().__init__("throttled (HTTP 429)")
        self.retry_after_s = retry_after_s


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header in seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
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
    return isinstance(error, (httpx.TransportError, TimeoutError))


def may_have_landed(error: BaseException) -> bool:
    """Whether a create that failed this way may still have created a prediction: a 429 or a 4xx
    was refused before anything ran, but a lost answer (timeout, dropped connection, 5xx) says nothing."""
    status = http_status(error)
    return status is None or status >= 500


def wait_before_retry(error: BaseException, attempt: int, base_s: float, longest_s: float) -> float:
    """Seconds to wait before attempt `attempt + 1`: Retry-After when given, else full-jitter backoff."""
    if isinstance(error, RateLimited) and error.retry_after_s is not None:
        return min(error.retry_after_s, longest_s)
    return random.uniform(0, min(longest_s, base_s * 2 ** (attempt - 1)))
