"""`adgen videos …`: list, show (and follow), download, retry and cancel videos, review and edit
them, list their versions; plus the pieces `adgen generate` shares with them (following progress
live, downloading the MP4)."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Generator
from contextlib import closing
from pathlib import Path
from typing import Annotated, cast
from urllib.parse import urlencode

import av
import httpx
import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.text import Text

from adgen_cli import views
from adgen_cli.api import FINISHED_STATUSES, Api, Event
from adgen_cli.options import Json, connect
from adgen_cli.outcome import EXIT_CODES_HELP, CliError, ExitCode, print_json

app = typer.Typer(
    help="List, inspect, download, retry, cancel, review and edit your videos.",
    no_args_is_help=True,
    epilog=EXIT_CODES_HELP,
)
err = Console(stderr=True)
out = Console()

VideoId = Annotated[str, typer.Argument(help="The video's id")]
Follow = Annotated[bool, typer.Option("--follow", "-f", help="Watch progress live until the video finishes")]


# --- following -------------------------------------------------------------------------------


# The status of a video that waits for its owner: following it any further would wait for ever.
AT_GATE = "awaiting_review"
GATE_EVENT = "review_reached"


def events_of(api: Api, video_id: str, last_id: str | None) -> closing[Generator[Event]]:
    """The video's event stream, closed on leaving the block: a watcher that stops early (at a
    gate, at the frame it waited for) drops its connection then, not when the generator is collected."""
    return closing(cast(Generator[Event], api.events(video_id, last_id=last_id)))


def at_rest(video: dict, version: int = 0) -> bool:
    """Whether the video will not move until someone acts: finished, or waiting at its review gate.
    A watcher of `version` is not done by an earlier version's completion."""
    if video.get("status") == "completed" and int(video.get("version") or 1) < version:
        return False
    return video.get("status") in (*FINISHED_STATUSES, AT_GATE)


def follow(api: Api, video_id: str, *, live: bool, version: int = 0) -> dict:
    """Shows the live view on stderr until the video finishes or waits at its review gate (with
    `version`, until that version ends); returns the video as it stopped."""
    video = api.get(f"/v1/videos/{video_id}")
    state = {"progress": video.get("progress") or {}}

    def watch() -> dict:
        # The stream replays the video's events from its start: a retried video's holds the earlier
        # run's end, an approved one's the gate it passed. So an end or a gate in the stream is only
        # a cue to ask the video itself, and to go on from there while it says it still moves. An
        # edited video's holds every earlier version's completion too.
        current, last_id = video, None
        while not at_rest(current, version):
            gate = False
            with events_of(api, video_id, last_id) as events:
                for event in events:
                    last_id = event.id or last_id
                    state["progress"] = event.progress or state["progress"]
                    if event.kind == GATE_EVENT:
                        gate = True
                        break
            # The row is at the gate before that event is sent; it may trail a terminal one a moment.
            for _ in range(1 if gate else 10):
                current = api.get(f"/v1/videos/{video_id}")
                if at_rest(current, version) or last_id is None:
                    return current
                if not gate:
                    time.sleep(0.2)
        return current

    if not live:
        return watch()
    with Live(get_renderable=lambda: views.live_view(video_id, state["progress"]), console=err, refresh_per_second=4):
        return watch()


def frame_drawn(api: Api, video_id: str, beat: int, *, after_take: int) -> dict:
    """Waits until the beat's image is drawn again (a take later than `after_take`, done) and returns
    that frame; each `frame_ready` in the stream is the cue to look. CliError when the video ends
    first."""

    def drawn() -> dict | None:
        frames = api.get(f"/v1/videos/{video_id}/frames")["frames"]
        frame = next((f for f in frames if f["beat_index"] == beat), None)
        return frame if frame and frame["status"] == "done" and int(frame["take"]) > after_take else None

    last_id = None
    while (frame := drawn()) is None:
        with events_of(api, video_id, last_id) as events:
            for event in events:
                last_id = event.id or last_id
                if event.kind == "frame_ready" and (frame := drawn()) is not None:
                    return frame
        # The stream ended: for good when the video did (a retried one's holds an earlier run's end).
        if api.get(f"/v1/videos/{video_id}").get("status") in FINISHED_STATUSES and (frame := drawn()) is None:
            raise CliError(f"video {video_id} ended before beat {beat} was drawn again", ExitCode.VIDEO_FAILED)
    return frame


