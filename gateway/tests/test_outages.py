"""A backing service that is down or restarting is a 503 with Retry-After, never a 500: the same
request will work in a moment (seen in the chaos suite while Postgres or NATS restarted)."""

from __future__ import annotations

import asyncpg
import nats.errors
import nats.js.errors
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adgen_gateway import errors

RESTARTS = [
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.InterfaceError("pool is closing"),
    ConnectionRefusedError(111, "Connect call failed"),
    nats.errors.ConnectionClosedError(),
    nats.errors.NoServersError(),
    nats.js.errors.BucketNotFoundError(),
]


def app_raising(error: BaseException) -> TestClient:
    app = FastAPI()
    errors.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("error", RESTARTS, ids=lambda e: type(e).__name__)
def test_a_dependency_restarting_is_a_503_with_retry_after(error: BaseException) -> None:
    response = app_raising(error).get("/boom")
    assert response.status_code == 503
    assert response.headers["content-type"] == errors.PROBLEM
    assert int(response.headers["retry-after"]) >= 1
    assert "restarting" in response.json()["detail"] and "Traceback" not in response.text


def test_a_bug_is_still_a_500_without_its_details() -> None:
    response = app_raising(KeyError("secret internal detail")).get("/boom")
    assert response.status_code == 500 and "secret internal detail" not in response.text
