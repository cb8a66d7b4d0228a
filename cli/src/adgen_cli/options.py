"""Options every user command shares, and the API client a command gets from the global ones."""

from __future__ import annotations

from typing import Annotated

import typer

from adgen_cli.api import Api, Target
from adgen_cli.outcome import JsonMode

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout, and nothing else there")]


def start(ctx: typer.Context, as_json: bool) -> None:
    """Call first in every command: errors are reported as JSON on stdout when --json is set."""
    JsonMode.enabled = as_json


def connect(ctx: typer.Context, as_json: bool) -> Api:
    start(ctx, as_json)
    target = ctx.find_object(Target)
    assert target is not None, "the root callback sets the target"
    return Api.from_target(target)
