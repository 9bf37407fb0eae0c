"""Rendering for the terminal and for scripts.

stdout carries data only (JSON, tables of results); everything else (progress, summaries,
warnings, errors) goes to stderr. rich decides about colour: only on a terminal, and never
when NO_COLOR is set.
"""

import functools
import json
import os
import sys

from luna.errors import ExitStatus, LunaError
from luna.fsnames import for_humans, is_utf8, json_ready


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
    """One JSON document: its keys a line each, and in a list of records (files, tags,
    groups) a record per line, so that 20,000 files print in a fraction of a second (the
    C encoder writes each record; indenting every field would take Python's own, 4x
    slower) and stay readable and grep-able. Written in its parts, not joined first: a
    listing's records are 10 MB, and each copy of them costs as much as a query."""
    parts = _document_parts(data)
    if not all(part.isascii() or is_utf8(part) for part in parts):
        # A file name that is not UTF-8: JSON must be text, so it gets a readable form and
        # its exact bytes in base64 beside it (luna.fsnames.json_ready).
        parts = _document_parts(json_ready(data))
    write = sys.stdout.write
    for part in parts:
        write(part)
    write("\n")


_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _document_parts(data) -> list[str]:
    """The document's text, in parts to be written one after the other."""
    if not isinstance(data, dict) or not data:
        return [json.dumps(data, indent=2, ensure_ascii=False, default=str)]
    parts = ["{\n"]
    for key, value in data.items():
        if len(parts) > 1:
            parts.append(",\n")
        parts.append(f"  {_ENCODE(str(key))}: ")
        parts += _value_parts(value)
    parts.append("\n}")
    return parts


class Encoded:
    """A record already written as JSON text, exactly as _ENCODE would write it, and valid
    UTF-8: print_json places it as it is. What lets `find --json` write 20,000 files
    without first building a dict for each (luna.cli.find_run)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _value_parts(value) -> list[str]:
    if isinstance(value, list) and value and all(isinstance(v, dict | list) for v in value):
        return ["[\n    ", ",\n    ".join(map(_ENCODE, value)), "\n  ]"]
    if isinstance(value, list) and value and all(isinstance(v, dict | Encoded) for v in value):
        records = [v.text if isinstance(v, Encoded) else _ENCODE(v) for v in value]
        return ["[\n    ", ",\n    ".join(records), "\n  ]"]
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return [text.replace("\n", "\n  ")]  # nested under its key


def print_jsonl(rows) -> None:
    write = sys.stdout.write
    for row in rows:
        write(_json_text(row) + "\n")


def _json_text(data, indent=None) -> str:
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    if text.isascii() or is_utf8(text):
        return text
    # A file name that is not UTF-8: JSON must be text, so it gets a readable form and
    # its exact bytes in base64 beside it (luna.fsnames.json_ready).
    return json.dumps(json_ready(data), indent=indent, ensure_ascii=False, default=str)


def handle_errors(fn):
    """Turn the core's LunaError into `Error: ...` on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            done = fn(*args, **kwargs)
            _report_sidecars([*args, *kwargs.values()])
            return done
        except LunaError as exc:
            error(str(exc))
            import typer  # here, not above: `luna find` also renders without Typer

            raise typer.Exit(int(exc.exit_status)) from None

    return wrapper


def _report_sidecars(args) -> None:
    """After a command that changed files with sidecar writing on (luna.cli.app.
    library_to_change): the sidecars written, and each one that was not (exit 3)."""
    # The command's context (Typer's Context; without importing Typer, which `luna find`
    # does not load): the argument that has a root.
    ctx = next((a for a in args if hasattr(a, "find_root")), None)
    changed = (ctx.find_root().obj or {}).get("changed", []) if ctx is not None else []
    problems = 0
    for lib in changed:
        report = lib.sidecar_report
        if report is None:
            continue
        for problem in report.problems:
            error(f"sidecar not written: {for_humans(problem['path'])}: {problem['reason']}")
        problems += len(report.problems)
        note(f"sidecars: {report.created} created, {report.updated} updated")
    if problems:
        import typer

        raise typer.Exit(int(ExitStatus.PARTIAL))


def debug_enabled() -> bool:
    return bool(os.environ.get("LUNA_DEBUG"))


def file_refs(refs: list[str], *, null: bool) -> list[str]:
    """FILE... arguments, with "-" replaced by the names on stdin (NUL-separated with -z)."""
    from luna.ops.targets import expand_stdin

    return expand_stdin(refs, null=null)


def warn_skipped(refs: list[str]) -> None:
    """FILEs --skip-missing passed over, on stderr."""
    for ref in refs:
        warn(f"skipped (not in the library): {ref}")


def confirm_deletion(what: str, yes: bool) -> None:
    """Deleting needs --yes when nobody is at the keyboard, and a yes otherwise."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise LunaError(f"refusing to delete {what} without --yes (stdin is not a terminal)")
    import typer

    if not typer.confirm(f"Delete {what}?", default=False, err=True):
        raise LunaError(f"not deleted: {what}")


def print_paths(paths, *, null: bool) -> None:
    """Paths as data, each name's exact bytes (stdout is set up for that in luna_main)."""
    end = "\0" if null else "\n"
    sys.stdout.write("".join(p + end for p in paths))


FAILURES_LISTED = 20


def print_transfer_failures(report) -> None:
    """The failed files of a copy, move or organize, on stderr: each by name (the first
    FAILURES_LISTED), except those a full disk stopped, which take one line per disk."""
    from luna.files.place import free_bytes

    full = {f"no space left on the disk of {for_humans(d['folder'])}" for d in report.disk_full}
    failures = [s for s in report.steps if s.action == "failed" and s.detail not in full]
    for step in failures[:FAILURES_LISTED]:
        note(f"failed: {for_humans(step.source)}: {step.detail}")
    if len(failures) > FAILURES_LISTED:
        note(f"... and {len(failures) - FAILURES_LISTED:,} more failures (see --json)")
    for disk in report.disk_full:
        free = free_bytes(disk["folder"])
        now = f" ({human_size(free)} free now)" if free is not None else ""
        error(
            f"no space left on the disk of {for_humans(disk['folder'])}: {disk['files']:,} "
            f"files ({human_size(disk['bytes'])}) were not put there{now}; make room and "
            "run the same command again"
        )


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 file`, `2 files`; `1 copy`, `2 copies` (given `many`)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {many or noun + 's'}"


def human_size(n: float) -> str:
    """Bytes for people: 633 B, 1.6 kB, 4.2 MB (powers of 1000, as file managers count)."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
