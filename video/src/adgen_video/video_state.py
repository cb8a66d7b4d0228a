"""The few writes every phase makes to a video's shared state: status, failure, cost ledger, budget.

Postgres is the source of truth for what a video still needs; these statements are idempotent so a
redelivered work item can run them again safely.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import asyncpg
from google.protobuf import json_format
from google.protobuf.message import Message
from nats.js import JetStreamContext

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_kernel import metrics
from adgen_kernel.db import Db
from adgen_kernel.jetstream import publish_event
from adgen_video.budget import BudgetExceeded, refusal

# Statuses after which no worker schedules anything more for a video.
FINISHED = ("completed", "failed", "cancelled", "expired")
M = TypeVar("M", bound=Message)


def msg_id(video_id: str, run: int, what: str) -> str:
    """The `Nats-Msg-Id` of one unit's work or one fact of a video's run. The run keeps a retry's
    messages apart from the failed run's, which the stream's duplicate window still remembers."""
    return f"{video_id}:r{run}:{what}"


async def live_run(db: Db, video_id: str) -> int | None:
    """The run a worker's unit belongs to, or None when the video is gone or finished (nothing to do)."""
    row = await db.fetchrow("SELECT status, run FROM videos WHERE video_id = $1", video_id)
    if row is None or row["status"] in FINISHED:
        return None
    return int(row["run"])


def to_json(message: Message) -> dict:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def from_json(data: dict, message: M) -> M:
    return json_format.ParseDict(data, message, ignore_unknown_fields=True)


async def video_exists(db: asyncpg.Pool, video_id: str) -> bool:
    """Whether the video's row is there (a call made outside a video, or a video deleted, has none)."""
    return bool(await db.fetchval("SELECT true FROM videos WHERE video_id = $1", video_id))


async def record_cost(
    db: Db,
    js: JetStreamContext,
    *,
    idempotency_key: str,
    video_id: str,
    phase: common_pb2.Phase,
    provider: str,
    model: str,
    units: int,
    usd_micros: int,
) -> bool:
    """One ledger row per provider call, paid for the version the video is being made at; False (and
    no event) when this call was already recorded."""
    inserted = await db.fetchval(
        "INSERT INTO cost_ledger (idempotency_key, video_id, phase, provider, model, units, usd_micros, version)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT version FROM videos WHERE video_id = $2))"
        " ON CONFLICT (idempotency_key) DO NOTHING RETURNING true",
        idempotency_key,
        video_id,
        common_pb2.Phase.Name(phase),
        provider,
        model,
        units,
        usd_micros,
    )
    if inserted:
        metrics.COST_RECORDED.labels(common_pb2.Phase.Name(phase), provider, model).inc(usd_micros / 1_000_000)
        line = common_pb2.CostLine(phase=phase, provider=provider, model=model, units=units, usd_micros=usd_micros)
        await publish_event(
            js,
            events_pb2.Event(video_id=video_id, cost_recorded=events_pb2.CostRecorded(line=line)),
            msg_id=f"cost:{idempotency_key}",
        )
    return bool(inserted)


async def reserve_budget(db: asyncpg.Pool, video_id: str, unit: str, price_micros: int) -> None:
    """Holds `price_micros` of the video's cap for one paid unit, right before its provider call;
    raises `BudgetExceeded` when the cap cannot take it. `unit` is the idempotency key the call's
    ledger row will have, so a redelivered unit finds its reservation and goes on. Race-free: the
    decision and the reservation are made under the video's row lock, so concurrent workers of one
    video reserve one after another. A video without a cap (or no video: an internal caller) takes
    no lock at all."""
    if (
        price_micros <= 0
        or await db.fetchval("SELECT max_cost_micros FROM videos WHERE video_id = $1", video_id) is None
    ):
        return
    async with db.acquire() as conn, conn.transaction():
        cap = await conn.fetchval("SELECT max_cost_micros FROM videos WHERE video_id = $1 FOR UPDATE", video_id)
        if await conn.fetchval("SELECT true FROM budget_reservations WHERE unit = $1", unit):
            return
        committed = await conn.fetchval(
            "SELECT coalesce((SELECT sum(usd_micros) FROM cost_ledger WHERE video_id = $1), 0)"
            " + coalesce((SELECT sum(r.usd_micros) FROM budget_reservations r WHERE r.video_id = $1"
            "   AND NOT EXISTS (SELECT 1 FROM cost_ledger l WHERE l.idempotency_key = r.unit)), 0)",
            video_id,
        )
        reason = refusal(cap, int(committed), price_micros)
        if reason is not None:
            raise BudgetExceeded(reason)
        await conn.execute(
            "INSERT INTO budget_reservations (unit, video_id, usd_micros) VALUES ($1, $2, $3)",
            unit,
            video_id,
            price_micros,
        )


async def cost_of(db: Db, video_id: str, version: int | None = None) -> common_pb2.Cost:
    """The cost breakdown is a query over the ledger, never a hand-kept sum: of every version of the
    video, or of one."""
    rows = await db.fetch(
        "SELECT phase, provider, model, sum(units)::int AS units, sum(usd_micros)::bigint AS micros"
        " FROM cost_ledger WHERE video_id = $1 AND ($2::int IS NULL OR version = $2)"
        " GROUP BY phase, provider, model ORDER BY phase, provider, model",
        video_id,
        version,
    )
    cost = common_pb2.Cost()
    for row in rows:
        cost.lines.add(
            phase=common_pb2.Phase.Value(row["phase"]),
            provider=row["provider"],
            model=row["model"],
            units=row["units"],
            usd_micros=row["micros"],
        )
        cost.total_micros += row["micros"]
    return cost


async def fail_video(
    db: asyncpg.Pool,
    js: JetStreamContext,
    *,
    video_id: str,
    phase: common_pb2.Phase,
    unit: str,
    reason: str,
) -> None:
    """Marks the video failed with the phase and unit that failed; what finished is kept for a retry."""
    run = await db.fetchval(
        "UPDATE videos SET status = 'failed', error = $2, failed_phase = $3, updated_at = now()"
        " WHERE video_id = $1 AND status <> ALL($4::text[]) RETURNING run",
        video_id,
        f"{unit}: {reason}",
        common_pb2.Phase.Name(phase),
        list(FINISHED),
    )
    if run is not None:
        metrics.VIDEOS.labels("failed").inc()
        await publish_event(
            js,
            events_pb2.Event(
                video_id=video_id, video_failed=events_pb2.VideoFailed(phase=phase, unit=unit, reason=reason)
            ),
            msg_id=msg_id(video_id, run, "failed"),
        )


async def emit(js: JetStreamContext, video_id: str, msg_id: str | None = None, **kind: Message) -> None:
    """Publishes one event about a video, e.g. emit(js, vid, phase_started=PhaseStarted(...))."""
    # Event's stub types each kind of its oneof apart; a caller names the one it sends.
    await publish_event(js, events_pb2.Event(video_id=video_id, **cast(dict[str, Any], kind)), msg_id=msg_id)
