"""Short-lived signed tokens that let an EventSource follow one video without an API key.

A browser's EventSource cannot send an Authorization header, and an API key in a URL would end up
in logs and history. So a client that holds the key asks for a token bound to one user, one video
and an expiry, and passes that as `?token=`. The token is `<user id>.<expiry>.<HMAC-SHA256>`; the
video id is not in it but is part of what is signed, so a token opens only the video it was
issued for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class StreamToken:
    token: str
    expires_at: int  # unix seconds


class InvalidStreamToken(Exception):
    """The token is malformed, signed for something else, or expired."""


@dataclass(frozen=True)
class StreamTokens:
    secret: bytes
    ttl_s: int

    def _signature(self, user_id: str, video_id: str, expires_at: int) -> str:
        message = f"{user_id}\n{video_id}\n{expires_at}".encode()
        digest = hmac.new(self.secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, user_id: str, video_id: str, *, now: float | None = None) -> StreamToken:
        expires_at = int(now if now is not None else time.time()) + self.ttl_s
        return StreamToken(f"{user_id}.{expires_at}.{self._signature(user_id, video_id, expires_at)}", expires_at)

    def user_of(self, token: str, video_id: str, *, now: float | None = None) -> str:
        """The user the token was issued to, if it is genuine, for `video_id` and not expired."""
        parts = token.split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            raise InvalidStreamToken("malformed stream token")
        user_id, expiry, signature = parts
        try:
            uuid.UUID(user_id)
        except ValueError:
            raise InvalidStreamToken("malformed stream token") from None
        # Compared in constant time: the signature is the secret-derived part.
        if not hmac.compare_digest(signature, self._signature(user_id, video_id, int(expiry))):
            raise InvalidStreamToken("stream token is not valid for this video")
        if int(expiry) <= (now if now is not None else time.time()):
            raise InvalidStreamToken("stream token has expired; ask for a new one")
        return user_id
