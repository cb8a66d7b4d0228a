"""The asset library: objects first, then the row, undoing the objects if the row fails, so a crash
leaves no row without objects; the row goes in only if it fits the user's quota (checked under the
user's row lock); every read is filtered to the caller's own assets."""

from __future__ import annotations

import asyncio
import base64
import builtins
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from google.protobuf import timestamp_pb2

from adgen.assets.v1 import assets_service_pb2 as pb
from adgen_assets import quota
from adgen_assets.intake import display_name, safe_stem, take_in
from adgen_kernel.errors import InvalidArgument, NotFound
from adgen_kernel.serve import Connections
from adgen_video import keys
from adgen_video.accounts import hold_user

SOURCES = {"USER_UPLOAD": pb.ASSET_SOURCE_USER_UPLOAD, "GENERATED": pb.ASSET_SOURCE_GENERATED}
URL_TTL_S = 3600
# Every column a caller sees; the embedding itself stays in the database.
COLUMNS = (
    "asset_id, user_id, name, source, content_type, width, height, original_key, thumbnail_key, edges_key,"
    " created_at, embedding IS NOT NULL AS embedded"
)


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
        # Search rows carry the embedding itself, library rows only whether there is one.
        embedded=row["embedded"] if "embedded" in row.keys() else row["embedding"] is not None,
    )


def page_token(asset: pb.Asset) -> str:
    """An opaque cursor after `asset` in newest-first order, stable while assets are added or removed."""
    raw = f"{asset.created_at.ToDatetime(tzinfo=UTC).isoformat()}|{asset.asset_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_page_token(token: str) -> tuple[datetime, uuid.UUID]:
    try:
        when, asset_id = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split("|", 1)
        created_at = datetime.fromisoformat(when)
        if created_at.tzinfo is None:
            raise ValueError("no time zone")
        return created_at, uuid.UUID(asset_id)
    except ValueError:
        raise InvalidArgument("page_token: not a page token from a previous list; start without one") from None


@dataclass(frozen=True)
class Uploaded:
    asset: pb.Asset
    image: bytes  # the stored original (EXIF-rotated, metadata-free): what the embedding must see


USAGE_SQL = "SELECT count(*) AS assets, coalesce(sum(stored_bytes), 0)::bigint AS bytes FROM assets WHERE user_id = $1"


