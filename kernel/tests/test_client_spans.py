"""Postgres statements and S3 calls are CLIENT spans under the span that made them, with the standard
attributes, the SQL but never its parameter values, and nothing traced outside a span."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from botocore.exceptions import ClientError
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from adgen_embedded.infra import InfraEndpoints
from adgen_kernel.db import create_pool, operation_name
from adgen_kernel.storage import ObjectStore
from adgen_kernel.telemetry import setup_tracing

EXPORTER = InMemorySpanExporter()
tracer = trace.get_tracer("kernel-tests")


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    """A finished span's attributes: the SDK's are always a mapping, the API's type allows None."""
    assert span.attributes is not None
    return span.attributes


@pytest.fixture(scope="module", autouse=True)
def tracing() -> None:
    setup_tracing("kernel-tests", processor=SimpleSpanProcessor(EXPORTER))


@pytest.fixture
def spans() -> InMemorySpanExporter:
    EXPORTER.clear()
    return EXPORTER


def store_of(infra: InfraEndpoints) -> ObjectStore:
    return ObjectStore(
        endpoint=infra.s3_endpoint,
        access_key=infra.s3_access_key,
        secret_key=infra.s3_secret_key,
        region=infra.s3_region,
        bucket=infra.s3_bucket,
    )


def test_the_operation_is_the_statements_leading_keyword() -> None:
    assert operation_name("  select 1") == "SELECT"
    assert operation_name("\n WITH x AS (SELECT 1) SELECT * FROM x") == "WITH"
    assert operation_name("(SELECT 1) UNION (SELECT 2)") == "SELECT"
    assert operation_name("COMMIT;") == "COMMIT"


async def test_statements_are_spans_with_the_sql_but_not_its_values(
    infra: InfraEndpoints, spans: InMemorySpanExporter
) -> None:
    secret = f"value-{uuid.uuid4()}"
    pool = await create_pool(infra.database_url, max_size=2)
    try:
        await pool.fetchval("SELECT $1::text", "outside any span")
        with tracer.start_as_current_span("work") as work:
            assert await pool.fetchval("SELECT $1::text", secret) == secret
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT length($1::text)", secret)
            with pytest.raises(asyncpg.UndefinedTableError):
                await pool.fetch("SELECT * FROM no_such_table WHERE id = $1", secret)
    finally:
        await pool.close()

    finished = spans.get_finished_spans()
    db = [s for s in finished if attrs(s).get("db.system.name") == "postgresql"]
    database = urlsplit(infra.database_url).path.lstrip("/")
    assert [s.name for s in db] == [f"{op} {database}" for op in ("SELECT", "BEGIN", "SELECT", "COMMIT", "SELECT")]
    assert all(s.parent is not None and s.parent.span_id == work.get_span_context().span_id for s in db)
    assert all(s.kind == SpanKind.CLIENT for s in db)
    first = db[0]
    assert attrs(first)["db.system"] == "postgresql"
    assert attrs(first)["db.operation.name"] == "SELECT"
    assert attrs(first)["db.query.text"] == "SELECT $1::text"
    assert attrs(first)["db.namespace"] == database
    assert attrs(first)["server.port"] == urlsplit(infra.database_url).port
    assert attrs(first)["server.address"]
    failed = db[-1]
    assert failed.status.status_code == StatusCode.ERROR
    assert attrs(failed)["db.response.status_code"] == "42P01"
    assert attrs(failed)["error.type"] == "UndefinedTableError"
    recorded = repr([(s.attributes, [e.attributes for e in s.events]) for s in finished])
    assert secret not in recorded and "outside any span" not in recorded


async def test_object_store_calls_are_spans_with_bucket_and_key(
    infra: InfraEndpoints, spans: InMemorySpanExporter
) -> None:
    store = store_of(infra)
    key = f"kernel-tests/{uuid.uuid4()}.bin"
    await store.put_bytes(key, b"not traced")  # no span to be under
    with tracer.start_as_current_span("work") as work:
        await store.put_bytes(key, b"payload")
        assert await store.get_bytes(key) == b"payload"
        assert not await store.exists(key + ".missing")
        with pytest.raises(ClientError):
            await store.get_bytes(key + ".missing")
        await store.delete(key)

    s3 = [s for s in spans.get_finished_spans() if attrs(s).get("rpc.system") == "aws-api"]
    assert [s.name for s in s3] == ["S3.PutObject", "S3.GetObject", "S3.HeadObject", "S3.GetObject", "S3.DeleteObjects"]
    assert all(s.parent is not None and s.parent.span_id == work.get_span_context().span_id for s in s3)
    put = s3[0]
    assert put.kind == SpanKind.CLIENT
    assert dict(attrs(put)) == {
        "rpc.system": "aws-api",
        "rpc.service": "S3",
        "rpc.method": "PutObject",
        "aws.s3.bucket": infra.s3_bucket,
        "aws.s3.key": key,
        "server.address": urlsplit(infra.s3_endpoint).hostname,
        "server.port": urlsplit(infra.s3_endpoint).port,
    }
    assert s3[2].status.status_code == StatusCode.UNSET  # a missing key is an answer, not a failure
    missing = s3[3]
    assert missing.status.status_code == StatusCode.ERROR
    assert attrs(missing)["http.response.status_code"] == 404
    assert attrs(missing)["error.type"] == "NoSuchKey"
    assert "aws.s3.key" not in attrs(s3[4])
