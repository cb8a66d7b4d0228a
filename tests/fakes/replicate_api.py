"""A local server that speaks Replicate's predictions API, so the real `replicate` SDK can be tested offline.

It serves `POST /v1/models/{owner}/{name}/predictions` and `POST /v1/predictions` (create),
`GET /v1/predictions` (newest first, paged with a cursor, as a lost create is looked up),
`GET /v1/predictions/{id}` (poll: starting → processing → succeeded / failed / canceled),
`POST /v1/predictions/{id}/cancel`, and the output files it generates itself. What each create does
is scripted per model (succeed, fail, canceled, 429 with Retry-After, 500, slow, lost), and every request
is recorded so that tests can assert what a client sent. Unscripted requests can also go wrong at a
rate (`faults`, see fakes.faults): a create throttled, a 5xx, an answer held past the client's
timeout (the prediction exists: a lost create), a failed prediction; a poll throttled, a 5xx or
late; an output download cut short (its Content-Length promises more than arrives). `refuse(marker)`
makes every create whose input mentions `marker` fail for good (a safety refusal) until `allow`.
What a model outputs is pluggable per model (a PNG by default; `video_output` makes MP4s of a video
model's real length and frame rate, `audio_output` WAVs of the asked duration, as MusicGen does), as
a URL or a list of URLs. A create can also be accepted and its answer held back (`answer_delay_s`), or
accepted and answered with a 5xx (`lost`), which is what a client sees when a create's response is lost.

    with FakeReplicate() as fake:
        fake.script("black-forest-labs/flux-dev", Script("rate_limit", retry_after=1), Script("succeed"))
        client = replicate.Client(api_token=fake.token, base_url=fake.url)
"""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import logging
import socket
import threading
import time
import wave
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import av
import h11
import numpy as np
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fakes.faults import FaultKind, Faults


