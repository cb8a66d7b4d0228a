"""The gateway's HTTP application: REST routes, problem+json errors, one server span per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from adgen_gateway import errors
from adgen_gateway.dependencies import Backends
from adgen_gateway.routes import plans, videos

tracer = trace.get_tracer("adgen.gateway")


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

    @app.middleware("http")
    async def server_span(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        with tracer.start_as_current_span(f"{request.method} {request.url.path}", kind=SpanKind.SERVER) as span:
            span.set_attribute("http.request.method", request.method)
            span.set_attribute("url.path", request.url.path)
            response = await call_next(request)
            span.set_attribute("http.response.status_code", response.status_code)
            return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
