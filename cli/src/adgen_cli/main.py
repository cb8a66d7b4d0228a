"""`adgen`: run the local stack and make videos from the terminal.

Exit codes: 0 done, 1 the video failed, 2 bad usage or configuration, 3 the API refused or failed.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated

import httpx
import typer
from httpx_sse import connect_sse
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="adgen — a sentence in, a finished MP4 ad out.", no_args_is_help=True)
users = typer.Typer(help="Manage users and their API keys.", no_args_is_help=True)
app.add_typer(users, name="users")
console = Console(stderr=True)

StateDir = Annotated[Path, typer.Option(envvar="ADGEN_STATE_DIR", help="Folder of the local stack's state")]
DEFAULT_STATE = Path(".adgen")


def _stack(state_dir: Path):  # type: ignore[no-untyped-def]
    from adgen_cli.stack import DevStack

    return DevStack(state_dir)


def _dev_env(state_dir: Path) -> dict[str, str]:
    path = state_dir / "dev.env"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs}


def _api(state_dir: Path) -> tuple[str, str]:
    env = _dev_env(state_dir)
    url = os.environ.get("ADGEN_URL") or env.get("ADGEN_URL")
    key = os.environ.get("ADGEN_API_KEY") or env.get("ADGEN_API_KEY")
    if not url or not key:
        console.print("[red]No gateway configured.[/] Run [bold]adgen up[/] or set ADGEN_URL and ADGEN_API_KEY.")
        raise typer.Exit(2)
    return url.rstrip("/"), key


def _fail_on_problem(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
        detail = body.get("detail", response.text)
        fields = "".join(f"\n  {e['field']}: {e['message']}" for e in body.get("errors", []))
    except ValueError:
        detail, fields = response.text, ""
    console.print(f"[red]{response.status_code}[/] {detail}{fields}")
    raise typer.Exit(3)


@app.command()
def up(
    state_dir: StateDir = DEFAULT_STATE,
    port: Annotated[int, typer.Option(help="Gateway port (a free one if taken)")] = 8080,
) -> None:
    """Start NATS, Postgres, S3, every service and the gateway on loopback."""
    with console.status("starting the local stack…"):
        info = _stack(state_dir).up(http_port=port)
    console.print(f"[green]adgen is up[/] at {info.url}")
    console.print(f"API key (dev user): [bold]{info.api_key}[/]")
    console.print(f"Settings written to {state_dir / 'dev.env'}")


@app.command()
def down(state_dir: StateDir = DEFAULT_STATE) -> None:
    """Stop exactly what `adgen up` started."""
    _stack(state_dir).down()
    console.print("adgen is down")


@users.command("create")
def users_create(name: str, state_dir: StateDir = DEFAULT_STATE) -> None:
    """Create a user and print its API key (shown once, stored hashed)."""
    from adgen_cli.stack import create_user

    database_url = os.environ.get("ADGEN_DATABASE_URL") or _dev_env(state_dir).get("ADGEN_DATABASE_URL")
    if not database_url:
        console.print("[red]No database configured.[/] Run [bold]adgen up[/] or set ADGEN_DATABASE_URL.")
        raise typer.Exit(2)
    try:
        key = asyncio.run(create_user(database_url, name))
    except ValueError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    typer.echo(key)


def _follow(client: httpx.Client, url: str, video_id: str, as_json: bool) -> dict:
    """Shows live progress from the SSE stream; returns the last progress snapshot."""
    last: dict = {}
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, disable=as_json) as bar:
        task = bar.add_task("planning", total=100, detail="")
        with connect_sse(client, "GET", f"{url}/v1/videos/{video_id}/events", timeout=None) as source:
            _fail_on_problem(source.response)
            for sse in source.iter_sse():
                if not sse.data:  # keep-alive comments carry no data
                    continue
                data = json.loads(sse.data)
                last = data.get("progress", {})
                cost = int(last.get("cost_micros", 0)) / 1e6
                phase = last.get("phase", "PHASE_PLAN").removeprefix("PHASE_").lower()
                bar.update(
                    task,
                    completed=float(last.get("percent", 0.0)),
                    description=phase,
                    detail=f"{last.get('message', '')} · ${cost:.2f}",
                )
                if last.get("status") in ("VIDEO_STATUS_COMPLETED", "VIDEO_STATUS_FAILED"):
                    break
    return last


@app.command()
def generate(
    prompt: str,
    out: Annotated[Path, typer.Option(help="Where to write the MP4")] = Path("out/ad.mp4"),
    duration: Annotated[int, typer.Option(help="Seconds: a multiple of 5 from 10 to 60")] = 30,
    aspect_ratio: Annotated[str, typer.Option(help="16:9, 9:16 or 1:1")] = "16:9",
    video_model: Annotated[str | None, typer.Option(help="Image-to-video model key")] = None,
    creativity: Annotated[float, typer.Option(help="0.0 … 1.0")] = 0.5,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only")] = False,
    state_dir: StateDir = DEFAULT_STATE,
) -> None:
    """Turn PROMPT into an MP4 ad, with live progress."""
    url, key = _api(state_dir)
    body = {"prompt": prompt, "duration_s": duration, "aspect_ratio": aspect_ratio, "creativity": creativity}
    if video_model:
        body["video_model"] = video_model
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        created = client.post(f"{url}/v1/videos", json=body)
        _fail_on_problem(created)
        video_id = created.json()["id"]
        if not as_json:
            console.print(f"video [bold]{video_id}[/]")
        progress = _follow(client, url, video_id, as_json)
        video = client.get(f"{url}/v1/videos/{video_id}")
        _fail_on_problem(video)
        result = video.json()
        if result["status"] != "completed":
            if as_json:
                typer.echo(json.dumps(result))
            else:
                console.print(f"[red]failed:[/] {result.get('error') or progress.get('error')}")
            raise typer.Exit(1)
        link = client.get(f"{url}/v1/videos/{video_id}/download", follow_redirects=False)
        _fail_on_problem(link)
        out.parent.mkdir(parents=True, exist_ok=True)
        with httpx.stream("GET", link.headers["location"], timeout=120) as download, open(out, "wb") as file:
            download.raise_for_status()
            for part in download.iter_bytes():
                file.write(part)
    if as_json:
        typer.echo(json.dumps({**result, "file": str(out)}))
    else:
        console.print(f"[green]done[/] → {out}  (cost ${result['cost']['total_usd']:.2f})")


def _beats_table(spec: dict) -> Table:
    table = Table(title=f"{spec['archetype_id']} · {spec['duration_s']} s · {spec['planner']}")
    for column in ("start", "length", "beat", "camera", "headline"):
        # Ids stay whole so they can be copied; only the headline may wrap.
        table.add_column(
            column, justify="right" if column in ("start", "length") else "left", no_wrap=column != "headline"
        )
    for beat in spec["beats"]:
        table.add_row(
            f"{beat['start_s']} s",
            f"{beat['duration_s']} s",
            beat["beat_id"],
            beat["camera_movement"],
            beat["headline"],
        )
    return table


@app.command()
def plan(
    prompt: str,
    duration: Annotated[int, typer.Option(help="Seconds: a multiple of 5 from 10 to 60")] = 30,
    video_model: Annotated[str | None, typer.Option(help="Image-to-video model key to quote")] = None,
    seed: Annotated[int | None, typer.Option(help="Fixes every random choice, so the plan repeats")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only")] = False,
    state_dir: StateDir = DEFAULT_STATE,
) -> None:
    """Preview the plan for PROMPT and what rendering it would cost and take; nothing is rendered."""
    url, key = _api(state_dir)
    body: dict[str, object] = {"prompt": prompt, "duration_s": duration}
    if video_model:
        body["video_model"] = video_model
    if seed is not None:
        body["seed"] = seed
    response = httpx.post(f"{url}/v1/quotes", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=120)
    _fail_on_problem(response)
    quote = response.json()
    if as_json:
        typer.echo(json.dumps(quote))
        return
    out = Console()
    out.print(_beats_table(quote["spec"]))
    chunk_plan = quote["spec"]["chunk_plan"]
    out.print(
        f"{len(chunk_plan['slots'])} chunks of {chunk_plan['clip_s']:g} s on [bold]{quote['video_model']}[/]: "
        f"about [bold]${quote['cost']['total_usd']:.2f}[/] and {quote['estimated_seconds'] / 60:.1f} min"
    )
    for line in quote["cost"]["lines"]:
        out.print(f"  {line['phase']:<10} {line['model']:<32} ×{line['units']:<5} ${line['usd']:.3f}")


@app.command()
def status(
    video_id: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    state_dir: StateDir = DEFAULT_STATE,
) -> None:
    """Show a video's status, progress and cost."""
    url, key = _api(state_dir)
    response = httpx.get(f"{url}/v1/videos/{video_id}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    _fail_on_problem(response)
    video = response.json()
    if as_json:
        typer.echo(json.dumps(video))
        return
    progress = video["progress"]
    console.print(
        f"[bold]{video['id']}[/] {video['status']} {progress.get('percent', 0)}% — {progress.get('message', '')}"
    )
    console.print(f"cost ${video['cost']['total_usd']:.2f}")
    if video.get("error"):
        console.print(f"[red]error:[/] {video['error']}")
