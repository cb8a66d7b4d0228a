"""`adgen videos …`: list, show (and follow), download, retry and cancel videos; plus the pieces
`adgen generate` shares with them (following progress live, downloading the MP4)."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Annotated

import av
import httpx
import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from adgen_cli import views
from adgen_cli.api import FINISHED_STATUSES, Api
from adgen_cli.options import Json, connect
from adgen_cli.outcome import EXIT_CODES_HELP, CliError, ExitCode, print_json

app = typer.Typer(
    help="List, inspect, download, retry and cancel your videos.", no_args_is_help=True, epilog=EXIT_CODES_HELP
)
err = Console(stderr=True)
out = Console()

VideoId = Annotated[str, typer.Argument(help="The video's id")]
Follow = Annotated[bool, typer.Option("--follow", "-f", help="Watch progress live until the video finishes")]


# --- following -------------------------------------------------------------------------------


def follow(api: Api, video_id: str, *, live: bool) -> dict:
    """Shows the live view on stderr until the video finishes; returns the video as it ended."""
    video = api.get(f"/v1/videos/{video_id}")
    state = {"progress": video.get("progress") or {}}

    def watch() -> dict:
        # A retried video's stream holds the earlier run's end too: go on from there while the
        # video itself says it is not finished.
        last_id = None
        while True:
            for event in api.events(video_id, last_id=last_id):
                last_id = event.id or last_id
                state["progress"] = event.progress or state["progress"]
            for _ in range(10):  # the row may trail its terminal event by a moment
                current = api.get(f"/v1/videos/{video_id}")
                if current.get("status") in FINISHED_STATUSES or last_id is None:
                    return current
                time.sleep(0.2)

    if not live:
        return watch()
    with Live(get_renderable=lambda: views.live_view(video_id, state["progress"]), console=err, refresh_per_second=4):
        return watch()


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


def download_link(video: dict, aspect_ratio: str | None) -> tuple[str, str]:
    """(link, aspect ratio) of the MP4 to fetch: the primary, or the rendition asked for."""
    primary = ratio_key(str((video.get("request") or {}).get("aspect_ratio", "")))
    renditions = {ratio_key(str(r.get("aspect_ratio", ""))): r for r in video.get("renditions") or []}
    default = f"/v1/videos/{video['id']}/download"
    if not aspect_ratio:
        return default, primary
    wanted = ratio_key(aspect_ratio)
    if wanted in renditions and renditions[wanted].get("download_url"):
        return str(renditions[wanted]["download_url"]), wanted
    if wanted == primary or (not primary and not renditions):
        return default, wanted
    available = ", ".join(sorted({primary, *renditions} - {""})) or "none"
    raise CliError(
        f"video {video['id']} has no {aspect_ratio} rendition (available: {available})",
        ExitCode.BAD_INPUT,
        fields=[{"field": "aspect_ratio", "message": f"one of {available}"}],
    )


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


def download(api: Api, video: dict, dest: Path, *, aspect_ratio: str | None, show_bar: bool) -> dict:
    """Writes the video's MP4 to `dest` with a progress bar; checks every byte arrived and that it
    decodes before it replaces `dest`."""
    if video.get("status") != "completed":
        raise CliError(
            f"video {video['id']} is {video.get('status')}; only a completed video can be downloaded",
            ExitCode.BAD_INPUT,
        )
    link, ratio = download_link(video, aspect_ratio)
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
    as_json: Json = False,
) -> None:
    """Download a completed video's MP4 and check it is complete."""
    with connect(ctx, as_json) as api:
        video = api.get(f"/v1/videos/{video_id}")
        try:
            result = download(
                api, video, output or Path(f"{video['id']}.mp4"), aspect_ratio=aspect_ratio, show_bar=not as_json
            )
        except KeyboardInterrupt:
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    if as_json:
        print_json(result)
    else:
        out.print(f"[green]saved[/] {result['path']}  ({result['bytes'] / 1e6:.1f} MB, {result['duration_s']:.1f} s)")


@app.command(epilog=EXIT_CODES_HELP)
def retry(ctx: typer.Context, video_id: VideoId, follow_it: Follow = False, as_json: Json = False) -> None:
    """Start a failed or cancelled video again; only what has no stored output is redone."""
    with connect(ctx, as_json) as api:
        video = api.post(f"/v1/videos/{video_id}/retry")
        if follow_it:
            try:
                video = follow(api, video.get("id", video_id), live=not as_json)
            except KeyboardInterrupt:
                interrupted(api, video_id, as_json=as_json)
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
