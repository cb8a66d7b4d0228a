"""The `renditions` table: the shapes of each version of a video that export published (see
`renditions` for which shapes a video has), each with its final, poster and captions objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adgen_kernel.db import Connection, Db
from adgen_video.refine_gate import lock_video


@dataclass(frozen=True)
class PublishedRendition:
    aspect_ratio: str
    primary: bool
    position: int  # in the order the shapes were asked for
    width: int
    height: int
    final_key: str
    poster_key: str
    captions_key: str | None  # the one captions file every rendition shares, when there is one


async def record_renditions(
    conn: Connection, video_id: str, version: int, published: Sequence[PublishedRendition]
) -> None:
    """Records (or records again, as a redelivery does) each published rendition of the version. Give it a
    connection inside a transaction: all of them are recorded or none. The video's row is held
    first, so two exporters of one video (a redelivery racing the first try) record one after the
    other; without it both could insert a primary and the second would break `renditions_one_primary`
    instead of updating."""
    await lock_video(conn, video_id)
    for rendition in published:
        await conn.execute(
            "INSERT INTO renditions (video_id, aspect_ratio, is_primary, position, width, height, final_key,"
            " poster_key, captions_key, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            " ON CONFLICT (video_id, version, aspect_ratio) DO UPDATE SET is_primary = $3, position = $4,"
            " width = $5, height = $6, final_key = $7, poster_key = $8, captions_key = $9",
            video_id,
            rendition.aspect_ratio,
            rendition.primary,
            rendition.position,
            rendition.width,
            rendition.height,
            rendition.final_key,
            rendition.poster_key,
            rendition.captions_key,
            version,
        )


async def rendition_final_key(db: Db, video_id: str, aspect_ratio: str, version: int) -> str | None:
    """The final object of the version's rendition of that shape; None when none was published."""
    key = await db.fetchval(
        "SELECT final_key FROM renditions WHERE video_id = $1 AND aspect_ratio = $2 AND version = $3",
        video_id,
        aspect_ratio,
        version,
    )
    return None if key is None else str(key)


async def published_renditions(db: Db, video_id: str, version: int) -> list[PublishedRendition]:
    """Every published rendition of the version, the primary first, then in the order asked for."""
    rows = await db.fetch(
        "SELECT * FROM renditions WHERE video_id = $1 AND version = $2 ORDER BY is_primary DESC, position",
        video_id,
        version,
    )
    return [
        PublishedRendition(
            aspect_ratio=row["aspect_ratio"],
            primary=row["is_primary"],
            position=row["position"],
            width=row["width"],
            height=row["height"],
            final_key=row["final_key"],
            poster_key=row["poster_key"],
            captions_key=row["captions_key"],
        )
        for row in rows
    ]
