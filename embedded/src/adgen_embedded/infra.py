"""The embedded stack: NATS, PostgreSQL and S3 started together, and when to reuse, restart or
replace them.

Everything runs as plain subprocesses on 127.0.0.1 with its data in one state folder, so a
developer (or CI) gets the whole stack from the package index without Docker, and two stacks
never collide. The pids and ports of a running stack are recorded in ``<state>/infra.json`` so
that a later process (another CLI invocation) can reuse or stop exactly those processes; the
ports alone stay in ``<state>/ports.json`` so that a restarted stack keeps its URLs.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from adgen_embedded.nats import NatsServer
from adgen_embedded.ports import choose_ports
from adgen_embedded.postgres import PostgresServer
from adgen_embedded.processes import InfraError, Poll, Running, Server, Supervisor, atomic_write, log_tail
from adgen_embedded.s3 import REGION, S3Server

__all__ = ["COMPONENTS", "EmbeddedInfra", "InfraEndpoints"]

COMPONENTS: tuple[str, ...] = (NatsServer.name, PostgresServer.name, S3Server.name)
_RECORD_VERSION = 1


@dataclass(frozen=True)
class InfraEndpoints:
    """Where the services of the stack find the infrastructure."""

    nats_url: str
    database_url: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_region: str
    s3_bucket: str

    def as_env(self) -> dict[str, str]:
        """The ``ADGEN_*`` variables the services read their configuration from."""
        return {
            "ADGEN_NATS_URL": self.nats_url,
            "ADGEN_DATABASE_URL": self.database_url,
            "ADGEN_S3_ENDPOINT": self.s3_endpoint,
            "ADGEN_S3_ACCESS_KEY": self.s3_access_key,
            "ADGEN_S3_SECRET_KEY": self.s3_secret_key,
            "ADGEN_S3_REGION": self.s3_region,
            "ADGEN_S3_BUCKET": self.s3_bucket,
        }


class EmbeddedInfra:
    """Starts, reuses and stops the embedded NATS, PostgreSQL and S3 of one state folder."""

    def __init__(
        self,
        state_dir: Path,
        *,
        bucket: str = "adgen",
        ports: Mapping[str, int] | None = None,
        ready_timeout: float = 30.0,
        stop_timeout: float = 15.0,
    ) -> None:
        """``ports`` may pin the public port of "nats", "postgres" or "s3"; others are free ports."""
        unknown = set(ports or {}) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components in ports: {sorted(unknown)}")
        self.state_dir = Path(state_dir).absolute()
        self.bucket = bucket
        self._configured_ports = dict(ports or {})
        self._ready_timeout = ready_timeout
        self._stop_timeout = stop_timeout
        self._ports: dict[str, int] = {}
        self._running: dict[str, Running] = {}
        self._supervisor = Supervisor()
        self._nats = NatsServer(self.state_dir)
        self._postgres = PostgresServer(self.state_dir, log=self._log_path("postgres"), timeout=ready_timeout)
        self._s3 = S3Server(self.state_dir, bucket)
        self._servers: dict[str, Server] = {s.name: s for s in (self._nats, self._postgres, self._s3)}

    # ----------------------------------------------------------------- paths

    @property
    def _record_path(self) -> Path:
        return self.state_dir / "infra.json"

    @property
    def _ports_path(self) -> Path:
        # Survives stop() so a restarted stack comes back on the same URLs when it can.
        return self.state_dir / "ports.json"

    def _log_path(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    # ------------------------------------------------------------ public API

    @property
    def endpoints(self) -> InfraEndpoints:
        """The endpoints of the recorded stack (raises when none was started)."""
        if not self._ports:
            self._load_record()
        if not self._ports:
            raise InfraError(f"no embedded infrastructure recorded in {self.state_dir}")
        access, secret = self._s3.credentials()
        return InfraEndpoints(
            nats_url=self._nats.url(self._ports),
            database_url=self._postgres.url(self._ports),
            s3_endpoint=self._s3.endpoint(self._ports),
            s3_access_key=access,
            s3_secret_key=secret,
            s3_region=REGION,
            s3_bucket=self.bucket,
        )

    def start(self) -> InfraEndpoints:
        """Start what is not running and wait until all of it is ready.

        A record whose processes still live is reused as is (same ports, no new process); dead
        components of a live record are restarted on their recorded ports; a fully dead record
        is replaced.
        """
        with self._lock():
            self._load_record()
            alive = {n for n, r in self._running.items() if r.process() is not None}
            if not alive:
                self._running = {}
                self._ports = self._choose_ports()
            self._launch([n for n in COMPONENTS if n not in alive])
            return self.endpoints

    def stop(self) -> None:
        """Stop exactly the recorded processes and remove the record; a no-op when none runs."""
        with self._lock():
            self._load_record()
            self._stop_names(list(COMPONENTS))
            with contextlib.suppress(FileNotFoundError):
                self._record_path.unlink()
            self._ports = {}

    def stop_component(self, name: str) -> None:
        """Stop one component, keeping the record so start_component() can bring it back."""
        self._check_name(name)
        with self._lock():
            self._load_record()
            self._stop_names([name])
            self._save_record()

    def start_component(self, name: str) -> None:
        """Restart one component on its recorded ports and data; a no-op when it runs."""
        self._check_name(name)
        with self._lock():
            self._load_record()
            if not self._ports:
                raise InfraError(f"{name}: no recorded stack to restart into; call start() first")
            running = self._running.get(name)
            if running is not None and running.process() is not None:
                return
            self._running.pop(name, None)
            self._launch([name])

    # ------------------------------------------------------------ bookkeeping

    @staticmethod
    def _check_name(name: str) -> None:
        if name not in COMPONENTS:
            raise ValueError(f"unknown component {name!r}; expected one of {COMPONENTS}")

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise start/stop across processes sharing the state folder."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / ".infra.lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _load_record(self) -> None:
        try:
            data: dict[str, Any] = json.loads(self._record_path.read_text())
        except (FileNotFoundError, ValueError):
            self._ports, self._running = {}, {}
            return
        self._ports = {k: int(v) for k, v in data.get("ports", {}).items()}
        self._running = {
            name: Running(int(p["pid"]), float(p["create_time"])) for name, p in data.get("processes", {}).items()
        }

    def _save_record(self) -> None:
        record = {
            "version": _RECORD_VERSION,
            "bucket": self.bucket,
            "ports": self._ports,
            "processes": {name: {"pid": r.pid, "create_time": r.create_time} for name, r in self._running.items()},
        }
        atomic_write(self._record_path, json.dumps(record, indent=2) + "\n")
        atomic_write(self._ports_path, json.dumps(self._ports, indent=2) + "\n")

    def _choose_ports(self) -> dict[str, int]:
        """Configured ports first, then the previous run's ports if still free, else free ones."""
        try:
            previous = {k: int(v) for k, v in json.loads(self._ports_path.read_text()).items()}
        except (FileNotFoundError, ValueError):
            previous = {}
        servers = self._servers.values()
        return choose_ports(
            [name for server in servers for name in server.port_names],
            {name: offset for server in servers for name, offset in server.paired_ports.items()},
            pinned=self._configured_ports,
            previous=previous,
        )

    # --------------------------------------------------------------- process

    def _launch(self, names: list[str]) -> None:
        """Start the named components; on any failure stop them again and re-raise."""
        try:
            self._launch_unguarded(names)
        except BaseException:
            self._stop_names(names)
            self._save_record()
            raise

    def _launch_unguarded(self, names: list[str]) -> None:
        """Spawn the named components (all at once, they are independent), then await each."""
        offsets = {name: self._spawn(name) for name in names}
        for name in names:
            deadline = time.monotonic() + self._ready_timeout
            poll: Poll = functools.partial(self._poll_until, name, deadline)
            try:
                self._servers[name].await_ready(self._ports, poll)
            except InfraError as exc:
                raise InfraError(
                    f"{name} failed to start: {exc}\n--- tail of {self._log_path(name)} ---\n"
                    f"{log_tail(self._log_path(name), offsets[name])}"
                ) from None

    def _spawn(self, name: str) -> int:
        """Start one component and record it; returns where its part of the log begins."""
        launch = self._servers[name].launch(self._ports)
        self._running[name], offset = self._supervisor.spawn(name, launch, self._log_path(name))
        self._save_record()
        return offset

    def _poll_until(self, name: str, deadline: float, probe: Callable[[], bool], what: str) -> None:
        """Call ``probe()`` until it returns True; fail early when the process died."""
        while True:
            if probe():
                return
            running = self._running.get(name)
            if running is None or running.process() is None:
                raise InfraError("the process exited")
            if time.monotonic() >= deadline:
                raise InfraError(f"not ready after {self._ready_timeout:.0f}s ({what})")
            time.sleep(0.1)

    def _stop_names(self, names: list[str]) -> None:
        """Stop the named components' recorded processes, then clear what they left behind."""
        victims: list[tuple[psutil.Process, signal.Signals]] = []
        for name in names:
            running = self._running.pop(name, None)
            proc = running.process() if running else None
            if proc is not None:
                victims.append((proc, self._servers[name].stop_signal))
        self._supervisor.stop(victims, self._stop_timeout)
        for name in names:
            self._servers[name].remove_leftovers(self._ports)
