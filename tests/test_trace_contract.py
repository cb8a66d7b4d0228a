"""One video is one trace: the request, every work hop, every gRPC call, every Postgres statement and
S3 call in between, each span under the span that caused it, and every provider call with its model,
attempts and cost. The table below is the contract dashboards and alerts are built on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from conftest import Stack
from driven import driven_chunks
from fakes.replicate_api import FakeReplicate, Script
from fixtures.replicate import video_config
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from structlog.testing import capture_logs
from test_chunks_replicate import chunk_ledger, new_video, planned_spec

from adgen.events.v1 import events_pb2
from adgen_chunks.model_registry import REGISTRY
from adgen_chunks.worker import Chunks
from adgen_kernel.jetstream import WorkContext

PLAN_CHUNKS = "/adgen.chunks.v1.ChunksService/PlanChunks"
HAILUO = REGISTRY["hailuo_fast"]

# (span, its parent) pairs every video's trace must contain; `{vid}` stands for the video id and
# `{db}` for the database's name (a statement's span is "{operation} {database}").
EXPECTED_EDGES = {
    ("fastapi.endpoint", "POST /v1/videos"),
    ("send adgen.work.plan", "fastapi.endpoint"),
    ("process adgen.work.plan", "send adgen.work.plan"),
    (PLAN_CHUNKS, "process adgen.work.plan"),  # the planner's client span
    (PLAN_CHUNKS, PLAN_CHUNKS),  # the chunks service's server span under it
    ("send adgen.work.frame", "process adgen.work.plan"),
    ("send adgen.events.{vid}.video_planned", "process adgen.work.plan"),
    ("process adgen.work.frame", "send adgen.work.frame"),
    ("send adgen.work.chunk", "process adgen.work.frame"),
    ("send adgen.events.{vid}.frame_ready", "process adgen.work.frame"),
    ("process adgen.work.chunk", "send adgen.work.chunk"),
    ("send adgen.events.{vid}.chunk_ready", "process adgen.work.chunk"),
    ("send adgen.work.refine", "process adgen.work.chunk"),
    ("process adgen.work.refine", "send adgen.work.refine"),
    ("send adgen.work.export", "process adgen.work.refine"),
    ("process adgen.work.export", "send adgen.work.export"),
    ("send adgen.events.{vid}.video_completed", "process adgen.work.export"),
    ("process adgen.events.{vid}.video_completed", "send adgen.events.{vid}.video_completed"),
    # Postgres statements, under the request or work item that ran them
    ("INSERT {db}", "fastapi.endpoint"),  # the video row
    ("BEGIN {db}", "process adgen.work.plan"),
    ("UPDATE {db}", "process adgen.work.plan"),  # the plan recorded
    ("INSERT {db}", "process adgen.work.plan"),
    ("UPDATE {db}", "process adgen.work.frame"),
    ("UPDATE {db}", "process adgen.work.chunk"),
    ("WITH {db}", "process adgen.work.export"),  # the completion: the video marked, its version kept
    # S3 calls
    ("S3.PutObject", "process adgen.work.frame"),  # the storyboard image
    ("S3.GetObject", "process adgen.work.chunk"),  # a chunk's init image
    ("S3.PutObject", "process adgen.work.chunk"),  # the clip
    ("S3.PutObject", "process adgen.work.refine"),
    ("S3.PutObject", "process adgen.work.export"),  # the final video
}
ONE_EACH = ("process adgen.work.plan", "process adgen.work.refine", "process adgen.work.export")


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    """A finished span's attributes: the SDK's are always a mapping, the API's type allows None."""
    assert span.attributes is not None
    return span.attributes


