"""S3 object storage (any S3-compatible store). boto3 is synchronous, so calls run in threads.

All of adgen's S3 access goes through `ObjectStore`, and each of its calls is a CLIENT span
`S3.{Operation}` under the current span (rpc.system = aws-api, rpc.service = S3, rpc.method,
aws.s3.bucket, aws.s3.key when the call names one, server.address/port; on failure the HTTP status
and the S3 error code). `put_file` and `download_file` are boto3 managed transfers, which may split
a large object into multipart or ranged requests under the one span; `presign_get` sends nothing
and is not traced. A call made outside any span (start-up) is not traced either. The OpenTelemetry
botocore instrumentation would need other opentelemetry-api/sdk versions than ours.

Every operation here is safe to repeat, so a store that cannot be reached (restarting, a network
blip) is waited for, up to `UNREACHABLE_PATIENCE_S`, before the error reaches the caller: a short
outage slows work down instead of spending its redeliveries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from adgen_kernel.settings import ServiceSettings

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

T = TypeVar("T")
_tracer = trace.get_tracer("adgen.storage")

UNREACHABLE_PATIENCE_S = 45.0
MISSING = frozenset({"404", "NoSuchKey", "NotFound"})  # S3 error codes for an object that is not there
_UNREACHABLE = (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError)


def _patiently(run: Callable[[], T]) -> Callable[[], T]:
    """`run`, tried again with backoff while the store cannot be reached (see the module's docstring)."""

    def attempt() -> T:
        for attempt in Retrying(
            stop=stop_after_delay(UNREACHABLE_PATIENCE_S),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            retry=retry_if_exception_type(_UNREACHABLE),
            reraise=True,
        ):
            with attempt:
                return run()
        raise AssertionError("tenacity ended without a result")

    return attempt


class ObjectStore:
    def __init__(self, *, endpoint: str, access_key: str, secret_key: str, region: str, bucket: str) -> None:
        self.bucket = bucket
        where = urlsplit(endpoint)
        self._server: dict[str, Any] = {"server.address": where.hostname or endpoint}
        if where.port is not None:
            self._server["server.port"] = where.port
        self._client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> ObjectStore:
        return cls(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            region=settings.s3_region,
            bucket=settings.s3_bucket,
        )

    async def _call(self, operation: str, run: Callable[[], T], key: str | None = None) -> T:
        """`run()` in a thread, as the span of S3 operation `operation` (PutObject, GetObject, …)."""
        run = _patiently(run)
        if not trace.get_current_span().get_span_context().is_valid:
            return await asyncio.to_thread(run)
        attributes = {
            "rpc.system": "aws-api",
            "rpc.service": "S3",
            "rpc.method": operation,
            "aws.s3.bucket": self.bucket,
            **self._server,
        }
        if key is not None:
            attributes["aws.s3.key"] = key
        with _tracer.start_as_current_span(
            f"S3.{operation}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return await asyncio.to_thread(run)
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code") or "ClientError")
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                span.set_status(Status(StatusCode.ERROR, code))
                span.set_attribute("error.type", code)
                if isinstance(status, int):
                    span.set_attribute("http.response.status_code", status)
                raise
            except (BotoCoreError, OSError) as error:
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                span.set_attribute("error.type", type(error).__name__)
                raise

    async def ensure_bucket(self) -> None:
        def run() -> None:
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except ClientError:
                self._client.create_bucket(Bucket=self.bucket)

        await self._call("CreateBucket", run)

    async def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        await self._call(
            "PutObject",
            lambda: self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type),
            key,
        )

    async def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        """Multipart for large files (boto3's transfer manager decides)."""
        await self._call(
            "PutObject",
            lambda: self._client.upload_file(str(path), self.bucket, key, ExtraArgs={"ContentType": content_type}),
            key,
        )

    async def get_bytes(self, key: str) -> bytes:
        def run() -> bytes:
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

        return await self._call("GetObject", run, key)

    async def get_bytes_if_exists(self, key: str) -> bytes | None:
        """The object, or None when it is not stored (one request, where exists + get would be two)."""
        try:
            return await self.get_bytes(key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING:
                return None
            raise

    async def download_file(self, key: str, path: Path) -> None:
        await self._call("GetObject", lambda: self._client.download_file(self.bucket, key, str(path)), key)

    async def exists(self, key: str) -> bool:
        def run() -> bool:
            try:
                self._client.head_object(Bucket=self.bucket, Key=key)
                return True
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in MISSING:
                    return False
                raise

        return await self._call("HeadObject", run, key)

    async def copy(self, source_key: str, key: str) -> None:
        await self._call(
            "CopyObject",
            lambda: self._client.copy_object(
                Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": source_key}
            ),
            key,
        )

    async def delete(self, *keys: str) -> None:
        if not keys:
            return

        def run() -> None:
            for start in range(0, len(keys), 1000):
                batch: list[ObjectIdentifierTypeDef] = [{"Key": k} for k in keys[start : start + 1000]]
                self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

        await self._call("DeleteObjects", run)

    async def list_keys(self, prefix: str) -> list[str]:
        def run() -> list[str]:
            keys: list[str] = []
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", []))
            return keys

        return await self._call("ListObjectsV2", run)

    async def delete_prefix(self, prefix: str) -> int:
        keys = await self.list_keys(prefix)
        await self.delete(*keys)
        return len(keys)

    async def presign_get(self, key: str, expires_s: int, filename: str | None = None) -> str:
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return await asyncio.to_thread(
            self._client.generate_presigned_url, "get_object", Params=params, ExpiresIn=expires_s
        )
