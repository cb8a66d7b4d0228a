"""The web page's server constants (`/web/limits.js`) are the server's own: a real video's event stream
sends only kinds the page listens for and ends on a status the page calls terminal; the limits are
the request's limits; and no page file keeps a copy of its own."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx
import pytest
from conftest import Stack
from httpx_sse import aconnect_sse

from adgen_gateway import web
from adgen_video.request_limits import PROMPT_MAX_CHARS, REVIEW_STAGES, VALID_DURATIONS_S

pytestmark = pytest.mark.xdist_group("stack")

EXPORT = re.compile(r"^export const (\w+) = (.+);$")
COPIED_LIMIT = re.compile(r"maxlength\s*=\s*[\"']?\d", re.IGNORECASE)


async def page_constants(stack: Stack) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=stack.url) as client:
        module = await client.get("/web/limits.js")
    assert module.status_code == 200 and "javascript" in module.headers["content-type"]
    assert module.headers["cache-control"] == "no-cache"
    exported = [EXPORT.match(line) for line in module.text.splitlines() if line.startswith("export")]
    return {m.group(1): json.loads(m.group(2)) for m in exported if m}


async def test_the_limits_are_the_requests_limits(stack: Stack) -> None:
    constants = await page_constants(stack)
    assert constants["PROMPT_MAX_CHARS"] == PROMPT_MAX_CHARS
    assert constants["DURATIONS_S"] == list(VALID_DURATIONS_S)
    assert constants["REVIEW_STAGES"] == list(REVIEW_STAGES), "the gates a video may stop at, by their REST names"


async def test_a_videos_stream_sends_only_kinds_the_page_follows(stack: Stack) -> None:
    constants = await page_constants(stack)
    kinds, terminal = set(constants["EVENT_KINDS"]), set(constants["TERMINAL_STATUSES"])  # type: ignore[call-overload]
    key = await stack.new_user(f"web-constants-{uuid.uuid4().hex[:8]}")
    seen: list[tuple[str, str]] = []
    async with stack.client(key) as client:
        created = await client.post("/v1/videos", json={"prompt": "10 second ad for a tea tin", "duration_s": 10})
        assert created.status_code == 202, created.text
        path = f"/v1/videos/{created.json()['id']}/events"
        async with aconnect_sse(client, "GET", path, timeout=300) as source:
            async for event in source.aiter_sse():
                if not event.data:  # a keep-alive
                    continue
                status = json.loads(event.data)["progress"]["status"]
                seen.append((event.event, status))
                if status in terminal:
                    break
        # A finished video answers with one event named after its status.
        async with aconnect_sse(client, "GET", path, timeout=60) as source:
            replay = [event.event async for event in source.aiter_sse() if event.data]
    assert seen and seen[-1][1] == "VIDEO_STATUS_COMPLETED", seen
    assert {kind for kind, _ in seen} <= kinds, {kind for kind, _ in seen} - kinds
    assert {"video_planned", "frame_ready", "chunk_ready", "video_completed"} <= {kind for kind, _ in seen}
    assert all(status not in terminal for _, status in seen[:-1]), "only the last event ends the video"
    assert replay and set(replay) <= kinds, replay


def test_no_page_file_keeps_its_own_copy() -> None:
    static = Path(web.__file__).parent / "static"
    for path in static.iterdir():
        text = path.read_text()
        assert not COPIED_LIMIT.search(text), f"{path.name}: the prompt's limit comes from limits.js"
        assert '"video_planned"' not in text, f"{path.name}: the event kinds come from limits.js"
        assert '"VIDEO_STATUS_CANCELLED"]' not in text, f"{path.name}: the terminal statuses come from limits.js"
        assert "<= 60" not in text, f"{path.name}: the lengths come from limits.js"
        assert '"plan", "storyboard"' not in text, f"{path.name}: the review gates come from limits.js"