def interrupted(api: Api, video_id: str, *, as_json: bool) -> None:
    """Ctrl-C while following: the video keeps rendering unless the person asks to cancel it."""
    keep = True
    if not as_json and sys.stdin.isatty():
        try:
            keep = typer.confirm(f"\nKeep video {video_id} rendering in the background?", default=True, err=True)
        except (KeyboardInterrupt, typer.Abort):
            keep = True
    if not keep:
        api.post(f"/v1/videos/{video_id}/cancel")
    if as_json:
        print_json({"id": video_id, "interrupted": True, "cancelled": not keep})
    elif keep:
        err.print(f"\nvideo [bold]{video_id}[/] is still rendering.")
        err.print(f"  follow it:  adgen videos show {video_id} --follow")
        err.print(f"  cancel it:  adgen videos cancel {video_id}")
        err.print(f"  fetch it:   adgen videos download {video_id}")
    else:
        err.print(f"video [bold]{video_id}[/] cancelled")
    raise typer.Exit(int(ExitCode.INTERRUPTED))


def ended(video: dict, *, as_json: bool) -> None:
    """Exit 1 when a followed video failed or was cancelled."""
    if video.get("status") in FINISHED_STATUSES and video.get("status") != "completed":
        if not as_json:
            err.print(
                f"[red]{video['status']}:[/] {video.get('error') or video.get('progress', {}).get('message', '')}"
            )
        raise typer.Exit(int(ExitCode.VIDEO_FAILED))


# --- downloading -----------------------------------------------------------------------------


def ratio_key(value: str) -> str:
    """'16:9', 'ASPECT_RATIO_16_9' and '16x9' all name the same shape."""
    return ":".join(re.findall(r"\d+", value))


def completed_version(video: dict) -> int:
    """The version a download gets by default: the video's own once it is completed, else the one
    before it (the next is being made, or failed); 0 when none was ever completed."""
    version = int(video.get("version") or 1)
    return version if video.get("status") == "completed" else version - 1


def download_link(video: dict, aspect_ratio: str | None, version: int | None = None) -> tuple[str, str]:
    """(link, aspect ratio) of the MP4 to fetch: the primary or the rendition asked for, of the
    latest completed version or the one asked for. The renditions' own links are the latest
    version's, so another version is asked of the gateway by number; a shape the video is not
    delivered in is refused before anything is fetched."""
    primary = ratio_key(str((video.get("request") or {}).get("aspect_ratio", "")))
    renditions = {ratio_key(str(r.get("aspect_ratio", ""))): r for r in video.get("renditions") or []}
    wanted = ratio_key(aspect_ratio) if aspect_ratio else primary
    if wanted != primary and wanted not in renditions and (primary or renditions):
        available = ", ".join(sorted({primary, *renditions} - {""}))
        raise CliError(
            f"video {video['id']} has no {aspect_ratio} rendition (available: {available})",
            ExitCode.BAD_INPUT,
            fields=[{"field": "aspect_ratio", "message": f"one of {available}"}],
        )
    signed = (renditions.get(wanted) or {}).get("download_url") if aspect_ratio and version is None else None
    if signed:
        return str(signed), wanted
    query = {**({"version": version} if version else {}), **({"aspect_ratio": wanted} if wanted != primary else {})}
    return f"/v1/videos/{video['id']}/download" + (f"?{urlencode(query)}" if query else ""), wanted


