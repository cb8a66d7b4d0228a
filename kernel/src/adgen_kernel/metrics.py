"""Every Prometheus metric adgen exports, defined once so that names and labels cannot drift.

Each process serves them on `ADGEN_METRICS_PORT` (see `serve`). Labels stay low-cardinality:
services, outcomes, providers, models, phases — never a video or user id. Provider calls are
timed and counted by `provider_calls`, together with their spans.
"""

from __future__ import annotations

import asyncpg
from prometheus_client import Counter, Gauge, Histogram

# Work items take from milliseconds (a duplicate) to minutes (a provider clip).
_WORK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
_COST_BUCKETS_USD = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100)

WORK_ITEMS = Counter(
    "adgen_work_items",
    "Work items finished by a worker, by how they ended: acked, retried (nak with back-off), "
    "dead_lettered (failed for good), handed_back (nak on shutdown), dropped (undecodable).",
    ["service", "outcome"],
)
REDELIVERIES = Counter(
    "adgen_work_redeliveries", "Deliveries of a work item after its first (delivery > 1).", ["service"]
)
IN_FLIGHT = Gauge("adgen_work_in_flight_items", "Work items this process is handling right now.", ["service"])
HANDLER_DURATION = Histogram(
    "adgen_work_handler_duration_seconds",
    "Time a handler spent on one delivery, whatever its outcome.",
    ["service"],
    buckets=_WORK_BUCKETS,
)
QUEUE_LAG = Gauge(
    "adgen_work_queue_lag_messages",
    "Work items of the service's durable consumer not yet acknowledged (pending + in delivery).",
    ["service"],
)
PROVIDER_DURATION = Histogram(
    "adgen_provider_call_duration_seconds",
    "Latency of one call to a model provider, successful or not.",
    ["provider", "model"],
    buckets=_WORK_BUCKETS,
)
PROVIDER_ERRORS = Counter(
    "adgen_provider_call_errors",
    "Failed provider calls, by HTTP status or error type.",
    ["provider", "model", "status"],
)
COST_RECORDED = Counter(
    "adgen_cost_recorded_usd",
    "Spend written to the cost ledger (each billable call once, redeliveries excluded).",
    ["phase", "provider", "model"],
)
VIDEO_COST = Histogram(
    "adgen_video_cost_usd", "Ledger total of a video, observed when it completes.", buckets=_COST_BUCKETS_USD
)
VIDEOS = Counter("adgen_videos", "Videos that reached a terminal state.", ["state"])
PHASE_DURATION = Histogram(
    "adgen_phase_duration_seconds",
    "Wall time of each phase of a completed video, from its database timestamps "
    "(phases overlap: storyboard and chunks both start when the plan exists).",
    ["phase"],
    buckets=_WORK_BUCKETS,
)

ASSET_SEARCHES = Counter(
    "adgen_asset_searches",
    "Asset searches by the plan that ran: memory (the replica's index of a large library), index (the "
    "user's HNSW index), exact.",
    ["scan"],
)
ASSET_SEARCH_CACHE_BYTES = Gauge(
    "adgen_asset_search_cache_bytes", "Memory held by this replica's in-memory indexes of large libraries."
)


async def observe_completed_video(db: asyncpg.Pool | asyncpg.Connection, video_id: str) -> None:
    """Counts a completed video, its ledger total and its phase durations (call once per video)."""
    row = await db.fetchrow(
        "SELECT (SELECT coalesce(sum(usd_micros), 0)::bigint FROM cost_ledger WHERE video_id = v.video_id) AS micros,"
        " extract(epoch FROM v.planned_at - v.created_at) AS plan,"
        " extract(epoch FROM (SELECT max(updated_at) FROM frames WHERE video_id = v.video_id) - v.planned_at)"
        " AS storyboard,"
        " extract(epoch FROM (SELECT max(updated_at) FROM chunks WHERE video_id = v.video_id) - v.planned_at)"
        " AS chunks,"
        " extract(epoch FROM v.completed_at - (SELECT max(updated_at) FROM chunks WHERE video_id = v.video_id))"
        " AS finishing,"
        " extract(epoch FROM v.completed_at - v.created_at) AS total"
        " FROM videos v WHERE v.video_id = $1",
        video_id,
    )
    VIDEOS.labels("completed").inc()
    if row is None:
        return
    VIDEO_COST.observe(row["micros"] / 1_000_000)
    for phase in ("plan", "storyboard", "chunks", "finishing", "total"):
        if row[phase] is not None:
            PHASE_DURATION.labels(phase).observe(max(float(row[phase]), 0.0))
