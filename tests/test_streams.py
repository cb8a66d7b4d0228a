"""The SSE stream of a video: resuming with Last-Event-ID, ownership, stream tokens, many watchers."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from dataclasses import dataclass

import httpx
import pytest

from adgen_cli import api
from adgen_gateway.stream_tokens import StreamTokens
from adgen_gateway.videos import TERMINAL_EVENT_KINDS
from adgen_video.video_state import FINISHED

pytestmark = pytest.mark.xdist_group("stack")


@dataclass(frozen=True)
class Sse:
    id: str
    kind: str
    data: dict


async def read_events(
    client: httpx.AsyncClient,
    path: str,
    *,
    last_event_id: str | None = None,
    stop_after: int | None = None,
    stop_on: str | None = None,
    terminal: tuple[str, ...] = TERMINAL_EVENT_KINDS,
) -> list[Sse]:
    """The events of one SSE response, until the terminal one (or `stop_after` events, or the first
    `stop_on` event, then it disconnects as a dropped client would)."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events: list[Sse] = []
    fields: dict[str, str] = {}
    async with client.stream("GET", path, headers=headers, timeout=120) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line.startswith(":"):
                continue
            if line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
                continue
            if "data" in fields:
                events.append(Sse(fields.get("id", ""), fields.get("event", ""), json.loads(fields["data"])))
                if events[-1].kind in (*terminal, stop_on) or (stop_after and len(events) >= stop_after):
                    return events
            fields = {}
    return events


def never_back(progresses: list[dict]) -> bool:
    """No progress has fewer frames or chunks done, or a lower percent, than the one before it."""
    rows = [(p.get("frames_done", 0), p.get("chunks_done", 0), p.get("percent", 0.0)) for p in progresses]
    return all(a <= b for before, after in itertools.pairwise(rows) for a, b in zip(before, after, strict=True))


def progress_of(events: list[Sse]) -> list[dict]:
    return [e.data["progress"] for e in events]


def test_the_cli_stops_following_where_the_gateway_ends_a_stream() -> None:
    assert api.FINISHED_STATUSES == FINISHED
    assert api.TERMINAL_EVENT_KINDS == TERMINAL_EVENT_KINDS


async def start_video(stack, prefix: str, duration_s: int = 10) -> tuple[str, str]:
    key = await stack.new_user(f"{prefix}-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        created = await client.post(
            "/v1/videos", json={"prompt": f"{duration_s} second ad for a ceramic mug", "duration_s": duration_s}
        )
    assert created.status_code == 202, created.text
    return key, created.json()["id"]


async def test_events_of_another_users_video_are_not_found(stack) -> None:
    owner, video_id = await start_video(stack, "owner")
    stranger = await stack.new_user(f"stranger-{uuid.uuid4().hex[:8]}")
    async with stack.client(stranger) as client:
        response = await client.get(f"/v1/videos/{video_id}/events")
        token = await client.post(f"/v1/videos/{video_id}/stream-token")
        cancel = await client.post(f"/v1/videos/{video_id}/cancel")
    assert response.status_code == 404
    assert response.json()["detail"] == f"video {video_id} not found"
    assert token.status_code == 404
    assert cancel.status_code == 404
    async with stack.client(owner) as client:
        assert (await client.post(f"/v1/videos/{video_id}/cancel")).status_code == 202


async def test_two_hundred_watchers_a_reconnecting_one_and_stream_tokens(stack) -> None:
    """One 10 s video watched by 200 clients at once, plus one that drops after three events and
    resumes with Last-Event-ID, and one that joins from the start once the video shows progress."""
    key, video_id = await start_video(stack, "crowd")
    other_key, other_video = await start_video(stack, "crowd-other")
    path = f"/v1/videos/{video_id}/events"
    async with stack.client(key) as client:
        issued = await client.post(f"/v1/videos/{video_id}/stream-token")
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]
    assert issued.json()["expires_at"].endswith("+00:00")

    secret = stack.services["gateway"].settings.stream_token_secret.encode()
    user_id = token.split(".")[0]
    expired = StreamTokens(secret, ttl_s=-1).issue(user_id, video_id).token
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as anonymous:
        refused = {
            "none": await anonymous.get(path),
            "expired": await anonymous.get(path, params={"token": expired}),
            "tampered": await anonymous.get(path, params={"token": tampered}),
            "other video": await anonymous.get(f"/v1/videos/{other_video}/events", params={"token": token}),
        }
    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 401)
    assert "expired" in refused["expired"].json()["detail"]
    async with stack.client(other_key) as client:
        assert (await client.post(f"/v1/videos/{other_video}/cancel")).status_code == 202

    # One connection per watcher; half use the API key, half the token (as EventSource would).
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=0)
    async with (
        httpx.AsyncClient(
            base_url=stack.url, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=120
        ) as keyed,
        httpx.AsyncClient(base_url=stack.url, limits=limits, timeout=120) as tokened,
    ):

        async def drop_and_resume() -> tuple[list[Sse], list[Sse], dict, list[Sse]]:
            first = await read_events(keyed, path, stop_after=3)
            shown = (await keyed.get(f"/v1/videos/{video_id}")).json()["progress"]
            late = asyncio.create_task(read_events(keyed, path))
            return first, await read_events(keyed, path, last_event_id=first[-1].id), shown, await late

        watchers = [read_events(keyed, path) for _ in range(100)]
        watchers += [read_events(tokened, f"{path}?token={token}") for _ in range(100)]
        results, (first, resumed, shown, late) = await asyncio.wait_for(
            asyncio.gather(asyncio.gather(*watchers), drop_and_resume()), 180
        )
        again = await keyed.get(path, headers={"Last-Event-ID": resumed[-1].id})

    assert len(results) == 200
    reference = results[0]
    assert reference[-1].kind == "video_completed", reference[-1]
    assert reference[-1].data["progress"]["percent"] == 100.0
    sequences = [int(e.id) for e in reference]
    assert sequences == sorted(set(sequences)), "ids are increasing stream sequences"
    assert all([e.id for e in r] == [e.id for e in reference] for r in results), "every watcher saw every event"
    # The interrupted client saw a prefix, then exactly the rest: nothing lost, nothing twice.
    assert 0 < len(first) < len(reference)
    assert [(e.id, e.kind) for e in first + resumed] == [(e.id, e.kind) for e in reference]
    # Progress never moves back on any stream, nor below what the video showed when one was opened:
    # the late watcher's replay of the video's start carries what it had been shown already.
    assert all(never_back(progress_of(r)) for r in results) and never_back(progress_of(first + resumed))
    assert [(e.id, e.kind) for e in late] == [(e.id, e.kind) for e in reference]
    assert never_back([shown, *progress_of(late)]), (shown, progress_of(late)[:3])
    # After the terminal event there is nothing more: 204 tells EventSource to stop reconnecting.
    assert again.status_code == 204
