"""Page tokens for newest-first lists: an opaque cursor over (created_at, id), stable while rows are added."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime


def encode_cursor(created_at: datetime, item_id: str) -> str:
    raw = f"{created_at.isoformat()}|{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[datetime, str]:
    """Raises ValueError for anything encode_cursor did not make."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        when, item_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(when)
        item = str(uuid.UUID(item_id))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"not a page token from this API ({error})") from None
    if created_at.tzinfo is None:
        raise ValueError("not a page token from this API (no time zone)")
    return created_at, item
