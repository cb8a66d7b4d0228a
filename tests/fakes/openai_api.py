"""A local server that speaks OpenAI's chat-completions API, so the real `openai` SDK can be tested.

Tests script its replies in order (a valid structured answer, malformed JSON, a refusal, 429 with
Retry-After, a 5xx, a reply slower than the client's timeout) and read back every request it got.
It runs uvicorn on a free 127.0.0.1 port in a background thread with its own event loop. Once the
script is used up it answers `default` (when one is set), going wrong at the rate of `faults` (see
fakes.faults): 429 with Retry-After, a 5xx, or an answer held past the client's timeout.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fakes.faults import Faults


@dataclass(frozen=True)
class Reply:
    """One scripted reply. `content` is the assistant message text (any string, so malformed JSON
    too); `refusal` replaces it; `status` other than 200 sends an OpenAI error body; `delay_s`
    holds the reply back; `usage` is (prompt, completion) tokens."""

    content: str | None = None
    refusal: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    usage: tuple[int, int] = (1200, 300)
    finish_reason: str = "stop"


def answer(plan: dict[str, Any], usage: tuple[int, int] = (1200, 300)) -> Reply:
    return Reply(content=json.dumps(plan), usage=usage)


def malformed(text: str = '{"archetype_id": "luxury_showcase", "beats": [') -> Reply:
    return Reply(content=text)


def refusal(text: str = "I'm sorry, I can't help with that request.") -> Reply:
    return Reply(refusal=text, usage=(1100, 12))


def rate_limited(retry_after_s: float) -> Reply:
    return Reply(status=429, headers={"Retry-After": f"{retry_after_s:g}"})


def server_error(status: int = 500) -> Reply:
    return Reply(status=status)


def slow(delay_s: float, then: Reply | None = None) -> Reply:
    base = then or Reply(content="{}")
    return Reply(
        content=base.content,
        refusal=base.refusal,
        status=base.status,
        headers=base.headers,
        delay_s=delay_s,
        usage=base.usage,
    )


@dataclass(frozen=True)
class Received:
    """A request as the server got it, with the monotonic time it arrived."""

    body: dict[str, Any]
    headers: dict[str, str]
    at: float


class FakeOpenAI:
    def __init__(self, faults: Faults | None = None, default: Reply | None = None) -> None:
        self.faults = faults or Faults()
        self.default = default
        self.answered = 0  # replies with status 200: the completions that were paid for
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.requests: list[Received] = []
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def script(self, *replies: Reply) -> None:
        """Replace the queue: the next requests get these replies, in order."""
        with self._lock:
            self._replies = deque(replies)
            self.requests.clear()

    def _next(self) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        if self.default is not None:
            kind = self.faults.draw(("rate_limit", "server_error", "timeout"))
            if kind == "rate_limit":
                return rate_limited(self.faults.retry_after_s)
            if kind == "server_error":
                return server_error(self.faults.status())
            if kind == "timeout":
                return slow(self.faults.timeout_s, self.default)
            return self.default
        return Reply(status=500, headers={"x-should-retry": "false"}, content="no scripted reply left")

    async def _completions(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            self.requests.append(Received(body, dict(request.headers), time.monotonic()))
        reply = self._next()
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            kind = "rate_limit_exceeded" if reply.status == 429 else "server_error"
            error = {"message": f"scripted {reply.status}", "type": kind, "param": None, "code": kind}
            return JSONResponse({"error": error}, status_code=reply.status, headers=reply.headers)
        prompt_tokens, completion_tokens = reply.usage
        with self._lock:
            self.answered += 1
        message = {"role": "assistant", "content": None if reply.refusal else reply.content, "refusal": reply.refusal}
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", ""),
                "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason, "logprobs": None}],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            headers=reply.headers,
        )

    def start(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = Starlette(routes=[Route("/v1/chat/completions", self._completions, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-openai", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def stop(self) -> None:
        if self._server and self._thread:
            self._server.should_exit = True
            self._thread.join(timeout=5)


@contextmanager
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.start()
    try:
        yield server
    finally:
        server.stop()
