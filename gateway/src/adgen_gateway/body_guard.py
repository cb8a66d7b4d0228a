"""Request bodies that are too large or too slow are answered before they can hold a worker.

uvicorn buffers nothing for us but limits nothing either: it has no body read timeout (a client
sending one byte every few seconds keeps a request open forever) and FastAPI reads a JSON body
whole into memory. This plain ASGI middleware (see server_spans.py for why not BaseHTTPMiddleware)
wraps `receive` while the body is arriving:

* a declared `Content-Length`, or the bytes received, over the route's limit -> 413;
* no body bytes for `idle_timeout_s`, or the body not complete after `timeout_s` -> 408.

Both answers are problem+json with `Connection: close`; whatever the route had started to answer is
dropped. Before a 413 the rest of a body up to `DRAIN_BYTES` is read and discarded, because most
clients only read the answer once they have sent everything, and would otherwise see a reset
connection instead of the 413. Once the body is complete, `receive` is passed through untouched
(SSE waits on it for the client's disconnect).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adgen_gateway.errors import problem_response
from adgen_video.request_limits import FieldError

# Bytes read and dropped, past the limit, so that the client gets to read its 413.
DRAIN_BYTES = 4 * 1024 * 1024


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class BodyLimits:
    max_bytes: Callable[[Scope], int | None]  # the route's limit; None: the route enforces its own
    idle_timeout_s: float
    timeout_s: float


class BodyGuard:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_bytes(scope)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.timeout_s
        received = 0
        complete = False
        refused: _Refused | None = None
        started = False

        async def next_message() -> Message | None:
            """The next message of the body, None if it is too slow."""
            nonlocal received, complete
            wait = min(self.limits.idle_timeout_s, deadline - loop.time())
            try:
                async with asyncio.timeout(max(wait, 0.0)):
                    message = await receive()
            except TimeoutError:
                return None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
            else:
                complete = True  # disconnected: nothing more will come
            return message

        if limit is not None and declared.isdigit() and int(declared) > limit:
            if int(declared) <= limit + DRAIN_BYTES:
                while not complete and await next_message() is not None:
                    pass
            await self._refuse(scope, receive, send, _Refused(413, _too_large(limit)))
            return

        async def guarded_receive() -> Message:
            nonlocal refused
            if complete:
                return await receive()
            if refused is not None:
                return {"type": "http.disconnect"}
            message = await next_message()
            if message is None:
                refused = _Refused(408, _too_slow(self.limits))
                return {"type": "http.disconnect"}
            if limit is not None and received > limit:
                refused = _Refused(413, _too_large(limit))
                while not complete and received <= limit + DRAIN_BYTES and await next_message() is not None:
                    pass
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused is not None and not started:
                return  # the route's answer to a body it never fully got; ours follows
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except ClientDisconnect:
            if refused is None:
                raise
        if refused is not None and not started:
            await self._refuse(scope, receive, send, refused)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, refused: _Refused) -> None:
        response = problem_response(
            refused.status,
            f"body: {refused.detail}",
            errors=[FieldError("body", refused.detail)],
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _too_large(limit: int | None) -> str:
    return f"larger than {limit} bytes; send a smaller request"


def _too_slow(limits: BodyLimits) -> str:
    return (
        f"not received in time (a pause over {limits.idle_timeout_s:g} s, or over {limits.timeout_s:g} s "
        "in all); send the whole body at once"
    )
