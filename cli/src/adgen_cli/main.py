"""`adgen`: run the local stack and make videos from the terminal."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from adgen_cli import assets, videos, views
from adgen_cli.api import Target, dev_env
from adgen_cli.options import CaptionsMode, Json, Voice, Voiceover, connect, start, voice_fields
from adgen_cli.outcome import EXIT_CODES_HELP, CliError, ExitCode, print_json

if TYPE_CHECKING:
    from adgen_cli.stack import DevStack


class AdgenGroup(TyperGroup):
    """Where every command's CliError becomes its message and exit code (Ctrl-C is 130 already)."""

    # typer declares the base's parameter as its private vendored click Context; it always passes a typer.Context.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except CliError as error:
            error.show()
            raise typer.Exit(error.exit_code) from None


app = typer.Typer(
    cls=AdgenGroup,
    help=f"adgen — a sentence in, a finished MP4 ad out.\n\n{EXIT_CODES_HELP}",
    no_args_is_help=True,
)
users = typer.Typer(help="Manage users and their API keys.", no_args_is_help=True)
app.add_typer(users, name="users")
app.add_typer(videos.app, name="videos")
app.add_typer(assets.app, name="assets")
err = Console(stderr=True)
out = Console()


@app.callback()
def options(
    ctx: typer.Context,
    api_url: Annotated[
        str | None,
        typer.Option(envvar=["ADGEN_API_URL", "ADGEN_URL"], help="Gateway URL (default: the local stack's)"),
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="ADGEN_API_KEY", help="API key (default: the local stack's dev user)")
    ] = None,
    state_dir: Annotated[
        Path, typer.Option(envvar="ADGEN_STATE_DIR", help="Folder of the local stack's state and dev.env")
    ] = Path(".adgen"),
) -> None:
    ctx.obj = Target(api_url=api_url, api_key=api_key, state_dir=state_dir)


def _target(ctx: typer.Context) -> Target:
    target = ctx.find_object(Target)
    assert target is not None
    return target


def _stack(state_dir: Path) -> DevStack:
    from adgen_cli.stack import DevStack

    return DevStack(state_dir)


@app.command(epilog=EXIT_CODES_HELP)
def up(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Gateway port (a free one if taken)")] = 8080,
    as_json: Json = False,
) -> None:
    """Start NATS, Postgres, S3, every service and the gateway on loopback."""
    start(ctx, as_json)
    state_dir = _target(ctx).state_dir
    with err.status("starting the local stack…"):
        info = _stack(state_dir).up(http_port=port)
    env_file = state_dir / "dev.env"
    if as_json:
        print_json({"url": info.url, "api_key": info.api_key, "env_file": str(env_file)})
        return
    out.print(f"[green]adgen is up[/] at {info.url}")
    out.print(f"API key (dev user): [bold]{info.api_key}[/]")
    out.print(f"Settings written to {env_file}")


@app.command(epilog=EXIT_CODES_HELP)
def down(ctx: typer.Context, as_json: Json = False) -> None:
    """Stop exactly what `adgen up` started."""
    start(ctx, as_json)
    _stack(_target(ctx).state_dir).down()
    if as_json:
        print_json({"status": "down"})
    else:
        out.print("adgen is down")


@users.command("create", epilog=EXIT_CODES_HELP)
def users_create(ctx: typer.Context, name: str, as_json: Json = False) -> None:
    """Create a user and print its API key (shown once, stored hashed)."""
    from adgen_cli.stack import create_user

    start(ctx, as_json)
    database_url = os.environ.get("ADGEN_DATABASE_URL") or dev_env(_target(ctx).state_dir).get("ADGEN_DATABASE_URL")
    if not database_url:
        raise CliError("no database configured", ExitCode.BAD_INPUT, hint="Run `adgen up` or set ADGEN_DATABASE_URL.")
    try:
        key = asyncio.run(create_user(database_url, name))
    except ValueError as error:
        raise CliError(str(error), ExitCode.BAD_INPUT) from None
    if as_json:
        print_json({"name": name, "api_key": key})
    else:
        typer.echo(key)


DURATION_HELP = (
    "Seconds: a multiple of 5 from 10 to 60 (default: the length PROMPT states, e.g. '20 second ad …', else 30)"
)


def _duration(seconds: int | None) -> dict[str, int]:
    """The body's `duration_s`: left out unless given, so the gateway and planner read the length
    from the prompt (adgen_video.durations) rather than overruling it with a default of ours."""
    return {} if seconds is None else {"duration_s": seconds}


