"""The `voice_lines` rows: one per beat with a voiceover line, written with the plan, marked spoken by
the voice service, read by refine for the lines it mixes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from adgen.common.v1 import common_pb2
from adgen_kernel.db import Connection, Db


def spoken_beats(spec: common_pb2.Spec) -> list[int]:
    """The beats with a line to speak (none when the request turned the voiceover off)."""
    return [b.index for b in spec.beats if b.voiceover.strip()]


@dataclass(frozen=True)
class SpokenLine:
    beat_index: int
    audio_key: str
    duration_s: float
    take: int = 0  # how many times an edit had it spoken again


async def add_lines(conn: Connection, video_id: str, beats: Iterable[int]) -> None:
    """A pending row for each beat that has a line (again: nothing)."""
    await conn.executemany(
        "INSERT INTO voice_lines (video_id, beat_index) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(video_id, beat) for beat in beats],
    )


async def replace_lines(conn: Connection, video_id: str, beats: Iterable[int]) -> None:
    """The rows of an edited plan's lines, none spoken yet (at the plan gate)."""
    await conn.execute("DELETE FROM voice_lines WHERE video_id = $1", video_id)
    await add_lines(conn, video_id, beats)


async def count_attempt(db: Db, video_id: str, beat_index: int) -> None:
    await db.execute(
        "UPDATE voice_lines SET attempts = attempts + 1, updated_at = now()"
        " WHERE video_id = $1 AND beat_index = $2 AND status = 'pending'",
        video_id,
        beat_index,
    )


async def mark_spoken(conn: Connection, video_id: str, beat_index: int, audio_key: str, duration_s: float) -> None:
    await conn.execute(
        "UPDATE voice_lines SET status = 'done', audio_key = $3, duration_s = $4, updated_at = now()"
        " WHERE video_id = $1 AND beat_index = $2",
        video_id,
        beat_index,
        audio_key,
        duration_s,
    )


async def spoken_lines(db: Db, video_id: str) -> list[SpokenLine]:
    """The video's spoken lines in beat order."""
    rows = await db.fetch(
        "SELECT beat_index, audio_key, duration_s, takes FROM voice_lines"
        " WHERE video_id = $1 AND status = 'done' ORDER BY beat_index",
        video_id,
    )
    return [SpokenLine(r["beat_index"], r["audio_key"], float(r["duration_s"]), r["takes"]) for r in rows]


async def keep_lines(conn: Connection, video_id: str, beats: Iterable[int]) -> None:
    """Only the rows of these beats stay (an edit took a beat's line away), and each has one."""
    await conn.execute(
        "DELETE FROM voice_lines WHERE video_id = $1 AND NOT beat_index = ANY($2::int[])", video_id, list(beats)
    )
    await add_lines(conn, video_id, beats)


async def start_line_takes(conn: Connection, video_id: str, beats: Iterable[int]) -> None:
    """The lines are to be spoken again (an edit changed them): each its next take, pending."""
    await conn.execute(
        "UPDATE voice_lines SET takes = takes + 1, status = 'pending', updated_at = now()"
        " WHERE video_id = $1 AND beat_index = ANY($2::int[])",
        video_id,
        list(beats),
    )


async def line_take(db: Db, video_id: str, beat_index: int) -> int:
    """The line's current take (0 until an edit has it spoken again)."""
    take = await db.fetchval(
        "SELECT takes FROM voice_lines WHERE video_id = $1 AND beat_index = $2", video_id, beat_index
    )
    return int(take or 0)
