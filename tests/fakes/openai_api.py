"""A local server that speaks OpenAI's chat-completions and speech APIs, so the real `openai` SDK
can be tested.

Tests script its replies in order (a valid structured answer, malformed JSON, a refusal, 429 with
Retry-After, a 5xx, a reply slower than the client's timeout) and read back every request it got.
It runs uvicorn on a free 127.0.0.1 port in a background thread with its own event loop. Once the
script is used up it answers `default` (when one is set), going wrong at the rate of `faults` (see
fakes.faults): 429 with Retry-After, a 5xx, or an answer held past the client's timeout.
`POST /v1/audio/speech` takes the same script (a 200 reply's content is ignored) and answers real
audio for the input, a 24 kHz tone burst per word with a pause between words, as WAV or raw PCM.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
import time
import wave
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
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


SPEECH_RATE = 24_000  # what OpenAI's speech endpoint sends


def speech_pcm(text: str, speed: float = 1.0) -> bytes:
    """16-bit mono PCM at 24 kHz: a 0.06 s pause, then per word a tone lasting 0.07 s a letter and a
    0.08 s pause, all divided by `speed`."""
    pieces = [np.zeros(round(0.06 * SPEECH_RATE / speed))]
    for i, word in enumerate(text.split()):
        t = np.arange(round(0.07 * max(1, len(word)) * SPEECH_RATE / speed)) / SPEECH_RATE
        pieces += [0.4 * np.sin(2 * np.pi * (180 + 20 * (i % 5)) * t), np.zeros(round(0.08 * SPEECH_RATE / speed))]
    return (np.concatenate(pieces) * 32767).astype("<i2").tobytes()


def speech_wav(text: str, speed: float = 1.0) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SPEECH_RATE)
        wav.writeframes(speech_pcm(text, speed))
    return buffer.getvalue()


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

    async def _answer(self, request: Request) -> tuple[dict[str, Any], Reply, JSONResponse | None]:
        """The request's body and its scripted reply (held back by its delay), with the OpenAI error
        answer when the reply is not a success; a success is counted in `answered`."""
        body = await request.json()
        with self._lock:
            self.requests.append(Received(body, dict(request.headers), time.monotonic()))
        reply = self._next()
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            kind = "rate_limit_exceeded" if reply.status == 429 else "server_error"
            error = {"message": f"scripted {reply.status}", "type": kind, "param": None, "code": kind}
            return body, reply, JSONResponse({"error": error}, status_code=reply.status, headers=reply.headers)
        with self._lock:
            self.answered += 1
        return body, reply, None

    async def _completions(self, request: Request) -> JSONResponse:
        body, reply, failed = await self._answer(request)
        if failed is not None:
            return failed
        prompt_tokens, completion_tokens = reply.usage
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

    async def _speech(self, request: Request) -> Response:
        body, _, failed = await self._answer(request)
        if failed is not None:
            return failed
        speed = float(body.get("speed", 1.0))
        if body.get("response_format") == "pcm":
            return Response(speech_pcm(body["input"], speed), media_type="audio/pcm")
        return Response(speech_wav(body["input"], speed), media_type="audio/wav")

    def start(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._completions, methods=["POST"]),
                Route("/v1/audio/speech", self._speech, methods=["POST"]),
            ]
        )
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
