"""The Prometheus endpoint of a running service: worker outcomes counted exactly, the lag gauge set,
and a completed video's cost histogram equal to its ledger."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import nats
from conftest import Stack, base_settings
from prometheus_client import start_http_server
from prometheus_client.parser import text_string_to_metric_families

from adgen.events.v1 import events_pb2
from adgen_embedded.infra import InfraEndpoints
from adgen_embedded.ports import free_port
from adgen_kernel.errors import InvalidArgument
from adgen_kernel.jetstream import WorkContext, WorkHandler, publish_work
from adgen_kernel.serve import Connections, ServiceApp, start_service
from adgen_kernel.settings import ServiceSettings

PROBE = "metrics-probe"


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(httpx.get(url, timeout=5).text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_worker_outcomes_are_counted_on_the_metrics_endpoint(infra: InfraEndpoints) -> None:
    server, _ = start_http_server(free_port(), addr="127.0.0.1")
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    handled: list[str] = []

    async def handle(item: events_pb2.PlanWork, ctx: WorkContext) -> None:
        handled.append(item.video_id)
        if item.video_id == "bad":
            raise InvalidArgument("prompt: empty")
        if item.video_id == "flaky" and ctx.delivery == 1:
            raise RuntimeError("provider hiccup")

    async def dead_letter(item: events_pb2.PlanWork, error: BaseException) -> None:
        handled.append(f"dead:{item.video_id}")

    async def build(_: Connections) -> ServiceApp:
        return ServiceApp(handlers=[WorkHandler(PROBE, events_pb2.PlanWork, handle, dead_letter)])

    before = await asyncio.to_thread(scrape, url)
    service = await start_service(PROBE, ServiceSettings(**base_settings(infra)), build)
    nc = await nats.connect(infra.nats_url)
    try:
        js = nc.jetstream()
        for name in ("a", "b", "c", "bad", "flaky"):
            await publish_work(js, PROBE, events_pb2.PlanWork(video_id=name), f"probe:{name}")
        async with asyncio.timeout(20):
            while "dead:bad" not in handled or handled.count("flaky") < 2:
                await asyncio.sleep(0.05)
            after = await asyncio.to_thread(scrape, url)
            while value(after, "adgen_work_items_total", service=PROBE, outcome="acked") < 4:
                await asyncio.sleep(0.05)
                after = await asyncio.to_thread(scrape, url)
    finally:
        await nc.drain()
        await service.stop()
        server.shutdown()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("adgen_work_items_total", service=PROBE, outcome="acked") == 4  # a, b, c and flaky's retry
    assert delta("adgen_work_items_total", service=PROBE, outcome="retried") == 1
    assert delta("adgen_work_items_total", service=PROBE, outcome="dead_lettered") == 1
    assert delta("adgen_work_redeliveries_total", service=PROBE) == 1
    assert delta("adgen_work_handler_duration_seconds_count", service=PROBE) == 6
    assert value(after, "adgen_work_in_flight_items", service=PROBE) == 0
    assert ("adgen_work_queue_lag_messages", (("service", PROBE),)) in after


async def test_a_completed_video_is_counted_with_its_ledger_cost(stack: Stack) -> None:
    from prometheus_client import REGISTRY

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    completed, cost_sum, cost_count = (
        sample("adgen_videos_total", state="completed"),
        sample("adgen_video_cost_usd_sum"),
        sample("adgen_video_cost_usd_count"),
    )
    async with stack.client(await stack.new_user("metrics-video")) as client:
        created = await client.post("/v1/videos", json={"prompt": "15 second ad for a steel bottle", "duration_s": 15})
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        async with asyncio.timeout(120):
            while (video := (await client.get(f"/v1/videos/{video_id}")).json())["status"] not in (
                "completed",
                "failed",
            ):
                await asyncio.sleep(0.25)
    assert video["status"] == "completed", video
    conn = await asyncpg.connect(stack.endpoints.database_url)
    try:
        micros = await conn.fetchval(
            "SELECT coalesce(sum(usd_micros), 0)::bigint FROM cost_ledger WHERE video_id = $1", video_id
        )
        rows = await conn.fetchval("SELECT count(*) FROM cost_ledger WHERE video_id = $1", video_id)
    finally:
        await conn.close()
    assert rows >= 4, "the studio's frames and clips are in the ledger (at zero cost)"
    assert sample("adgen_videos_total", state="completed") - completed == 1
    assert sample("adgen_video_cost_usd_count") - cost_count == 1
    assert abs(sample("adgen_video_cost_usd_sum") - cost_sum - micros / 1_000_000) < 1e-9
    assert sample("adgen_phase_duration_seconds_count", phase="total") >= 1
