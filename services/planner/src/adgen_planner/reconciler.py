"""Postgres is the source of truth for what a video still needs; this puts lost work back on the queue.

JetStream acknowledges a publish before it reaches the disk, so a crashed or wiped NATS can lose
work that was accepted. A live video whose rows have not changed for a while and of which the work
stream holds no message (queued or in flight: a work-queue stream keeps a message until it is acked,
and every handler publishes its successors before it acks) has lost its work: its ready units (see
ready_units) are enqueued again. Their message ids add the time of the video's last change: new to
the stream, whose duplicate window may still remember the lost originals (a purge keeps it), yet the
same for every replica reconciling the same state, so each unit is enqueued once.

The same pass ends the runs of videos left at their review gate past its time (`expired`).
"""

from __future__ import annotations

import asyncio

import asyncpg
from nats.js import JetStreamContext

from adgen.events.v1 import events_pb2
from adgen_kernel.jetstream import queued_work
from adgen_kernel.logs import get_logger
from adgen_kernel.serve import ServiceTask
from adgen_video.ready_units import Unit, describe
from adgen_video.resume import enqueue, ready_units_of
from adgen_video.review_gate import GATE_STAGES, expire_gates
from adgen_video.video_reads import stale_live_videos
from adgen_video.video_state import emit, msg_id

log = get_logger(__name__)


async def reconcile_once(
    db: asyncpg.Pool, js: JetStreamContext, *, stale_after_s: float, limit: int = 500
) -> dict[str, list[Unit]]:
    """One pass: the videos whose work was re-enqueued, with the units."""
    requeued: dict[str, list[Unit]] = {}
    for video_id, changed in await stale_live_videos(db, stale_after_s=stale_after_s, limit=limit):
        if await queued_work(js, video_id):
            continue  # its work is waiting or running: slow, not lost
        units = await ready_units_of(db, video_id)
        if not units:
            continue
        await enqueue(db, js, video_id, units, attempt=f"re{int(changed.timestamp() * 1000)}")
        requeued[video_id] = units
        log.warning("re-enqueued lost work", video_id=video_id, units=describe(units))
    return requeued


async def expire_once(db: asyncpg.Pool, js: JetStreamContext) -> list[str]:
    """Videos whose review gate expired this pass, each told to its watchers."""
    expired = await expire_gates(db)
    for gate in expired:
        await emit(
            js,
            gate.video_id,
            msg_id(gate.video_id, gate.run, "expired"),
            video_expired=events_pb2.VideoExpired(stage=GATE_STAGES[gate.gate]),
        )
        log.info("review gate expired", video_id=gate.video_id, gate=gate.gate)
    return [gate.video_id for gate in expired]


def reconciler_task(db: asyncpg.Pool, js: JetStreamContext, *, interval_s: float, stale_after_s: float) -> ServiceTask:
    """A ServiceApp task: a pass every `interval_s` until the service stops."""

    async def run(stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await expire_once(db, js)
                await reconcile_once(db, js, stale_after_s=stale_after_s)
            except Exception as error:  # NATS or Postgres away for a moment: the next pass catches up
                log.warning("reconcile pass failed", error=repr(error))
            try:
                await asyncio.wait_for(stopping.wait(), timeout=interval_s)
            except TimeoutError:
                pass

    return run
