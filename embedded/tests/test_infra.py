"""The embedded stack really serves JetStream, pgvector and S3, and starts/stops cleanly.

One stack per module: starting it costs a few seconds, so the tests share it and run in order.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import boto3
import nats
import psutil
import pytest
from botocore.config import Config

from adgen_embedded.infra import COMPONENTS, EmbeddedInfra, InfraEndpoints
from adgen_embedded.ports import free_port


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("infra") / "state"


@pytest.fixture(scope="module")
def infra(state_dir: Path) -> Iterator[EmbeddedInfra]:
    stack = EmbeddedInfra(state_dir)
    t0 = time.monotonic()
    stack.start()
    print(f"\ncold start: {time.monotonic() - t0:.2f}s")
    try:
        yield stack
    finally:
        stack.stop()


def _pids(state_dir: Path) -> dict[str, int]:
    record = json.loads((state_dir / "infra.json").read_text())
    return {name: int(p["pid"]) for name, p in record["processes"].items()}


def _s3(ep: InfraEndpoints):
    return boto3.client(
        "s3",
        endpoint_url=ep.s3_endpoint,
        aws_access_key_id=ep.s3_access_key,
        aws_secret_access_key=ep.s3_secret_key,
        region_name=ep.s3_region,
        config=Config(signature_version="s3v4"),
    )


def test_endpoints_shape(infra: EmbeddedInfra) -> None:
    ep = infra.endpoints
    assert ep.nats_url.startswith("nats://127.0.0.1:")
    assert ep.database_url.startswith("postgresql://postgres@127.0.0.1:")
    assert ep.database_url.endswith("/adgen")
    assert ep.s3_endpoint.startswith("http://127.0.0.1:")
    env = ep.as_env()
    assert env["ADGEN_S3_BUCKET"] == "adgen" and env["ADGEN_S3_REGION"] == "us-east-1"
    assert set(env) == {
        "ADGEN_NATS_URL", "ADGEN_DATABASE_URL", "ADGEN_S3_ENDPOINT", "ADGEN_S3_ACCESS_KEY",
        "ADGEN_S3_SECRET_KEY", "ADGEN_S3_REGION", "ADGEN_S3_BUCKET",
    }  # fmt: skip


def _publish(infra: EmbeddedInfra) -> int:
    """Publish one message to a file-backed stream; returns its sequence number."""

    async def scenario() -> int:
        nc = await nats.connect(infra.endpoints.nats_url)
        try:
            js = nc.jetstream()
            await js.add_stream(name="T_INFRA", subjects=["t.infra.>"])
            ack = await js.publish("t.infra.x", b"hello")
            assert ack.stream == "T_INFRA"
            info = await js.account_info()
            assert info.streams >= 1
            return int(ack.seq)
        finally:
            await nc.close()

    return asyncio.run(scenario())


def test_nats_jetstream(infra: EmbeddedInfra) -> None:
    assert _publish(infra) >= 1


def test_postgres_pgvector(infra: EmbeddedInfra) -> None:
    async def scenario() -> None:
        conn = await asyncpg.connect(infra.endpoints.database_url)
        try:
            distance = await conn.fetchval("SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector")
            assert 0 < distance < 0.01
            assert await conn.fetchval("SELECT current_database()") == "adgen"
        finally:
            await conn.close()

    asyncio.run(scenario())


def test_s3_roundtrip(infra: EmbeddedInfra) -> None:
    s3 = _s3(infra.endpoints)
    s3.put_object(Bucket="adgen", Key="tmp/roundtrip.bin", Body=b"\x00\x01payload")
    got = s3.get_object(Bucket="adgen", Key="tmp/roundtrip.bin")["Body"].read()
    assert got == b"\x00\x01payload"
    s3.delete_object(Bucket="adgen", Key="tmp/roundtrip.bin")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="adgen", Key="tmp/roundtrip.bin")


def test_s3_rejects_wrong_secret(infra: EmbeddedInfra) -> None:
    ep = infra.endpoints
    bad = _s3(InfraEndpoints(**{**ep.__dict__, "s3_secret_key": "wrong"}))
    with pytest.raises(Exception, match=r"403|Forbidden|SignatureDoesNotMatch"):
        bad.head_bucket(Bucket="adgen")


def test_start_is_idempotent(infra: EmbeddedInfra, state_dir: Path) -> None:
    before = _pids(state_dir)
    # A second handle on the same folder, as another CLI process would have.
    again = EmbeddedInfra(state_dir).start()
    assert again == infra.endpoints
    assert _pids(state_dir) == before


def test_component_restart_keeps_port(infra: EmbeddedInfra, state_dir: Path) -> None:
    old = _pids(state_dir)["nats"]
    seq = _publish(infra)
    infra.stop_component("nats")
    assert not psutil.pid_exists(old) or psutil.Process(old).status() == psutil.STATUS_ZOMBIE
    assert "nats" not in _pids(state_dir)
    infra.start_component("nats")
    assert _pids(state_dir)["nats"] != old
    assert _publish(infra) == seq + 1  # same port, and the stream survived on disk


def test_stop_then_start_keeps_data(infra: EmbeddedInfra, state_dir: Path) -> None:
    s3 = _s3(infra.endpoints)
    s3.put_object(Bucket="adgen", Key="keep/me.txt", Body=b"still here")
    pids = _pids(state_dir)
    t0 = time.monotonic()
    infra.stop()
    print(f"\nstop: {time.monotonic() - t0:.2f}s")
    assert not (state_dir / "infra.json").exists()
    for pid in pids.values():
        assert not psutil.pid_exists(pid)
    infra.stop()  # harmless when nothing runs

    t0 = time.monotonic()
    ep = infra.start()
    print(f"warm start: {time.monotonic() - t0:.2f}s")
    assert set(_pids(state_dir)) == set(COMPONENTS)
    assert _s3(ep).get_object(Bucket="adgen", Key="keep/me.txt")["Body"].read() == b"still here"
    test_postgres_pgvector(infra)


def test_stale_record_is_replaced(infra: EmbeddedInfra, tmp_path: Path) -> None:
    state = tmp_path / "stale"
    state.mkdir()
    (state / "infra.json").write_text(
        json.dumps(
            {
                "version": 1,
                "ports": {"nats": free_port()},
                "processes": {"nats": {"pid": 2**22 - 1, "create_time": 0.0}},
            }
        )
    )
    stack = EmbeddedInfra(state)
    # Runs beside the module's stack: a second stack on the same machine must not collide.
    ep = stack.start()
    try:
        pids = _pids(state)
        assert set(pids) == set(COMPONENTS) and 2**22 - 1 not in pids.values()
        assert ep != infra.endpoints
        assert _publish(stack) == 1
    finally:
        stack.stop()
    stack.stop()  # nothing recorded any more: harmless
    assert not (state / "infra.json").exists()
    assert not any(psutil.pid_exists(pid) for pid in pids.values())


def test_unknown_component_rejected(infra: EmbeddedInfra) -> None:
    with pytest.raises(ValueError):
        infra.stop_component("redis")