async def test_one_video_is_one_trace_with_the_expected_tree(stack: Stack, spans: InMemorySpanExporter) -> None:
    async with stack.client(await stack.new_user("trace-contract")) as client:
        created = await client.post("/v1/videos", json={"prompt": "15 second ad for a linen shirt", "duration_s": 15})
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        async with asyncio.timeout(120):
            while (video := (await client.get(f"/v1/videos/{video_id}")).json())["status"] not in (
                "completed",
                "failed",
            ):
                await asyncio.sleep(0.25)
    assert video["status"] == "completed", video

    async with asyncio.timeout(10):  # the last consumer spans end just after the status flips
        while True:
            finished = spans.get_finished_spans()
            mine = [s for s in finished if attrs(s).get("adgen.video_id") == video_id]
            if mine:
                trace_id = mine[0].context.trace_id
                trace = [s for s in finished if s.context.trace_id == trace_id]
                names = {s.name for s in trace}
                if {"process adgen.work.export", f"process adgen.events.{video_id}.video_completed"} <= names:
                    break
            await asyncio.sleep(0.1)

    by_id = {s.context.span_id: s for s in trace}
    edges = {
        (s.name, by_id[s.parent.span_id].name) for s in trace if s.parent is not None and s.parent.span_id in by_id
    }
    database = urlsplit(stack.endpoints.database_url).path.lstrip("/")
    expected = {
        (child.format(vid=video_id, db=database), parent.format(vid=video_id, db=database))
        for child, parent in EXPECTED_EDGES
    }
    assert expected - edges == set(), "missing parent links"

    assert [s.name for s in trace if s.parent is None] == ["POST /v1/videos"], "one root: the request"
    orphans = [s.name for s in trace if s.parent is not None and s.parent.span_id not in by_id]
    assert orphans == [], "every span's parent is in the same trace"
    assert not [s.name for s in trace if "grpc.health" in s.name], "health checks are not traced"
    for name in ONE_EACH:
        assert sum(s.name == name for s in trace) == 1, name
    chunk_count = len(video["spec"]["chunk_plan"]["slots"])
    assert sum(s.name == "process adgen.work.chunk" for s in trace) == chunk_count
    work_spans = [s for s in trace if s.name.startswith("process adgen.work.")]
    assert {attrs(s).get("adgen.video_id") for s in work_spans} == {video_id}

    statements = [s for s in trace if attrs(s).get("db.system.name") == "postgresql"]
    assert statements and all(s.kind == SpanKind.CLIENT for s in statements)
    for span in statements:
        assert span.name == f"{attrs(span)['db.operation.name']} {database}"
        assert attrs(span)["db.system"] == "postgresql" and attrs(span)["db.query.text"]
        assert attrs(span)["server.port"] == urlsplit(stack.endpoints.database_url).port
    s3_calls = [s for s in trace if attrs(s).get("rpc.system") == "aws-api"]
    assert s3_calls and all(s.kind == SpanKind.CLIENT for s in s3_calls)
    for span in s3_calls:
        assert span.name == f"S3.{attrs(span)['rpc.method']}" and attrs(span)["rpc.service"] == "S3"
        assert attrs(span)["aws.s3.bucket"] == stack.endpoints.s3_bucket
    storyboard_puts = [
        s
        for s in s3_calls
        if s.name == "S3.PutObject" and s.parent is not None and by_id[s.parent.span_id].name.endswith("frame")
    ]
    assert storyboard_puts and all(video_id in attrs(s)["aws.s3.key"] for s in storyboard_puts)
    # The prompt reached Postgres only as a parameter, and parameters are never recorded.
    recorded = repr([(s.attributes, [e.attributes for e in s.events]) for s in trace])
    assert "linen shirt" not in recorded
    assert stack.endpoints.s3_secret_key not in recorded


# ---------------------------------------------------------------------------------- provider calls


@pytest.fixture(scope="module")
async def replicate_chunks(stack: Stack, fake: FakeReplicate) -> AsyncIterator[Chunks]:
    """A Chunks rendering through the fake Replicate, driven by the test (no worker of its own)."""
    async with driven_chunks(stack, video_config(fake), "chunks-traced") as chunks:
        yield chunks


def descendants(spans: list[ReadableSpan], root: ReadableSpan) -> list[ReadableSpan]:
    by_parent: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        if span.parent is not None:
            by_parent.setdefault(span.parent.span_id, []).append(span)
    found, todo = [], [root.context.span_id]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            found.append(child)
            todo.append(child.context.span_id)
    return found


