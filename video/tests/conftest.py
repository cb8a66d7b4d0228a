from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from adgen_embedded.infra import EmbeddedInfra, InfraEndpoints
from adgen_video.schema import migrate


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfraEndpoints]:
    """The embedded stack with the schema migrated, as every service finds it."""
    stack = EmbeddedInfra(tmp_path_factory.mktemp("video-infra"))
    endpoints = stack.start()
    try:
        asyncio.run(migrate(endpoints.database_url))
        yield endpoints
    finally:
        stack.stop()