class Library:
    def __init__(self, connections: Connections, limits: quota.Quota) -> None:
        self._c = connections
        self._quota = limits

    async def _usage(self, db: asyncpg.Pool | PoolConnectionProxy, user: uuid.UUID) -> quota.Usage:
        row = await db.fetchrow(USAGE_SQL, user)
        assert row is not None  # an aggregate without GROUP BY answers one row
        return quota.Usage(row["assets"], row["bytes"])

    async def upload(self, user_id: str, filename: str, data: bytes, name: str = "") -> Uploaded:
        user = parse_uuid(user_id, "user_id")
        if not filename.strip():
            raise InvalidArgument("file: the upload has no filename")
        shown = display_name(name or filename)
        intake = await asyncio.to_thread(take_in, data)
        size = len(intake.original) + len(intake.thumbnail_jpeg) + len(intake.edges_png)
        quota.check(self._quota, await self._usage(self._c.db, user), size)  # early: nothing written yet
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
            async with self._c.db.acquire() as conn, conn.transaction():
                # The user's row lock: concurrent uploads of one user count and insert one at a time.
                if not await hold_user(conn, str(user)):
                    raise NotFound(f"user {user} not found")
                quota.check(self._quota, await self._usage(conn, user), size)
                row = await conn.fetchrow(
                    "INSERT INTO assets (asset_id, user_id, name, source, content_type, width, height,"
                    " original_key, thumbnail_key, edges_key, stored_bytes)"
                    " VALUES ($1, $2, $3, 'USER_UPLOAD', $4, $5, $6, $7, $8, $9, $10)"
                    f" RETURNING {COLUMNS}",
                    asset_id,
                    user,
                    shown,
                    intake.content_type,
                    intake.width,
                    intake.height,
                    original,
                    thumbnail,
                    edges,
                    size,
                )
                assert row is not None  # INSERT … RETURNING answers the row it inserted
        except BaseException:
            await store.delete(*written)
            raise
        return Uploaded(to_proto(row), intake.original)

    async def get(self, user_id: str, asset_id: str) -> pb.Asset:
        row = await self._c.db.fetchrow(
            f"SELECT {COLUMNS} FROM assets WHERE asset_id = $1 AND user_id = $2",
            parse_uuid(asset_id, "asset_id"),
            parse_uuid(user_id, "user_id"),
        )
        if row is None:
            raise NotFound(f"asset {asset_id} not found")
        return to_proto(row)

    async def list(self, user_id: str, page_size: int, token: str) -> tuple[list[pb.Asset], str]:
        """Newest first; the token continues after the last asset of the previous page."""
        user = parse_uuid(user_id, "user_id")
        if not 0 <= page_size <= 100:
            raise InvalidArgument(f"page_size: between 1 and 100, got {page_size}")
        size = page_size or 50
        after = parse_page_token(token) if token else None
        rows = await self._c.db.fetch(
            f"SELECT {COLUMNS} FROM assets WHERE user_id = $1"
            " AND ($2::timestamptz IS NULL OR created_at < $2 OR (created_at = $2 AND asset_id > $3))"
            " ORDER BY created_at DESC, asset_id LIMIT $4",
            user,
            after[0] if after else None,
            after[1] if after else None,
            size + 1,
        )
        assets = [to_proto(r) for r in rows[:size]]
        return assets, page_token(assets[-1]) if len(rows) > size else ""

    async def rename(self, user_id: str, asset_id: str, name: str) -> pb.Asset:
        """Changes what the user sees; the keys, and so every stored object, stay as they are."""
        row = await self._c.db.fetchrow(
            f"UPDATE assets SET name = $3 WHERE asset_id = $1 AND user_id = $2 RETURNING {COLUMNS}",
            parse_uuid(asset_id, "asset_id"),
            parse_uuid(user_id, "user_id"),
            display_name(name),
        )
        if row is None:
            raise NotFound(f"asset {asset_id} not found")
        return to_proto(row)

    async def delete(self, user_id: str, asset_id: str) -> None:
        asset = await self.get(user_id, asset_id)
        await self._c.db.execute("DELETE FROM assets WHERE asset_id = $1", uuid.UUID(asset.asset_id))
        await self._c.store.delete(asset.original_key, asset.thumbnail_key, asset.edges_key)

    async def near_duplicates(self, asset: pb.Asset, asset_ids: builtins.list[str]) -> builtins.list[pb.NearDuplicate]:
        """The similarity of each of `asset_ids` (the caller's own) to `asset`, best first."""
        if not asset_ids:
            return []
        rows = await self._c.db.fetch(
            "SELECT a.asset_id, 1 - (a.embedding <=> u.embedding) AS score FROM assets a, assets u"
            " WHERE u.asset_id = $1 AND a.user_id = u.user_id AND a.asset_id = ANY($2::uuid[])"
            " AND a.embedding IS NOT NULL AND u.embedding IS NOT NULL ORDER BY score DESC",
            uuid.UUID(asset.asset_id),
            [uuid.UUID(a) for a in asset_ids],
        )
        return [pb.NearDuplicate(asset_id=str(r["asset_id"]), score=float(r["score"])) for r in rows]

    async def with_urls(self, asset: pb.Asset) -> pb.Asset:
        """The asset with pre-signed links to its objects, valid for URL_TTL_S."""
        store = self._c.store
        original, thumbnail, edges = await asyncio.gather(
            *(store.presign_get(key, URL_TTL_S) for key in (asset.original_key, asset.thumbnail_key, asset.edges_key))
        )
        asset.urls.original, asset.urls.thumbnail, asset.urls.edges = original, thumbnail, edges
        asset.urls.expires_at.FromDatetime(datetime.now(UTC) + timedelta(seconds=URL_TTL_S))
        return asset
