"""The `frames` and `chunks` rows: one per unit of a planned video (a beat's storyboard image, a
chunk's clip), what a read shows of them, and the prediction each paid unit remembers (see
`adgen_providers.prediction_record` for why)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from adgen_kernel.db import Connection, Db

UnitTable = Literal["frames", "chunks"]

# The column that, with video_id, keys a row of each unit table.
_INDEX_COLUMN: dict[UnitTable, str] = {"frames": "beat_index", "chunks": "chunk_index"}


@dataclass(frozen=True)
class FrameRow:
    beat_index: int
    status: str
    image_key: str | None
    take: int = 0  # how many times it was drawn again at a review gate


async def frames_of(db: Db, video_id: str) -> list[FrameRow]:
    """The video's storyboard frames in beat order (none before it is planned)."""
    rows = await db.fetch(
        "SELECT beat_index, status, image_key, takes FROM frames WHERE video_id = $1 ORDER BY beat_index", video_id
    )
    return [FrameRow(row["beat_index"], row["status"], row["image_key"], row["takes"]) for row in rows]


async def done_counts(db: Db, video_id: str) -> tuple[int, int]:
    """How many of the video's frames and chunks are done."""
    row = await db.fetchrow(
        "SELECT (SELECT count(*) FROM frames WHERE video_id = $1 AND status = 'done') AS frames,"
        " (SELECT count(*) FROM chunks WHERE video_id = $1 AND status = 'done') AS chunks",
        video_id,
    )
    assert row is not None  # a SELECT without FROM answers one row
    return int(row["frames"]), int(row["chunks"])


async def add_units(conn: Connection, video_id: str, beats: Iterable[int], chunks: Iterable[tuple[int, int]]) -> None:
    """A pending row for each of the plan's frames (beat indices) and chunks ((chunk, beat) indices)."""
    await conn.executemany(
        "INSERT INTO frames (video_id, beat_index) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(video_id, beat) for beat in beats],
    )
    await conn.executemany(
        "INSERT INTO chunks (video_id, chunk_index, beat_index) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        [(video_id, chunk, beat) for chunk, beat in chunks],
    )


async def replace_units(
    conn: Connection, video_id: str, beats: Iterable[int], chunks: Iterable[tuple[int, int]]
) -> None:
    """The frame and chunk rows of an edited plan of which nothing is made yet (at the plan gate),
    as `add_units` writes them for a new plan."""
    await conn.execute("DELETE FROM chunks WHERE video_id = $1", video_id)
    await conn.execute("DELETE FROM frames WHERE video_id = $1", video_id)
    await add_units(conn, video_id, beats, chunks)


async def count_chunk_attempt(db: Db, video_id: str, chunk_index: int) -> None:
    await db.execute(
        "UPDATE chunks SET attempts = attempts + 1, updated_at = now()"
        " WHERE video_id = $1 AND chunk_index = $2 AND status = 'pending'",
        video_id,
        chunk_index,
    )


async def mark_chunk_done(db: Db, video_id: str, chunk_index: int, clip_key: str, handoff_key: str | None) -> None:
    await db.execute(
        "UPDATE chunks SET status = 'done', clip_key = $3, handoff_key = $4, updated_at = now()"
        " WHERE video_id = $1 AND chunk_index = $2",
        video_id,
        chunk_index,
        clip_key,
        handoff_key,
    )


async def frames_in_flight(conn: Connection, video_id: str) -> list[int]:
    """The beats whose storyboard image is not made (yet, or again: a regeneration at a gate)."""
    rows = await conn.fetch(
        "SELECT beat_index FROM frames WHERE video_id = $1 AND status <> 'done' ORDER BY beat_index", video_id
    )
    return [int(row["beat_index"]) for row in rows]


async def start_take(conn: Connection, video_id: str, beat_index: int) -> int:
    """The beat's image is to be drawn again: its next take, pending, with no prediction to resume
    (the take's own is recorded as the first take's was). Returns the take's number."""
    take = await conn.fetchval(
        "UPDATE frames SET takes = takes + 1, status = 'pending', prediction_id = NULL, prediction_tag = NULL,"
        " updated_at = now() WHERE video_id = $1 AND beat_index = $2 RETURNING takes",
        video_id,
        beat_index,
    )
    return int(take)


