"""What routes receive: the backends (connections and clients) and the authenticated user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from nats.js import JetStreamContext

from adgen_gateway.auth import User, user_for_key
from adgen_gateway.clients.assets import AssetsClient
from adgen_gateway.clients.chunks import ChunksClient
from adgen_gateway.clients.export import ExportClient
from adgen_gateway.clients.planner import PlannerClient
from adgen_gateway.clients.voice import VoiceClient
from adgen_gateway.errors import Problem
from adgen_gateway.rate_limits import RateLimits, charge
from adgen_gateway.stream_tokens import InvalidStreamToken, StreamTokens
from adgen_kernel.storage import ObjectStore


@dataclass(frozen=True)
class Backends:
    db: asyncpg.Pool
    js: JetStreamContext
    chunks: ChunksClient
    export: ExportClient
    planner: PlannerClient
    stream_tokens: StreamTokens
    assets: AssetsClient
    store: ObjectStore
    limits: RateLimits
    voice: VoiceClient
    review_ttl_s: int = 7 * 24 * 3600  # how long a review gate waits (GatewaySettings.review_ttl_s)


def backends(request: Request) -> Backends:
    return request.app.state.backends


bearer = HTTPBearer(auto_error=False, description="Your API key: `Authorization: Bearer adg_…`")


def charge_address(request: Request) -> None:
    """Calls without a valid API key are limited per client address (this also slows key guessing)."""
    charge(backends(request).limits.addresses, request.client.host if request.client else "unknown")


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        charge_address(request)
        raise Problem(
            401, "missing API key: send 'Authorization: Bearer <your key>'", headers={"WWW-Authenticate": "Bearer"}
        )
    user = await user_for_key(backends(request).db, credentials.credentials)
    if user is None:
        charge_address(request)
        raise Problem(401, "unknown API key", headers={"WWW-Authenticate": "Bearer"})
    charge(backends(request).limits.users, user.user_id)
    return user


def canonical_video_id(video_id: str) -> str:
    """Video ids are UUIDs; anything else cannot name a video, so it is not found."""
    try:
        return str(uuid.UUID(video_id))
    except ValueError:
        raise Problem(404, f"video {video_id[:64]} not found") from None


async def watcher_id(
    request: Request,
    video_id: str,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    token: Annotated[
        str | None, Query(description="Stream token from `POST /v1/videos/{id}/stream-token`, for EventSource")
    ] = None,
) -> str:
    """The user following a video's events: by API key, or by a stream token for that video."""
    if token is None:
        return (await current_user(request, credentials)).user_id
    try:
        user_id = backends(request).stream_tokens.user_of(token, canonical_video_id(video_id))
    except InvalidStreamToken as error:
        charge_address(request)
        raise Problem(401, str(error)) from None
    charge(backends(request).limits.users, user_id)
    return user_id
