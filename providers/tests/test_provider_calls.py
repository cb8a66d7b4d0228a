"""Provider calls: the retry policy (Retry-After honoured and capped, only transient errors retried),
a span per attempt under the call's span, the concurrency limit, and the latency/error metrics."""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from adgen_kernel.telemetry import setup_tracing
from adgen_providers.provider_calls import (
    ProviderCalls,
    RateLimited,
    RetryPolicy,
    http_status,
    is_transient,
    may_have_landed,
    provider_call,
    raise_when_throttled,
    retry_after_seconds,
)

EXPORTER = InMemorySpanExporter()


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    """A finished span's attributes: the SDK's are always a mapping, the API's type allows None."""
    assert span.attributes is not None
    return span.attributes


@pytest.fixture(scope="module", autouse=True)
def tracing() -> None:
    setup_tracing("providers-tests", processor=SimpleSpanProcessor(EXPORTER))


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    EXPORTER.clear()
    yield EXPORTER


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scripted_client(*answers: httpx.Response) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    """An httpx client (with the throttling hook, as the SDKs get it) whose server answers in order."""
    sent: list[httpx.Request] = []
    queue = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return queue.pop(0)

    client = httpx.AsyncClient(
        transport=httpx.MockTransport(answer),
        base_url="http://provider.test",
        event_hooks={"response": [raise_when_throttled]},
    )
    return client, sent


async def post(client: httpx.AsyncClient) -> dict:
    response = await client.post("/v1/predictions", json={"input": {}})
    response.raise_for_status()
    return response.json()


