"""Every Prometheus metric adgen exports, defined once so that names and labels cannot drift.

Each process serves them on `ADGEN_METRICS_PORT` (see `serve`). Labels stay low-cardinality:
services, outcomes, providers, models, phases — never a video or user id. Provider calls are
timed and counted by `provider_calls`, together with their spans; a completed video is counted by
`adgen_video.video_metrics`, which reads its cost and phase times from the shared tables.
"""

from __future__ import annotations

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
