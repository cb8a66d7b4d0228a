"""One video is one trace: the request, every work hop and every gRPC call in between, each span under
the span that caused it. The table below is the contract dashboards and alerts are built on."""

from __future__ import annotations

import asyncio

from conftest import Stack
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

PLAN_CHUNKS = "/adgen.chunks.v1.ChunksService/PlanChunks"

# (span, its parent) pairs every video's trace must contain; `{vid}` stands for the video id.
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
}
ONE_EACH = ("process adgen.work.plan", "process adgen.work.refine", "process adgen.work.export")


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
            mine = [s for s in finished if s.attributes.get("adgen.video_id") == video_id]
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
    expected = {(child.format(vid=video_id), parent.format(vid=video_id)) for child, parent in EXPECTED_EDGES}
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
    assert {s.attributes.get("adgen.video_id") for s in work_spans} == {video_id}
