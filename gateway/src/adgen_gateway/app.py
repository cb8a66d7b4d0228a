"""The gateway's HTTP application: REST routes, problem+json errors, one server span per request."""

from __future__ import annotations

from fastapi import FastAPI

from adgen_gateway import errors, web, web_constants
from adgen_gateway.api_docs import API_PROBLEMS
from adgen_gateway.body_guard import BodyGuard, BodyLimits
from adgen_gateway.dependencies import Backends
from adgen_gateway.routes import assets, frames, plans, video_models, videos, voices
from adgen_gateway.server_spans import ServerSpans


def create_app(backends: Backends, body_limits: BodyLimits) -> FastAPI:
    app = FastAPI(
        title="adgen",
        version="0.1.0",
        description="Turn a sentence into a finished MP4 ad. Authenticate with `Authorization: Bearer <API key>`. "
        "Every error is `application/problem+json`; a 429 carries `Retry-After` in seconds.",
    )
    app.state.backends = backends
    errors.install(app)
    for router in (videos.router, plans.router, assets.router, frames.router, video_models.router, voices.router):
        app.include_router(router, responses=API_PROBLEMS)
    app.include_router(web_constants.router)  # before the static files' mount, which would answer it 404
    web.install(app)

    app.add_middleware(BodyGuard, limits=body_limits)
    app.add_middleware(ServerSpans)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
