"""`adgen assets …`: upload product images, list them, search them by text."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from adgen_cli import views
from adgen_cli.api import Api
from adgen_cli.options import Json, connect
from adgen_cli.outcome import EXIT_CODES_HELP, CliError, ExitCode, print_json

app = typer.Typer(help="Upload, list and search your product images.", no_args_is_help=True, epilog=EXIT_CODES_HELP)
err = Console(stderr=True)
out = Console()


def upload_file(api: Api, path: Path, name: str | None = None) -> dict:
    """One image through the assets intake: the asset as the API answers it."""
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    with path.open("rb") as file:
        return api.post(
            "/v1/assets", files={"file": (path.name, file, content_type)}, data={"name": name} if name else {}
        )


@app.command(epilog=EXIT_CODES_HELP)
def upload(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="Image files (JPEG, PNG, WebP)", exists=True, dir_okay=False, readable=True)
    ],
    name: Annotated[
        str | None, typer.Option(help="A name for the image (one file only; default: the file name)")
    ] = None,
    as_json: Json = False,
) -> None:
    """Upload product images; prints each one's id (use them with `adgen generate --asset`)."""
    if name and len(files) > 1:
        raise CliError("--name names one image; upload the files one at a time", ExitCode.BAD_INPUT)
    uploaded = []
    with connect(ctx, as_json) as api:
        for path in files:
            asset = upload_file(api, path, name)
            uploaded.append(asset)
            if not as_json:
                for twin in asset.get("near_duplicates") or []:
                    err.print(
                        f"[yellow]{path.name} looks like asset {twin['asset_id']}[/] (similarity {twin['score']:.2f})"
                    )
    if as_json:
        print_json({"assets": uploaded})
    else:
        out.print(views.assets_table(uploaded))


@app.command("list", epilog=EXIT_CODES_HELP)
def list_assets(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Images per page")] = 20,
    page_token: Annotated[str | None, typer.Option(help="Continue from a previous page")] = None,
    every: Annotated[bool, typer.Option("--all", help="Fetch every page")] = False,
    as_json: Json = False,
) -> None:
    """Your product images, newest first."""
    with connect(ctx, as_json) as api:
        page = api.pages("/v1/assets", "assets", page_size=limit, page_token=page_token, every=every)
    if as_json:
        print_json(page)
        return
    if not page["assets"]:
        err.print("no images yet — `adgen assets upload FILE` adds one")
        return
    out.print(views.assets_table(page["assets"]))
    if page["next_page_token"]:
        err.print(f"more: adgen assets list --page-token {page['next_page_token']}")


@app.command(epilog=EXIT_CODES_HELP)
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What the image shows, in words")],
    limit: Annotated[int, typer.Option(min=1, max=100, help="At most this many results")] = 10,
    min_score: Annotated[float | None, typer.Option(help="Drop results scoring below this (cosine, -1 … 1)")] = None,
    as_json: Json = False,
) -> None:
    """Find your images by what they show."""
    with connect(ctx, as_json) as api:
        found = api.get("/v1/assets/search", q=query, limit=limit, min_score=min_score)
    if as_json:
        print_json(found)
        return
    results = found.get("results") or []
    if not results:
        err.print("nothing matched")
        return
    out.print(views.search_table(results))
