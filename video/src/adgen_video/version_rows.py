"""The `video_versions` rows: one per completed version of a video (the plan it was made from and
its primary final and poster; the reads here need no plan), written when export completes the
version. Every version stays downloadable; the latest completed one is what a download names by
default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asyncpg import Record

from adgen_kernel.db import Db


@dataclass(frozen=True)
class VersionRow:
    version: int
    plan_revision: int
    final_key: str
    poster_key: str
    completed_at: datetime


async def versions_of(db: Db, video_id: str) -> list[VersionRow]:
    """The video's completed versions, the first first."""
    rows = await db.fetch(
        "SELECT version, plan_revision, final_key, poster_key, completed_at FROM video_versions"
        " WHERE video_id = $1 ORDER BY version",
        video_id,
    )
    return [_version(r) for r in rows]


async def completed_version(db: Db, video_id: str, version: int = 0) -> VersionRow | None:
    """That completed version of the video (0: the latest); None when it has none such."""
    row = await db.fetchrow(
        "SELECT version, plan_revision, final_key, poster_key, completed_at FROM video_versions"
        " WHERE video_id = $1 AND ($2 = 0 OR version = $2) ORDER BY version DESC LIMIT 1",
        video_id,
        version,
    )
    return None if row is None else _version(row)


def _version(row: Record) -> VersionRow:
    return VersionRow(row["version"], row["plan_revision"], row["final_key"], row["poster_key"], row["completed_at"])
