"""What a command's exit code says, and the one mapping from API answers to it.

Every command ends in one of these codes, whatever went wrong and wherever: scripts can branch on
them without reading the text.
"""

from __future__ import annotations

import json
import sys
from enum import IntEnum

import typer
from rich.console import Console


class ExitCode(IntEnum):
    OK = 0
    VIDEO_FAILED = 1  # the video failed or was cancelled while the command waited for it
    BAD_INPUT = 2  # bad usage, missing configuration, or a request the API refused as it stands (4xx)
    NOT_FOUND = 3  # no such video or asset (for this API key)
    AUTH = 4  # the API key is missing, wrong or not allowed
    UNAVAILABLE = 5  # the gateway could not be reached, failed (5xx) or cannot serve this now (503)
    INTERRUPTED = 130  # Ctrl-C


EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 the video failed or was cancelled; 2 bad usage or input (the API answered 4xx); "
    "3 not found; 4 API key missing or refused; 5 gateway unreachable or failing (5xx, 503); 130 interrupted."
)


def exit_code_for_status(status: int) -> ExitCode:
    if status in (401, 403):
        return ExitCode.AUTH
    if status == 404:
        return ExitCode.NOT_FOUND
    if 400 <= status < 500:
        return ExitCode.BAD_INPUT
    return ExitCode.UNAVAILABLE


class JsonMode:
    """Whether the running command speaks JSON on stdout (set by each command from its --json)."""

    enabled = False


def print_json(data: object) -> None:
    typer.echo(json.dumps(data, default=str))


class CliError(Exception):
    """Ends the command with `code`: a message on stderr, and with --json an error object on stdout.
    The root command group turns it into the exit (see main.AdgenGroup)."""

    def __init__(
        self,
        message: str,
        code: ExitCode,
        *,
        status: int | None = None,
        fields: list[dict] | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = int(code)
        self.status = status
        self.fields = fields or []
        self.hint = hint

    def as_json(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "status": self.status,
                "errors": self.fields,
                "exit_code": self.exit_code,
            }
        }

    def show(self) -> None:
        if JsonMode.enabled:
            print_json(self.as_json())
        console = Console(file=sys.stderr)
        label = ExitCode(self.exit_code).name.lower().replace("_", " ")
        console.print(f"[bold red]error[/] ({label}): {self.message}", highlight=False)
        for field in self.fields:
            console.print(f"  [bold]{field.get('field', '')}[/]: {field.get('message', '')}", highlight=False)
        if self.hint:
            console.print(self.hint, highlight=False)
