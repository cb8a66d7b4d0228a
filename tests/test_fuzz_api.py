"""Schemathesis against the gateway's OpenAPI document (tests/fuzzing.py) on the test stack, with a
fixed, derandomized budget: no server error, every answer as documented.

The stack serves requests on this test's event loop, so the (synchronous) schemathesis calls run
in a worker thread while the loop keeps serving.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from conftest import TEST_RATE_LIMITS, Stack, base_settings
from fuzzing import budget, fuzz
from gateways import extra_gateway
from hypothesis import given
from hypothesis import strategies as st

from adgen_assets.server import build as build_assets
from adgen_assets.settings import AssetsSettings
from adgen_kernel.serve import start_service

pytestmark = [
    pytest.mark.xdist_group("stack"),
    # schemathesis's own strategies draw from `random`; nothing to act on here.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]


@pytest.fixture(scope="module")
async def clip_url(stack: Stack) -> AsyncIterator[str]:
    """A gateway whose assets service has a CLIP model (random weights), so that search, similar and
    recommendations answer rather than 503."""
    settings = AssetsSettings(**base_settings(stack.endpoints), clip_random_weights=True)
    assets = await start_service("assets", settings, build_assets)
    try:
        async with extra_gateway(stack, assets_addr=f"127.0.0.1:{assets.port}", **TEST_RATE_LIMITS) as url:
            yield url
    finally:
        await assets.stop()


async def test_fuzzing_the_openapi_document_finds_no_server_error(stack: Stack, clip_url: str) -> None:
    key = await stack.new_user(f"fuzz-{uuid.uuid4().hex[:8]}")
    findings = await asyncio.to_thread(fuzz, clip_url, key)
    # Leave nothing rendering for the session's other tests.
    async with stack.client(key) as client:
        for video in (await client.get("/v1/videos", params={"page_size": 100})).json()["videos"]:
            if video["status"] not in ("completed", "failed", "cancelled"):
                await client.post(f"/v1/videos/{video['id']}/cancel")
    statuses = dict(sorted(findings.statuses.items()))
    print(f"fuzz: {sum(statuses.values())} requests, statuses {statuses}, seconds {findings.seconds}")
    assert not findings.failures, "\n\n".join(findings.failures)
    assert not [status for status in findings.statuses if status >= 500]
    assert findings.statuses[200] and findings.statuses[422] and findings.statuses[404] and findings.statuses[401]


def test_the_budget_is_derandomized() -> None:
    """The same seed every run: a failure found in CI is found again locally."""
    seen = []

    @budget(3)
    @given(st.integers())
    def draw(value: int) -> None:
        seen.append(value)

    draw()
    first, seen[:] = list(seen), []
    draw()
    assert seen == first
