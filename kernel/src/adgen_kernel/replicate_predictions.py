"""Replicate predictions through the official SDK, as the storyboard's images and the chunks' clips use
them: one client set-up, one way to retry a request and say what it failed with, and the tagged create
that is looked up before it is posted again (replicate_tags says why).

What each service keeps to itself: its models and inputs, how it waits for a prediction, and what it
does with the output.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import replicate
from replicate.prediction import Prediction

from adgen_kernel.errors import FailedPrecondition, Unavailable
from adgen_kernel.logs import get_logger
from adgen_kernel.prediction_record import PredictionRecord
from adgen_kernel.provider_calls import ProviderCall, http_status, is_transient, may_have_landed, raise_when_throttled
from adgen_kernel.replicate_tags import TAG_INPUT, find_by_tag

log = get_logger(__name__)

T = TypeVar("T")


class ProviderUnavailable(Unavailable):
    """Replicate stayed throttled, erroring or unreachable past the retries, or a prediction failed in a
    way another prediction may not (a crash, a deadline)."""


class PredictionRefused(FailedPrecondition):
    """Replicate answered, and the answer will stay no: a refused request or input, or an output that
    cannot be used."""


def client(
    api_token: str, base_url: str | None, request_timeout_s: float, cancel_after_s: float | None = None
) -> replicate.Client:
    """The SDK's client. It does not retry a throttled POST and drops the headers: the response hook
    keeps Retry-After. With `cancel_after_s`, every create carries a `Cancel-After` deadline, so
    Replicate itself stops a prediction nobody waits for any more."""
    hooks: dict[str, list[Callable[..., Any]]] = {"response": [raise_when_throttled]}
    if cancel_after_s is not None:
        cancel_after = f"{max(5, round(cancel_after_s))}s"

        async def deadline_on_create(request: httpx.Request) -> None:
            if request.method == "POST" and request.url.path.endswith("/predictions"):
                request.headers["Cancel-After"] = cancel_after

        hooks["request"] = [deadline_on_create]
    return replicate.Client(
        api_token=api_token, base_url=base_url, timeout=httpx.Timeout(request_timeout_s), event_hooks=hooks
    )


def first_url(output: Any) -> str | None:
    """The URL a prediction's output names: the output itself, or the first of a list."""
    if isinstance(output, str):
        return output
    if isinstance(output, list) and output and isinstance(output[0], str):
        return output[0]
    return None


def as_provider_error(what: str, error: BaseException, attempts: int) -> BaseException:
    """What a request finally failed with, said as a provider error; anything else as it is."""
    status = http_status(error)
    if isinstance(error, replicate.exceptions.ReplicateError):
        said = f"HTTP {status} {error.title or ''}: {error.detail or ''}".replace(" :", ":")
    elif status is not None:
        said = f"HTTP {status}"
    else:
        said = str(error) or type(error).__name__
    if is_transient(error):
        return ProviderUnavailable(f"{what}: {said} (gave up after {attempts} attempts)")
    if status is not None:
        return PredictionRefused(f"{what}: Replicate refused the request: {said}")
    return error


class ReplicatePredictions:
    """Requests about predictions, each under a ProviderCall's retry policy."""

    def __init__(self, sdk: replicate.Client, *, request_timeout_s: float, max_attempts: int) -> None:
        self.sdk = sdk
        self._request_timeout_s = request_timeout_s
        self._max_attempts = max_attempts

    async def aclose(self) -> None:
        await self.sdk._async_client.aclose()  # the SDK offers no public close

    async def request(
        self,
        call: ProviderCall,
        name: str,
        send: Callable[[], Awaitable[T]],
        recover: Callable[[BaseException], Awaitable[T | None]] | None = None,
    ) -> T:
        """`send()` under the retry policy (only for requests that are safe to repeat, or that `recover`
        finds the result of); what it finally fails with, said as a provider error."""
        try:
            return await call.request(name, send, recover=recover)
        except Exception as error:
            mapped = as_provider_error(f"{call.model} {name}", error, self._max_attempts)
            if mapped is error:
                raise
            raise mapped from error

    async def get(self, call: ProviderCall, prediction_id: str) -> Prediction:
        return await self.request(call, "poll", lambda: self.sdk.predictions.async_get(prediction_id))

    async def find(self, call: ProviderCall, tag: str) -> Prediction | None:
        """The newest live prediction carrying `tag`, among the recent ones."""

        def page(cursor: Any) -> Awaitable[Any]:
            return self.request(call, "list", lambda: self.sdk.predictions.async_list(cursor))

        return await find_by_tag(page, tag)

    async def create(
        self, call: ProviderCall, model: str, inputs: dict[str, Any], tag: str, record: PredictionRecord
    ) -> Prediction:
        """A prediction of `model` carrying `tag`, recorded before it is sent and once it answers. A create
        whose answer may be lost (a timeout, a dropped connection, a 5xx) is looked up by its tag before
        it is posted again: a lost create is paid for, and must be used."""
        tagged = {**inputs, TAG_INPUT: tag}
        await record.begin(tag)

        async def send() -> Prediction:
            # The SDK sends creates without a timeout; an answer that does not come counts as lost.
            return await asyncio.wait_for(
                self.sdk.models.predictions.async_create(model=model, input=tagged), self._request_timeout_s
            )

        async def look_for_it(error: BaseException) -> Prediction | None:
            if not may_have_landed(error):
                return None
            found = await self.find(call, tag)
            if found is not None:
                log.info("a lost create was found by its tag", model=model, tag=tag, prediction=found.id)
            return found

        prediction = await self.request(call, "create", send, recover=look_for_it)
        await record.created(prediction.id)
        return prediction