async def test_a_replicate_chunk_is_a_provider_call_with_model_attempts_and_cost(
    stack: Stack, spans: InMemorySpanExporter, fake: FakeReplicate, replicate_chunks: Chunks, db: asyncpg.Pool
) -> None:
    model = HAILUO.replicate_model
    spec = await planned_spec(stack, 10)
    user_id, video_id = await new_video(stack, db, spec)
    tracer = trace.get_tracer("tests")
    try:
        fake.script(model, Script("rate_limit", retry_after=0), Script("succeed"))
        work = events_pb2.ChunkWork(video_id=video_id, user_id=user_id, spec=spec, chunk_index=0)
        with capture_logs() as logs, tracer.start_as_current_span("chunk under test") as outer:
            await replicate_chunks.handle(work, WorkContext(delivery=1, subject="adgen.work.chunk"))
        [(_, provider, ledgered_model, _, usd_micros)] = await chunk_ledger(db, video_id)
    finally:
        await db.execute("UPDATE videos SET status = 'failed', error = 'test over' WHERE video_id = $1", video_id)

    trace_spans = [s for s in spans.get_finished_spans() if s.context.trace_id == outer.get_span_context().trace_id]
    [root] = [s for s in trace_spans if s.name == "chunk under test"]
    below = descendants(trace_spans, root)
    [call] = [s for s in below if s.name == f"predict {model}"]
    assert call.kind == SpanKind.CLIENT and call.status.status_code == StatusCode.UNSET
    assert (provider, ledgered_model) == ("replicate", model)
    assert dict(attrs(call)) == {
        "adgen.provider": "replicate",
        "adgen.model": model,
        "adgen.operation": "predict",
        "gen_ai.request.model": model,
        "adgen.cost_usd": usd_micros / 1_000_000,  # the ledger's amount for this clip: $0.19
    }
    assert usd_micros == 190_000

    requests = [
        s
        for s in below
        if s.parent is not None and s.parent.span_id == call.context.span_id and s.name.startswith("replicate ")
    ]
    creates = sorted((s for s in requests if s.name == "replicate create"), key=lambda s: attrs(s)["adgen.attempt"])
    assert [attrs(s)["adgen.attempt"] for s in creates] == [1, 2]
    throttled, created = creates
    assert throttled.status.status_code == StatusCode.ERROR
    assert (attrs(throttled)["http.response.status_code"], attrs(throttled)["error.type"]) == (429, "429")
    assert created.status.status_code == StatusCode.UNSET
    assert throttled.end_time is not None and created.start_time is not None
    assert throttled.end_time <= created.start_time  # the second attempt came after the first failed
    polls = [s for s in requests if s.name == "replicate poll"]
    [output] = [s for s in requests if s.name == "replicate output"]
    assert polls and all(attrs(s)["adgen.attempt"] == 1 for s in (*polls, output))
    for span in requests:
        assert span.kind == SpanKind.CLIENT
        assert (attrs(span)["adgen.provider"], attrs(span)["adgen.model"]) == ("replicate", model)
    # The prediction id is written to the chunk's row inside the call, and the clip stored after it.
    assert any(
        attrs(s).get("db.operation.name") == "UPDATE"
        for s in below
        if s.parent is not None and s.parent.span_id == call.context.span_id
    )
    assert any(s.name == "S3.PutObject" and video_id in attrs(s)["aws.s3.key"] for s in below)

    recorded = repr([(s.attributes, [e.attributes for e in s.events]) for s in trace_spans])
    for secret in (fake.token, stack.endpoints.s3_secret_key, stack.endpoints.s3_access_key):
        assert secret not in recorded
        assert secret not in repr(logs)
    [retry] = [line for line in logs if line["event"] == "retrying provider request"]
    assert (retry["model"], retry["call"], retry["attempt"], retry["retry_in_s"]) == (model, "create", 1, 0.0)
