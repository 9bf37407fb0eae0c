"""Rendering for the terminal and for scripts.

stdout carries data only (JSON, tables of results); everything else (progress, summaries,
warnings, errors) goes to stderr. rich decides about colour: only on a terminal, and never
when NO_COLOR is set.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import Annotated

import typer

from luna.errors import LunaError

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
JsonlOption = Annotated[bool, typer.Option("--jsonl", help="Print one JSON object per line.")]


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def stdout_console():
    from rich.console import Console

    return Console(highlight=False)


def error(message: str) -> None:
    """One line on stderr, the only form in which luna reports a failure."""
    stderr_console().print(f"[bold red]Error:[/] {_escape(message)}", soft_wrap=True)


def warn(message: str) -> None:
    stderr_console().print(f"[yellow]Warning:[/] {_escape(message)}", soft_wrap=True)


def note(message: str) -> None:
    stderr_console().print(_escape(message), soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_jsonl(rows) -> None:
    write = sys.stdout.write
    for row in rows:
        write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def handle_errors(fn):
    """Turn the core's LunaError into `Error: ...` on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LunaError as exc:
            error(str(exc))
            raise typer.Exit(int(exc.exit_status)) from None

    return wrapper


def debug_enabled() -> bool:
    return bool(os.environ.get("LUNA_DEBUG"))
