"""The one gRPC validation layer: every request message is checked against its contract's rules
(`contract_rules`) before the servicer runs, and a breach is INVALID_ARGUMENT naming each field path.

`serve()` installs `ValidationInterceptor` inside `ErrorInterceptor`, so the `InvalidArgument` raised
here is mapped like any servicer's. Unary and server-streaming calls are checked once, before the
servicer starts; a client stream (UploadAsset) is checked message by message as the servicer reads
it, so a bad message ends the call without buffering the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc.aio import ServerInterceptor

from adgen_kernel.contract_rules import violations
from adgen_kernel.errors import InvalidArgument

MAX_REPORTED = 10


def check(request: Message) -> None:
    """Raises `InvalidArgument` listing the request's breaches (at most ten, then a count)."""
    found = violations(request)
    if not found:
        return
    shown = "; ".join(str(v) for v in found[:MAX_REPORTED])
    more = len(found) - MAX_REPORTED
    raise InvalidArgument(shown + (f"; and {more} more" if more > 0 else ""))


async def _checked(requests: AsyncIterator[Message]) -> AsyncIterator[Message]:
    async for request in requests:
        check(request)
        yield request


def _unary(behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def handler(request: Message, context: grpc.aio.ServicerContext) -> Any:
        check(request)
        return await behavior(request, context)

    return handler


def _client_stream(behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def handler(requests: AsyncIterator[Message], context: grpc.aio.ServicerContext) -> Any:
        return await behavior(_checked(requests), context)

    return handler


def _server_stream(behavior: Callable[..., Any]) -> Callable[..., Any]:
    async def handler(request: Message, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        check(request)
        result = behavior(request, context)
        if hasattr(result, "__aiter__"):
            async for item in result:
                yield item
        else:  # a servicer that writes with context.write() returns a coroutine
            await result

    return handler


class ValidationInterceptor(ServerInterceptor):
    """Checks every request of a server against `contract_rules` before its servicer sees it."""

    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        codec = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(_unary(handler.unary_unary), **codec)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(_client_stream(handler.stream_unary), **codec)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(_server_stream(handler.unary_stream), **codec)
        return handler  # bidirectional: adgen has none; reflection's carries no adgen message
