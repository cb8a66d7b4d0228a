"""Stream tokens open one video for one user until they expire, and nothing else."""

from __future__ import annotations

import uuid

import pytest

from adgen.common.v1 import common_pb2 as c
from adgen.events.v1 import events_pb2
from adgen_gateway.progress import fold
from adgen_gateway.stream_tokens import InvalidStreamToken, StreamTokens

TOKENS = StreamTokens(b"test secret", ttl_s=300)
USER, VIDEO = str(uuid.uuid4()), str(uuid.uuid4())


def test_a_token_names_its_user_until_it_expires() -> None:
    issued = TOKENS.issue(USER, VIDEO, now=1_000)
    assert issued.expires_at == 1_300
    assert TOKENS.user_of(issued.token, VIDEO, now=1_299) == USER
    with pytest.raises(InvalidStreamToken, match="expired"):
        TOKENS.user_of(issued.token, VIDEO, now=1_300)


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t.replace(USER, str(uuid.uuid4())),  # another user
        lambda t: t.replace(".1300.", ".9999."),  # a later expiry
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # a changed signature
        lambda t: "not-a-token",
        lambda t: "x.1300.sig",
    ],
)
def test_a_changed_token_is_refused(forge) -> None:
    token = TOKENS.issue(USER, VIDEO, now=1_000).token
    with pytest.raises(InvalidStreamToken):
        TOKENS.user_of(forge(token), VIDEO, now=1_000)


def test_a_token_opens_only_its_video_and_only_with_its_secret() -> None:
    token = TOKENS.issue(USER, VIDEO, now=1_000).token
    with pytest.raises(InvalidStreamToken, match="not valid for this video"):
        TOKENS.user_of(token, str(uuid.uuid4()), now=1_000)
    with pytest.raises(InvalidStreamToken):
        StreamTokens(b"another secret", ttl_s=300).user_of(token, VIDEO, now=1_000)


def test_a_cancel_is_terminal_in_the_progress_fold() -> None:
    planned = events_pb2.Event(video_id=VIDEO, chunk_ready=events_pb2.ChunkReady(chunks_done=2))
    progress = fold(c.Progress(chunks_total=6, beats_total=2), planned)
    cancelled = fold(progress, events_pb2.Event(video_id=VIDEO, video_cancelled=events_pb2.VideoCancelled()))
    late = fold(cancelled, events_pb2.Event(video_id=VIDEO, chunk_ready=events_pb2.ChunkReady(chunks_done=3)))
    assert cancelled.status == c.VIDEO_STATUS_CANCELLED and cancelled.message == "cancelled"
    assert late.chunks_done == 2 and late.status == c.VIDEO_STATUS_CANCELLED
