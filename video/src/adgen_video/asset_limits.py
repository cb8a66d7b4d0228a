"""The limits of an uploaded image, shared by the gateway (which refuses a larger body before reading
it) and the assets service (which enforces them on the bytes it is sent), and the default per-user
storage quota (the assets service's settings override it)."""

from __future__ import annotations

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
NAME_MAX_CHARS = 200

# A user's stored assets: how many, and their bytes (original + thumbnail + edge map).
QUOTA_ASSETS = 5_000
QUOTA_BYTES = 5 * 1024**3
