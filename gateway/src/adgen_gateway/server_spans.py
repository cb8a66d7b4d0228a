"""One server span per HTTP request, as a plain ASGI middleware.

Starlette's `@app.middleware("http")` (BaseHTTPMiddleware) passes every chunk of a streamed response
through an extra memory stream and task switch: with hundreds of SSE watchers that was most of the
gateway's time per event. This wraps the app directly and only looks at the response's start.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

tracer = trace.get_tracer("adgen.gateway")


class ServerSpans:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        with tracer.start_as_current_span(f"{method} {path}", kind=SpanKind.SERVER) as span:
            span.set_attribute("http.request.method", method)
            span.set_attribute("url.path", path)

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                await send(message)

            await self.app(scope, receive, send_with_status)
