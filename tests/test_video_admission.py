"""A video whose plan cannot be enqueued after its row is committed is marked failed with a reason
the user can act on, so it holds none of the user's active slots."""

from __future__ import annotations

import asyncpg
import nats.errors
import pytest
import seeding

from adgen.common.v1 import common_pb2
from adgen_gateway.videos import create_video
from adgen_video.video_reads import videos_page
from adgen_video.video_runs import active_video_ids


class JetStreamAway:
    """A JetStream context whose every publish fails as one does while NATS restarts."""

    def __init__(self) -> None:
        self.publishes = 0

    async def publish(self, *_: object, **__: object) -> None:
        self.publishes += 1
        raise nats.errors.NoServersError()


async def test_a_video_that_could_not_be_queued_is_failed_and_frees_its_slot(db: asyncpg.Pool) -> None:
    user = await seeding.user(db)
    js = JetStreamAway()
    request = common_pb2.VideoRequest(prompt="20 second ad for a road bike", duration_s=20)
    for attempt in (1, 2):
        # One active video is allowed: the second attempt gets as far as the publish only if the
        # first one's failed row no longer holds the slot.
        with pytest.raises(nats.errors.NoServersError):
            await create_video(db, js, user_id=user.user_id, max_active=1, request=request)  # type: ignore[arg-type]
        assert js.publishes == attempt
    assert await active_video_ids(db, user.user_id) == []
    rows = await videos_page(db, user_id=user.user_id, limit=10, before=None)
    assert [(r["status"], r["error"]) for r in rows] == [("failed", "could not be queued; try again")] * 2
