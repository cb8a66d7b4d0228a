"""How videos, assets and live progress look in a terminal. Pure functions from API JSON to rich
renderables; the commands decide where they go (stdout for results, stderr for the live view)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from adgen_cli.api import FINISHED_STATUSES

STATUS_STYLE = {
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "expired": "yellow",
    "queued": "dim",
    "awaiting_review": "magenta",
}


def status_text(status: str) -> Text:
    status = status.removeprefix("VIDEO_STATUS_").lower()
    return Text(status, style=STATUS_STYLE.get(status, "cyan"))


def phase_name(progress: dict) -> str:
    return str(progress.get("phase") or "PHASE_PLAN").removeprefix("PHASE_").lower().replace("unspecified", "queued")


def usd(value: float) -> str:
    return f"${value:,.2f}"


def duration(seconds: float) -> str:
    seconds = max(round(seconds), 0)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def eta_left(progress: dict, now: datetime | None = None) -> float | None:
    """Seconds to go now: the snapshot's ETA counted down from when it was computed."""
    if progress.get("eta_s") is None:
        return None
    eta = float(progress["eta_s"])
    updated = _parse_time(progress.get("updated_at"))
    if updated is not None:
        eta -= ((now or datetime.now(UTC)) - updated).total_seconds()
    return max(eta, 0.0)


def when(value: str | None) -> str:
    parsed = _parse_time(value)
    return parsed.astimezone().strftime("%Y-%m-%d %H:%M") if parsed else ""


def progress_counts(progress: dict) -> str:
    parts = []
    if progress.get("beats_total"):
        parts.append(f"beats {progress.get('frames_done', 0)}/{progress['beats_total']}")
    if progress.get("chunks_total"):
        parts.append(f"chunks {progress.get('chunks_done', 0)}/{progress['chunks_total']}")
    return " · ".join(parts)


def live_view(video_id: str, progress: dict, *, now: datetime | None = None) -> RenderableType:
    """The live view of `adgen generate`: phase and bar, units done, cost so far, ETA, last message."""
    percent = float(progress.get("percent") or 0.0)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    status = str(progress.get("status") or "VIDEO_STATUS_QUEUED")
    grid.add_row("video", Text(video_id))
    grid.add_row(
        "phase",
        Text.assemble(
            (f"{phase_name(progress):<10} ", "cyan"),
            status_text(status),
        ),
    )
    bar = Table.grid(padding=(0, 1))
    bar.add_row(ProgressBar(total=100, completed=percent, width=40), Text(f"{percent:5.1f}%"))
    grid.add_row("progress", bar)
    counts = progress_counts(progress)
    if counts:
        grid.add_row("units", counts)
    grid.add_row("cost", usd(int(progress.get("cost_micros") or 0) / 1e6))
    left = eta_left(progress, now)
    if left is not None:
        grid.add_row("eta", "finishing…" if left < 1 and not status.endswith("COMPLETED") else duration(left))
    message = progress.get("message") or ""
    if message:
        grid.add_row("last", Text(message, style="red" if progress.get("error") else ""))
    return grid


