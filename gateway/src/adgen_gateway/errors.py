"""The one place that turns failures into HTTP answers: RFC 9457 problem+json, a message a person
can act on, the fields at fault, and never a stack trace."""

from __future__ import annotations

from typing import Any

import asyncpg
import grpc
import nats.errors
import nats.js.errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from adgen_gateway.rate_limits import RateLimited
from adgen_kernel.logs import get_logger
from adgen_video.request_limits import FieldError

log = get_logger(__name__)

PROBLEM = "application/problem+json"

_GRPC_TO_HTTP = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}

# A dependency that is down or restarting (Postgres, NATS, the progress KV after NATS lost its data):
# the request may succeed in a moment, so it is a 503 with a Retry-After, not an internal error.
OUTAGES: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.OperatorInterventionError,  # starting up, shutting down, crashed: a restart
    ConnectionError,
    nats.errors.ConnectionClosedError,
    nats.errors.NoServersError,
    nats.errors.TimeoutError,
    nats.js.errors.ServiceUnavailableError,
    nats.js.errors.BucketNotFoundError,
)
OUTAGE_RETRY_AFTER_S = 2

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
    504: "Upstream timeout",
}


class Problem(Exception):
    """Raised by routes; rendered as problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(
    status: int, detail: str, *, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def from_grpc(error: grpc.aio.AioRpcError) -> Problem:
    status = _GRPC_TO_HTTP.get(error.code(), 502)
    detail = error.details() or "a backend service failed"
    if status == 502:
        log.error("backend call failed", code=str(error.code()), details=error.details())
        detail = "a backend service failed; try again shortly"
    headers: dict[str, str] = {}
    if status == 429:  # the service's retry-after (kernel errors.ResourceExhausted), else a second
        retry = next((v for k, v in error.trailing_metadata() or () if k == "retry-after"), "")
        headers["Retry-After"] = retry if isinstance(retry, str) and retry.isdigit() else "1"
    return Problem(status, detail, headers=headers)


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


_FASTAPI_UNPARSABLE_BODY = "There was an error parsing the body"


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, error: Problem) -> JSONResponse:
        return problem_response(error.status, error.detail, errors=error.errors, headers=error.headers)

    @app.exception_handler(RateLimited)
    async def _rate_limited(_: Request, error: RateLimited) -> JSONResponse:
        return problem_response(429, str(error), headers={"Retry-After": str(error.retry_after_s)})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        if isinstance(error.body, bytes) and error.body and not _is_json(request.headers.get("content-type", "")):
            # FastAPI reads a body declared as anything but JSON as bytes, which then fails as "not an object".
            message = "send the body as application/json"
            return problem_response(415, f"content-type: {message}", errors=[FieldError("content-type", message)])
        errors = []
        for item in error.errors():
            message = item.get("msg", "invalid")
            location = tuple(item.get("loc", ()))
            if item.get("type") == "extra_forbidden":
                message = "unknown field"
            elif item.get("type") == "json_invalid":
                message, location = f"malformed JSON at character {location[-1]}", ("body",)
            errors.append(FieldError(_field_name(location), message))
        fields = ", ".join(sorted({e.field for e in errors}))
        return problem_response(422, f"invalid request: check {fields}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and error.detail == _FASTAPI_UNPARSABLE_BODY:
            # JSON the decoder gave up on (nested too deeply, not UTF-8): malformed like any other.
            message = "malformed JSON (not UTF-8, or nested too deeply)"
            return problem_response(422, f"body: {message}", errors=[FieldError("body", message)])
        return problem_response(error.status_code, str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(grpc.aio.AioRpcError)
    async def _grpc(_: Request, error: grpc.aio.AioRpcError) -> JSONResponse:
        problem = from_grpc(error)
        return problem_response(problem.status, problem.detail, headers=problem.headers)

    async def _outage(_: Request, error: Exception) -> JSONResponse:
        log.warning("a dependency is unavailable", error=f"{type(error).__name__}: {error}")
        return problem_response(
            503,
            "a backing service is restarting; try again shortly",
            headers={"Retry-After": str(OUTAGE_RETRY_AFTER_S)},
        )

    for outage in OUTAGES:
        app.add_exception_handler(outage, _outage)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error in request")
        return problem_response(500, "internal error; it has been logged")
