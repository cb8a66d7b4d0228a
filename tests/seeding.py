"""State put straight into Postgres for tests and benchmarks: a user with a working API key, a video
at any status with its frame and chunk rows, bare asset rows, a search index record.

The one place in tests/ and bench/ that writes the shared tables. A user is made by the gateway's
own `create_user`, so its key authenticates as a real one, and a ledger line by the kernel's
`record_cost` (tests call it directly). The other rows have no product function that writes just
them (the gateway's `create_video` also enqueues the plan, the planner writes frames and chunks
inside its handler, the assets service stores images first), so they are written here, as those
write them. Each names only the columns its table was created with, so the same functions seed a
database at any migration (tests/test_migrations.py). jsonb and vector values go as text with an
explicit cast, so any connection works: a service pool with its jsonb codec or a bare asyncpg
connection.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from google.protobuf.message import Message

from adgen.common.v1 import common_pb2
from adgen_gateway import auth
from adgen_video.video_state import to_json


@dataclass(frozen=True)
class User:
    user_id: str
    api_key: str
    name: str


async def user(db: asyncpg.Pool | asyncpg.Connection, *, name: str | None = None) -> User:
    """A new user (a unique name unless `name` is given) and its API key."""
    made, key = await auth.create_user(db, name or f"seeded-{uuid.uuid4().hex[:12]}")
    return User(made.user_id, key, made.name)


def _jsonb(value: Message | dict[str, Any] | None) -> str:
    return json.dumps(to_json(value) if isinstance(value, Message) else (value or {}))


async def video(
    db: asyncpg.Pool | asyncpg.Connection,
    *,
    user_id: str,
    status: str = "rendering",
    request: Message | dict[str, Any] | None = None,
    spec: common_pb2.Spec | None = None,
    final_key: str | None = None,
    video_id: str | None = None,
    frames: bool = False,
    chunks: bool = False,
) -> str:
    """A video row at `status` (its `request` a VideoRequest or its JSON, `{}` by default), and with
    `frames` / `chunks` the pending row of every beat / chunk slot of `spec`, as the planner leaves
    them. Returns the video id (`video_id` when given)."""
    if (frames or chunks) and spec is None:
        raise ValueError("frames and chunks rows are those of a spec: pass spec")
    video_id = video_id or str(uuid.uuid4())
    await db.execute(
        "INSERT INTO videos (video_id, user_id, status, request, spec, final_key)"
        " VALUES ($1, $2, $3, $4::text::jsonb, $5::text::jsonb, $6)",
        video_id,
        user_id,
        status,
        _jsonb(request),
        None if spec is None else _jsonb(spec),
        final_key,
    )
    if frames and spec is not None:
        for beat in spec.beats:
            await frame(db, video_id=video_id, beat_index=beat.index)
    if chunks and spec is not None:
        for slot in spec.chunk_plan.slots:
            await chunk(db, video_id=video_id, chunk_index=slot.index, beat_index=slot.beat_index)
    return video_id


async def frame(
    db: asyncpg.Pool | asyncpg.Connection,
    *,
    video_id: str,
    beat_index: int,
    status: str = "pending",
    image_key: str | None = None,
) -> None:
    """One beat's storyboard row: pending, or `done` with its `image_key`."""
    await db.execute(
        "INSERT INTO frames (video_id, beat_index, status, image_key) VALUES ($1, $2, $3, $4)",
        video_id,
        beat_index,
        status,
        image_key,
    )


async def chunk(db: asyncpg.Pool | asyncpg.Connection, *, video_id: str, chunk_index: int, beat_index: int) -> None:
    """One pending chunk row."""
    await db.execute(
        "INSERT INTO chunks (video_id, chunk_index, beat_index) VALUES ($1, $2, $3)",
        video_id,
        chunk_index,
        beat_index,
    )


async def assets(db: asyncpg.Pool | asyncpg.Connection, *, user_id: str, embeddings: Sequence[str | None]) -> list[str]:
    """One uploaded-looking asset row per embedding (a pgvector literal, or None: not embedded yet),
    with no stored images: for what reads only the table (search, migrations). Returns their ids."""
    ids = [uuid.uuid4() for _ in embeddings]
    await db.executemany(
        "INSERT INTO assets (asset_id, user_id, name, source, content_type, width, height, original_key,"
        " thumbnail_key, edges_key, embedding) VALUES ($1, $2, 'v.png', 'USER_UPLOAD', 'image/png', 1, 1, $3, $4, $5,"
        " $6::text::vector)",
        [
            (
                i,
                user_id,
                f"{user_id}/assets/{i}.png",
                f"{user_id}/assets/{i}_thumbnail.jpg",
                f"{user_id}/assets/{i}_edges.png",
                embedding,
            )
            for i, embedding in zip(ids, embeddings, strict=True)
        ],
    )
    return [str(i) for i in ids]


async def search_index(
    db: asyncpg.Pool | asyncpg.Connection, *, user_id: str, index_name: str, rows_indexed: int
) -> None:
    """The record of a user's search index (the index itself is the caller's to create)."""
    await db.execute(
        "INSERT INTO asset_search_indexes (user_id, index_name, rows_indexed) VALUES ($1, $2, $3)",
        user_id,
        index_name,
        rows_indexed,
    )
