"""Per-user API keys: random 256-bit tokens, shown once, stored as their SHA-256.

A key with that much entropy needs no slow hash; looking it up by its digest is a constant-time
equality inside the database index, never a character-by-character comparison in Python.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

import asyncpg

KEY_PREFIX = "adg_"


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    max_active_videos: int


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(api_key: str) -> bytes:
    return hashlib.sha256(api_key.encode()).digest()


async def create_user(db: asyncpg.Pool | asyncpg.Connection, name: str) -> tuple[User, str]:
    """Creates a user and returns it with its API key (the only time the key is visible)."""
    key = new_api_key()
    row = await db.fetchrow(
        "INSERT INTO users (user_id, name, api_key_hash) VALUES ($1, $2, $3) RETURNING *",
        uuid.uuid4(),
        name,
        key_digest(key),
    )
    assert row is not None  # INSERT … RETURNING answers the row it inserted
    return User(str(row["user_id"]), row["name"], row["max_active_videos"]), key


async def user_for_key(db: asyncpg.Pool, api_key: str) -> User | None:
    row = await db.fetchrow("SELECT * FROM users WHERE api_key_hash = $1", key_digest(api_key))
    if row is None:
        return None
    return User(str(row["user_id"]), row["name"], row["max_active_videos"])
