"""Replicate predictions through the official SDK, as the storyboard's images, the chunks' clips and
refine's music bed use them: one settings block and config, one client set-up, one way to retry a
request and say what it failed with, and one life of a paid prediction — resumed from its record,
found again by its tag when a create's answer was lost (replicate_tags says why), or created; waited
for within a deadline; its output downloaded.

What each service keeps to itself: its models and inputs, its defaults, and what it does with the
output.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Self, TypeVar

import httpx
import replicate
from pydantic import Field, SecretStr
from replicate.helpers import FileOutput
from replicate.prediction import Prediction

from adgen_kernel.errors import FailedPrecondition, Unavailable
from adgen_kernel.logs import get_logger
from adgen_kernel.settings import ServiceSettings
from adgen_providers.prediction_record import PredictionRecord
from adgen_providers.provider_calls import (
    ProviderCall,
    ProviderCalls,
    RateLimited,
    RetryPolicy,
    http_status,
    is_refusal,
    is_transient,
    may_have_landed,
    raise_when_throttled,
)
from adgen_providers.replicate_tags import PREDICTION_TERMINAL_STATUSES, TAG_INPUT, UNSUCCESSFUL, find_by_tag

log = get_logger(__name__)

T = TypeVar("T")


class ReplicateSettings(ServiceSettings):
    """The ADGEN_REPLICATE_* settings of a service that calls Replicate; a service overrides the
    defaults its predictions need (how long one may take, how often it is polled)."""

    replicate_api_token: SecretStr | None = Field(
        default=None, description="Replicate API token; without one the studio providers render"
    )
    replicate_base_url: str | None = Field(default=None, description="Replicate API base URL (a local fake in tests)")
    replicate_concurrency: int = Field(
        default=4, ge=1, description="predictions running at once in one process (in chunks: per video model)"
    )
    replicate_timeout_s: float = Field(default=300.0, gt=0, description="a prediction not done by then is canceled")
    replicate_request_timeout_s: float = Field(
        default=30.0, gt=0, description="one HTTP request; a create that times out is looked up by its tag"
    )
    replicate_max_attempts: int = Field(default=4, ge=1, description="tries per request on 429, 5xx and network errors")
    replicate_backoff_s: float = Field(default=1.0, gt=0, description="first retry wait; doubles, with jitter")
    replicate_poll_interval_s: float = Field(default=1.0, gt=0, description="how often a running prediction is polled")
    replicate_longest_poll_s: float | None = Field(
        default=None, gt=0, description="when set, the wait between polls grows up to this; else it stays the same"
    )

    @property
    def replicate_configured(self) -> bool:
        """Whether a token is set (an empty one counts as none)."""
        return self.replicate_api_token is not None and bool(self.replicate_api_token.get_secret_value())


@dataclass(frozen=True, kw_only=True)
class ReplicateConfig:
    """What ReplicatePredictions works with: the settings' values (`from_settings`), or a test's."""

    api_token: str
    base_url: str | None = None
    concurrency: int = 4
    timeout_s: float = 300.0
    request_timeout_s: float = 30.0
    max_attempts: int = 4
    backoff_s: float = 1.0
    poll_interval_s: float = 1.0
    longest_poll_s: float | None = None
    longest_wait_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: ReplicateSettings, **extra: Any) -> Self:
        """The config of a service whose settings hold a token; `extra` fills a subclass's own fields."""
        assert settings.replicate_api_token is not None
        return cls(
            api_token=settings.replicate_api_token.get_secret_value(),
            base_url=settings.replicate_base_url,
            concurrency=settings.replicate_concurrency,
            timeout_s=settings.replicate_timeout_s,
            request_timeout_s=settings.replicate_request_timeout_s,
            max_attempts=settings.replicate_max_attempts,
            backoff_s=settings.replicate_backoff_s,
            poll_interval_s=settings.replicate_poll_interval_s,
            longest_poll_s=settings.replicate_longest_poll_s,
            **extra,
        )


