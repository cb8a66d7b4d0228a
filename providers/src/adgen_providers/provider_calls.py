"""Calls to model providers (Replicate, OpenAI, …): retries, concurrency, spans and metrics, one way.

A *call* is one unit of paid work: a prediction from create to output bytes, a chat completion. It
is a CLIENT span `"{operation} {model}"` (adgen.provider, adgen.model, gen_ai.request.model,
adgen.cost_usd once billed), timed and counted by model in the provider metrics, failed with the
HTTP status when it raises. Inside a call, every HTTP *request* (create, poll, output, …) is tried
under the retry policy, and every attempt is its own CLIENT span `"{provider} {request}"` carrying
adgen.attempt (1-based) and, when it failed, http.response.status_code and error.type. Both kinds of
span are `client_span`, the one way an outbound provider span is opened and failed.

    REPLICATE = ProviderCalls("replicate", RetryPolicy(max_attempts=4, backoff_s=1.0), concurrency=4)
    client = replicate.Client(api_token=..., event_hooks={"response": [raise_when_throttled]})

    async with REPLICATE.call(model) as call:  # holds one of the model's slots throughout
        prediction = await call.request("create", lambda: client.models.predictions.async_create(...))
        ...
        call.billed(price_micros)  # the ledger amount, once the result is kept

The retry policy: throttling (429), server errors (5xx), network errors and timeouts are transient,
anything else a provider says (a bad token, a refused input) will not change by asking again. Waits
grow exponentially with full jitter (many throttled workers do not come back in step), except that a
429's Retry-After is honoured as given, capped so that a bad header cannot park a worker. SDKs that
drop the headers of a throttled answer get `raise_when_throttled` as an httpx response hook, which
keeps Retry-After in a `RateLimited`. A request that is not safe to repeat (a create that may have
landed) passes `recover`, asked after each transient failure for the result that may exist already.

`provider_call` is the same span and metrics for a call whose SDK retries by itself (OpenAI): the
caller reports the attempts the SDK took with `call.attempted(n)`.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TypeVar

import httpx
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential
from tenacity.wait import wait_base

from adgen_kernel.logs import get_logger
from adgen_kernel.metrics import PROVIDER_DURATION, PROVIDER_ERRORS

T = TypeVar("T")

log = get_logger(__name__)
_tracer = trace.get_tracer("adgen.provider_calls")


# ---------------------------------------------------------------------------------- the retry policy


class RateLimited(Exception):
    """HTTP 429, with the wait the server asked for (None when it did not say)."""

    def __init__(self, retry_after_s: float | None, detail: str = "throttled (HTTP 429)") -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s
        self.detail = detail


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


async def raise_when_throttled(response: httpx.Response) -> None:
    """httpx response hook: a 429 becomes `RateLimited` with the Retry-After the SDK would drop."""
    if response.status_code == 429:
        raise RateLimited(retry_after_seconds(response.headers.get("Retry-After")))


def http_status(error: BaseException) -> int | None:
    """The HTTP status a provider answered with, whatever SDK raised it; None when none came."""
    if isinstance(error, RateLimited):
        return 429
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code
    for name in ("status_code", "status"):  # openai.APIStatusError, replicate.ReplicateError
        status = getattr(error, name, None)
        if isinstance(status, int) and not isinstance(status, bool):
            return status
    return None


def is_transient(error: BaseException) -> bool:
    status = http_status(error)
    if status is not None:
        return status == 429 or status >= 500
    return isinstance(error, (httpx.TransportError, TimeoutError))


# What a failed prediction says when asking again will not change it: the input itself was refused.
REFUSAL_MARKERS = ("nsfw", "sensitive", "flagged", "safety", "content policy", "invalid input")


def is_refusal(reason: str) -> bool:
    """Whether a provider's failure reason refuses the input (permanent), rather than a crash."""
    text = reason.lower()
    return any(marker in text for marker in REFUSAL_MARKERS)


def may_have_landed(error: BaseException) -> bool:
    """Whether a create that failed this way may still have created something: a 429 or a 4xx was
    refused before anything ran, but a lost answer (timeout, dropped connection, 5xx) says nothing."""
    status = http_status(error)
    return status is None or status >= 500


class wait_retry_after(wait_base):  # lower case, like tenacity's own wait strategies
    """The server's Retry-After when it gave one, else the fallback strategy; both capped."""

    def __init__(self, fallback: wait_base, longest_s: float) -> None:
        self._fallback = fallback
        self._longest_s = longest_s

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, RateLimited) and error.retry_after_s is not None:
            return min(error.retry_after_s, self._longest_s)
        return min(self._fallback(retry_state), self._longest_s)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_s: float = 1.0
    longest_wait_s: float = 60.0

    def wait(self) -> wait_base:
        """Retry-After when a 429 named it, else full-jitter exponential backoff; never past `longest_wait_s`."""
        return wait_retry_after(
            wait_random_exponential(multiplier=self.backoff_s, max=self.longest_wait_s), self.longest_wait_s
        )


