"""The gateway's HTTP application: REST routes, problem+json errors, one server span per request."""

from __future__ import annotations

from fastapi import FastAPI

from adgen_gateway import errors, web
from adgen_gateway.dependencies import Backends
from adgen_gateway.routes import assets, frames, plans, video_models, videos
from adgen_gateway.server_spans import ServerSpans


def create_app(backends: Backends) -> FastAPI:
    app = FastAPI(
        title="adgen",
        version="0.1.0",
        description="Turn a sentence into a finished MP4 ad. Authenticate with `Authorization: Bearer <API key>`.",
    )
    app.state.backends = backends
    errors.install(app)
    app.include_router(videos.router)
    app.include_router(plans.router)
    app.include_router(assets.router)
    app.include_router(frames.router)
    app.include_router(video_models.router)
    web.install(app)

    app.add_middleware(ServerSpans)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
