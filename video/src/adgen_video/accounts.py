"""The `users` table: a user, found by the digest of its API key, and the lock on its row that the
per-user limits are checked under. Making and hashing the keys is the gateway's (`adgen_gateway.auth`);
only their SHA-256 digests reach this table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from adgen_kernel.db import Connection, Db


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    max_active_videos: int


def _user(row: asyncpg.Record) -> User:
    return User(str(row["user_id"]), row["name"], row["max_active_videos"])


async def add_user(db: Db, name: str, api_key_hash: bytes) -> User:
    """A new user with a fresh id and the digest of its API key."""
    row = await db.fetchrow(
        "INSERT INTO users (user_id, name, api_key_hash) VALUES ($1, $2, $3) RETURNING *",
        uuid.uuid4(),
        name,
        api_key_hash,
    )
    assert row is not None  # INSERT … RETURNING answers the row it inserted
    return _user(row)


async def user_with_key(db: Db, api_key_hash: bytes) -> User | None:
    """The user whose API key has this digest (an index lookup, never a comparison in Python)."""
    row = await db.fetchrow("SELECT * FROM users WHERE api_key_hash = $1", api_key_hash)
    return None if row is None else _user(row)


async def name_taken(db: Db, name: str) -> bool:
    return bool(await db.fetchval("SELECT true FROM users WHERE name = $1", name))


async def hold_user(conn: Connection, user_id: str) -> bool:
    """Whether the user exists, its row held until the caller's transaction ends (FOR NO KEY UPDATE):
    the user cannot be deleted meanwhile, and two holders of one user take turns."""
    return bool(await conn.fetchval("SELECT true FROM users WHERE user_id = $1 FOR NO KEY UPDATE", user_id))


async def lock_user(conn: Connection, user_id: str) -> None:
    """Locks the user's row until the caller's transaction ends, so two requests of one user that
    count its active videos run one after the other."""
    await conn.execute("SELECT 1 FROM users WHERE user_id = $1 FOR UPDATE", user_id)
