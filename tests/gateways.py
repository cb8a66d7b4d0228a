"""A second gateway beside the session stack's, with settings of its own (tiny rate limits, short
body timeouts), sharing the stack's services and infrastructure."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from conftest import Stack, base_settings

from adgen_embedded.ports import free_port
from adgen_gateway.server import build as build_gateway
from adgen_gateway.settings import GatewaySettings
from adgen_kernel.serve import start_service


@contextlib.asynccontextmanager
async def extra_gateway(stack: Stack, **overrides: object) -> AsyncIterator[str]:
    """Yields the base URL of a gateway started with `overrides`."""
    async with extra_gateway_addresses(stack, **overrides) as (url, _):
        yield url


@contextlib.asynccontextmanager
async def extra_gateway_addresses(stack: Stack, **overrides: Any) -> AsyncIterator[tuple[str, str]]:
    """Yields the REST base URL and the gRPC address of a gateway started with `overrides`."""
    http_port = free_port()
    settings = GatewaySettings(
        **{
            **base_settings(stack.endpoints),
            "http_port": http_port,
            "chunks_addr": stack.address("chunks"),
            "export_addr": stack.address("export"),
            "planner_addr": stack.address("planner"),
            "assets_addr": stack.address("assets"),
            "voice_addr": stack.address("voice"),
            **overrides,
        }
    )
    service = await start_service("gateway", settings, build_gateway)
    url = f"http://127.0.0.1:{http_port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    continue
        yield url, f"127.0.0.1:{service.port}"
    finally:
        await service.stop()