@app.command(epilog=EXIT_CODES_HELP)
def generate(
    ctx: typer.Context,
    prompt: str,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write the MP4 (default <video id>.mp4)")
    ] = None,
    duration: Annotated[int | None, typer.Option(help=DURATION_HELP, show_default=False)] = None,
    aspect_ratio: Annotated[
        list[str] | None,
        typer.Option(help="16:9, 9:16, 1:1 …; repeat it for more renditions (the first is the one downloaded)"),
    ] = None,
    video_model: Annotated[str | None, typer.Option(help="Image-to-video model key")] = None,
    creativity: Annotated[float, typer.Option(help="0.0 … 1.0")] = 0.5,
    asset: Annotated[list[str] | None, typer.Option(help="Product image id (repeatable; see `adgen assets`)")] = None,
    image: Annotated[
        list[Path] | None,
        typer.Option(help="Product photo to upload and feature (repeatable)", exists=True, dir_okay=False),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Fixes every random choice, so the plan repeats")] = None,
    voice: Voice = None,
    voiceover: Voiceover = True,
    captions: CaptionsMode = None,
    review: Annotated[
        str | None,
        typer.Option(
            help="Stop for your review before paying for the rest: after the plan (plan) or after the "
            "storyboard images (storyboard); `adgen videos approve ID` goes on",
            show_default=False,
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Turn PROMPT into an MP4 ad, watching it live. Ctrl-C offers to leave it rendering. With
    --review it stops at that gate: the review is printed and nothing is downloaded (exit 0)."""
    body: dict[str, object] = {
        "prompt": prompt,
        **_duration(duration),
        "aspect_ratio": aspect_ratio[0] if aspect_ratio and len(aspect_ratio) == 1 else (aspect_ratio or "16:9"),
        "creativity": creativity,
        **voice_fields(voice, voiceover, captions),
        # The gateway's say which gates exist: it refuses another name, naming the field.
        **({"review": review} if review else {}),
    }
    if video_model:
        body["video_model"] = video_model
    if seed is not None:
        body["seed"] = seed
    with connect(ctx, as_json) as api:
        asset_ids = [*(asset or []), *(assets.upload_file(api, path)["asset_id"] for path in image or [])]
        if asset_ids:
            body["asset_ids"] = asset_ids
        created = api.post("/v1/videos", body)
        video_id = created["id"]
        try:
            if not as_json:
                err.print(f"video [bold]{video_id}[/] started · Ctrl-C stops watching, not rendering")
            video = videos.follow(api, video_id, live=not as_json)
        except KeyboardInterrupt:
            videos.interrupted(api, video_id, as_json=as_json)
        if video.get("status") == videos.AT_GATE:
            if as_json:
                print_json(video)
            else:
                videos.print_review(api, video)
            return
        if video.get("status") != "completed":
            if as_json:
                print_json(video)
            videos.ended(video, as_json=as_json)
        try:
            saved = videos.download(
                api, video, output or Path(f"{video_id}.mp4"), aspect_ratio=None, show_bar=not as_json
            )
        except KeyboardInterrupt:
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    if as_json:
        print_json({**video, "file": saved["path"], "duration_s": saved["duration_s"]})
    else:
        out.print(
            f"[green]done[/] → {saved['path']}  ({saved['duration_s']:.1f} s, cost ${video['cost']['total_usd']:.2f})"
        )


@app.command(epilog=EXIT_CODES_HELP)
def plan(
    ctx: typer.Context,
    prompt: str,
    duration: Annotated[int | None, typer.Option(help=DURATION_HELP, show_default=False)] = None,
    video_model: Annotated[str | None, typer.Option(help="Image-to-video model key to quote")] = None,
    seed: Annotated[int | None, typer.Option(help="Fixes every random choice, so the plan repeats")] = None,
    voice: Voice = None,
    voiceover: Voiceover = True,
    as_json: Json = False,
) -> None:
    """Preview the plan for PROMPT and what rendering it would cost and take; nothing is rendered."""
    body: dict[str, object] = {"prompt": prompt, **_duration(duration), **voice_fields(voice, voiceover)}
    if video_model:
        body["video_model"] = video_model
    if seed is not None:
        body["seed"] = seed
    with connect(ctx, as_json) as api:
        quote = api.post("/v1/quotes", body, timeout=120)
    if as_json:
        print_json(quote)
        return
    out.print(views.beats_table(quote["spec"]))
    chunk_plan = quote["spec"]["chunk_plan"]
    out.print(
        f"{len(chunk_plan['slots'])} chunks of {chunk_plan['clip_s']:g} s on [bold]{quote['video_model']}[/]: "
        f"about [bold]${quote['cost']['total_usd']:.2f}[/] and {quote['estimated_seconds'] / 60:.1f} min"
    )
    for line in quote["cost"]["lines"]:
        out.print(f"  {line['phase']:<10} {line['model']:<32} ×{line['units']:<5} ${line['usd']:.3f}")


@app.command(epilog=EXIT_CODES_HELP)
def voices(ctx: typer.Context, as_json: Json = False) -> None:
    """The voices that may speak a video's lines (`--voice KEY`); --json adds a link to each one's sample."""
    with connect(ctx, as_json) as api:
        listed = api.get("/v1/voices")
    if as_json:
        print_json(listed)
    else:
        out.print(views.voices_table(listed))


@app.command(hidden=True, epilog=EXIT_CODES_HELP)
def status(
    ctx: typer.Context,
    video_id: str,
    as_json: Json = False,
) -> None:
    """Same as `adgen videos show`."""
    videos.show(ctx, video_id, follow_it=False, as_json=as_json)
