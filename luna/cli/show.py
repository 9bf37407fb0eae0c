"""`luna show FILE...`"""

import sys
from typing import Annotated

import typer

from luna.cli.app import app, library_to_read
from luna.cli.options import ContactSheetOption, FilesArgument, NullInputOption, listing_options
from luna.cli.output import error, handle_errors
from luna.cli.render import FILE_COLUMNS, LIST_JOINER, Listing, Output, cell, print_record, render
from luna.cli.sheet import write_sheet
from luna.cli.usage import one_output_mode
from luna.errors import ExitStatus
from luna.fsnames import for_humans
from luna.readable import MARKS, RECORD_KEYS, SHOT_FIELDS, readable_lines, record_fields

# CSV has one line per file, so it takes the fields that are one value each (and lists of
# names), with the camera and video columns of `find --csv`; --json and --jsonl have
# everything.
CSV_COLUMNS = [*FILE_COLUMNS, "owner", "missing_since", "tags", "albums", "events", *SHOT_FIELDS]


@app.command("show")
@handle_errors
@listing_options(paths=True)
def show_files(
    ctx: typer.Context,
    refs: FilesArgument,
    null_input: NullInputOption = False,
    thumb: Annotated[
        bool,
        typer.Option(
            "--thumb", help="Write a contact sheet of the FILEs (a JPEG) on stdout: > sheet.jpg"
        ),
    ] = False,
    contact_sheet: ContactSheetOption = None,
    output: Output = Output(),
) -> None:
    """Show everything luna knows about files.

    Prints each file's metadata, tags, albums, events and related files: aligned on a
    terminal, `field<TAB>value` lines (a blank line between files) for a program. A FILE
    the library does not know is named on stderr (exit 1); the others are shown.

    FILE is a path (a folder: every library file in it), a file id, or a unique prefix of
    an id; '-' reads them from stdin (NUL-separated with -z).

    With --thumb (or --contact-sheet FILE), a contact sheet instead: a JPEG grid of the
    FILEs' thumbnails with their names and dates.

    Example: luna show ~/Pictures/IMG_0001.jpg --json

    Example: luna show --thumb ~/Pictures/2019/ > sheet.jpg
    """
    from luna.cli.output import file_refs

    if thumb or contact_sheet is not None:
        one_output_mode({"--thumb": thumb, "--contact-sheet": contact_sheet is not None,
                         **output.given()})  # fmt: skip
        with library_to_read(ctx) as lib:
            write_sheet(lib, contact_sheet, files=file_refs(refs, null=null_input))
        return
    with library_to_read(ctx) as lib:
        shown = lib.show(file_refs(refs, null=null_input), skip_missing=True)
    records, not_found = shown.rows, shown.about.get("not_found", [])
    if output.mode in ("table", "lines"):
        for n, record in enumerate(records):
            if n:
                sys.stdout.write("\n")
            print_record(list(_rows(record)), title=record["filename"])
    else:
        render(Listing("files", records, CSV_COLUMNS, flat=_flat), output)
    for ref in not_found:
        error(f"not in the library: {for_humans(ref)}")
    if not_found:
        raise typer.Exit(ExitStatus.ERROR)


def _flat(record: dict) -> dict:
    """A record with one value per CSV column."""
    location = record["location"] or {}
    metadata = record["metadata"] or {}
    place = record["place"] or {}
    shot = record_fields(
        [metadata.get(key) for key in RECORD_KEYS],
        record["processor_metadata"].get("date_source"),
        None,
        (*(place.get(k) for k in ("city", "region", "country", "country_code", "source")),),
    )
    return {
        **record,
        **shot,
        **{k: location.get(k) for k in ("latitude", "longitude", "altitude")},
        "albums": [a["name"] for a in record["albums"]],
        "events": [e["name"] for e in record["events"]],
    }


DATE_PRECISION_CHARS = {"day": 10, "month": 7, "year": 4}  # of "2019-09-02T00:00:00"


_PLACE_SOURCES = {
    "file": "named by the file",
    "lookup": "from its position",
    "file+lookup": "named by the file, completed from its position",
}


def _place(place: dict) -> str:
    """Paris, Île-de-France, France (FR), and whose names they are."""
    text = ", ".join(place[k] for k in ("city", "region", "country") if place[k])
    if place["country_code"]:
        text += f" ({place['country_code']})" if text else place["country_code"]
    return f"{text}  ({_PLACE_SOURCES.get(place['source'] or '', 'not worked out yet')})"


def _taken(rec: dict) -> str:
    """The date with where it came from, so a guess is never mistaken for a fact."""
    pm = rec["processor_metadata"]
    text = rec["start"] or "unknown"
    # A date written without a time ("2019-09-02", "2019-09") is stored at 00:00 of its
    # first day; it is shown as what it says, not as a midnight nobody recorded.
    precision = (rec["metadata"] or {}).get("date_precision")
    shown = DATE_PRECISION_CHARS.get(precision) if isinstance(precision, str) else None
    if rec["start"] and shown:
        text = str(rec["start"])[:shown]
    notes = []
    if pm.get("date_source"):
        notes.append(f"from {pm['date_source']}")
    if pm.get("offset_source") and pm.get("offset_source") != pm.get("date_source"):
        notes.append(f"zone from {pm['offset_source']}")
    elif rec["start"] and rec["utc_offset_minutes"] is None:
        notes.append("time zone unknown")
    return f"{text}  ({'; '.join(notes)})" if notes else text


def _marks(rec: dict):
    """Stars, label, pick or reject, title and description: what people said in luna,
    else what the file says; the file's own value too when luna's differs from it."""
    metadata = rec["metadata"] or {}
    for key in MARKS:
        value = rec.get(key)
        if value is None and metadata.get(key) is None:
            continue
        text = "-" if value is None else str(value)
        if key == "rating" and isinstance(value, int):
            text = f"{value} star{'s' * (value != 1)}" if value else "unrated"
        own = metadata.get(key)
        if own is not None and str(own) != str(value) and key != "flag":
            text += f"  (the file says {own})"
        yield key, text


def _rows(rec: dict):
    yield "id", rec["id"]
    yield "path", rec["path"]
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
        if loc.get("source"):
            text += f"  (from {loc['source']})"
        yield "location", text
    if rec["place"]:
        yield "place", _place(rec["place"])
    yield "owner", rec["owner"] or ""
    yield "sha-256", rec["content_sha"]
    yield "file mtime", rec["mtime"]
    yield "tags", LIST_JOINER.join(rec["tags"]) or "-"
    yield "albums", LIST_JOINER.join(a["name"] for a in rec["albums"]) or "-"
    yield "events", LIST_JOINER.join(e["name"] for e in rec["events"]) or "-"
    for rel in rec["related_files"]:
        yield f"related ({rel['relation']})", rel["path"]
    # The camera and video facts as photographers say them (1/15 s, f/2.8, 35 mm); the
    # other keys as they are. --json keeps every one as stored, numbers as numbers.
    yield from _marks(rec)
    lines, said = readable_lines(rec["metadata"])
    yield from lines
    for key, value in sorted(rec["metadata"].items()):
        if key not in said and key not in MARKS:
            yield key, cell(value)
    pm = rec["processor_metadata"]
    yield (
        "read by",
        LIST_JOINER.join(pm.get("extractors", [])) + f" (luna {pm.get('luna_version', '?')})",
    )
    for err in pm.get("errors", []):
        yield "read error", err
    yield "recorded", f"{rec['created']}, updated {rec['modified']}"