@dataclass(frozen=True)
class PredictionOrder:
    """One unit's paid prediction: of `model` (of its pinned `version`, when given) on `inputs`,
    carrying `tag` (the same on every attempt at the unit), remembered in `record`."""

    model: str
    inputs: dict[str, Any]
    tag: str
    record: PredictionRecord
    version: str | None = None


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
    """One service's predictions: its SDK client, and its calls (each under the retry policy, at most
    `concurrency` at once per model, or across all models with `per_model=False`).

    With `provider_deadline`, every create carries `Cancel-After` at the config's timeout: a prediction
    past it is left to Replicate to stop (it is paid for, and a later attempt polls it again); without,
    it is canceled here."""

    def __init__(self, config: ReplicateConfig, *, per_model: bool = True, provider_deadline: bool = False) -> None:
        self._config = config
        self._provider_deadline = provider_deadline
        self._sdk = client(
            config.api_token,
            config.base_url,
            config.request_timeout_s,
            cancel_after_s=config.timeout_s if provider_deadline else None,
        )
        policy = RetryPolicy(config.max_attempts, config.backoff_s, config.longest_wait_s)
        self._calls = ProviderCalls("replicate", policy, concurrency=config.concurrency, per_model=per_model)

    async def aclose(self) -> None:
        await self._sdk._async_client.aclose()  # the SDK offers no public close

    def call(self, model: str, operation: str = "predict") -> AbstractAsyncContextManager[ProviderCall]:
        """One paid call of `model`, holding one of its slots throughout."""
        return self._calls.call(model, operation)

    async def _request(
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
            mapped = as_provider_error(f"{call.model} {name}", error, self._config.max_attempts)
            if mapped is error:
                raise
            raise mapped from error

    async def _get(self, call: ProviderCall, prediction_id: str) -> Prediction:
        return await self._request(call, "poll", lambda: self._sdk.predictions.async_get(prediction_id))

    async def _find(self, call: ProviderCall, tag: str) -> Prediction | None:
        """The newest live prediction carrying `tag`, among the recent ones."""

        def page(cursor: Any) -> Awaitable[Any]:
            return self._request(call, "list", lambda: self._sdk.predictions.async_list(cursor))

        return await find_by_tag(page, tag)

    async def _create(self, call: ProviderCall, order: PredictionOrder) -> Prediction:
        """The order's prediction, carrying its tag, recorded before it is sent and once it answers. A
        create whose answer may be lost (a timeout, a dropped connection, a 5xx) is looked up by its
        tag before it is posted again: a lost create is paid for, and must be used."""
        model, tag = order.model, order.tag
        tagged = {**order.inputs, TAG_INPUT: tag}
        await order.record.begin(tag)

        def post() -> Awaitable[Prediction]:
            if order.version is None:
                return self._sdk.models.predictions.async_create(model=model, input=tagged)
            return self._sdk.predictions.async_create(version=order.version, input=tagged)

        async def send() -> Prediction:
            # The SDK sends creates without a timeout; an answer that does not come counts as lost.
            return await asyncio.wait_for(post(), self._config.request_timeout_s)

        async def look_for_it(error: BaseException) -> Prediction | None:
            if not may_have_landed(error):
                return None
            found = await self._find(call, tag)
            if found is not None:
                log.info("a lost create was found by its tag", model=model, tag=tag, prediction=found.id)
            return found

        prediction = await self._request(call, "create", send, recover=look_for_it)
        await order.record.created(prediction.id)
        return prediction

    async def finished(self, call: ProviderCall, order: PredictionOrder) -> Prediction:
        """The order's prediction — the one its record holds, a lost create found by its tag, or a new
        one — once it has ended (succeeded, failed or canceled). One that has not ended within the
        config's timeout raises ProviderUnavailable."""
        model, record = order.model, order.record
        prediction: Prediction | None = None
        timeout_s = self._config.timeout_s
        try:
            async with asyncio.timeout(timeout_s):
                prediction = await self._prediction(call, order)
                return await self._ended(call, prediction)
        except TimeoutError:
            if prediction is None:
                raise ProviderUnavailable(f"{model}: no result within {timeout_s:g} s") from None
            if self._provider_deadline:
                raise ProviderUnavailable(
                    f"{model}: prediction {prediction.id} not finished within {timeout_s:g} s"
                ) from None
            if await self._cancel(prediction.id):
                await record.forget()  # canceled: the next attempt creates a new one
            raise ProviderUnavailable(
                f"{model}: no result within {timeout_s:g} s; prediction {prediction.id} canceled"
            ) from None

    async def output(self, call: ProviderCall, order: PredictionOrder, prediction: Prediction, what: str) -> bytes:
        """The file the order's ended prediction made (`what` it should name, e.g. "an image URL"). One
        that did not succeed is forgotten, so the next attempt creates another, and raised as what it
        means: a refused input or a prediction canceled by someone stays refused; a crash, or a
        deadline Replicate enforced, may not happen again."""
        model = order.model
        if prediction.status in UNSUCCESSFUL:
            await order.record.forget()
            reason = str(prediction.error or "no reason given")
            if prediction.status == "failed":
                message = f"{model}: prediction {prediction.id} failed: {reason}"
                raise PredictionRefused(message) if is_refusal(reason) else ProviderUnavailable(message)
            if self._provider_deadline:
                raise ProviderUnavailable(f"{model}: prediction {prediction.id} was canceled (past its deadline)")
            raise PredictionRefused(f"{model}: prediction {prediction.id} was canceled")
        url = first_url(prediction.output)
        if url is None:
            raise PredictionRefused(f"{model}: prediction {prediction.id} succeeded without {what}")
        return await self._request(call, "output", lambda: FileOutput(url, self._sdk).aread())

    async def _cancel(self, prediction_id: str) -> bool:
        """Asks Replicate to stop a prediction; whether it answered."""
        try:
            await asyncio.wait_for(self._sdk.predictions.async_cancel(prediction_id), timeout=10)
        except (replicate.exceptions.ReplicateError, httpx.HTTPError, RateLimited, TimeoutError) as error:
            log.warning("could not cancel a timed-out prediction", prediction=prediction_id, error=str(error))
            return False
        return True

    async def _prediction(self, call: ProviderCall, order: PredictionOrder) -> Prediction:
        """The recorded prediction when it carries the order's tag and has not failed, a lost create
        found by its tag, or a new one."""
        tag, record = order.tag, order.record
        recorded = await record.load()
        if recorded.tag == tag:
            if recorded.prediction_id:
                prediction = await self._get(call, recorded.prediction_id)
                if prediction.status not in UNSUCCESSFUL:
                    log.info("resuming a paid prediction", tag=tag, prediction=prediction.id)
                    return prediction
                await record.forget()
            else:
                found = await self._find(call, tag)
                if found is not None:
                    log.info("a lost create was found by its tag", tag=tag, prediction=found.id)
                    await record.created(found.id)
                    return found
        return await self._create(call, order)

    async def _ended(self, call: ProviderCall, prediction: Prediction) -> Prediction:
        """`prediction` polled until it has ended; the wait between polls grows up to the longest."""
        interval = self._config.poll_interval_s
        longest = self._config.longest_poll_s or interval
        while prediction.status not in PREDICTION_TERMINAL_STATUSES:
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, longest)
            prediction = await self._get(call, prediction.id)
        return prediction