def videos_table(videos: list[dict]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for name, justify in (("id", "left"), ("status", "left"), ("done", "right"), ("cost", "right")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("created", no_wrap=True)
    table.add_column("prompt", overflow="ellipsis", no_wrap=True, max_width=48)
    for video in videos:
        progress = video.get("progress") or {}
        table.add_row(
            video["id"],
            status_text(video.get("status", "")),
            f"{float(progress.get('percent') or 0):.0f}%",
            usd(video.get("cost", {}).get("total_usd", 0.0)),
            when(video.get("created_at")),
            (video.get("request") or {}).get("prompt", ""),
        )
    return table


def video_detail(video: dict) -> RenderableType:
    progress = video.get("progress") or {}
    request = video.get("request") or {}
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("id", video["id"])
    grid.add_row("status", status_text(video.get("status", "")))
    if int(video.get("version") or 1) > 1:
        grid.add_row("version", f"{video['version']} (adgen videos versions {video['id']})")
    grid.add_row("prompt", request.get("prompt", ""))
    if request.get("voiceover") is False:
        grid.add_row("voice", "none (no voiceover)")
    else:
        grid.add_row("voice", request.get("voice") or "default")
    spec = video.get("spec") or {}
    if spec:
        grid.add_row(
            "plan",
            f"{spec.get('archetype_id', '')} · {spec.get('duration_s', '')} s · {len(spec.get('beats', []))} beats",
        )
    grid.add_row("progress", f"{float(progress.get('percent') or 0):.1f}%  {progress_counts(progress)}".rstrip())
    if progress.get("message"):
        grid.add_row("last", progress["message"])
    left = eta_left(progress)
    if left is not None and video.get("status") not in (*FINISHED_STATUSES, "awaiting_review"):
        grid.add_row("eta", duration(left))
    review = video.get("review")
    if review:
        grid.add_row(
            "review",
            f"waiting at the {review['stage']} gate · the rest {usd(review['quote_usd'])} · "
            f"expires {when(review.get('expires_at'))} (adgen videos review {video['id']})",
        )
    cost = video.get("cost") or {}
    grid.add_row("cost", usd(cost.get("total_usd", 0.0)))
    grid.add_row("created", when(video.get("created_at")))
    if video.get("completed_at"):
        grid.add_row("completed", when(video.get("completed_at")))
    if video.get("error"):
        grid.add_row("error", Text(video["error"], style="red"))
    renditions = video.get("renditions") or []
    if renditions:
        grid.add_row("renditions", ", ".join(str(r.get("aspect_ratio", "")) for r in renditions))
    parts: list[RenderableType] = [grid]
    lines = cost.get("lines") or []
    if lines:
        parts.append(cost_table(lines, "cost"))
    return Group(*parts)


def cost_table(lines: list[dict], title: str) -> Table:
    """Cost lines (`cost.lines` of a video, `quote` of its review) one per phase and model."""
    table = Table(show_edge=False, header_style="bold", title=title, title_justify="left")
    for name in ("phase", "provider", "model", "units", "usd"):
        table.add_column(name, justify="right" if name in ("units", "usd") else "left")
    for line in lines:
        table.add_row(line["phase"], line["provider"], line["model"], str(line["units"]), f"{line['usd']:.3f}")
    return table


def beats_table(spec: dict) -> Table:
    """A plan's beats, as `adgen plan` previews them and `adgen videos review` shows them at a gate."""
    table = Table(title=f"{spec['archetype_id']} · {spec['duration_s']} s · {spec['planner']}")
    spoken = any(beat.get("voiceover") for beat in spec["beats"])
    for column in ("start", "length", "beat", "camera", "headline", *(("voiceover",) if spoken else ())):
        # Ids stay whole so they can be copied; only the headline and the line may wrap.
        table.add_column(
            column,
            justify="right" if column in ("start", "length") else "left",
            no_wrap=column not in ("headline", "voiceover"),
        )
    for beat in spec["beats"]:
        table.add_row(
            f"{beat['start_s']} s",
            f"{beat['duration_s']} s",
            beat["beat_id"],
            beat["camera_movement"],
            beat["headline"],
            *((beat.get("voiceover", ""),) if spoken else ()),
        )
    return table


def frame_lines(frames: list[dict]) -> list[Text]:
    """One line per storyboard image: its beat, status, take and link. Not a table: the links are
    long pre-signed URLs, and a table would wrap or cut them; a line that runs on stays copyable."""
    return [
        Text.assemble(
            (f"beat {frame['beat_index']:>2}  ", "bold"),
            status_text(str(frame.get("status", ""))),
            f"  take {frame.get('take', 0)}  ",
            str(frame.get("url") or ""),
            no_wrap=True,
            overflow="ignore",
        )
        for frame in frames
    ]


def review_summary(video: dict) -> RenderableType:
    """Where a video waits for its owner: the gate, what is ready, what was spent, the price of the
    rest (with its lines) and when the gate expires; a line saying so when it waits at none."""
    review = video.get("review")
    if not review:
        return Text(f"video {video['id']} is {video.get('status', '')}, not waiting at a review gate")
    ready = review.get("ready") or {}
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("gate", Text(review["stage"], style="magenta"))
    grid.add_row("images", f"{ready.get('frames', 0)}/{ready.get('beats', 0)} drawn")
    if ready.get("voice_lines_total"):
        grid.add_row("voice", f"{ready.get('voice_lines', 0)}/{ready['voice_lines_total']} lines spoken")
    grid.add_row("spent", usd(float(review.get("spent_usd") or 0.0)))
    grid.add_row("the rest", f"{usd(float(review.get('quote_usd') or 0.0))} when approved")
    grid.add_row("expires", when(review.get("expires_at")))
    parts: list[RenderableType] = [grid]
    if review.get("quote"):
        parts.append(cost_table(review["quote"], "quote of the rest"))
    return Group(*parts)


def review_next_steps(video: dict) -> list[str]:
    """The commands that go on from a gate; drawing an image again is only for the storyboard's."""
    review = video.get("review") or {}
    if not review:
        return []
    steps = [f"approve it:    adgen videos approve {video['id']} --follow"]
    if review.get("stage") == "storyboard":
        steps.append(f"redraw one:    adgen videos regenerate {video['id']} --beat N [--prompt TEXT] [--seed N]")
    steps.append(f"look again:    adgen videos review {video['id']}")
    return steps


def edit_next_steps(video: dict) -> list[str]:
    """The commands that go on from a plan edit: a video at its gate goes on from there; a version
    being made can be followed, and downloaded (the version before it until it is done); a
    completed one downloaded. A failed one has none: its error says why."""
    if video.get("review"):
        return review_next_steps(video)
    status = video.get("status")
    steps = [] if status in FINISHED_STATUSES else [f"follow it:     adgen videos show {video['id']} --follow"]
    if status == "completed" or status not in FINISHED_STATUSES:
        steps.append(f"fetch it:      adgen videos download {video['id']}")
    return steps


def versions_table(versions: list[dict]) -> Table:
    """A video's completed versions (`GET /v1/videos/{id}/versions`), the first first."""
    table = Table(show_edge=False, header_style="bold")
    for name in ("version", "plan revision", "completed", "cost"):
        table.add_column(name, justify="left" if name == "completed" else "right", no_wrap=True)
    for version in versions:
        table.add_row(
            str(version["version"]),
            str(version["plan_revision"]),
            when(version.get("completed_at")),
            usd(float((version.get("cost") or {}).get("total_usd") or 0.0)),
        )
    return table


def assets_table(assets: list[dict]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for name in ("id", "name", "size", "type", "embedded", "created"):
        table.add_column(name, no_wrap=name != "name")
    for asset in assets:
        table.add_row(
            asset["asset_id"],
            asset.get("name", ""),
            f"{asset.get('width', '?')}×{asset.get('height', '?')}",
            asset.get("content_type", ""),
            "yes" if asset.get("embedded") else "no",
            when(asset.get("created_at")),
        )
    return table


def search_table(results: list[dict]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("id", no_wrap=True)
    table.add_column("name")
    for result in results:
        asset = result.get("asset") or {}
        table.add_row(f"{float(result.get('score', 0)):.3f}", asset.get("asset_id", ""), asset.get("name", ""))
    return table


def voices_table(listed: dict) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for name in ("key", "provider", "language", "label", "sample"):
        table.add_column(name, no_wrap=name != "label")
    for voice in listed.get("voices", []):
        key = voice["key"]
        table.add_row(
            Text(key + (" (default)" if key == listed.get("default") else ""), style="bold"),
            voice.get("provider", ""),
            voice.get("language", ""),
            voice.get("label", ""),
            "yes" if voice.get("sample_url") else "no",
        )
    return table
