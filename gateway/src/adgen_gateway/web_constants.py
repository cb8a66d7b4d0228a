"""`/web/limits.js`: the server's constants that the web page needs, written as an ES module from the
values the server itself uses, so the page has no copy of its own to drift from them.

The page reads the prompt's length limit, the lengths a video may have, the ways its voice may be
captioned and the review gates it may stop at (`request_limits`), the
kinds of event the SSE stream sends (each `kind` of events.proto's Event, as `GET
/v1/videos/{id}/events` names them, and the one event named after its status that a finished video
answers with), and the progress statuses after which nothing changes (`video_state.FINISHED`)."""

from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.responses import Response

from adgen.common.v1 import common_pb2 as c
from adgen.events.v1 import events_pb2
from adgen_gateway.progress import FINISHED_STATUS_VALUES
from adgen_gateway.web import CACHE
from adgen_video.request_limits import CAPTION_MODES, PROMPT_MAX_CHARS, REVIEW_STAGES, VALID_DURATIONS_S
from adgen_video.video_state import FINISHED

router = APIRouter(include_in_schema=False)


def page_constants() -> dict[str, object]:
    event_kinds = [f.name for f in events_pb2.Event.DESCRIPTOR.oneofs_by_name["kind"].fields]
    return {
        "PROMPT_MAX_CHARS": PROMPT_MAX_CHARS,
        "DURATIONS_S": list(VALID_DURATIONS_S),
        "CAPTION_MODES": list(CAPTION_MODES),
        "REVIEW_STAGES": list(REVIEW_STAGES),
        "EVENT_KINDS": [*event_kinds, *FINISHED],
        "TERMINAL_STATUSES": [c.VideoStatus.Name(s) for s in FINISHED_STATUS_VALUES],
    }


def limits_module() -> str:
    lines = ["// Written by the gateway from its own constants (adgen_gateway/web_constants.py)."]
    lines += [f"export const {name} = {json.dumps(value)};" for name, value in page_constants().items()]
    return "\n".join(lines) + "\n"


LIMITS_JS = limits_module()


@router.get("/web/limits.js")
async def limits_js() -> Response:
    return Response(LIMITS_JS, media_type="text/javascript", headers=CACHE)
