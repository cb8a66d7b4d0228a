"""What routes receive: the backends (connections and clients) and the authenticated user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from nats.js import JetStreamContext

from adgen_gateway.auth import User, user_for_key
from adgen_gateway.clients.chunks import ChunksClient
from adgen_gateway.clients.export import ExportClient
from adgen_gateway.clients.planner import PlannerClient
from adgen_gateway.errors import Problem


@dataclass(frozen=True)
class Backends:
    db: asyncpg.Pool
    js: JetStreamContext
    chunks: ChunksClient
    export: ExportClient
    planner: PlannerClient


def backends(request: Request) -> Backends:
    return request.app.state.backends


bearer = HTTPBearer(auto_error=False, description="Your API key: `Authorization: Bearer adg_…`")


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Problem(
            401, "missing API key: send 'Authorization: Bearer <your key>'", headers={"WWW-Authenticate": "Bearer"}
        )
    user = await user_for_key(backends(request).db, credentials.credentials)
    if user is None:
        raise Problem(401, "unknown API key", headers={"WWW-Authenticate": "Bearer"})
    return user
