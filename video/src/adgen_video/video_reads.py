"""Reads of the `videos` table: one video or a page of a user's videos as the gateway shows them,
whose a video is, what a worker checks before it acts, and the live videos whose rows stopped
changing (the reconciler's candidates for lost work). A user's reads always name the user: another
user's video is not there for them."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from adgen_kernel.db import Db
from adgen_video.video_state import FINISHED


async def video_of_user(db: Db, *, user_id: str, video_id: str) -> asyncpg.Record | None:
    """The whole row of the user's video, or None when the user has no such video."""
    return await db.fetchrow("SELECT * FROM videos WHERE video_id = $1 AND user_id = $2", video_id, user_id)


async def videos_page(db: Db, *, user_id: str, limit: int, before: tuple[datetime, str] | None) -> list[asyncpg.Record]:
    """Up to `limit` whole rows of the user's videos, newest first, from just after the
    (created_at, video_id) cursor `before` (from the newest when None)."""
    if before is None:
        return list(
            await db.fetch(
                "SELECT * FROM videos WHERE user_id = $1 ORDER BY created_at DESC, video_id DESC LIMIT $2",
                user_id,
                limit,
            )
        )
    return list(
        await db.fetch(
            "SELECT * FROM videos WHERE user_id = $1 AND (created_at, video_id) < ($2, $3::uuid)"
            " ORDER BY created_at DESC, video_id DESC LIMIT $4",
            user_id,
            before[0],
            before[1],
            limit,
        )
    )


async def status_for_user(db: Db, *, user_id: str, video_id: str) -> str | None:
    """The status of the user's video, or None when the user has no such video."""
    status = await db.fetchval("SELECT status FROM videos WHERE video_id = $1 AND user_id = $2", video_id, user_id)
    return None if status is None else str(status)


async def owns_video(db: Db, *, user_id: str, video_id: str) -> bool:
    return await status_for_user(db, user_id=user_id, video_id=video_id) is not None


async def status_of(db: Db, video_id: str) -> str | None:
    """The video's status, or None when there is no such video."""
    status = await db.fetchval("SELECT status FROM videos WHERE video_id = $1", video_id)
    return None if status is None else str(status)


async def planning_state(db: Db, video_id: str) -> asyncpg.Record | None:
    """What the planner reads of a video before planning it: status, spec (None before) and run."""
    return await db.fetchrow("SELECT status, spec, run FROM videos WHERE video_id = $1", video_id)


async def status_and_run(db: Db, video_id: str) -> tuple[str, int] | None:
    """The video's status and current run, or None when there is no such video."""
    row = await db.fetchrow("SELECT status, run FROM videos WHERE video_id = $1", video_id)
    return None if row is None else (str(row["status"]), int(row["run"]))


async def version_of(db: Db, video_id: str) -> int:
    """The version the video is being made at, or was last made at (1 when there is no such video:
    a call made outside a video)."""
    version = await db.fetchval("SELECT version FROM videos WHERE video_id = $1", video_id)
    return 1 if version is None else int(version)


async def final_key_of(db: Db, video_id: str) -> str | None:
    """The object key of the video's primary final MP4; None until export recorded it."""
    key = await db.fetchval("SELECT final_key FROM videos WHERE video_id = $1", video_id)
    return None if key is None else str(key)


# A video's last change is the latest of its own row's and its frame and chunk rows' updates.
_STALE = """
SELECT video_id, changed FROM (
    SELECT v.video_id, greatest(v.updated_at,
                                (SELECT max(f.updated_at) FROM frames f WHERE f.video_id = v.video_id),
                                (SELECT max(c.updated_at) FROM chunks c WHERE c.video_id = v.video_id)) AS changed
    FROM videos v WHERE v.status <> ALL($1::text[])
) live
WHERE changed < now() - make_interval(secs => $2)
ORDER BY changed
LIMIT $3
"""


async def stale_live_videos(db: Db, *, stale_after_s: float, limit: int) -> list[tuple[str, datetime]]:
    """Up to `limit` unfinished videos that have not changed for `stale_after_s`, each with the time
    of its last change, the longest unchanged first."""
    rows = await db.fetch(_STALE, list(FINISHED), stale_after_s, limit)
    return [(str(row["video_id"]), row["changed"]) for row in rows]
