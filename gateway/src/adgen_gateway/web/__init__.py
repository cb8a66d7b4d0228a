"""The web page at `/`: static files shipped inside the package (no build step), served with a strict
Content-Security-Policy and revalidating caches.

The page loads images and video straight from the object store through pre-signed links, so the
policy allows exactly the store's origin for them, read off a link the store signs, and nothing else
from anywhere but the gateway itself."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from adgen_gateway.dependencies import backends

STATIC = Path(__file__).parent / "static"
# The files have no content hash in their names: browsers keep them but ask (ETag) before each use.
CACHE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


def content_security_policy(media_origin: str) -> str:
    media = f"'self' {media_origin}".strip()
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {media}",
            f"media-src {media}",
            "connect-src 'self'",
            "form-action 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class _Files(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(CACHE)
        return response


def install(app: FastAPI) -> None:
    files = _Files(directory=STATIC)
    app.mount("/web", files, name="web")

    @app.get("/", include_in_schema=False)
    async def page(request: Request) -> Response:
        media_origin = getattr(app.state, "media_origin", None)
        if media_origin is None:
            media_origin = app.state.media_origin = origin(await backends(request).store.presign_get("probe", 60))
        response = await files.get_response("index.html", request.scope)
        response.headers["Content-Security-Policy"] = content_security_policy(media_origin)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
