"""SSE fan-out: event-to-client latency with 500 watchers of one video on one gateway.

The gateway runs in this process on the real embedded NATS + Postgres + S3 (as the tests build
it). The watchers are asyncio httpx streams in a separate process, so parsing 500 streams does not
steal the gateway's event loop. Once every watcher has received a warm-up event (so every
subscription exists), this process publishes the events a video makes — frames, chunks, cost lines
— at a steady pace, then the terminal event. Latency is a watcher's receive time minus the
event's `occurred_at`, stamped when it was published (one machine, one clock). The planner and
workers are not running: the events are published directly, so the figure is the gateway's own
fan-out (shared subscription, fold and JSON once, one SSE write per watcher), not rendering load.

Measured while building it, same machine and load: with one JetStream consumer, fold and JSON per
watcher the gateway fell seconds behind (p50 1.0 s, p95 2.3 s); with a shared feed per video, and
the request-span middleware as plain ASGI instead of BaseHTTPMiddleware (which copied every SSE
chunk through a memory stream), the gateway's CPU per event went from 80-93 ms to 30-36 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

WATCHERS = 500
EVENTS = 60
INTERVAL_S = 0.1
TARGET_P95_MS = 100.0
SSE_END = re.compile(rb"\r?\n\r?\n")
SSE_KIND = re.compile(rb"^event: ?(\w+)", re.MULTILINE)
SSE_OCCURRED = re.compile(rb'"occurred_at": ?"([^"]+)"')


def raise_fd_limit(wanted: int = 8192) -> int:
    """Each watcher is a socket on both sides: lift the soft limit towards the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- the watcher process ---------------------------------------------------------------------


async def _watch(url: str, key: str, video_id: str, watchers: int) -> None:
    import httpx

    ready = asyncio.Event()
    warmed = 0
    latencies: list[float] = []
    terminal = 0
    errors: list[str] = []

    async def one(client: httpx.AsyncClient) -> None:
        # Raw bytes and a regex rather than lines and JSON: the watchers share the machine with the
        # gateway, so they should cost as little as a browser's EventSource would.
        nonlocal warmed, terminal
        warm = False
        buffer = b""
        async with client.stream("GET", f"/v1/videos/{video_id}/events", timeout=300) as response:
            if response.status_code != 200:
                errors.append(f"HTTP {response.status_code}")
                return
            async for chunk in response.aiter_raw():
                received = time.time()
                buffer += chunk
                *complete, buffer = SSE_END.split(buffer)
                for block in complete:
                    kind = SSE_KIND.search(block)
                    if kind is None:  # a keep-alive comment
                        continue
                    if kind[1] == b"phase_started":  # the warm-ups: this watcher's subscription exists
                        if not warm:
                            warm = True
                            warmed += 1
                            if warmed == watchers:
                                ready.set()
                        continue
                    occurred = SSE_OCCURRED.search(block)
                    assert occurred is not None, block[:200]
                    stamp = datetime.fromisoformat(occurred[1].decode().replace("Z", "+00:00")).timestamp()
                    latencies.append((received - stamp) * 1000)
                    if kind[1] == b"video_completed":
                        terminal += 1
                        return

    limits = httpx.Limits(max_connections=watchers + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=300
    ) as client:
        tasks = [asyncio.create_task(one(client)) for _ in range(watchers)]
        print("connecting", flush=True)
        await asyncio.wait_for(ready.wait(), 120)
        print("ready", flush=True)
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 300)
    print(json.dumps({"latencies_ms": latencies, "terminal": terminal, "errors": errors}), flush=True)


def watcher_main(argv: list[str]) -> None:
    raise_fd_limit()
    url, key, video_id, watchers = argv
    asyncio.run(_watch(url, key, video_id, int(watchers)))


# --- the gateway process ---------------------------------------------------------------------


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


