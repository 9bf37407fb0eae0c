"""`luna show FILE...`"""

from __future__ import annotations

import typer

from luna.cli.app import app, library_to_read
from luna.cli.output import (
    FilesArgument,
    JsonlOption,
    JsonOption,
    NullOption,
    error,
    handle_errors,
    print_json,
    print_jsonl,
)
from luna.cli.usage import one_output_mode
from luna.errors import ExitStatus
from luna.fsnames import for_humans


@app.command("show")
@handle_errors
def show_files(
    ctx: typer.Context,
    refs: FilesArgument,
    null: NullOption = False,
    as_json: JsonOption = False,
    as_jsonl: JsonlOption = False,
) -> None:
    """Show everything luna knows about files.

    Prints each file's metadata, tags, albums, events and related files. A FILE the
    library does not know is named on stderr (exit 1); the others are shown.

    FILE is a path (a folder: every library file in it), a file id, or a unique prefix of
    an id; '-' reads them from stdin.

    Example: luna show ~/Pictures/IMG_0001.jpg --json
    """
    from luna.ops.targets import expand_stdin

    one_output_mode({"--json": as_json, "--jsonl": as_jsonl})
    with library_to_read(ctx) as lib:
        resolved = lib.resolve(expand_stdin(refs, null=null), skip_missing=True)
        records = [lib.serialize(lib.get_file(file_id)) for file_id in resolved.ids]
    if as_json:
        print_json(records)
    elif as_jsonl:
        print_jsonl(records)
    else:
        _print_panels(records)
    for ref in resolved.missing:
        error(f"not in the library: {for_humans(ref)}")
    if resolved.missing:
        raise typer.Exit(ExitStatus.ERROR)


def _print_panels(records: list[dict]) -> None:
    from rich.panel import Panel
    from rich.table import Table

    from luna.cli.output import stdout_console

    console = stdout_console()
    for rec in records:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for key, value in _rows(rec):
            table.add_row(key, value)
        console.print(Panel(table, title=for_humans(rec["filename"]), title_align="left"))


def _taken(rec: dict) -> str:
    """The date with where it came from, so a guess is never mistaken for a fact."""
    pm = rec["processor_metadata"]
    text = rec["start"] or "unknown"
    notes = []
    if pm.get("date_source"):
        notes.append(f"from {pm['date_source']}")
    if pm.get("offset_source") and pm.get("offset_source") != pm.get("date_source"):
        notes.append(f"zone from {pm['offset_source']}")
    elif rec["start"] and rec["utc_offset_minutes"] is None:
        notes.append("time zone unknown")
    return f"{text}  ({'; '.join(notes)})" if notes else text


def _rows(rec: dict):
    yield "id", rec["id"]
    yield "path", for_humans(rec["path"])
    if rec["missing_since"]:
        yield "missing since", rec["missing_since"]
    yield "kind", f"{rec['kind']} ({rec['mime_type']})"
    yield "size", f"{rec['size_bytes']:,} bytes"
    if rec["width"]:
        yield "dimensions", f"{rec['width']} x {rec['height']}"
    yield "taken", _taken(rec)
    if rec["end"]:
        yield "until", rec["end"]
    if rec["location"]:
        loc = rec["location"]
        text = f"{loc['latitude']:.6f}, {loc['longitude']:.6f}"
        if loc["altitude"] is not None:
            text += f"  altitude {loc['altitude']:.1f} m"
        yield "location", text
    yield "owner", rec["owner"] or ""
    yield "sha-256", rec["content_sha"]
    yield "file mtime", rec["mtime"]
    yield "tags", ", ".join(rec["tags"]) or "-"
    yield "albums", ", ".join(a["name"] for a in rec["albums"]) or "-"
    yield "events", ", ".join(e["name"] for e in rec["events"]) or "-"
    for rel in rec["related_files"]:
        yield f"related ({rel['relation']})", for_humans(rel["path"])
    for key, value in sorted(rec["metadata"].items()):
        yield key, ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    pm = rec["processor_metadata"]
    yield "read by", ", ".join(pm.get("extractors", [])) + f" (luna {pm.get('luna_version', '?')})"
    for err in pm.get("errors", []):
        yield "read error", err
    yield "recorded", f"{rec['created']}, updated {rec['modified']}"
