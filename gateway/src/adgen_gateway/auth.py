"""Per-user API keys: random 256-bit tokens, shown once, stored as their SHA-256.

A key with that much entropy needs no slow hash; looking it up by its digest is a constant-time
equality inside the database index, never a character-by-character comparison in Python.
"""

from __future__ import annotations

import hashlib
import secrets

import asyncpg

from adgen_video.accounts import User, add_user, user_with_key

KEY_PREFIX = "adg_"


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(api_key: str) -> bytes:
    return hashlib.sha256(api_key.encode()).digest()


async def create_user(db: asyncpg.Pool | asyncpg.Connection, name: str) -> tuple[User, str]:
    """Creates a user and returns it with its API key (the only time the key is visible)."""
    key = new_api_key()
    return await add_user(db, name, key_digest(key)), key


async def user_for_key(db: asyncpg.Pool, api_key: str) -> User | None:
    return await user_with_key(db, key_digest(api_key))