async def _measure(state: Path) -> dict:
    import nats
    import seeding

    from adgen.common.v1 import common_pb2 as c
    from adgen.events.v1 import events_pb2 as e
    from adgen_cli.stack import prepare
    from adgen_embedded.infra import EmbeddedInfra
    from adgen_embedded.ports import free_port
    from adgen_gateway.server import build as build_gateway
    from adgen_gateway.settings import GatewaySettings
    from adgen_kernel.db import create_pool
    from adgen_kernel.jetstream import publish_event
    from adgen_kernel.logs import configure_logging
    from adgen_kernel.serve import start_service

    configure_logging("bench", level="warning")
    infra = EmbeddedInfra(state)
    endpoints = infra.start()
    try:
        await prepare(endpoints)
        port = free_port()
        nowhere = "127.0.0.1:9"  # no other service is called while watching
        settings = GatewaySettings(
            nats_url=endpoints.nats_url,
            database_url=endpoints.database_url,
            s3_endpoint=endpoints.s3_endpoint,
            s3_access_key=SecretStr(endpoints.s3_access_key),
            s3_secret_key=SecretStr(endpoints.s3_secret_key),
            s3_region=endpoints.s3_region,
            s3_bucket=endpoints.s3_bucket,
            grpc_port=0,
            http_port=port,
            chunks_addr=nowhere,
            export_addr=nowhere,
            planner_addr=nowhere,
            voice_addr=nowhere,
            assets_addr=nowhere,
        )
        gateway = await start_service("gateway", settings, build_gateway)
        try:
            pool = await create_pool(endpoints.database_url)
            try:
                user = await seeding.user(pool, name=f"bench-sse-{uuid.uuid4().hex[:8]}")
                key = user.api_key
                video_id = await seeding.video(
                    pool, user_id=user.user_id, status="rendering", request={"prompt": "bench"}
                )
            finally:
                await pool.close()
            nc = await nats.connect(endpoints.nats_url)
            js = nc.jetstream()
            watcher = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--watch",
                f"http://127.0.0.1:{port}",
                key,
                video_id,
                str(WATCHERS),
                stdout=asyncio.subprocess.PIPE,
                limit=1 << 26,  # the last line holds every latency
            )
            assert watcher.stdout is not None
            assert (await watcher.stdout.readline()).strip() == b"connecting"
            # Warm-up events until every watcher has one: their subscriptions all exist by then.
            ready = asyncio.ensure_future(watcher.stdout.readline())
            while not ready.done():
                await publish_event(js, e.Event(video_id=video_id, phase_started=e.PhaseStarted(phase=c.PHASE_PLAN)))
                await asyncio.wait([ready], timeout=1.0)
            assert ready.result().strip() == b"ready", ready.result()
            gateway_cpu, watchers_cpu = psutil.Process(), psutil.Process(watcher.pid)
            cpu_before = (_cpu_s(gateway_cpu), _cpu_s(watchers_cpu))
            started = time.perf_counter()
            for i in range(EVENTS):
                if i % 3 == 0:
                    kind: dict[str, Any] = {"frame_ready": e.FrameReady(beat_index=i // 3, frames_done=i // 3 + 1)}
                elif i % 3 == 1:
                    kind = {"chunk_ready": e.ChunkReady(chunk_index=i // 3, chunks_done=i // 3 + 1)}
                else:
                    line = c.CostLine(phase=c.PHASE_CHUNKS, provider="studio", model="studio", units=1)
                    kind = {"cost_recorded": e.CostRecorded(line=line)}
                await publish_event(js, e.Event(video_id=video_id, **kind))
                await asyncio.sleep(INTERVAL_S)
            await publish_event(js, e.Event(video_id=video_id, video_completed=e.VideoCompleted(duration_s=10)))
            publishing_s = time.perf_counter() - started
            done = asyncio.ensure_future(watcher.stdout.readline())
            while not done.done():  # the watchers' CPU, sampled until they report (the process then exits)
                cpu_after = (_cpu_s(gateway_cpu), _cpu_s(watchers_cpu))
                await asyncio.wait([done], timeout=0.05)
            output, _ = await asyncio.wait_for(watcher.communicate(), 300)
            result = json.loads((done.result() + output).decode().strip().splitlines()[-1])
            result["publishing_s"] = publishing_s
            result["gateway_cpu_s"] = cpu_after[0] - cpu_before[0]
            result["watchers_cpu_s"] = cpu_after[1] - cpu_before[1]
            await nc.close()
            return result
        finally:
            await gateway.stop()
    finally:
        infra.stop()


def run():
    from run import Report

    fds = raise_fd_limit()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="adgen-bench-sse-") as folder:
        result = asyncio.run(_measure(Path(folder) / "state"))
    load = (load_before, os.getloadavg()[0])
    latencies = result["latencies_ms"]
    expected = WATCHERS * (EVENTS + 1)
    p50, p95, p99 = (_percentile(latencies, q) for q in (0.5, 0.95, 0.99))
    verdict = "meets" if p95 <= TARGET_P95_MS else "misses"
    return Report(
        title=f"SSE: event-to-client latency, {WATCHERS} watchers of one video on one gateway",
        header=[
            "watchers",
            "events each",
            "deliveries",
            "terminal seen",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "gateway CPU ms/event",
            "watchers CPU ms/event",
        ],
        rows=[
            [
                str(WATCHERS),
                str(EVENTS + 1),
                f"{len(latencies)}/{expected}",
                f"{result['terminal']}/{WATCHERS}",
                f"{p50:.1f}",
                f"{p95:.1f}",
                f"{p99:.1f}",
                f"{max(latencies):.1f}",
                f"{result['gateway_cpu_s'] * 1000 / (EVENTS + 1):.1f}",
                f"{result['watchers_cpu_s'] * 1000 / (EVENTS + 1):.1f}",
            ]
        ],
        notes=[
            f"target p95 ≤ {TARGET_P95_MS:.0f} ms: {verdict} it on this run. One event every "
            f"{INTERVAL_S * 1000:.0f} ms (frames, chunks, cost lines, then video_completed); "
            f"mean {statistics.fmean(latencies):.1f} ms.",
            "Latency = watcher receive time − the event's occurred_at (stamped at publish). The gateway (uvicorn, one "
            "shared JetStream subscription per video, video_feeds.py) runs in one process, the 500 httpx streams in "
            f"another; file descriptors raised to {fds}. No workers run: the events are published directly.",
            "CPU ms/event is the figure the machine's load distorts least: every event is written to 500 sockets "
            "by the gateway and parsed 500 times by the watchers, on the same 2 cores. The latency is queueing "
            "behind that work and behind whatever else runs.",
            f"load average {load[0]:.1f} before and {load[1]:.1f} after the run (2 cores, shared with other "
            f"engineers' tests and benchmarks), so the latency columns are pessimistic; "
            f"errors: {len(result['errors'])}.",
        ],
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--watch":
        watcher_main(sys.argv[2:])
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        print(run().markdown())