def verify_mp4(path: Path) -> float:
    """The MP4's duration in seconds; raises CliError when it does not decode as a video."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise CliError(f"{path} has no video stream", ExitCode.UNAVAILABLE)
            stream = container.streams.video[0]
            if container.duration:
                return container.duration / 1_000_000
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            return 0.0
    except av.error.FFmpegError as error:
        raise CliError(f"{path} is not a readable MP4: {error}", ExitCode.UNAVAILABLE) from None


def download(
    api: Api, video: dict, dest: Path, *, aspect_ratio: str | None, show_bar: bool, version: int | None = None
) -> dict:
    """Writes the video's MP4 (of `version`, else the latest completed) to `dest` with a progress
    bar; checks every byte arrived and that it decodes before it replaces `dest`."""
    if completed_version(video) < 1:
        raise CliError(
            f"video {video['id']} is {video.get('status')}; only a completed video can be downloaded",
            ExitCode.BAD_INPUT,
        )
    link, ratio = download_link(video, aspect_ratio, version)
    url = api.resolve(link)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    written = 0
    try:
        with (
            httpx.stream("GET", url, timeout=120, follow_redirects=True) as response,
            Progress(*columns, TimeRemainingColumn(), console=err, disable=not show_bar, transient=True) as bar,
            open(partial, "wb") as file,
        ):
            if response.status_code >= 400:
                raise CliError(f"download failed: {response.status_code} from storage", ExitCode.UNAVAILABLE)
            expected = int(response.headers["content-length"]) if "content-length" in response.headers else None
            task = bar.add_task(dest.name, total=expected)
            for part in response.iter_bytes(1 << 16):
                file.write(part)
                written += len(part)
                bar.update(task, advance=len(part))
        if expected is not None and written != expected:
            raise CliError(f"download incomplete: {written} of {expected} bytes", ExitCode.UNAVAILABLE)
        seconds = verify_mp4(partial)
        partial.replace(dest)
    except httpx.TransportError as error:
        raise CliError(f"download interrupted: {error}", ExitCode.UNAVAILABLE) from None
    finally:
        partial.unlink(missing_ok=True)
    return {
        "id": video["id"],
        "path": str(dest),
        "bytes": written,
        "duration_s": round(seconds, 3),
        "aspect_ratio": ratio,
        "version": version or completed_version(video),
    }


# --- commands --------------------------------------------------------------------------------


@app.command("list", epilog=EXIT_CODES_HELP)
def list_videos(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Videos per page")] = 20,
    page_token: Annotated[str | None, typer.Option(help="Continue from a previous page")] = None,
    every: Annotated[bool, typer.Option("--all", help="Fetch every page")] = False,
    as_json: Json = False,
) -> None:
    """Your videos, newest first."""
    with connect(ctx, as_json) as api:
        page = api.pages("/v1/videos", "videos", page_size=limit, page_token=page_token, every=every)
    if as_json:
        print_json(page)
        return
    if not page["videos"]:
        err.print('no videos yet — `adgen generate "…"` makes one')
        return
    out.print(views.videos_table(page["videos"]))
    if page["next_page_token"]:
        err.print(f"more: adgen videos list --page-token {page['next_page_token']}")


@app.command(epilog=EXIT_CODES_HELP)
def show(ctx: typer.Context, video_id: VideoId, follow_it: Follow = False, as_json: Json = False) -> None:
    """A video's status, progress, plan, cost and error; --follow watches it live."""
    with connect(ctx, as_json) as api:
        if follow_it:
            try:
                video = follow(api, video_id, live=not as_json)
            except KeyboardInterrupt:
                interrupted(api, video_id, as_json=as_json)
        else:
            video = api.get(f"/v1/videos/{video_id}")
    if as_json:
        print_json(video)
    else:
        out.print(views.video_detail(video))
    if follow_it:
        ended(video, as_json=as_json)


@app.command("download", epilog=EXIT_CODES_HELP)
def download_command(
    ctx: typer.Context,
    video_id: VideoId,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write it (default <video id>.mp4)")
    ] = None,
    aspect_ratio: Annotated[
        str | None, typer.Option(help="Which rendition, e.g. 9:16, when the video has several")
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(min=1, help="Which version, 1 the first (default: the latest completed; see `videos versions`)"),
    ] = None,
    as_json: Json = False,
) -> None:
    """Download a completed video's MP4 and check it is complete."""
    with connect(ctx, as_json) as api:
        video = api.get(f"/v1/videos/{video_id}")
        dest = output or Path(f"{video['id']}-v{version}.mp4" if version else f"{video['id']}.mp4")
        try:
            result = download(api, video, dest, aspect_ratio=aspect_ratio, show_bar=not as_json, version=version)
        except KeyboardInterrupt:
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    if as_json:
        print_json(result)
    else:
        out.print(f"[green]saved[/] {result['path']}  ({result['bytes'] / 1e6:.1f} MB, {result['duration_s']:.1f} s)")


def post_and_follow(api: Api, video_id: str, action: str, *, follow_it: bool, as_json: bool) -> dict:
    """POSTs the video's `action` (retry, approve) and, with --follow, watches it to its end or gate."""
    return followed(api, api.post(f"/v1/videos/{video_id}/{action}"), video_id, follow_it=follow_it, as_json=as_json)


