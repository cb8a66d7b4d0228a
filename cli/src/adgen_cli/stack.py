"""The local stack: embedded NATS, Postgres and S3, then every service and the gateway as separate
processes on loopback. `up` twice is harmless; `down` stops exactly what `up` started."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import grpc
import httpx
import nats
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from adgen_embedded.infra import EmbeddedInfra, InfraEndpoints
from adgen_embedded.ports import free_port, port_is_free
from adgen_kernel.db import create_pool
from adgen_kernel.jetstream import ensure_topology
from adgen_kernel.storage import ObjectStore
from adgen_video.accounts import name_taken
from adgen_video.schema import migrate

# Start order: a service comes after the ones it calls.
SERVICES = ("assets", "chunks", "export", "voice", "planner", "storyboard", "refine", "gateway")
READY_TIMEOUT_S = 60.0


@dataclass
class ServiceProcess:
    name: str
    grpc_port: int
    pid: int


@dataclass
class StackInfo:
    url: str
    api_key: str
    endpoints: InfraEndpoints
    services: dict[str, ServiceProcess]


def _alive(pid: int) -> bool:
    try:
        process = psutil.Process(pid)
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def terminate(pid: int, *, timeout_s: float = 25.0, sig: int = signal.SIGTERM) -> None:
    """Sends `sig` to the process group, then SIGKILL if it has not gone within the timeout."""
    if not _alive(pid):
        return
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)


class DevStack:
    def __init__(self, state_dir: Path, *, extra_env: dict[str, str] | None = None) -> None:
        self.state_dir = state_dir.resolve()
        self.extra_env = extra_env or {}
        self.infra = EmbeddedInfra(self.state_dir / "infra")
        self._record = self.state_dir / "stack.json"
        self.logs = self.state_dir / "logs"

    # -- records ---------------------------------------------------------------------------------

    def _load(self) -> dict:
        try:
            return json.loads(self._record.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def _save(self, record: dict) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._record.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2))
        tmp.replace(self._record)

    # -- services --------------------------------------------------------------------------------

    def service_env(
        self, name: str, ports: dict[str, int], http_port: int, endpoints: InfraEndpoints
    ) -> dict[str, str]:
        # The caller's environment passes through (provider keys such as ADGEN_OPENAI_API_KEY reach
        # the services); the stack's own endpoints and ports override anything it sets.
        env = dict(os.environ)
        env.update(endpoints.as_env())
        env.update(
            {
                "ADGEN_GRPC_HOST": "127.0.0.1",
                "ADGEN_GRPC_PORT": str(ports[name]),
                "ADGEN_CHUNKS_ADDR": f"127.0.0.1:{ports['chunks']}",
                "ADGEN_ASSETS_ADDR": f"127.0.0.1:{ports['assets']}",
                "ADGEN_EXPORT_ADDR": f"127.0.0.1:{ports['export']}",
                "ADGEN_PLANNER_ADDR": f"127.0.0.1:{ports['planner']}",
                "ADGEN_VOICE_ADDR": f"127.0.0.1:{ports['voice']}",
                "ADGEN_HTTP_PORT": str(http_port),
                "OTEL_SERVICE_NAME": f"adgen-{name}",
            }
        )
        env.update(self.extra_env)
        return env

    def start_service(self, name: str) -> ServiceProcess:
        """(Re)starts one service process with the ports recorded by `up`."""
        record = self._load()
        ports = {n: s["grpc_port"] for n, s in record["services"].items()}
        endpoints = InfraEndpoints(**record["endpoints"])
        env = self.service_env(name, ports, record["http_port"], endpoints)
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.log", "ab") as log:
            process = psutil.Popen(
                [sys.executable, "-m", f"adgen_{name}.server"],
                env=env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        record["services"][name]["pid"] = process.pid
        self._save(record)
        return ServiceProcess(name, ports[name], process.pid)

    def start_replica(self, name: str, replica: int, *, extra_env: dict[str, str] | None = None) -> ServiceProcess:
        """One more process of `name` on its own gRPC port, sharing the service's durable consumer.

        It logs to `<name>-<replica>.log`; the caller owns it and stops it with `terminate(pid)`.
        """
        record = self._load()
        ports = {n: s["grpc_port"] for n, s in record["services"].items()}
        ports[name] = free_port()
        env = self.service_env(name, ports, record["http_port"], InfraEndpoints(**record["endpoints"]))
        env.update(extra_env or {})
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}-{replica}.log", "ab") as log:
            process = psutil.Popen(
                [sys.executable, "-m", f"adgen_{name}.server"],
                env=env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return ServiceProcess(name, ports[name], process.pid)

    def kill_service(self, name: str, sig: int = signal.SIGKILL) -> None:
        pid = self._load()["services"][name]["pid"]
        terminate(pid, sig=sig, timeout_s=25.0)

    def wait_ready(self, names: tuple[str, ...] = SERVICES) -> None:
        record = self._load()
        asyncio.run(_wait_serving({n: record["services"][n]["grpc_port"] for n in names}, self.logs))
        if "gateway" in names:
            _wait_http(f"http://127.0.0.1:{record['http_port']}/healthz", self.logs / "gateway.log")

    # -- the whole stack -------------------------------------------------------------------------

    def running(self) -> StackInfo | None:
        record = self._load()
        if not record or not all(_alive(s["pid"]) for s in record.get("services", {}).values()):
            return None
        return StackInfo(
            url=record["url"],
            api_key=record.get("api_key", ""),
            endpoints=InfraEndpoints(**record["endpoints"]),
            services={n: ServiceProcess(**s) for n, s in record["services"].items()},
        )

    def up(self, *, http_port: int = 8080) -> StackInfo:
        existing = self.running()
        if existing is not None:
            return existing
        self._stop_services()
        endpoints = self.infra.start()
        asyncio.run(prepare(endpoints))
        port = http_port if http_port and port_is_free(http_port) else free_port()
        record = {
            "url": f"http://127.0.0.1:{port}",
            "http_port": port,
            "endpoints": asdict(endpoints),
            "services": {n: {"name": n, "grpc_port": free_port(), "pid": 0} for n in SERVICES},
            "api_key": self._load().get("api_key", ""),
        }
        self._save(record)
        for name in SERVICES:
            self.start_service(name)
        self.wait_ready()
        record = self._load()
        if not record["api_key"] or not asyncio.run(_key_valid(endpoints.database_url, record["api_key"])):
            record["api_key"] = asyncio.run(create_user(endpoints.database_url, f"dev-{int(time.time())}"))
            self._save(record)
        self._write_env(record)
        info = self.running()
        assert info is not None
        return info

    def _write_env(self, record: dict) -> None:
        endpoints = InfraEndpoints(**record["endpoints"])
        lines = {
            "ADGEN_URL": record["url"],
            "ADGEN_API_KEY": record["api_key"],
            **endpoints.as_env(),
        }
        path = self.state_dir / "dev.env"
        path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
        path.chmod(0o600)

    def _stop_services(self) -> None:
        record = self._load()
        for name in reversed(SERVICES):
            pid = record.get("services", {}).get(name, {}).get("pid")
            if pid:
                terminate(pid)

    def down(self) -> None:
        self._stop_services()
        self.infra.stop()
        record = self._load()
        if record:
            for service in record.get("services", {}).values():
                service["pid"] = 0
            self._save(record)


async def prepare(endpoints: InfraEndpoints) -> None:
    """Migrations, streams, KV and bucket: what every service expects to exist."""
    await migrate(endpoints.database_url)
    nc = await nats.connect(endpoints.nats_url)
    try:
        await ensure_topology(nc.jetstream())
    finally:
        await nc.drain()
    await object_store(endpoints).ensure_bucket()


def object_store(endpoints: InfraEndpoints) -> ObjectStore:
    return ObjectStore(
        endpoint=endpoints.s3_endpoint,
        access_key=endpoints.s3_access_key,
        secret_key=endpoints.s3_secret_key,
        region=endpoints.s3_region,
        bucket=endpoints.s3_bucket,
    )


async def create_user(database_url: str, name: str) -> str:
    """A new user's API key; ValueError when the name is taken or unusable."""
    from adgen_gateway import auth

    if not 1 <= len(name) <= 100:
        raise ValueError("a user name has 1 to 100 characters")
    pool = await create_pool(database_url)
    try:
        if await name_taken(pool, name):
            raise ValueError(f"user {name!r} exists already")
        _, key = await auth.create_user(pool, name)
        return key
    finally:
        await pool.close()


async def _key_valid(database_url: str, key: str) -> bool:
    from adgen_gateway.auth import user_for_key

    pool = await create_pool(database_url)
    try:
        return await user_for_key(pool, key) is not None
    finally:
        await pool.close()


async def _wait_serving(ports: dict[str, int], logs: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    for name, port in ports.items():
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                try:
                    # types-grpcio-health-checking's HealthStub lacks the methods its __init__ sets
                    reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)  # type: ignore[attr-defined]
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.aio.AioRpcError:
                    pass
                if time.monotonic() > deadline:
                    tail = _tail(logs / f"{name}.log")
                    raise RuntimeError(f"service {name} did not become SERVING on port {port}:\n{tail}")
                await asyncio.sleep(0.2)


def _wait_http(url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the gateway did not answer {url}:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
