"""The writes that take a `videos` row through its runs outside the phases' own steps: accepted
(under the per-user limit), not queued after all, planned, cancelled, started again for a retry,
completed by export. Those that run inside a caller's transaction take its connection; the `locked_*` reads lock
the row until that transaction ends, so the decision the caller makes from them still holds when it
writes. A failure is `video_state.fail_video`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adgen_kernel.db import Connection, Db
from adgen_video.video_state import FINISHED

# Statuses that hold none of the user's rendering slots: finished, or waiting for the user's review.
NOT_ACTIVE = (*FINISHED, "awaiting_review")


async def active_video_ids(conn: Db, user_id: str) -> list[str]:
    """The user's videos being made: what the per-user limit counts (under `accounts.lock_user`)."""
    rows = await conn.fetch(
        "SELECT video_id FROM videos WHERE user_id = $1 AND status <> ALL($2::text[])", user_id, list(NOT_ACTIVE)
    )
    return [str(row["video_id"]) for row in rows]


async def insert_video(
    conn: Db,
    *,
    video_id: str,
    user_id: str,
    request: dict[str, Any],
    review_gate: str | None = None,
    review_ttl_s: int = 7 * 24 * 3600,
) -> None:
    """A new queued video with its request (`video_state.to_json` of the VideoRequest), the review
    gate it asked for (`review_gate.gate_of`) and how long that gate will wait."""
    await conn.execute(
        "INSERT INTO videos (video_id, user_id, status, request, review_gate, review_ttl_s)"
        " VALUES ($1, $2, 'queued', $3, $4, $5)",
        video_id,
        user_id,
        request,
        review_gate,
        review_ttl_s,
    )


async def mark_not_queued(db: Db, video_id: str) -> None:
    """A video whose plan could not be enqueued: failed, so it holds no active slot."""
    await db.execute(
        "UPDATE videos SET status = 'failed', error = 'could not be queued; try again', updated_at = now()"
        " WHERE video_id = $1",
        video_id,
    )


@dataclass(frozen=True)
class LockedVideo:
    status: str
    run: int
    planned: bool  # has a spec: a retry starts rendering, not planning
    version: int = 1  # the version being made, or the last one made


async def locked_video_of_user(conn: Connection, *, user_id: str, video_id: str) -> LockedVideo | None:
    """The user's video, its row locked until the caller's transaction ends; None when the user has
    no such video."""
    row = await conn.fetchrow(
        "SELECT status, run, spec IS NOT NULL AS planned, version FROM videos"
        " WHERE video_id = $1 AND user_id = $2 FOR UPDATE",
        video_id,
        user_id,
    )
    if row is None:
        return None
    return LockedVideo(str(row["status"]), int(row["run"]), bool(row["planned"]), int(row["version"]))


async def mark_cancelled(conn: Db, video_id: str) -> None:
    await conn.execute("UPDATE videos SET status = 'cancelled', updated_at = now() WHERE video_id = $1", video_id)


async def start_run(conn: Db, video_id: str, *, run: int, status: str) -> None:
    """The video's next run begins at `status`, with the last run's failure cleared."""
    await conn.execute(
        "UPDATE videos SET status = $2, run = $3, error = NULL, failed_phase = NULL, updated_at = now()"
        " WHERE video_id = $1",
        video_id,
        status,
        run,
    )


async def mark_completed(db: Db, video_id: str, *, final_key: str, poster_key: str) -> bool:
    """Records the final and poster objects of the version being made, completes the video and
    keeps the version (its plan and objects) in `video_versions`; True only for the call that
    completed it (False when it was completed already, or cancelled)."""
    completed = await db.fetchval(
        "WITH marked AS (UPDATE videos SET status = 'completed', final_key = $2, poster_key = $3,"
        "  completed_at = now(), updated_at = now() WHERE video_id = $1 AND status NOT IN ('completed', 'cancelled')"
        "  RETURNING video_id, version, spec, plan_revision, final_key, poster_key, completed_at)"
        " INSERT INTO video_versions (video_id, version, spec, plan_revision, final_key, poster_key, completed_at)"
        " SELECT * FROM marked RETURNING true",
        video_id,
        final_key,
        poster_key,
    )
    return bool(completed)


async def start_version(conn: Db, video_id: str, *, version: int, run: int, status: str) -> None:
    """The completed video is made again as `version` in run `run`, from its edited plan (already
    stored), at `status`: rendering when units are made again (`unit_inputs`), else refining."""
    await conn.execute(
        "UPDATE videos SET status = $4, version = $2, run = $3, error = NULL, failed_phase = NULL,"
        " completed_at = NULL, updated_at = now() WHERE video_id = $1",
        video_id,
        version,
        run,
        status,
    )


async def record_plan(conn: Db, video_id: str, spec: dict[str, Any], quote: dict[str, Any]) -> None:
    """The video's plan and its quote (a Cost as JSON: a review gate prices the rest from it), once:
    a video cancelled while it was being planned keeps its plan (a retry starts from it) but not a
    running status."""
    await conn.execute(
        "UPDATE videos SET spec = $2, quote = $4, planned_at = now(), updated_at = now(),"
        " status = CASE WHEN status = ANY($3::text[]) THEN status ELSE 'rendering' END"
        " WHERE video_id = $1 AND spec IS NULL",
        video_id,
        spec,
        list(FINISHED),
        quote,
    )


async def replace_spec(conn: Connection, video_id: str, spec: dict[str, Any]) -> None:
    """The plan as its owner edited it at a review gate (under the video's row lock)."""
    await conn.execute("UPDATE videos SET spec = $2, updated_at = now() WHERE video_id = $1", video_id, spec)


@dataclass(frozen=True)
class StoredPlan:
    spec: dict[str, Any]  # the Spec as JSON
    request: dict[str, Any]  # the VideoRequest as JSON
    revision: int


async def plan_of(conn: Connection, video_id: str) -> StoredPlan:
    """The planned video's plan, request and plan revision (under the caller's row lock)."""
    row = await conn.fetchrow("SELECT spec, request, plan_revision FROM videos WHERE video_id = $1", video_id)
    assert row is not None and row["spec"] is not None, "only a planned video has a plan"
    return StoredPlan(row["spec"], row["request"], int(row["plan_revision"]))


async def replace_plan(
    conn: Connection, video_id: str, spec: dict[str, Any], quote: dict[str, Any], revision: int
) -> None:
    """The plan as its owner edited it, its new quote and revision (under the video's row lock)."""
    await conn.execute(
        "UPDATE videos SET spec = $2, quote = $3, plan_revision = $4, updated_at = now() WHERE video_id = $1",
        video_id,
        spec,
        quote,
        revision,
    )