def followed(api: Api, video: dict, video_id: str, *, follow_it: bool, as_json: bool) -> dict:
    """The video an action answered with; with --follow, as it stands once it (the version it is
    making) ends or reaches a gate."""
    if follow_it:
        try:
            video = follow(api, video.get("id", video_id), live=not as_json, version=int(video.get("version") or 0))
        except KeyboardInterrupt:
            interrupted(api, video_id, as_json=as_json)
    return video


@app.command(epilog=EXIT_CODES_HELP)
def retry(ctx: typer.Context, video_id: VideoId, follow_it: Follow = False, as_json: Json = False) -> None:
    """Start a failed or cancelled video again; only what has no stored output is redone."""
    with connect(ctx, as_json) as api:
        video = post_and_follow(api, video_id, "retry", follow_it=follow_it, as_json=as_json)
    if as_json:
        print_json(video)
    else:
        out.print(f"video [bold]{video.get('id', video_id)}[/] {video.get('status', 'queued')}")
        if not follow_it:
            out.print(f"  follow it:  adgen videos show {video_id} --follow")
    if follow_it:
        ended(video, as_json=as_json)


@app.command(epilog=EXIT_CODES_HELP)
def cancel(ctx: typer.Context, video_id: VideoId, as_json: Json = False) -> None:
    """Stop a video that is still being made."""
    with connect(ctx, as_json) as api:
        answer = api.post(f"/v1/videos/{video_id}/cancel")
    if as_json:
        print_json(answer)
    else:
        out.print(f"video [bold]{answer.get('id', video_id)}[/] {answer.get('status', 'cancelled')}")


def print_review(api: Api, video: dict) -> None:
    """The video at its gate as `adgen videos review` shows it: its plan's beats, the storyboard's
    images, what was spent, the quote of the rest and when the gate expires; then how to go on."""
    frames = api.get(f"/v1/videos/{video['id']}/frames")["frames"]
    spec = video.get("spec") or {}
    if spec.get("beats"):
        out.print(views.beats_table(spec))
    if any(frame.get("status") == "done" for frame in frames):
        out.print(Text("storyboard", style="bold"))
        for line in views.frame_lines(frames):
            out.print(line, soft_wrap=True)
    out.print(views.review_summary(video))
    for step in views.review_next_steps(video):
        out.print(step, highlight=False)


@app.command(epilog=EXIT_CODES_HELP)
def review(ctx: typer.Context, video_id: VideoId, as_json: Json = False) -> None:
    """What a video waiting at its review gate has made and what the rest will cost; --json prints
    {video, frames}."""
    with connect(ctx, as_json) as api:
        if as_json:
            print_json({"video": api.get(f"/v1/videos/{video_id}"), **api.get(f"/v1/videos/{video_id}/frames")})
            return
        print_review(api, api.get(f"/v1/videos/{video_id}"))


@app.command(epilog=EXIT_CODES_HELP)
def approve(ctx: typer.Context, video_id: VideoId, follow_it: Follow = False, as_json: Json = False) -> None:
    """Let a video waiting at its review gate go on: only what comes after the gate is made (and paid)."""
    with connect(ctx, as_json) as api:
        video = post_and_follow(api, video_id, "approve", follow_it=follow_it, as_json=as_json)
    if as_json:
        print_json(video)
    else:
        out.print(f"video [bold]{video.get('id', video_id)}[/] {video.get('status', '')}")
        if not follow_it:
            out.print(f"  follow it:  adgen videos show {video_id} --follow")
        elif video.get("status") == "completed":
            out.print(f"  fetch it:   adgen videos download {video_id}")
    if follow_it:
        ended(video, as_json=as_json)


