"""The one error mapping: domain errors carry the gRPC status a caller should see.

Servicers raise these; `ErrorInterceptor` turns them into a status with the message only (never a
stack trace); any other exception becomes INTERNAL with a generic message and is logged. Workers use
`retryable` to decide between a redelivery and a dead letter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc.aio import ServerInterceptor

from adgen_kernel.logs import get_logger

log = get_logger(__name__)


class AdgenError(Exception):
    """Base for errors a caller can act on."""

    code = grpc.StatusCode.INTERNAL
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(AdgenError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(AdgenError):
    code = grpc.StatusCode.NOT_FOUND


class PermissionDenied(AdgenError):
    code = grpc.StatusCode.PERMISSION_DENIED


class FailedPrecondition(AdgenError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(AdgenError):
    """A concurrent change came first (e.g. an edit of a plan revision that is no longer current):
    read the state again and retry on it."""

    code = grpc.StatusCode.ABORTED


class ResourceExhausted(AdgenError):
    """A limit of the caller's is used up; `retry_after_s` travels as `retry-after` trailing metadata
    (the gateway's Retry-After)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED

    def __init__(self, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def trailing_metadata(error: AdgenError) -> tuple[tuple[str, str], ...]:
    retry_after_s = getattr(error, "retry_after_s", None)
    return (("retry-after", str(retry_after_s)),) if retry_after_s is not None else ()


class Unavailable(AdgenError):
    """A dependency is down or busy; trying again later may work."""

    code = grpc.StatusCode.UNAVAILABLE
    retryable = True


def is_retryable(error: BaseException) -> bool:
    """Unknown errors are retried (bounded by max-deliver); domain errors say for themselves."""
    if isinstance(error, AdgenError):
        return error.retryable
    if isinstance(error, grpc.aio.AioRpcError):
        return error.code() in {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
    return True


def _wrap_unary(behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await behavior(request, context)
        except AdgenError as error:
            await context.abort(error.code, error.message, trailing_metadata(error))
        except grpc.aio.AbortError:
            raise
        except Exception:
            log.exception("unhandled error in rpc")
            await context.abort(grpc.StatusCode.INTERNAL, "internal error; it has been logged")

    return handler


def _wrap_stream(behavior: Callable[..., Any]) -> Callable[..., Any]:
    async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            result = behavior(request, context)
            if hasattr(result, "__aiter__"):
                async for item in result:
                    yield item
            else:  # a servicer that writes with context.write() (e.g. Health.Watch) returns a coroutine
                await result
        except AdgenError as error:
            await context.abort(error.code, error.message, trailing_metadata(error))
        except grpc.aio.AbortError:
            raise
        except Exception:
            log.exception("unhandled error in streaming rpc")
            await context.abort(grpc.StatusCode.INTERNAL, "internal error; it has been logged")

    return handler


class ErrorInterceptor(ServerInterceptor):
    """Maps AdgenError to its status code for every RPC of a server."""

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _wrap_unary(handler.stream_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler
