"""The one renderer of listings: a table for people, and for programs tab-separated lines,
JSON, JSON lines, CSV, or paths (newline- or NUL-terminated).

Every command that lists things builds a `Listing` and calls `render`, so the CSV dialect,
the JSON envelope and the list joiner cannot drift between commands. The same output
options are added to each of them by luna.cli.options.listing_options. No Typer here:
`luna find` renders without loading it (luna.cli.quick_find).
"""

import sys
from collections.abc import Callable, Collection
from typing import NamedTuple

from luna import values
from luna.cli.output import print_json, print_jsonl, print_paths, stdout_console
from luna.cli.usage import one_output_mode
from luna.fsnames import for_humans
from luna.results import JSON_VERSION, Result

# Lists inside one CSV, tab-separated or table cell (a file's tags, say).
LIST_JOINER = "; "
# The CSV columns every listing of file records (find, show) starts with.
FILE_COLUMNS = [
    "id",
    "path",
    "filename",
    "kind",
    "mime_type",
    "size_bytes",
    "start",
    "end",
    "latitude",
    "longitude",
    "altitude",
    "width",
    "height",
    "content_sha",
]


class Output(NamedTuple):
    """The output asked for on the command line; `mode` says which one wins."""

    json: bool = False
    jsonl: bool = False
    csv: bool = False
    template: str | None = None  # --format
    paths: bool = False
    print0: bool = False
    fields: str | None = None  # --fields

    @property
    def mode(self) -> str:
        """json, jsonl, csv, template, fields, print0 or paths when asked; else `table` on
        a terminal and `lines` (tab-separated, or paths) for a program."""
        for name in ("json", "jsonl", "csv", "template", "fields", "print0", "paths"):
            if getattr(self, name):
                return name
        return "table" if sys.stdout.isatty() else "lines"

    @property
    def for_people(self) -> bool:
        return self.mode == "table"

    def given(self) -> dict[str, bool]:
        """Each output option, by its name on the command line, with whether it was given."""
        return {
            "--paths": self.paths,
            "--print0": self.print0,
            "--json": self.json,
            "--jsonl": self.jsonl,
            "--csv": self.csv,
            "--format": self.template is not None,
            "--fields": self.fields is not None,
        }


def read_output(**given) -> Output:
    """The output options as typed: two at once is a usage error, never a guess, and an
    empty --format is refused."""
    chosen = Output(**given)
    one_output_mode(chosen.given())
    if chosen.template is not None:
        values.nonempty(chosen.template, "--format")
    if chosen.fields is not None:
        field_names(chosen.fields)
    return chosen


def field_names(text: str) -> list[str]:
    """The fields --fields names, comma-separated: date,camera,lens,path."""
    from luna.errors import BadValue

    names = [name.strip() for name in values.nonempty(text, "--fields").split(",")]
    if not all(names):
        raise BadValue(
            f"--fields: {text!r} has an empty field (use names such as date,camera,path)"
        )
    return names


def envelope(document: dict) -> dict:
    """Every --json document: an object whose first key is its "version"."""
    return {"version": document.get("version", JSON_VERSION), **document}


def print_document(document: dict | Result) -> None:
    """A result's JSON document (Result.to_json), or a dict in the same envelope."""
    print_json(document.to_json() if isinstance(document, Result) else envelope(document))


class Listing(NamedTuple):
    """Rows to print. `key` names the list in the --json document ("files", "tags"),
    `columns` are the CSV columns, `table` the columns people see, `document` the --json
    document's other keys. `flat` turns a record into one value per column (for CSV,
    tab-separated lines and the table), `view` such a row into what people see."""

    key: str
    rows: list[dict]
    columns: list[str]
    table: list[str] | None = None
    flat: Callable[[dict], dict] | None = None
    view: Callable[[dict], dict] | None = None
    title: str | None = None
    document: dict = {}  # noqa: RUF012 - read, never changed
    # What a program gets without asking: "paths" for lists of files, else "tsv".
    piped: str = "tsv"
    empty: str | None = None  # said on stderr when a person gets no rows


def render(listing: Listing, output: Output) -> None:
    mode = output.mode
    rows = listing.rows
    if mode == "json":
        print_document({**listing.document, "count": len(rows), listing.key: rows})
    elif mode == "jsonl":
        print_jsonl(rows)
    elif mode == "csv":
        write_csv(listing.columns, [_flat(listing, row) for row in rows])
    elif mode == "template":
        write_template(output.template or "", (_flat(listing, row) for row in rows))
    elif mode == "fields":
        flat = [_flat(listing, row) for row in rows]
        known = {*listing.columns, *(listing.table or ()), *(flat[0] if flat else ())}
        write_fields(output.fields or "", flat, known)
    elif mode in ("paths", "print0") or (mode == "lines" and listing.piped == "paths"):
        print_paths((row["path"] for row in rows), null=mode == "print0")
    elif mode == "lines":
        write_tsv(_cells(listing, for_people=False))
    elif rows:
        cells = _cells(listing, for_people=True)
        print_table(listing.table or listing.columns, cells, title=listing.title)
    elif listing.empty:
        from luna.cli.output import note

        note(listing.empty)  # for a person, who would otherwise see nothing at all


def _flat(listing: Listing, row: dict) -> dict:
    return listing.flat(row) if listing.flat else row