@app.command(epilog=EXIT_CODES_HELP)
def regenerate(
    ctx: typer.Context,
    video_id: VideoId,
    beat: Annotated[int, typer.Option("--beat", min=0, help="Index of the beat whose image to draw again (from 0)")],
    prompt: Annotated[str | None, typer.Option(help="The beat's new image prompt (default: the plan's)")] = None,
    seed: Annotated[int | None, typer.Option(help="The new image's seed (default: a new one)")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the new image is drawn and print its link")] = False,
    as_json: Json = False,
) -> None:
    """Draw one storyboard image again while the video waits at its storyboard gate; only that
    image is paid for, the earlier one is kept. The gate holds (no approval) until it is drawn."""
    body = {k: v for k, v in (("prompt", prompt), ("seed", seed)) if v is not None}
    with connect(ctx, as_json) as api:
        before = next(
            (f for f in api.get(f"/v1/videos/{video_id}/frames")["frames"] if f["beat_index"] == beat), {"take": -1}
        )
        video = api.post(f"/v1/videos/{video_id}/frames/{beat}/regenerate", body)
        frame = None
        if wait:
            try:
                frame = frame_drawn(api, video_id, beat, after_take=int(before["take"]))
            except KeyboardInterrupt:
                raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    if as_json:
        print_json({**video, "frame": frame} if wait else video)
        return
    if frame is None:
        out.print(f"beat {beat} of video [bold]{video_id}[/] is being drawn again")
        out.print(f"  see it:      adgen videos review {video_id}")
    else:
        out.print(f"beat {beat} of video [bold]{video_id}[/] drawn again (take {frame['take']})")
        out.print(views.frame_lines([frame])[0], soft_wrap=True)
    out.print(f"  approve it:  adgen videos approve {video_id} --follow", highlight=False)


def beat_edit(beat: int, fields: dict[str, str | None]) -> dict:
    """The beat's part of a plan edit: only the fields given, so the plan keeps every other one as
    it is (the gateway reads an omitted field as "unchanged"). Bad input when none is given."""
    given = {name: value for name, value in fields.items() if value is not None}
    if not given:
        raise CliError(
            f"nothing to change in beat {beat}: give at least one of --headline, --subline, --voiceover, "
            "--prompt, --camera, --shot",
            ExitCode.BAD_INPUT,
        )
    return {"index": beat, **given}


@app.command(epilog=EXIT_CODES_HELP)
def edit(
    ctx: typer.Context,
    video_id: VideoId,
    beat: Annotated[int, typer.Option("--beat", min=0, help="Index of the beat to change (from 0)")],
    headline: Annotated[str | None, typer.Option(help="The beat's on-screen words")] = None,
    subline: Annotated[str | None, typer.Option(help="The words under the headline")] = None,
    voiceover: Annotated[str | None, typer.Option(help="The line spoken over the beat")] = None,
    prompt: Annotated[str | None, typer.Option(help="The beat's image prompt")] = None,
    camera: Annotated[str | None, typer.Option(help="The camera movement, e.g. slow_dolly_in")] = None,
    shot: Annotated[str | None, typer.Option(help="The shot type, e.g. close_up")] = None,
    follow_it: Follow = False,
    as_json: Json = False,
) -> None:
    """Change one beat of a video's plan: at its review gate, or once it is completed, where the
    edit makes its next version, redoing only what it changed (words on screen: nothing but the
    final cut; a prompt, camera or shot: that beat's image and clips; a voiceover: that line);
    every version stays downloadable. The edit names the plan revision it read, so one made meanwhile is not undone."""
    change = beat_edit(
        beat,
        {
            "headline": headline,
            "subline": subline,
            "voiceover": voiceover,
            "prompt": prompt,
            "camera_movement": camera,
            "shot_type": shot,
        },
    )
    with connect(ctx, as_json) as api:
        body = {"plan_revision": api.get(f"/v1/videos/{video_id}")["plan_revision"], "beats": [change]}
        answer = api.request("PATCH", f"/v1/videos/{video_id}/plan", json=body).json()
        video = followed(api, answer, video_id, follow_it=follow_it, as_json=as_json)
    if as_json:
        print_json(video)
    else:
        status, version = video.get("status", ""), video.get("version", 1)
        out.print(f"video [bold]{video.get('id', video_id)}[/] {status} · version {version}")
        for step in views.edit_next_steps(video):
            out.print(f"  {step}", highlight=False)
    if follow_it:
        ended(video, as_json=as_json)


@app.command(epilog=EXIT_CODES_HELP)
def versions(ctx: typer.Context, video_id: VideoId, as_json: Json = False) -> None:
    """A video's completed versions, the first first: the plan revision each was made from, when,
    and what it cost. `adgen videos download ID --version N` fetches one."""
    with connect(ctx, as_json) as api:
        listed = api.get(f"/v1/videos/{video_id}/versions")
    if as_json:
        print_json(listed)
        return
    if not listed["versions"]:
        err.print(f"video {video_id} has no completed version yet")
        return
    out.print(views.versions_table(listed["versions"]))
    err.print(f"fetch one: adgen videos download {video_id} --version N")
