"""JetStream: the work streams, the event stream, the progress KV, and the worker loop.

Work goes to `adgen.work.<service>.<video>` on a work-queue stream: one durable pull consumer per
service (filter `adgen.work.<service>.>`), shared by all its replicas; the video in the subject lets
the reconciler ask the stream whether a video still has work queued or in flight. Every publish
carries `Nats-Msg-Id` (duplicates are dropped inside the stream's window) and the W3C trace context,
so one video is one trace across every hop.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import nats.errors
import nats.js.errors
import structlog
from google.protobuf.message import Message
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from adgen.events.v1 import events_pb2
from adgen_kernel import metrics
from adgen_kernel.errors import is_retryable
from adgen_kernel.logs import get_logger
from adgen_kernel.telemetry import extract_context, inject_headers

WORK_STREAM = "ADGEN_WORK"
EVENTS_STREAM = "ADGEN_EVENTS"
PROGRESS_BUCKET = "adgen_progress"
PROGRESS_TTL_S = 3600.0
EVENTS_MAX_AGE_S = 3600.0
DUPLICATE_WINDOW_S = 600.0
LAG_REFRESH_S = 5.0
FETCH_WAIT_S = 1.0  # how long a pull waits at the server for an item

log = get_logger(__name__)
tracer = trace.get_tracer("adgen.jetstream")


def work_subject(service: str, key: str = "*") -> str:
    """`adgen.work.<service>.<key>`, the key being the video (or asset) the work is for."""
    return f"adgen.work.{service}.{key}"


def _work_key(message: Message) -> str:
    """The subject token naming what the work is for: its video_id (or asset_id), made subject-safe."""
    for name in ("video_id", "asset_id"):
        value = getattr(message, name, "")
        if value:
            return re.sub(r"[^A-Za-z0-9_-]", "_", value)
    return "_"


def event_subject(video_id: str, kind: str) -> str:
    return f"adgen.events.{video_id}.{kind}"


async def ensure_topology(js: JetStreamContext) -> None:
    """Creates (or updates) the streams and the KV bucket. Safe to run from every process."""
    streams = [
        StreamConfig(
            name=WORK_STREAM,
            subjects=["adgen.work.>"],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_S,
        ),
        StreamConfig(
            name=EVENTS_STREAM,
            subjects=["adgen.events.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=EVENTS_MAX_AGE_S,
            discard=DiscardPolicy.OLD,
            duplicate_window=DUPLICATE_WINDOW_S,
        ),
    ]
    for config in streams:
        try:
            await js.add_stream(config)
        except nats.js.errors.BadRequestError:
            await js.update_stream(config)
    await js.create_key_value(KeyValueConfig(bucket=PROGRESS_BUCKET, ttl=PROGRESS_TTL_S, history=1))


async def publish(
    js: JetStreamContext, subject: str, message: Message, msg_id: str, *, span_subject: str | None = None
) -> None:
    """`span_subject` names the span when the subject itself is too specific (one per video)."""
    with tracer.start_as_current_span(f"send {span_subject or subject}", kind=SpanKind.PRODUCER) as span:
        span.set_attribute("messaging.system", "nats")
        span.set_attribute("messaging.destination.name", subject)
        span.set_attribute("messaging.message.id", msg_id)
        headers = inject_headers({"Nats-Msg-Id": msg_id})
        await js.publish(subject, message.SerializeToString(), headers=headers)


async def publish_work(js: JetStreamContext, service: str, message: Message, msg_id: str) -> None:
    await publish(js, work_subject(service, _work_key(message)), message, msg_id, span_subject=f"adgen.work.{service}")


async def queued_work(js: JetStreamContext, video_id: str) -> int:
    """How many work items for this video the work stream holds: queued, or in flight (unacked)."""
    info = await js.stream_info(WORK_STREAM, subjects_filter=work_subject("*", video_id))
    return sum((info.state.subjects or {}).values())


async def publish_event(js: JetStreamContext, event: events_pb2.Event, msg_id: str | None = None) -> None:
    """Publishes a fact about a video; `msg_id` makes a repeated fact (a redelivery) a no-op."""
    kind = event.WhichOneof("kind")
    if not kind:
        raise ValueError("event has no kind")
    if not event.HasField("occurred_at"):
        event.occurred_at.GetCurrentTime()
    await publish(
        js, event_subject(event.video_id, kind), event, msg_id or f"{event.video_id}:{kind}:{random.getrandbits(64):x}"
    )


M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class WorkContext:
    """What a handler may want to know about the delivery it is handling."""

    delivery: int
    subject: str


@dataclass(frozen=True)
class WorkHandler(Generic[M]):
    """One kind of work item and what to do with it.

    `handle` must be idempotent: a redelivered item whose output exists acknowledges without paying
    a provider again. `dead_letter` runs once when an item fails for good (a permanent error, or the
    last delivery), so that the video can be marked failed with the reason.
    """

    service: str
    message_type: type[M]
    handle: Callable[[M, WorkContext], Awaitable[None]]
    dead_letter: Callable[[M, BaseException], Awaitable[None]]
    max_deliver: int = 5
    stream: str = WORK_STREAM
    subject: str = ""  # a consumer of something other than work, e.g. "adgen.events.>"

    @property
    def filter_subject(self) -> str:
        return self.subject or work_subject(self.service, ">")

    def span_subject(self, subject: str) -> str:
        """Work spans are named per service, not per video; other subjects as they are."""
        return subject if self.subject else f"adgen.work.{self.service}"


class _Pull:
    """The durable consumer's pull subscription: a take waits at the server until an item comes (or
    FETCH_WAIT_S passes)."""

    def __init__(self, subscription: JetStreamContext.PullSubscription) -> None:
        self._subscription = subscription

    async def take(self) -> Msg | None:
        try:
            messages = await self._subscription.fetch(1, timeout=FETCH_WAIT_S)
        except (TimeoutError, nats.errors.TimeoutError):
            return None
        return messages[0] if messages else None

    async def lag(self) -> int:
        info = await self._subscription.consumer_info()
        # nats-py types both counts optional; a consumer's info from the server always has them.
        return (info.num_pending or 0) + (info.num_ack_pending or 0)

    async def close(self) -> None:
        await self._subscription.unsubscribe()


class WorkerLoop:
    """Pulls one service's work and runs its handler with bounded concurrency.

    Long work sends in-progress heartbeats so that ack-wait can stay short (a dead worker's item comes
    back quickly). On stop it pulls nothing more, lets in-flight items finish within the grace, and
    hands back (naks) what is still running so another replica takes it at once.
    """

    def __init__(
        self,
        js: JetStreamContext,
        handler: WorkHandler,
        *,
        concurrency: int,
        ack_wait_s: float,
        lag_refresh_s: float = LAG_REFRESH_S,
    ) -> None:
        self._js = js
        self._lag_refresh_s = lag_refresh_s
        self._handler = handler
        self._ack_wait_s = ack_wait_s
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._stopping = asyncio.Event()
        self._inflight: dict[asyncio.Task[None], Msg] = {}
        self._log = log.bind(worker=handler.service)
        self._resubscribe = False
        self._source: _Pull | None = None

    def topology_lost(self) -> None:
        """The server may have lost the stream and this consumer (a restart, a wiped store): the
        loop creates them again before its next pull."""
        self._resubscribe = True

    async def _subscribe(self) -> _Pull:
        handler = self._handler
        # Created, or updated to this config (e.g. a filter from an older release): pull_subscribe
        # alone would bind to an existing consumer as it is.
        await self._js.add_consumer(
            handler.stream,
            ConsumerConfig(
                durable_name=handler.service,
                filter_subject=handler.filter_subject,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self._ack_wait_s,
                max_deliver=handler.max_deliver,
                max_ack_pending=1000,
            ),
        )
        subscription = await self._js.pull_subscribe(
            handler.filter_subject, durable=handler.service, stream=handler.stream
        )
        return _Pull(subscription)

    async def _renew(self, source: _Pull | None) -> _Pull:
        """The topology and these consumers again, and a new subscription on them."""
        await ensure_topology(self._js)
        renewed = await self._subscribe()
        try:
            if source is not None:
                await source.close()
        except Exception:  # already gone with the old connection
            pass
        self._log.info("consumer re-created")
        return renewed

    async def run(self) -> None:
        source: _Pull | None = None
        try:
            source = self._source = await self._subscribe()
        except Exception as error:  # NATS away at start-up: the loop below tries again
            self._log.warning("consumer not created yet", error=repr(error))
            self._resubscribe = True
        lag = asyncio.create_task(self._report_lag())
        try:
            while not self._stopping.is_set():
                if self._resubscribe or source is None:
                    try:
                        source = self._source = await self._renew(source)
                        self._resubscribe = False
                    except Exception as error:  # still reconnecting: try again shortly
                        self._log.warning("consumer not re-created yet", error=repr(error))
                        await asyncio.sleep(1.0)
                        continue
                await self._slots.acquire()
                if self._stopping.is_set():
                    self._slots.release()
                    break
                try:
                    msg = await source.take()
                except nats.errors.ConnectionClosedError:
                    self._slots.release()
                    if self._js._nc.is_closed:  # the service is closing its connection
                        break
                    await asyncio.sleep(1.0)  # a subscription lost in a reconnect: made again below
                    self._resubscribe = True
                    continue
                except Exception as error:  # a reconnect or a busy server: keep pulling, never die quietly
                    self._slots.release()
                    self._log.warning("fetch failed; retrying", error=repr(error))
                    # Anything but a slow answer may mean the consumer is gone (a wiped server).
                    if not isinstance(error, (TimeoutError, nats.errors.TimeoutError)):
                        self._resubscribe = True
                    await asyncio.sleep(1.0)
                    continue
                if msg is None:
                    self._slots.release()
                    continue
                task = asyncio.create_task(self._process(msg))
                self._inflight[task] = msg
                task.add_done_callback(self._finished)
        finally:
            lag.cancel()
            if not self._stopping.is_set():
                self._log.error("worker loop ended before the service stopped")
            try:
                if source is not None:
                    await source.close()
            except Exception:  # the connection may be closing already
                pass

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.pop(task, None)
        self._slots.release()

    async def _report_lag(self) -> None:
        """Keeps the lag gauge current: what the durable consumer still has to deliver or see acked."""
        gauge = metrics.QUEUE_LAG.labels(self._handler.service)
        while True:
            try:
                if self._source is not None:
                    gauge.set(await self._source.lag())
            except Exception as error:  # a reconnect: the next refresh catches up
                self._log.debug("consumer info unavailable", error=repr(error))
            await asyncio.sleep(self._lag_refresh_s)

    async def stop(self, grace_s: float) -> None:
        self._stopping.set()
        if not self._inflight:
            return
        _, pending = await asyncio.wait(list(self._inflight), timeout=grace_s)
        for task in pending:
            msg = self._inflight.get(task)
            task.cancel()
            if msg is not None:
                metrics.WORK_ITEMS.labels(self._handler.service, "handed_back").inc()
                self._log.info("work item handed back", subject=msg.subject)
                try:
                    await msg.nak()
                except Exception:  # the connection may already be gone; ack-wait brings it back
                    pass
        if pending:
            await asyncio.wait(pending, timeout=5)

    async def _heartbeat(self, msg: Msg) -> None:
        interval = max(self._ack_wait_s / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            try:
                await msg.in_progress()
            except Exception:
                return

    async def _process(self, msg: Msg) -> None:
        handler = self._handler
        delivery = msg.metadata.num_delivered
        if delivery > 1:
            metrics.REDELIVERIES.labels(handler.service).inc()
        with metrics.IN_FLIGHT.labels(handler.service).track_inprogress():
            await self._process_traced(msg, delivery)

    async def _process_traced(self, msg: Msg, delivery: int) -> None:
        handler = self._handler
        items = metrics.WORK_ITEMS
        context = extract_context(msg.headers)
        name = f"process {handler.span_subject(msg.subject)}"
        with tracer.start_as_current_span(name, context=context, kind=SpanKind.CONSUMER) as span:
            span.set_attribute("messaging.system", "nats")
            span.set_attribute("messaging.destination.name", msg.subject)
            span.set_attribute("messaging.message.id", (msg.headers or {}).get("Nats-Msg-Id", ""))
            span.set_attribute("messaging.nats.delivery", delivery)
            try:
                item = handler.message_type.FromString(msg.data)
            except Exception as error:  # a message nobody can read: drop it, loudly
                self._log.error("undecodable work item dropped", error=str(error))
                items.labels(handler.service, "dropped").inc()
                await msg.term()
                return
            video_id = getattr(item, "video_id", "")
            span.set_attribute("adgen.video_id", video_id)
            log_ = self._log.bind(video_id=video_id, delivery=delivery)
            beat = asyncio.create_task(self._heartbeat(msg))
            start = time.perf_counter()
            try:
                with structlog.contextvars.bound_contextvars(video_id=video_id):
                    await handler.handle(item, WorkContext(delivery=delivery, subject=msg.subject))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                metrics.HANDLER_DURATION.labels(handler.service).observe(time.perf_counter() - start)
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, str(error)))
                final = not is_retryable(error) or delivery >= handler.max_deliver
                if final:
                    log_.error("work item failed for good", error=str(error), exc_info=True)
                    items.labels(handler.service, "dead_lettered").inc()
                    try:
                        await handler.dead_letter(item, error)
                    finally:
                        await msg.term()
                else:
                    delay = min(30.0, 2.0 ** (delivery - 1)) * random.uniform(0.5, 1.0)
                    log_.warning("work item failed; will retry", error=str(error), retry_in_s=round(delay, 2))
                    items.labels(handler.service, "retried").inc()
                    await msg.nak(delay=delay)
                return
            finally:
                beat.cancel()
            elapsed = time.perf_counter() - start
            metrics.HANDLER_DURATION.labels(handler.service).observe(elapsed)
            await msg.ack()
            items.labels(handler.service, "acked").inc()
            log_.info("work item acked", duration_s=round(elapsed, 3))