def by_name(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name == name]


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("1.5") == 1.5
    now = 1_700_000_000.0
    assert retry_after_seconds(email.utils.formatdate(now + 5, usegmt=True), now=now) == 5.0
    assert retry_after_seconds(email.utils.formatdate(now - 5, usegmt=True), now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_transient_errors_are_throttling_server_and_network_failures() -> None:
    class SdkError(Exception):  # the shape of replicate.ReplicateError / openai.APIStatusError
        def __init__(self, status: int) -> None:
            self.status = status

    assert http_status(RateLimited(None)) == 429 and is_transient(RateLimited(None))
    assert is_transient(SdkError(503)) and not is_transient(SdkError(401)) and not is_transient(SdkError(422))
    assert is_transient(httpx.ConnectError("refused")) and is_transient(TimeoutError())
    assert not is_transient(ValueError("a bug"))
    assert may_have_landed(TimeoutError()) and may_have_landed(SdkError(502))
    assert not may_have_landed(RateLimited(1.0)) and not may_have_landed(SdkError(400))


async def test_a_429_is_retried_after_its_retry_after_with_a_span_per_attempt(spans: InMemorySpanExporter) -> None:
    client, sent = scripted_client(
        httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(201, json={"id": "p1"})
    )
    # A backoff of 100 s would make any wait but the server's visible.
    calls = ProviderCalls("replicate", RetryPolicy(max_attempts=3, backoff_s=100.0), concurrency=2)
    with capture_logs() as logs:
        async with calls.call("owner/model") as call:
            created = await call.request("create", lambda: post(client))
            call.billed(190_000)
    await client.aclose()

    assert created == {"id": "p1"} and len(sent) == 2
    [retry] = [line for line in logs if line["event"] == "retrying provider request"]
    assert (retry["call"], retry["attempt"], retry["retry_in_s"]) == ("create", 1, 0.0)

    [outer] = by_name(spans, "predict owner/model")
    attempts = sorted(by_name(spans, "replicate create"), key=lambda s: attrs(s)["adgen.attempt"])
    assert [attrs(s)["adgen.attempt"] for s in attempts] == [1, 2]
    assert all(s.parent is not None and s.parent.span_id == outer.context.span_id for s in attempts)
    assert all(s.kind == SpanKind.CLIENT for s in (outer, *attempts))
    throttled, answered = attempts
    assert throttled.status.status_code == StatusCode.ERROR
    assert attrs(throttled)["http.response.status_code"] == 429
    assert attrs(throttled)["error.type"] == "429"
    assert answered.status.status_code == StatusCode.UNSET
    assert "http.response.status_code" not in attrs(answered)
    assert outer.status.status_code == StatusCode.UNSET
    assert dict(attrs(outer)) == {
        "adgen.provider": "replicate",
        "adgen.model": "owner/model",
        "adgen.operation": "predict",
        "gen_ai.request.model": "owner/model",
        "adgen.cost_usd": 0.19,
    }


async def test_a_long_retry_after_is_capped() -> None:
    client, _ = scripted_client(
        httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(201, json={"id": "p1"})
    )
    calls = ProviderCalls("replicate", RetryPolicy(backoff_s=0.0, longest_wait_s=0.01), concurrency=1)
    with capture_logs() as logs:
        async with calls.call("owner/model") as call:
            await call.request("create", lambda: post(client))
    await client.aclose()
    [retry] = [line for line in logs if line["event"] == "retrying provider request"]
    assert retry["retry_in_s"] == 0.01


async def test_a_refusal_is_not_retried_and_fails_the_call_with_its_status(spans: InMemorySpanExporter) -> None:
    labels = {"provider": "replicate", "model": "owner/refusing"}
    failures = sample("adgen_provider_call_errors_total", **labels, status="422")
    client, sent = scripted_client(httpx.Response(422, json={"detail": "bad input"}))
    calls = ProviderCalls("replicate", RetryPolicy(max_attempts=4, backoff_s=0.0), concurrency=1)
    with pytest.raises(httpx.HTTPStatusError):
        async with calls.call("owner/refusing") as call:
            await call.request("create", lambda: post(client))
    await client.aclose()

    assert len(sent) == 1
    [attempt] = by_name(spans, "replicate create")
    [outer] = by_name(spans, "predict owner/refusing")
    for span in (attempt, outer):
        assert span.status.status_code == StatusCode.ERROR
        assert attrs(span)["http.response.status_code"] == 422
    assert "adgen.cost_usd" not in attrs(outer)
    assert sample("adgen_provider_call_errors_total", **labels, status="422") - failures == 1


async def test_server_errors_past_the_budget_raise_the_last_one(spans: InMemorySpanExporter) -> None:
    client, sent = scripted_client(*[httpx.Response(503)] * 3)
    calls = ProviderCalls("replicate", RetryPolicy(max_attempts=3, backoff_s=0.0), concurrency=1)
    with pytest.raises(httpx.HTTPStatusError) as raised:
        async with calls.call("owner/down") as call:
            await call.request("poll", lambda: post(client))
    await client.aclose()
    assert raised.value.response.status_code == 503 and len(sent) == 3
    attempts = by_name(spans, "replicate poll")
    assert sorted(attrs(s)["adgen.attempt"] for s in attempts) == [1, 2, 3]
    assert {attrs(s)["http.response.status_code"] for s in attempts} == {503}


async def test_recover_finds_what_a_lost_attempt_did_instead_of_asking_again() -> None:
    client, sent = scripted_client(httpx.Response(502), httpx.Response(201, json={"id": "second"}))
    asked: list[int | None] = []

    async def look_it_up(error: BaseException) -> dict | None:
        asked.append(http_status(error))
        return {"id": "found"}

    calls = ProviderCalls("replicate", RetryPolicy(max_attempts=3, backoff_s=0.0), concurrency=1)
    async with calls.call("owner/model") as call:
        created = await call.request("create", lambda: post(client), recover=look_it_up)
    await client.aclose()
    assert created == {"id": "found"} and asked == [502] and len(sent) == 1


async def test_at_most_concurrency_calls_of_one_model_run_at_once() -> None:
    calls = ProviderCalls("replicate", RetryPolicy(), concurrency=1)
    release = asyncio.Event()
    entered: list[str] = []

    async def hold(model: str, label: str) -> None:
        async with calls.call(model):
            entered.append(label)
            await release.wait()

    tasks = [
        asyncio.create_task(hold("owner/a", "a1")),
        asyncio.create_task(hold("owner/a", "a2")),
        asyncio.create_task(hold("owner/b", "b1")),
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    assert sorted(entered) == ["a1", "b1"]  # another model has its own slots; a2 waits
    release.set()
    await asyncio.gather(*tasks)
    assert sorted(entered) == ["a1", "a2", "b1"]


def test_provider_calls_are_timed_and_failures_counted_by_status(spans: InMemorySpanExporter) -> None:
    class Throttled(Exception):
        status_code = 429

    labels = {"provider": "openai", "model": "timer-test"}
    calls = sample("adgen_provider_call_duration_seconds_count", **labels)
    with provider_call("openai", "timer-test", "chat") as call:
        call.attempted(2)
    with pytest.raises(Throttled), provider_call("openai", "timer-test", "chat"):
        raise Throttled
    with pytest.raises(TimeoutError), provider_call("openai", "timer-test", "chat"):
        raise TimeoutError
    assert sample("adgen_provider_call_duration_seconds_count", **labels) - calls == 3
    assert sample("adgen_provider_call_errors_total", **labels, status="429") == 1
    assert sample("adgen_provider_call_errors_total", **labels, status="TimeoutError") == 1
    chats = by_name(spans, "chat timer-test")
    assert [attrs(s).get("adgen.attempt") for s in chats] == [2, None, None]
    assert [attrs(s).get("error.type") for s in chats] == [None, "429", "TimeoutError"]
