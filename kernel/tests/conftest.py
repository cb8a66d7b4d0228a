from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from adgen_cli.stack import prepare
from adgen_embedded.infra import EmbeddedInfra, InfraEndpoints


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfraEndpoints]:
    stack = EmbeddedInfra(tmp_path_factory.mktemp("kernel-infra"))
    endpoints = stack.start()
    try:
        asyncio.run(prepare(endpoints))
        yield endpoints
    finally:
        stack.stop()