def _cells(listing: Listing, *, for_people: bool) -> list[list[str]]:
    view = listing.view if for_people and listing.view else (lambda row: row)
    columns = listing.table or listing.columns
    rows = (view(_flat(listing, row)) for row in listing.rows)
    return [[cell(row.get(c)) for c in columns] for row in rows]


def cell(value) -> str:
    """A value as the text of one CSV, tab-separated or table cell."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return LIST_JOINER.join(map(str, value))
    return str(value)


def write_csv(columns: list[str], rows: list[dict]) -> None:
    """RFC 4180, the csv module's default dialect: CRLF line ends; a field with a comma,
    quote or line break quoted, quotes doubled."""
    import csv

    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    writer.writerows([cell(row.get(c)) for c in columns] for row in rows)


# A tab or line break inside a value would split it; escaped as in PostgreSQL's text COPY.
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def write_tsv(lines: list[list[str]]) -> None:
    """Tab-separated lines without a header, for `cut` and `awk`."""
    sys.stdout.write(
        "".join("\t".join(c.translate(_TSV_ESCAPES) for c in cells) + "\n" for cells in lines)
    )


class _Blank(str):
    """An absent value in a --format template: empty, whatever the format spec."""

    def __format__(self, spec: str) -> str:
        return ""


def write_template(template: str, rows) -> None:
    """A line per row, `template` filled with its fields (str.format): an absent value is
    empty, a list joined; \\t, \\n and \\0 are a tab, a newline and a NUL, and a line not
    ending in a newline or NUL gets a newline."""
    from luna.errors import BadValue

    template = template.replace("\\t", "\t").replace("\\n", "\n").replace("\\0", "\0")
    write = sys.stdout.write
    for row in rows:
        fields = {k: _Blank() if v is None else _template_value(v) for k, v in row.items()}
        try:
            line = template.format_map(fields)
        except (KeyError, ValueError, IndexError, AttributeError) as exc:
            raise BadValue(
                f"--format: {template!r} cannot be filled ({exc}); fields are "
                f"{', '.join(sorted(fields))}"
            ) from None
        write(line if line.endswith(("\n", "\0")) else line + "\n")


def write_fields(spec: str, rows: list[dict], known: Collection[str]) -> None:
    """The fields `spec` names (--fields date,camera,path), a column each, from each row
    (the fields --format has): aligned under their names on a terminal, tab-separated lines
    without a header for a program (as ExifTool's -T). A name not among the `known` fields
    is refused even when no row matched: a script's typo shows on the first run."""
    from luna.errors import BadValue

    names = field_names(spec)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise BadValue(f"--fields: no field {unknown[0]!r}; fields are {', '.join(sorted(known))}")
    lines = [[_field_cell(row.get(name)) for name in names] for row in rows]
    if sys.stdout.isatty():
        if lines:
            print_table(names, lines)
    else:
        write_tsv(lines)


def _field_cell(value) -> str:
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat(" ")  # a date of --format's ({start}) as people read it
    return cell(value)


def _template_value(value):
    return LIST_JOINER.join(map(str, value)) if isinstance(value, (list, tuple)) else value


def print_table(columns: list[str], lines: list[list[str]], *, title: str | None = None) -> None:
    """A table for people: long values fold onto more lines, never cut off."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=None, padding=(0, 2))
    for column in columns:
        table.add_column(column, overflow="fold")
    for cells in lines:
        table.add_row(*(_markup_free(for_humans(c)) for c in cells))
    stdout_console().print(table)


def _markup_free(text: str):
    from rich.text import Text

    return Text(text)  # a tag such as "[draft]" is data, not rich markup


def print_record(pairs: list[tuple[str, str]], *, title: str) -> None:
    """One thing's fields, a line each. On a terminal the values line up, and a value too
    long for its line starts on its own (so a SHA-256 folds at most at the screen's edge,
    never mid-column); for a program, `key<TAB>value` lines."""
    if not sys.stdout.isatty():
        write_tsv([[k, v] for k, v in pairs])
        return
    from rich.text import Text

    console = stdout_console()
    width = max(len(k) for k, _ in pairs) + 2
    console.print(Text(for_humans(title), style="bold"))
    for key, value in pairs:
        value = for_humans(value)
        if 2 + width + len(value) <= console.width:
            console.print(Text(f"  {key:<{width}}{value}"), overflow="fold")
        else:
            console.print(Text(f"  {key}"))
            console.print(Text(f"    {value}"), overflow="fold")


def print_plan(steps) -> None:
    """What a copy, move or organize does (or would do) to each file: a table on a
    terminal, `action<TAB>source<TAB>destination<TAB>detail` lines for a program."""
    lines = [[s.action, s.source, s.destination or "", s.detail] for s in steps]
    if sys.stdout.isatty():
        print_table(["action", "source", "destination", "detail"], lines)
    else:
        write_tsv(lines)


def feature_collection(records: list[dict]) -> dict:
    """A GeoJSON FeatureCollection (RFC 7946): a Point per record with a latitude and
    longitude (and altitude), the record's other keys its properties."""
    features = []
    for r in records:
        if r["latitude"] is None or r["longitude"] is None:
            continue
        coordinates = [r["longitude"], r["latitude"]]
        if r["altitude"] is not None:
            coordinates.append(r["altitude"])
        properties = {k: v for k, v in r.items() if k not in ("latitude", "longitude", "altitude")}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": coordinates},
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}
