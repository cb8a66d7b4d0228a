"""The asset library: objects first, then the row, undoing the objects if the row fails, so a crash
leaves no row without objects; every read is filtered to the caller's own assets."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import asyncpg
from google.protobuf import timestamp_pb2

from adgen.assets.v1 import assets_service_pb2 as pb
from adgen_assets.intake import safe_stem, take_in
from adgen_kernel import keys
from adgen_kernel.errors import InvalidArgument, NotFound
from adgen_kernel.serve import Connections

SOURCES = {"USER_UPLOAD": pb.ASSET_SOURCE_USER_UPLOAD, "GENERATED": pb.ASSET_SOURCE_GENERATED}


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(f"{field} must be a UUID, got {value[:64]!r}") from None


def to_proto(row: asyncpg.Record) -> pb.Asset:
    created = timestamp_pb2.Timestamp()
    created.FromDatetime(row["created_at"])
    return pb.Asset(
        asset_id=str(row["asset_id"]),
        user_id=str(row["user_id"]),
        name=row["name"],
        content_type=row["content_type"],
        width=row["width"],
        height=row["height"],
        source=SOURCES[row["source"]],
        original_key=row["original_key"],
        thumbnail_key=row["thumbnail_key"],
        edges_key=row["edges_key"],
        created_at=created,
    )


@dataclass(frozen=True)
class Uploaded:
    asset: pb.Asset
    image: bytes  # the stored original (EXIF-rotated, metadata-free): what the embedding must see


class Library:
    def __init__(self, connections: Connections) -> None:
        self._c = connections

    async def upload(self, user_id: str, filename: str, data: bytes) -> Uploaded:
        user = parse_uuid(user_id, "user_id")
        if not filename.strip():
            raise InvalidArgument("filename must not be empty")
        intake = await asyncio.to_thread(take_in, data)
        asset_id = uuid.uuid4()
        # The id suffix keeps a second "logo.png" from colliding with the first.
        stem = f"{safe_stem(filename)}-{asset_id.hex[:8]}"
        original = keys.asset_key(str(user), f"{stem}.{intake.extension}")
        thumbnail = keys.asset_key(str(user), f"{stem}_thumbnail.jpg")
        edges = keys.asset_key(str(user), f"{stem}_edges.png")
        store = self._c.store
        written: list[str] = []
        try:
            for key, body, kind in (
                (original, intake.original, intake.content_type),
                (thumbnail, intake.thumbnail_jpeg, "image/jpeg"),
                (edges, intake.edges_png, "image/png"),
            ):
                await store.put_bytes(key, body, kind)
                written.append(key)
            row = await self._c.db.fetchrow(
                "INSERT INTO assets (asset_id, user_id, name, source, content_type, width, height,"
                " original_key, thumbnail_key, edges_key) VALUES ($1, $2, $3, 'USER_UPLOAD', $4, $5, $6, $7, $8, $9)"
                " RETURNING *",
                asset_id,
                user,
                filename.strip()[:200],
                intake.content_type,
                intake.width,
                intake.height,
                original,
                thumbnail,
                edges,
            )
        except BaseException:
            await store.delete(*written)
            raise
        return Uploaded(to_proto(row), intake.original)

    async def get(self, user_id: str, asset_id: str) -> pb.Asset:
        row = await self._c.db.fetchrow(
            "SELECT * FROM assets WHERE asset_id = $1 AND user_id = $2",
            parse_uuid(asset_id, "asset_id"),
            parse_uuid(user_id, "user_id"),
        )
        if row is None:
            raise NotFound(f"asset {asset_id} not found")
        return to_proto(row)

    async def list(self, user_id: str, page_size: int, page_token: str) -> tuple[list[pb.Asset], str]:
        size = page_size if 0 < page_size <= 100 else 50
        offset = int(page_token) if page_token.isdigit() else 0
        rows = await self._c.db.fetch(
            "SELECT * FROM assets WHERE user_id = $1 ORDER BY created_at DESC, asset_id LIMIT $2 OFFSET $3",
            parse_uuid(user_id, "user_id"),
            size + 1,
            offset,
        )
        next_token = str(offset + size) if len(rows) > size else ""
        return [to_proto(r) for r in rows[:size]], next_token

    async def delete(self, user_id: str, asset_id: str) -> None:
        asset = await self.get(user_id, asset_id)
        await self._c.db.execute("DELETE FROM assets WHERE asset_id = $1", uuid.UUID(asset.asset_id))
        await self._c.store.delete(asset.original_key, asset.thumbnail_key, asset.edges_key)