# ---------------------------------------------------------------------------------- spans and metrics


def _error_label(error: BaseException) -> str:
    """What a failure is counted under: the HTTP status the provider answered, else the error's type."""
    status = http_status(error)
    return str(status) if status is not None else type(error).__name__


@contextmanager
def client_span(name: str, attributes: Mapping[str, str | int]) -> Iterator[Span]:
    """The CLIENT span of one outbound provider call or request, failed with the HTTP status (or the
    error's type) when it raises; a cancelled task's span is left unset, nothing failed."""
    with _tracer.start_as_current_span(
        name, kind=SpanKind.CLIENT, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            yield span
        except Exception as error:
            status = http_status(error)
            span.set_status(Status(StatusCode.ERROR, f"HTTP {status}" if status is not None else type(error).__name__))
            span.set_attribute("error.type", str(status) if status is not None else type(error).__qualname__)
            if status is not None:
                span.set_attribute("http.response.status_code", status)
            span.record_exception(error)
            raise


class ProviderCall:
    """One call in progress: its span, and the retried requests made for it."""

    def __init__(self, provider: str, model: str, span: Span, policy: RetryPolicy | None) -> None:
        self.provider = provider
        self.model = model
        self.span = span
        self._policy = policy

    def billed(self, usd_micros: int) -> None:
        """The ledger amount of this call, once its result is kept."""
        self.span.set_attribute("adgen.cost_usd", usd_micros / 1_000_000)

    def attempted(self, attempts: int) -> None:
        """How many attempts an SDK that retries by itself took (the call's span then stands for all)."""
        self.span.set_attribute("adgen.attempt", attempts)

    async def request(
        self,
        name: str,
        send: Callable[[], Awaitable[T]],
        *,
        recover: Callable[[BaseException], Awaitable[T | None]] | None = None,
    ) -> T:
        """`send()`, tried again under the policy on transient errors, one span per attempt; raises the
        last error when it gives up. `recover(error)`, after a transient failure, may return the result
        the failed attempt produced anyway (then no more attempts are made)."""
        assert self._policy is not None, "requests need a retry policy (use ProviderCalls.call)"
        policy = self._policy
        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.max_attempts),
            wait=policy.wait(),
            retry=retry_if_exception(is_transient),
            before_sleep=lambda state: self._log_retry(name, state),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                try:
                    return await self._attempt(name, send, attempt.retry_state.attempt_number)
                except Exception as error:
                    if recover is None or not is_transient(error):
                        raise
                    found = await recover(error)
                    if found is None:
                        raise
                    return found
        raise AssertionError("tenacity ended without a result")

    async def _attempt(self, name: str, send: Callable[[], Awaitable[T]], number: int) -> T:
        attributes: dict[str, str | int] = {
            "adgen.provider": self.provider,
            "adgen.model": self.model,
            "adgen.attempt": number,
        }
        with client_span(f"{self.provider} {name}", attributes):
            return await send()

    def _log_retry(self, name: str, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info(
            "retrying provider request",
            provider=self.provider,
            model=self.model,
            call=name,
            attempt=state.attempt_number,
            retry_in_s=wait,
            error=str(error),
        )


@contextmanager
def provider_call(
    provider: str, model: str, operation: str = "predict", *, policy: RetryPolicy | None = None
) -> Iterator[ProviderCall]:
    """The span and metrics of one call: timed, and counted as an error by status when it raises."""
    attributes = {
        "adgen.provider": provider,
        "adgen.model": model,
        "adgen.operation": operation,
        "gen_ai.request.model": model,
    }
    start = time.perf_counter()
    try:
        with client_span(f"{operation} {model}", attributes) as span:
            yield ProviderCall(provider, model, span, policy)
    except Exception as error:
        PROVIDER_ERRORS.labels(provider, model, _error_label(error)).inc()
        raise
    finally:
        PROVIDER_DURATION.labels(provider, model).observe(time.perf_counter() - start)


class ProviderCalls:
    """One provider's calls from this process: its retry policy and at most `concurrency` calls per
    model at once (or across all its models, with `per_model=False`)."""

    def __init__(self, provider: str, policy: RetryPolicy, *, concurrency: int, per_model: bool = True) -> None:
        self.provider = provider
        self.policy = policy
        self._concurrency = concurrency
        self._per_model = per_model
        self._slots: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def call(self, model: str, operation: str = "predict") -> AsyncIterator[ProviderCall]:
        """One call, holding one of the model's slots throughout (waiting for a slot is not timed)."""
        slot = self._slots.setdefault(model if self._per_model else "", asyncio.Semaphore(self._concurrency))
        async with slot:
            with provider_call(self.provider, model, operation, policy=self.policy) as call:
                yield call
