"""A frame's notes (how the product photo was shown, or why not) reach its FrameReady event."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_storyboard import worker
from adgen_storyboard.worker import RenderedFrame, Storyboard


class FakeDb:
    """Stands in for the pool and for a connection from it, in a transaction."""

    async def execute(self, *_: Any) -> None:
        return None

    async def fetchval(self, *_: Any) -> int:
        return 1

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[FakeDb]:
        yield self

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield


async def test_the_frame_ready_event_carries_the_frames_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    emitted: list[events_pb2.FrameReady] = []

    async def live_run(*_: Any) -> int:
        return 1

    async def publish_work(*_: Any) -> None:
        return None

    async def emit(_js: Any, _video_id: str, _msg_id: str, **kind: Any) -> None:
        emitted.append(kind["frame_ready"])

    note = "beat 0: product cut out (treatment cutout, confidence 0.91); shown as the hero"

    async def render(*_: Any, **__: Any) -> RenderedFrame:
        return RenderedFrame("frames/0.png", reused=False, notes=(note,))

    async def no_gate(*_: Any) -> None:
        return None

    monkeypatch.setattr(worker, "live_run", live_run)
    monkeypatch.setattr(worker, "pending_gate", no_gate)
    monkeypatch.setattr(worker, "publish_work", publish_work)
    monkeypatch.setattr(worker, "emit", emit)
    storyboard = Storyboard(SimpleNamespace(db=FakeDb(), js=None), assets=None, images=None, slots=object())  # type: ignore[arg-type]
    monkeypatch.setattr(storyboard, "render", render)
    spec = common_pb2.Spec(
        beats=[common_pb2.Beat(index=0, beat_id="hero_shot", shot_type="close_up")],
        chunk_plan=common_pb2.ChunkPlan(slots=[common_pb2.ChunkSlot(index=0, beat_index=0, index_in_beat=0)]),
    )
    await storyboard.handle(events_pb2.FrameWork(video_id="v", user_id="u", spec=spec, beat_index=0), None)  # type: ignore[arg-type]
    [ready] = emitted
    assert list(ready.notes) == [note]
    assert (ready.beat_index, ready.image_key, ready.frames_done) == (0, "frames/0.png", 1)
