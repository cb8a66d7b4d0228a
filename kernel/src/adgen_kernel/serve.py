"""The one lifecycle every adgen process runs.

settings -> logging and tracing -> connections (NATS, Postgres, S3) in an AsyncExitStack -> gRPC aio
server with the stock health service (NOT_SERVING until everything is connected and the workers
run), reflection, and every request checked against its contract (`validation`) -> JetStream worker
loops -> on SIGTERM: NOT_SERVING, stop pulling, finish or hand back in-flight work within the grace,
stop the server, drain NATS, close the pool, flush traces.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import grpc
import nats
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor, filters
from pydantic import ValidationError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from adgen_kernel.db import create_pool
from adgen_kernel.errors import ErrorInterceptor
from adgen_kernel.jetstream import WorkerLoop, WorkHandler, ensure_topology
from adgen_kernel.logs import configure_logging, get_logger
from adgen_kernel.settings import ServiceSettings, missing_settings_message
from adgen_kernel.storage import ObjectStore
from adgen_kernel.telemetry import flush_tracing, setup_tracing
from adgen_kernel.validation import ValidationInterceptor, Violations

log = get_logger(__name__)

S = TypeVar("S", bound=ServiceSettings)
# A coroutine function, not any awaitable: each one runs as its own task until `stopping` is set.
ServiceTask = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Connections:
    """What a service's factory gets: every connection, opened and owned by the lifecycle."""

    settings: ServiceSettings
    nc: NatsClient
    js: JetStreamContext
    db: asyncpg.Pool
    store: ObjectStore


@dataclass(frozen=True)
class Servicer:
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    implementation: Any
    service_name: str  # full name, e.g. "adgen.planner.v1.PlannerService"


@dataclass
class ServiceApp:
    """What a service is: its gRPC servicers, its work handlers and any other long-running tasks."""

    servicers: Sequence[Servicer] = ()
    # The contracts' rules every request is checked against before a servicer sees it
    # (`adgen_video.contract_rules.violations`); required as soon as there are servicers.
    violations: Violations | None = None
    handlers: Sequence[WorkHandler] = ()
    tasks: Sequence[ServiceTask] = ()
    on_close: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


Factory = Callable[[Connections], Awaitable[ServiceApp]]


def grpc_channel(target: str) -> grpc.aio.Channel:
    """A client channel whose calls carry the trace context."""
    return grpc.aio.insecure_channel(target, interceptors=aio_client_interceptors())


async def _connect_nats(url: str, name: str, reconnected: Callable[[], Awaitable[None]] | None = None) -> NatsClient:
    async for attempt in AsyncRetrying(
        stop=stop_after_delay(30),
        wait=wait_exponential(multiplier=0.2, max=2),
        retry=retry_if_exception_type((OSError, nats.errors.NoServersError, asyncio.TimeoutError)),
        reraise=True,
    ):
        with attempt:
            return await nats.connect(
                servers=[url],
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                connect_timeout=5,
                reconnected_cb=reconnected,
            )
    raise RuntimeError("unreachable")


async def _create_pool(url: str) -> asyncpg.Pool:
    async for attempt in AsyncRetrying(
        stop=stop_after_delay(30),
        wait=wait_exponential(multiplier=0.2, max=2),
        retry=retry_if_exception_type((OSError, asyncpg.CannotConnectNowError)),
        reraise=True,
    ):
        with attempt:
            return await create_pool(url)
    raise RuntimeError("unreachable")


