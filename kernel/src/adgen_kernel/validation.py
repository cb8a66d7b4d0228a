"""The one gRPC validation layer: every request message is checked against its contract's rules
before the servicer runs, and a breach is INVALID_ARGUMENT naming each field path.

The rules are the service's to give (`ServiceApp.violations`, the shared video domain's
`contract_rules.violations` for every adgen service), so the kernel applies them without knowing them.
`serve()` installs `ValidationInterceptor` inside `ErrorInterceptor`, so the `InvalidArgument` raised
here is mapped like any servicer's. Unary and server-streaming calls are checked once, before the
servicer starts; a client stream (UploadAsset) is checked message by message as the servicer reads
it, so a bad message ends the call without buffering the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc.aio import ServerInterceptor

from adgen_kernel.errors import InvalidArgument

MAX_REPORTED = 10

Violations = Callable[[Message], Sequence[object]]
"""A request's breaches of its contract, each printable as one sentence naming the field path."""


def check(request: Message, violations: Violations) -> None:
    """Raises `InvalidArgument` listing the request's breaches (at most ten, then a count)."""
    found = violations(request)
    if not found:
        return
    shown = "; ".join(str(v) for v in found[:MAX_REPORTED])
    more = len(found) - MAX_REPORTED
    raise InvalidArgument(shown + (f"; and {more} more" if more > 0 else ""))


async def _checked(requests: AsyncIterator[Message], violations: Violations) -> AsyncIterator[Message]:
    async for request in requests:
        check(request, violations)
        yield request


def _unary(behavior: Callable[..., Awaitable[Any]], violations: Violations) -> Callable[..., Awaitable[Any]]:
    async def handler(request: Message, context: grpc.aio.ServicerContext) -> Any:
        check(request, violations)
        return await behavior(request, context)

    return handler


def _client_stream(behavior: Callable[..., Awaitable[Any]], violations: Violations) -> Callable[..., Awaitable[Any]]:
    async def handler(requests: AsyncIterator[Message], context: grpc.aio.ServicerContext) -> Any:
        return await behavior(_checked(requests, violations), context)

    return handler


def _server_stream(behavior: Callable[..., Any], violations: Violations) -> Callable[..., Any]:
    async def handler(request: Message, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        check(request, violations)
        result = behavior(request, context)
        if hasattr(result, "__aiter__"):
            async for item in result:
                yield item
        else:  # a servicer that writes with context.write() returns a coroutine
            await result

    return handler


class ValidationInterceptor(ServerInterceptor):
    """Checks every request of a server against `violations` before its servicer sees it."""

    def __init__(self, violations: Violations) -> None:
        self._violations = violations

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        codec = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(_unary(handler.unary_unary, self._violations), **codec)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(_client_stream(handler.stream_unary, self._violations), **codec)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(_server_stream(handler.unary_stream, self._violations), **codec)
        return handler  # bidirectional: adgen has none; reflection's carries no adgen message
