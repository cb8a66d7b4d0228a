"""Download links are pre-signed once and reused until shortly before they expire.

The cache is the NATS KV bucket ``adgen_urls`` (key: video id; value: the URL and its expiry). Two
limits keep a cached link from being handed out when it is about to die: the bucket's TTL is the
link lifetime minus a margin, and a read checks the stored expiry against the same margin (an entry
written by a process with a longer lifetime setting is still judged by its own expiry).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

URLS_BUCKET = "adgen_urls"


def margin_s(url_ttl_s: int) -> int:
    """How long before expiry a link stops being reused: 5 minutes of an hour, a twelfth in general."""
    return max(10, url_ttl_s // 12)


def cache_ttl_s(url_ttl_s: int) -> int:
    return url_ttl_s - margin_s(url_ttl_s)


@dataclass(frozen=True)
class CachedLink:
    url: str
    expires_at: datetime

    def encode(self) -> bytes:
        return json.dumps({"url": self.url, "expires_at": self.expires_at.isoformat()}).encode()

    @classmethod
    def decode(cls, data: bytes) -> CachedLink | None:
        """None for anything that is not a link this module wrote (it is then simply replaced)."""
        try:
            value = json.loads(data)
            expires = datetime.fromisoformat(value["expires_at"])
            return cls(str(value["url"]), expires) if expires.tzinfo else None
        except (ValueError, KeyError, TypeError):
            return None

    def usable(self, now: datetime, url_ttl_s: int) -> bool:
        return self.expires_at - now > timedelta(seconds=margin_s(url_ttl_s))