async def start_takes(conn: Connection, table: UnitTable, video_id: str, indices: Iterable[int]) -> None:
    """The units are to be made again (an edit of a finished video changed their inputs): each its
    next take, pending, with no prediction to resume."""
    await conn.execute(
        f"UPDATE {table} SET takes = takes + 1, status = 'pending', prediction_id = NULL, prediction_tag = NULL,"
        f" updated_at = now() WHERE video_id = $1 AND {_INDEX_COLUMN[table]} = ANY($2::int[])",
        video_id,
        list(indices),
    )


async def take_of(db: Db, table: UnitTable, video_id: str, index: int) -> int:
    """The unit's current take (0 until it is made again); 0 when it has no row."""
    take = await db.fetchval(
        f"SELECT takes FROM {table} WHERE video_id = $1 AND {_INDEX_COLUMN[table]} = $2", video_id, index
    )
    return int(take or 0)


async def clip_keys(db: Db, video_id: str) -> dict[int, str]:
    """Chunk index -> the object of its finished clip (of its latest take)."""
    rows = await db.fetch(
        "SELECT chunk_index, clip_key FROM chunks WHERE video_id = $1 AND status = 'done' AND clip_key IS NOT NULL",
        video_id,
    )
    return {int(r["chunk_index"]): str(r["clip_key"]) for r in rows}


async def frame_image_key(db: Db, video_id: str, beat_index: int) -> str | None:
    """The object of the beat's latest finished storyboard image; None before it is made."""
    key = await db.fetchval(
        "SELECT image_key FROM frames WHERE video_id = $1 AND beat_index = $2 AND status = 'done'",
        video_id,
        beat_index,
    )
    return None if key is None else str(key)


async def count_frame_attempt(db: Db, video_id: str, beat_index: int) -> None:
    await db.execute(
        "UPDATE frames SET attempts = attempts + 1, updated_at = now() WHERE video_id = $1 AND beat_index = $2",
        video_id,
        beat_index,
    )


async def mark_frame_done(db: Db, video_id: str, beat_index: int, image_key: str, take: int = 0) -> int:
    """Records the beat's image of that take (a late redelivery of an earlier take changes nothing);
    returns how many of the video's frames are done, this one included (the count runs in the
    update's statement, whose snapshot does not show the update itself)."""
    done = await db.fetchval(
        "WITH updated AS (UPDATE frames SET status = 'done', image_key = $3, updated_at = now()"
        "  WHERE video_id = $1 AND beat_index = $2 AND takes = $4 RETURNING 1)"
        " SELECT count(*) FROM frames WHERE video_id = $1 AND (status = 'done' OR beat_index = $2)",
        video_id,
        beat_index,
        image_key,
        take,
    )
    return int(done)


async def recorded_prediction(db: Db, table: UnitTable, video_id: str, index: int) -> tuple[str | None, str | None]:
    """The (prediction_id, prediction_tag) of the unit's row; (None, None) when it has no row."""
    row = await db.fetchrow(
        f"SELECT prediction_id, prediction_tag FROM {table} WHERE video_id = $1 AND {_INDEX_COLUMN[table]} = $2",
        video_id,
        index,
    )
    return (None, None) if row is None else (row["prediction_id"], row["prediction_tag"])


async def record_prediction_tag(db: Db, table: UnitTable, video_id: str, index: int, tag: str) -> None:
    """Before a create is sent: its tag, and no id yet."""
    await _set_prediction(db, table, video_id, index, "prediction_id = NULL, prediction_tag = $3", tag)


async def record_prediction_id(db: Db, table: UnitTable, video_id: str, index: int, prediction_id: str) -> None:
    """As soon as the create answered: its id (the tag stays)."""
    await _set_prediction(db, table, video_id, index, "prediction_id = $3", prediction_id)


async def forget_prediction(db: Db, table: UnitTable, video_id: str, index: int) -> None:
    """Neither id nor tag: the next attempt creates a new prediction."""
    await _set_prediction(db, table, video_id, index, "prediction_id = NULL, prediction_tag = NULL")


async def _set_prediction(db: Db, table: UnitTable, video_id: str, index: int, assignments: str, *values: str) -> None:
    await db.execute(
        f"UPDATE {table} SET {assignments}, updated_at = now() WHERE video_id = $1 AND {_INDEX_COLUMN[table]} = $2",
        video_id,
        index,
        *values,
    )