class RunningService:
    """A started service: its bound port, and `stop()` for the graceful drain."""

    def __init__(self, name: str, settings: ServiceSettings) -> None:
        self.name = name
        self.settings = settings
        self.port = 0
        self.health = health.aio.HealthServicer()
        self._stack = AsyncExitStack()
        self._server: grpc.aio.Server | None = None
        self._workers: list[WorkerLoop] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._app: ServiceApp | None = None

    async def start(self, factory: Factory) -> RunningService:
        settings = self.settings
        try:
            nc = await _connect_nats(settings.nats_url, self.name, self._reconnected)
            self._stack.push_async_callback(nc.drain)
            js = nc.jetstream()
            await ensure_topology(js)
            pool = await _create_pool(settings.database_url)
            self._stack.push_async_callback(pool.close)
            store = ObjectStore.from_settings(settings)
            await store.ensure_bucket()
            connections = Connections(settings=settings, nc=nc, js=js, db=pool, store=store)
            app = await factory(connections)
            self._app = app
            interceptors: list[grpc.aio.ServerInterceptor] = [
                aio_server_interceptor(filter_=filters.negate(filters.health_check())),
                ErrorInterceptor(),
            ]
            if app.violations is not None:
                # inside: its InvalidArgument is mapped like a servicer's
                interceptors.append(ValidationInterceptor(app.violations))
            elif app.servicers:
                raise TypeError(
                    f"{self.name}: a ServiceApp with servicers needs the rules of its requests (violations)"
                )

            server = grpc.aio.server(interceptors=interceptors)
            names = [s.service_name for s in app.servicers]
            for servicer in app.servicers:
                servicer.add_to_server(servicer.implementation, server)
            health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
            for service_name in ["", *names]:
                await self.health.set(service_name, health_pb2.HealthCheckResponse.NOT_SERVING)
            reflection.enable_server_reflection(
                [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME], server
            )
            self.port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
            await server.start()
            self._server = server

            for handler in app.handlers:
                loop = WorkerLoop(js, handler, concurrency=settings.worker_concurrency, ack_wait_s=settings.ack_wait_s)
                self._workers.append(loop)
                self._tasks.append(asyncio.create_task(loop.run(), name=f"worker:{handler.service}"))
            for task in app.tasks:
                self._tasks.append(asyncio.create_task(task(self._stopping)))
            for service_name in ["", *names]:
                await self.health.set(service_name, health_pb2.HealthCheckResponse.SERVING)
        except BaseException:
            await self._stack.aclose()
            raise
        log.info("service started", port=self.port, handlers=[h.service for h in app.handlers])
        return self

    async def _reconnected(self) -> None:
        """Back on NATS after losing it: the server may have lost its store (streams, consumers, KV),
        so the topology is made again and every worker re-creates its consumer."""
        log.warning("reconnected to NATS; re-creating the topology")
        for worker in self._workers:  # each makes the topology and its consumers before its next pull
            worker.topology_lost()

    async def stop(self) -> None:
        grace = self.settings.drain_grace_s
        await self.health.enter_graceful_shutdown()
        self._stopping.set()
        await asyncio.gather(*(worker.stop(grace) for worker in self._workers))
        if self._server is not None:
            await self._server.stop(grace)
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
        if self._app is not None:
            for close in self._app.on_close:
                await close()
        await self._stack.aclose()
        flush_tracing()
        log.info("service stopped")


async def start_service(name: str, settings: ServiceSettings, factory: Factory) -> RunningService:
    return await RunningService(name, settings).start(factory)


def load_settings(settings_type: type[S]) -> S:
    """Reads the settings once; a missing or invalid variable ends the process with its name."""
    try:
        return settings_type()  # type: ignore[call-arg]
    except ValidationError as error:
        print(missing_settings_message(error), file=sys.stderr)
        raise SystemExit(2) from None


async def serve(name: str, settings: ServiceSettings, factory: Factory) -> None:
    configure_logging(name, level=settings.log_level, json=settings.log_json)
    setup_tracing(name)
    if settings.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port, addr=settings.grpc_host)
    running = await start_service(name, settings, factory)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down", grace_s=settings.drain_grace_s)
    await running.stop()


def run(name: str, settings_type: type[S], factory: Factory) -> None:
    """The body of every service's `main()`."""
    settings = load_settings(settings_type)
    asyncio.run(serve(name, settings, factory))
