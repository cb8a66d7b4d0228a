"""Which loopback ports the embedded stack listens on.

A port counts as free when it can be bound right now (racy but adequate: the server binds it a
moment later). Pinned ports win; otherwise a restarted stack gets its previous ports back while
nothing else holds them, so its URLs survive a restart; anything else is a fresh free port. A
paired port also needs the port a fixed offset above it free (SeaweedFS' admin server).
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Mapping, Sequence

from adgen_embedded.processes import InfraError

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A port the kernel reports free right now (the usual bind-to-0 trick; racy but adequate)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def choose_ports(
    names: Sequence[str],
    paired: Mapping[str, int],
    *,
    pinned: Mapping[str, int],
    previous: Mapping[str, int],
) -> dict[str, int]:
    """One distinct port per name and per paired name (``paired`` maps a name to its offset)."""
    ports: dict[str, int] = {}
    for name in names:
        if name in pinned:
            ports[name] = pinned[name]
        elif name in previous and previous[name] not in ports.values() and port_is_free(previous[name]):
            ports[name] = previous[name]
        else:
            port = free_port()
            while port in ports.values():
                port = free_port()
            ports[name] = port
    for name, offset in paired.items():
        taken = set(ports.values())
        before = previous.get(name)
        if before and _pair_is_free(before, offset, taken):
            ports[name] = before
        else:
            ports[name] = _free_port_pair(name, offset, taken)
    return ports


def _pair_is_free(port: int, offset: int, avoid: set[int]) -> bool:
    return (
        port + offset <= 65535
        and not {port, port + offset} & avoid
        and port_is_free(port)
        and port_is_free(port + offset)
    )


def _free_port_pair(name: str, offset: int, avoid: set[int]) -> int:
    """A free port ``p`` such that ``p + offset`` is free as well."""
    for _ in range(200):
        port = free_port()
        if _pair_is_free(port, offset, avoid):
            return port
        # Ephemeral ports are often too high for the offset; try the lower range directly.
        port = secrets.randbelow(65535 - offset - 20000) + 20000
        if _pair_is_free(port, offset, avoid):
            return port
    raise InfraError(f"{name}: found no free port pair {offset} apart")
