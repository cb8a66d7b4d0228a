"""One subscription per watched video per gateway, shared by everyone watching it.

Each SSE watcher used to get its own JetStream consumer, its own fold and its own JSON, so with
500 watchers of one video every event cost 500 of each and the gateway fell seconds behind. A feed
reads the video's events once (`watch_events`, from the start of the stream), keeps them in order
with their JSON, and every watcher reads the feed from where it resumes (Last-Event-ID): a late
watcher still gets the whole history, a resumed one exactly the events after its id. The feed ends
with the video's terminal event, or stops when its last watcher leaves.

Each watcher's progress starts from what the video showed when it connected and never moves back
(`progress.onward`): a replayed event older than that carries the progress the watcher already has,
whose JSON is made once per watcher, not once per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import weakref
from collections.abc import AsyncIterator

from nats.js import JetStreamContext

from adgen.common.v1 import common_pb2 as c
from adgen_gateway.progress import onward
from adgen_gateway.videos import StreamedEvent, message_json, sse_data, watch_events


class Feed:
    """The events of one video read so far, each with its event's JSON and its SSE data; watchers
    wait for more."""

    def __init__(self, js: JetStreamContext, video_id: str) -> None:
        self.items: list[tuple[StreamedEvent, str, str]] = []
        self.watchers = 0
        self.finished = False
        self.error: BaseException | None = None
        self._arrived = asyncio.Event()
        # A context of its own: the feed outlives the request that happened to start it.
        self._task = asyncio.create_task(
            self._read(js, video_id), name=f"feed {video_id}", context=contextvars.Context()
        )

    def _wake(self) -> None:
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()

    async def _read(self, js: JetStreamContext, video_id: str) -> None:
        try:
            async for item in watch_events(js, video_id):
                event = message_json(item.event)
                self.items.append((item, event, sse_data(event, message_json(item.progress))))
                self._wake()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # handed to the watchers, who fail as they would have alone
            self.error = error
        finally:
            self.finished = True
            self._wake()

    async def read(self, after_sequence: int, shown: c.Progress) -> AsyncIterator[tuple[StreamedEvent, str]]:
        """(event, SSE data) after `after_sequence`, its progress never behind `shown` nor anything sent before."""
        index = 0
        sent: c.Progress = shown
        sent_json: str | None = None  # the JSON of `sent`, once an event had to carry it
        while True:
            while index < len(self.items):
                item, event, data = self.items[index]
                index += 1
                if item.sequence <= after_sequence:
                    continue
                progress = onward(sent, item.progress)
                if progress is item.progress:
                    sent_json = None
                else:
                    if progress is not sent or sent_json is None:
                        sent_json = message_json(progress)
                    data = sse_data(event, sent_json)
                sent = progress
                yield item, data
            if self.error is not None:
                raise self.error
            if self.finished:
                return
            await self._arrived.wait()

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Feeds:
    """The live feeds of one gateway (one NATS connection)."""

    def __init__(self, js: JetStreamContext) -> None:
        self._js = js
        self._feeds: dict[str, Feed] = {}

    async def watch(
        self, video_id: str, *, after_sequence: int, shown: c.Progress
    ) -> AsyncIterator[tuple[StreamedEvent, str]]:
        """(event, its SSE data) of the video after `after_sequence`, in order, until the terminal one;
        `shown` is the video's progress when the watcher connected."""
        feed = self._feeds.get(video_id)
        if feed is None or feed.error is not None:
            feed = self._feeds[video_id] = Feed(self._js, video_id)
        feed.watchers += 1
        try:
            async for item in feed.read(after_sequence, shown):
                yield item
        finally:
            feed.watchers -= 1
            if feed.watchers == 0:
                if self._feeds.get(video_id) is feed:
                    del self._feeds[video_id]
                await feed.stop()


_FEEDS: weakref.WeakKeyDictionary[JetStreamContext, Feeds] = weakref.WeakKeyDictionary()


def watch(
    js: JetStreamContext, video_id: str, *, after_sequence: int, shown: c.Progress
) -> AsyncIterator[tuple[StreamedEvent, str]]:
    """The shared feed of `video_id` on this gateway's JetStream connection, read after a sequence by
    a watcher who was shown `shown`."""
    feeds = _FEEDS.get(js)
    if feeds is None:
        feeds = _FEEDS[js] = Feeds(js)
    return feeds.watch(video_id, after_sequence=after_sequence, shown=shown)
