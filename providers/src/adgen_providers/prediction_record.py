"""Where a unit of paid work (a chunk, a storyboard frame, a music bed) remembers the prediction that
renders it, so that no crash makes us pay twice.

The tag is written before a create is sent and the id as soon as the create answers. A worker that
starts the unit again therefore finds, in order: an id (poll that prediction), a tag without an id
(a create was sent and its answer never seen: look the tag up at the provider), or nothing (create).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar, Protocol

import asyncpg

from adgen_kernel.storage import ObjectStore
from adgen_video import unit_rows
from adgen_video.unit_rows import UnitTable


@dataclass(frozen=True)
class RecordedPrediction:
    prediction_id: str | None
    tag: str | None


class PredictionRecord(Protocol):
    async def load(self) -> RecordedPrediction: ...

    async def begin(self, tag: str) -> None:
        """Before a create is sent: the tag it carries."""

    async def created(self, prediction_id: str) -> None:
        """As soon as the prediction's id is known, before waiting for it."""

    async def forget(self) -> None:
        """The prediction failed or was canceled: the next attempt creates a new one."""


class NoRecord:
    """For renders outside the pipeline (no unit row): nothing to resume from."""

    async def load(self) -> RecordedPrediction:
        return RecordedPrediction(None, None)

    async def begin(self, tag: str) -> None:
        return None

    async def created(self, prediction_id: str) -> None:
        return None

    async def forget(self) -> None:
        return None


@dataclass(frozen=True)
class _UnitRowRecord:
    """The `prediction_id` / `prediction_tag` columns of one unit's row (`adgen_video.unit_rows`); a
    unit without a row records nothing and finds nothing."""

    table: ClassVar[UnitTable]

    db: asyncpg.Pool
    video_id: str
    index: int

    async def load(self) -> RecordedPrediction:
        return RecordedPrediction(*await unit_rows.recorded_prediction(self.db, self.table, self.video_id, self.index))

    async def begin(self, tag: str) -> None:
        await unit_rows.record_prediction_tag(self.db, self.table, self.video_id, self.index, tag)

    async def created(self, prediction_id: str) -> None:
        await unit_rows.record_prediction_id(self.db, self.table, self.video_id, self.index, prediction_id)

    async def forget(self) -> None:
        await unit_rows.forget_prediction(self.db, self.table, self.video_id, self.index)


class ChunkRowRecord(_UnitRowRecord):
    """The prediction of one `chunks` row: ChunkRowRecord(db, video_id, chunk_index)."""

    table = "chunks"


class FrameRowRecord(_UnitRowRecord):
    """The prediction of one `frames` row (a storyboard image): FrameRowRecord(db, video_id, beat_index)."""

    table = "frames"


@dataclass(frozen=True)
class StoredRecord:
    """The prediction of a unit without a row (refine's music bed): a small JSON object at `key`,
    cleaned up with the unit's other intermediates."""

    store: ObjectStore
    key: str

    async def load(self) -> RecordedPrediction:
        data = await self.store.get_bytes_if_exists(self.key)
        if data is None:
            return RecordedPrediction(None, None)
        saved = json.loads(data)
        return RecordedPrediction(saved["prediction_id"], saved["tag"])

    async def begin(self, tag: str) -> None:
        await self._put(RecordedPrediction(None, tag))

    async def created(self, prediction_id: str) -> None:
        await self._put(RecordedPrediction(prediction_id, (await self.load()).tag))

    async def forget(self) -> None:
        await self.store.delete(self.key)

    async def _put(self, recorded: RecordedPrediction) -> None:
        data = json.dumps({"prediction_id": recorded.prediction_id, "tag": recorded.tag}).encode()
        await self.store.put_bytes(self.key, data, "application/json")
