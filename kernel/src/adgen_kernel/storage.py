"""S3 object storage (any S3-compatible store). boto3 is synchronous, so calls run in threads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from adgen_kernel.settings import ServiceSettings


class ObjectStore:
    def __init__(self, *, endpoint: str, access_key: str, secret_key: str, region: str, bucket: str) -> None:
        self.bucket = bucket
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

    async def ensure_bucket(self) -> None:
        def run() -> None:
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except ClientError:
                self._client.create_bucket(Bucket=self.bucket)

        await asyncio.to_thread(run)

    async def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        await asyncio.to_thread(
            self._client.put_object, Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
        )

    async def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        """Multipart for large files (boto3's transfer manager decides)."""
        await asyncio.to_thread(
            self._client.upload_file, str(path), self.bucket, key, ExtraArgs={"ContentType": content_type}
        )

    async def get_bytes(self, key: str) -> bytes:
        def run() -> bytes:
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

        return await asyncio.to_thread(run)

    async def download_file(self, key: str, path: Path) -> None:
        await asyncio.to_thread(self._client.download_file, self.bucket, key, str(path))

    async def exists(self, key: str) -> bool:
        def run() -> bool:
            try:
                self._client.head_object(Bucket=self.bucket, Key=key)
                return True
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                    return False
                raise

        return await asyncio.to_thread(run)

    async def copy(self, source_key: str, key: str) -> None:
        await asyncio.to_thread(
            self._client.copy_object,
            Bucket=self.bucket,
            Key=key,
            CopySource={"Bucket": self.bucket, "Key": source_key},
        )

    async def delete(self, *keys: str) -> None:
        if not keys:
            return

        def run() -> None:
            for start in range(0, len(keys), 1000):
                batch = [{"Key": k} for k in keys[start : start + 1000]]
                self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

        await asyncio.to_thread(run)

    async def list_keys(self, prefix: str) -> list[str]:
        def run() -> list[str]:
            keys: list[str] = []
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", []))
            return keys

        return await asyncio.to_thread(run)

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