class _CutShortOnPurpose(logging.Filter):
    """uvicorn logs a response shorter than its Content-Length as an error: here it is the fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, h11.LocalProtocolError) and "Content-Length" in str(error))


logging.getLogger("uvicorn.error").addFilter(_CutShortOnPurpose())

Behaviour = Literal["succeed", "fail", "cancel", "rate_limit", "server_error", "slow", "lost"]
TERMINAL = ("succeeded", "failed", "canceled")


@dataclass(frozen=True)
class Script:
    """What one create request for a model does.

    `polls` is how many GETs a prediction answers before it is terminal; a `slow` prediction
    never gets there (until it is canceled). `answer_delay_s` holds the create's answer back after
    the prediction exists, so a client that times out first has paid without learning the id; a
    `lost` create makes the prediction (which then succeeds) and answers `status` instead of it.
    """

    behaviour: Behaviour = "succeed"
    polls: int = 2
    retry_after: int = 1
    status: int = 500  # of a server_error, or what a lost create answers
    error: str = "the model raised an error"
    answer_delay_s: float = 0.0


@dataclass(frozen=True)
class Output:
    """The file a model produces from its input: bytes, content type and file extension."""

    make: Callable[[dict[str, Any]], bytes]
    content_type: str
    extension: str
    as_list: bool = True  # flux models return a list of URLs; most video models a single URL


ASPECTS = {"1:1": (1, 1), "16:9": (16, 9), "9:16": (9, 16), "4:3": (4, 3), "3:4": (3, 4), "21:9": (21, 9)}


def png_output(inputs: dict[str, Any]) -> bytes:
    """A PNG of about one megapixel in the requested aspect ratio, its colour drawn from the seed."""
    w, h = ASPECTS.get(str(inputs.get("aspect_ratio", "1:1")), (1, 1))
    scale = (1_000_000 / (w * h)) ** 0.5 / 4  # a quarter of the real size keeps tests fast
    size = (max(16, round(w * scale / 16) * 16), max(16, round(h * scale / 16) * 16))
    seed = int(inputs.get("seed", 0))
    colour = (seed * 53 % 256, seed * 97 % 256, seed * 193 % 256)
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


PNG_OUTPUT = Output(png_output, "image/png", "png")


def data_uri_image(value: str) -> np.ndarray:
    """The RGB pixels of an image sent as a data URI."""
    _, encoded = value.split(",", 1)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB"))


def video_output(image_input: str, clip_s: float, fps: int, size: tuple[int, int]) -> Output:
    """An image-to-video model: an MP4 of `clip_s` seconds at `fps` and `size`, whatever duration is
    asked for (as the real models do). Frame k is the init image scaled to `size` and moved k pixels
    to the right, so a client can check both where the clip starts and how it was resampled."""

    def make(inputs: dict[str, Any]) -> bytes:
        init = Image.fromarray(data_uri_image(str(inputs[image_input]))).resize(size, Image.Resampling.BILINEAR)
        pixels = np.asarray(init)
        out = io.BytesIO()
        with av.open(out, mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "12"})
            stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
            for k in range(int(Fraction(str(clip_s)) * fps)):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.roll(pixels, k, axis=1)), format="rgb24")
                frame.pts, frame.time_base = k, Fraction(1, fps)
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        return out.getvalue()

    return Output(make, "video/mp4", "mp4", as_list=False)


def audio_output(sample_rate: int = 32_000) -> Output:
    """A music model (MusicGen): a stereo 16-bit WAV of the requested `duration` seconds (8 when not
    asked), a chord of three sines whose root follows the seed, as a single URL."""

    def make(inputs: dict[str, Any]) -> bytes:
        seconds = float(inputs.get("duration", 8))
        t = np.arange(round(seconds * sample_rate)) / sample_rate
        root = 110.0 * 2 ** ((int(inputs.get("seed", 0)) % 12) / 12)
        tone = sum(np.sin(2 * np.pi * root * ratio * t) for ratio in (1.0, 1.25, 1.5)) / 3
        samples = (0.4 * np.stack([tone, tone], axis=1) * 32767).astype("<i2")
        out = io.BytesIO()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(samples.tobytes())
        return out.getvalue()

    return Output(make, "audio/wav", "wav", as_list=False)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    model: str  # "" for requests that are not about one model
    body: dict[str, Any]
    authorization: str
    cancel_after: str = ""  # the provider-side deadline a create asked for


@dataclass
class _Prediction:
    id: str
    model: str
    version: str
    input: dict[str, Any]
    script: Script
    status: str = "starting"
    polls: int = 0
    output: Any = None
    error: str | None = None
    created_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


class FakeReplicate:
    """The fake API on a free 127.0.0.1 port, served by uvicorn in a background thread."""

    token = "r8_fake_token"
    page_size = 100  # predictions per page of the list, as Replicate pages them

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self._refused: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self.max_active = 0  # the most predictions that were running at once
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Script]] = {}
        self._outputs: dict[str, Output] = {}
        self._predictions: dict[str, _Prediction] = {}
        self._files: dict[str, tuple[bytes, str]] = {}
        self._ids = itertools.count(1)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self._app(), log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    # ------------------------------------------------------------------------------------ control

    def start(self) -> FakeReplicate:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Replicate server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> FakeReplicate:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def script(self, model: str, *scripts: Script) -> None:
        """Queues what the next creates for `model` do; once the queue is empty they succeed."""
        with self._lock:
            self._scripts.setdefault(model, deque()).extend(scripts)

    def refuse(self, marker: str) -> None:
        """Every later create whose input mentions `marker` fails as a safety refusal."""
        with self._lock:
            self._refused.add(marker)

    def allow(self, marker: str) -> None:
        with self._lock:
            self._refused.discard(marker)

    def predictions(self) -> list[tuple[str, str, str]]:
        """(model, adgen_tag input or "", status) of every prediction created, in order: whatever did
        not fail is paid for, whether or not anybody fetched its output."""
        with self._lock:
            return [(p.model, str(p.input.get("adgen_tag", "")), p.status) for p in self._predictions.values()]

    def set_output(self, model: str, output: Output) -> None:
        with self._lock:
            self._outputs[model] = output

    def created(self, model: str) -> list[dict[str, Any]]:
        """The inputs of every create request for `model` (answered or refused), in order."""
        return [r.body.get("input", {}) for r in self.create_requests(model)]

    def create_requests(self, model: str) -> list[RecordedRequest]:
        """Every create request for `model` (answered or refused), in order, headers included."""
        with self._lock:
            return [
                r for r in self.requests if r.method == "POST" and r.model == model and r.path.endswith("predictions")
            ]

    def polls(self, prediction_id: str) -> int:
        """How many GETs `prediction_id` answered."""
        with self._lock:
            prediction = self._predictions.get(prediction_id)
            return prediction.polls if prediction else 0

    def statuses(self, model: str) -> list[str]:
        with self._lock:
            return [p.status for p in self._predictions.values() if p.model == model]

    # ------------------------------------------------------------------------------------ the API

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/models/{owner}/{name}/predictions", self._create_for_model, methods=["POST"]),
                Route("/v1/predictions", self._create_for_version, methods=["POST"]),
                Route("/v1/predictions", self._list, methods=["GET"]),
                Route("/v1/predictions/{id}", self._get, methods=["GET"]),
                Route("/v1/predictions/{id}/cancel", self._cancel, methods=["POST"]),
                Route("/files/{name}", self._file, methods=["GET"]),
            ]
        )

    async def _record(self, request: Request, model: str) -> tuple[dict[str, Any], bool]:
        body = await request.json() if request.method == "POST" and await request.body() else {}
        authorization = request.headers.get("authorization", "")
        cancel_after = request.headers.get("cancel-after", "")
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.url.path, model, body, authorization, cancel_after)
            )
        return body, authorization == f"Bearer {self.token}"

    async def _create_for_model(self, request: Request) -> Response:
        model = f"{request.path_params['owner']}/{request.path_params['name']}"
        return await self._create(request, model, version="")

    async def _create_for_version(self, request: Request) -> Response:
        body = await request.json()
        version = str(body.get("version", ""))
        return await self._create(request, version.split(":", 1)[0], version=version)

    async def _create(self, request: Request, model: str, version: str) -> Response:
        body, authorized = await self._record(request, model)
        if not authorized:
            return _problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        with self._lock:
            queue = self._scripts.get(model)
            script = queue.popleft() if queue else self._unscripted(body.get("input", {}))
            if script.behaviour == "rate_limit":
                return _problem(
                    429, "Too Many Requests", "Request was throttled.", {"Retry-After": str(script.retry_after)}
                )
            if script.behaviour == "server_error":
                return _problem(script.status, "Internal Server Error", "Something went wrong on our side.")
            prediction = _Prediction(f"p{next(self._ids):05d}", model, version, body.get("input", {}), script)
            self._predictions[prediction.id] = prediction
            active = sum(1 for p in self._predictions.values() if p.status not in TERMINAL)
            self.max_active = max(self.max_active, active)
            answer = self._json(prediction, request)
        if script.behaviour == "lost":
            return _problem(script.status, "Internal Server Error", "Something went wrong on our side.")
        if script.answer_delay_s:
            await asyncio.sleep(script.answer_delay_s)
        return JSONResponse(answer, status_code=201)

    def _unscripted(self, inputs: dict[str, Any]) -> Script:
        """What an unscripted create does: a refusal for a refused marker, else maybe a fault."""
        text = " ".join(str(v) for v in inputs.values() if isinstance(v, str) and not v.startswith("data:"))
        if any(marker in text for marker in self._refused):
            return Script("fail", error="the input was flagged as sensitive content (E005)")
        faults = self.faults
        kind = faults.draw(("rate_limit", "server_error", "timeout", "fail"))
        if kind == "rate_limit":
            return Script("rate_limit", retry_after=max(1, round(faults.retry_after_s)))
        if kind == "server_error":
            return Script("server_error", status=faults.status())
        if kind == "timeout":
            return Script(answer_delay_s=faults.timeout_s)
        if kind == "fail":
            return Script("fail", error="CUDA error: an illegal memory access was encountered (injected)")
        return Script()

    async def _fault(self, kinds: tuple[FaultKind, ...]) -> Response | None:
        """A faulty answer for a poll, a list or a download, or None (a held-back one sleeps first)."""
        return await self._fault_answer(self.faults.draw(kinds))

    async def _fault_answer(self, kind: FaultKind | None) -> Response | None:
        if kind == "rate_limit":
            headers = {"Retry-After": str(max(1, round(self.faults.retry_after_s)))}
            return _problem(429, "Too Many Requests", "Request was throttled.", headers)
        if kind == "server_error":
            return _problem(self.faults.status(), "Internal Server Error", "Something went wrong on our side.")
        if kind == "timeout":
            await asyncio.sleep(self.faults.timeout_s)
        return None

    async def _list(self, request: Request) -> Response:
        _, authorized = await self._record(request, "")
        if not authorized:
            return _problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        if (fault := await self._fault(("rate_limit", "server_error", "timeout"))) is not None:
            return fault
        start = int(request.query_params.get("cursor", "0"))
        with self._lock:
            newest_first = list(reversed(self._predictions.values()))
            page = [self._json(p, request) for p in newest_first[start : start + self.page_size]]
            more = start + self.page_size < len(newest_first)
        following = f"{_base(request)}/v1/predictions?cursor={start + self.page_size}" if more else None
        return JSONResponse({"previous": None, "next": following, "results": page})

    async def _get(self, request: Request) -> Response:
        await self._record(request, "")
        if (fault := await self._fault(("rate_limit", "server_error", "timeout"))) is not None:
            return fault
        with self._lock:
            prediction = self._predictions.get(request.path_params["id"])
            if prediction is None:
                return _problem(404, "Not found", "The requested resource could not be found.")
            self._advance(prediction, request)
            return JSONResponse(self._json(prediction, request))

    async def _cancel(self, request: Request) -> Response:
        await self._record(request, "")
        with self._lock:
            prediction = self._predictions.get(request.path_params["id"])
            if prediction is None:
                return _problem(404, "Not found", "The requested resource could not be found.")
            if prediction.status not in TERMINAL:
                prediction.status = "canceled"
            return JSONResponse(self._json(prediction, request))

    async def _file(self, request: Request) -> Response:
        await self._record(request, "")
        with self._lock:
            found = self._files.get(request.path_params["name"])
        if found is None:
            return Response(status_code=404)
        kind = self.faults.draw(("truncate", "server_error", "timeout"))
        if kind == "truncate":
            # The length of the whole file is promised, half of it is sent, the connection closes.
            cut = found[0][: len(found[0]) // 2]
            return Response(cut, media_type=found[1], headers={"content-length": str(len(found[0]))})
        if (fault := await self._fault_answer(kind)) is not None:
            return fault
        return Response(found[0], media_type=found[1])

    # ------------------------------------------------------------------------------------ behaviour

    def _advance(self, prediction: _Prediction, request: Request) -> None:
        if prediction.status in TERMINAL:
            return
        prediction.polls += 1
        script = prediction.script
        if script.behaviour == "slow" or prediction.polls < script.polls:
            prediction.status = "processing"
        elif script.behaviour == "fail":
            prediction.status, prediction.error = "failed", script.error
        elif script.behaviour == "cancel":
            prediction.status = "canceled"
        else:
            output = self._outputs.get(prediction.model, PNG_OUTPUT)
            name = f"{prediction.id}.{output.extension}"
            self._files[name] = (output.make(prediction.input), output.content_type)
            url = f"{_base(request)}/files/{name}"
            prediction.output = [url] if output.as_list else url
            prediction.status = "succeeded"

    def _json(self, p: _Prediction, request: Request) -> dict[str, Any]:
        base = _base(request)
        done = p.status in TERMINAL
        return {
            "id": p.id,
            "model": p.model,
            "version": p.version or "hidden",
            "status": p.status,
            "input": p.input,
            "output": p.output,
            "logs": "" if p.status == "starting" else f"step {p.polls}",
            "error": p.error,
            "metrics": {"predict_time": 0.01 * p.polls} if done else {},
            "created_at": p.created_at,
            "started_at": p.created_at if p.status != "starting" else None,
            "completed_at": p.created_at if done else None,
            "urls": {"get": f"{base}/v1/predictions/{p.id}", "cancel": f"{base}/v1/predictions/{p.id}/cancel"},
        }


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"title": title, "detail": detail, "status": status}, status_code=status, headers=headers)


def huge_png_header(width: int = 20_000, height: int = 20_000) -> bytes:
    """A PNG whose header claims `width` × `height` pixels, with almost no data behind it: what a
    decompression bomb looks like to a decoder, without building the pixels in the test."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
