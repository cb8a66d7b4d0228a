"""The gateway as the CLI sees it: where it is, one HTTP client, and problem+json turned into exits.

The URL and key come from --api-url/--api-key, else ADGEN_API_URL/ADGEN_API_KEY, else the
`dev.env` that `adgen up` writes into the state folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
from httpx_sse import connect_sse

from adgen_cli.outcome import CliError, ExitCode, exit_code_for_status

# The statuses of a video that will not change again, and the events that bring them: the server's
# `adgen_video.video_state.FINISHED` and `adgen_gateway.videos.TERMINAL_EVENT_KINDS`, restated so
# that a command loads no server code (tests/test_streams.py holds them equal).
FINISHED_STATUSES = ("completed", "failed", "cancelled", "expired")
TERMINAL_EVENT_KINDS = tuple(f"video_{status}" for status in FINISHED_STATUSES)


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event of a video: its id (for resuming), kind and data."""

    id: str
    kind: str
    data: dict

    @property
    def progress(self) -> dict:
        return self.data.get("progress") or {}

    @property
    def terminal(self) -> bool:
        # A video that had already finished answers with one event named after its status.
        return self.kind in TERMINAL_EVENT_KINDS or self.kind in FINISHED_STATUSES


def dev_env(state_dir: Path) -> dict[str, str]:
    """The settings `adgen up` wrote for the local stack; empty when it never ran."""
    path = state_dir / "dev.env"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


@dataclass(frozen=True)
class Target:
    """What the global options said; resolved into a client only by commands that call the API."""

    api_url: str | None
    api_key: str | None
    state_dir: Path


def problem_error(response: httpx.Response) -> CliError:
    """The CliError for a 4xx/5xx answer, with the problem's detail and the fields at fault."""
    detail, fields = response.reason_phrase or f"HTTP {response.status_code}", []
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        body = None
    if isinstance(body, dict):
        detail = str(body.get("detail") or body.get("title") or detail)
        fields = [e for e in body.get("errors", []) if isinstance(e, dict)]
    code = exit_code_for_status(response.status_code)
    hint = ""
    if code is ExitCode.AUTH:
        hint = "Check --api-key / ADGEN_API_KEY (`adgen users create NAME` makes a key)."
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        hint = f"Try again in {retry_after} s."
    return CliError(f"{response.status_code} {detail}", code, status=response.status_code, fields=fields, hint=hint)


class Api:
    """One httpx client for the gateway; every non-2xx answer raises CliError."""

    def __init__(self, url: str, key: str, *, timeout_s: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout_s, follow_redirects=False
        )

    @classmethod
    def from_target(cls, target: Target) -> Api:
        env = dev_env(target.state_dir)
        url = target.api_url or env.get("ADGEN_API_URL") or env.get("ADGEN_URL")
        key = target.api_key or env.get("ADGEN_API_KEY")
        if not url or not key:
            missing = " and ".join(n for n, v in (("--api-url", url), ("--api-key", key)) if not v)
            raise CliError(
                f"no gateway configured ({missing} missing)",
                ExitCode.BAD_INPUT,
                hint="Run `adgen up`, or pass --api-url/--api-key, or set ADGEN_API_URL/ADGEN_API_KEY.",
            )
        return cls(url, key)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        try:
            response = self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError as error:
            raise CliError(f"cannot reach the gateway at {self.url}: {error}", ExitCode.UNAVAILABLE) from None
        if response.status_code >= 400:
            raise problem_error(response)
        return response

    def get(self, path: str, **params: object) -> dict:
        query = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=query).json()

    def post(self, path: str, body: dict | None = None, **kwargs: object) -> dict:
        response = (
            self.request("POST", path, json=body, **kwargs)
            if body is not None
            else self.request("POST", path, **kwargs)
        )
        return response.json() if response.content else {}

    def pages(self, path: str, key: str, *, page_size: int, page_token: str | None, every: bool) -> dict:
        """One page of a listing, or with `every` all pages from `page_token` on."""
        page = self.get(path, page_size=page_size, page_token=page_token)
        items = list(page.get(key, []))
        while every and page.get("next_page_token"):
            page = self.get(path, page_size=page_size, page_token=page["next_page_token"])
            items += page.get(key, [])
        return {key: items, "next_page_token": page.get("next_page_token") or None}

    def resolve(self, link: str) -> str:
        """The absolute URL of `link`: gateway paths are asked for their redirect (a pre-signed
        object URL), which is then fetched without the API key."""
        absolute = urljoin(self.url + "/", link)
        if not absolute.startswith(self.url + "/"):
            return absolute
        response = self.request("GET", absolute)
        if response.is_redirect:
            return urljoin(absolute, response.headers["location"])
        raise CliError(f"{link} answered {response.status_code} instead of a download link", ExitCode.UNAVAILABLE)

    def events(self, video_id: str, *, last_id: str | None = None, reconnects: int = 5) -> Iterator[Event]:
        """The video's Server-Sent Events after `last_id` until a terminal one, resuming with
        Last-Event-ID when the connection drops; keep-alives are skipped."""
        failures = 0
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            try:
                with connect_sse(
                    self.client, "GET", f"/v1/videos/{video_id}/events", headers=headers, timeout=None
                ) as source:
                    if source.response.status_code == 204:  # nothing more will come
                        return
                    if source.response.status_code >= 400:
                        source.response.read()
                        raise problem_error(source.response)
                    for sse in source.iter_sse():
                        if not sse.data:
                            continue
                        failures = 0
                        last_id = sse.id or last_id
                        event = Event(last_id or "", sse.event, json.loads(sse.data))
                        yield event
                        if event.terminal:
                            return
            except httpx.TransportError as error:
                failures += 1
                if failures > reconnects:
                    raise CliError(f"lost the event stream: {error}", ExitCode.UNAVAILABLE) from None
                time.sleep(min(0.5 * 2**failures, 5.0))
                continue
            return
