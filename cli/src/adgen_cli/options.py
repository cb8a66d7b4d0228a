"""Options every user command shares, and the API client a command gets from the global ones."""

from __future__ import annotations

from typing import Annotated

import typer

from adgen_cli.api import Api, Target
from adgen_cli.outcome import JsonMode

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout, and nothing else there")]
Voice = Annotated[
    str | None, typer.Option("--voice", help="Key of the voice that speaks the lines (see `adgen voices`)")
]
Voiceover = Annotated[
    bool, typer.Option("--voiceover/--no-voiceover", help="Speak a line over every beat, or no voice at all")
]

CaptionsMode = Annotated[
    str | None,
    typer.Option(
        "--captions",
        help="Captions of the voice: sidecar (a WebVTT file, the default), burned (also in the picture) or off",
    ),
]


def voice_fields(voice: str | None, voiceover: bool, captions: str | None = None) -> dict[str, object]:
    """The body's `voice`, `voiceover` and `captions`, each left out when it is the default (the
    gateway's say; it also refuses a captions mode it does not know, naming the field)."""
    return {
        **({"voice": voice} if voice else {}),
        **({} if voiceover else {"voiceover": False}),
        **({"captions": captions} if captions else {}),
    }


def start(ctx: typer.Context, as_json: bool) -> None:
    """Call first in every command: errors are reported as JSON on stdout when --json is set."""
    JsonMode.enabled = as_json


def connect(ctx: typer.Context, as_json: bool) -> Api:
    start(ctx, as_json)
    target = ctx.find_object(Target)
    assert target is not None, "the root callback sets the target"
    return Api.from_target(target)
