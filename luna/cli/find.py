"""`luna find` (alias `luna search`): the library's files matching filters, for a person
(a table) or for a program (paths, NUL-separated paths, JSON, JSON lines, CSV, GeoJSON, or
a template). Kept lean: this runs inside shell loops, so heavy modules load only when an
output needs them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from luna import values
from luna.cli.app import app, library_path
from luna.cli.output import handle_errors, human_size
from luna.cli.usage import one_output_mode, read_filters
from luna.errors import BadValue
from luna.names import uuid_text

FIND_JSON_VERSION = 1
DEFAULT_RADIUS_M = 1000.0

_WhenOpt = Annotated[str | None, typer.Option(metavar="WHEN", show_default=False)]
_Texts = Annotated[list[str] | None, typer.Option(metavar="TAG", show_default=False)]


def find_files(
    ctx: typer.Context,
    after: Annotated[
        str | None,
        typer.Option(
            "--after",
            metavar="WHEN",
            help="Taken from WHEN on: 2019, 2019-06, 2019-06-01, 2019-06-01T14:00.",
        ),
    ] = None,
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            metavar="WHEN",
            help="Taken before WHEN (--before 2019-06: up to the end of May).",
        ),
    ] = None,
    on: Annotated[str | None, typer.Option("--on", metavar="DAY", help="Taken on DAY.")] = None,
    near: Annotated[
        str | None, typer.Option("--near", metavar="LAT,LON", help="Within --radius of this point.")
    ] = None,
    radius: Annotated[
        str | None,
        typer.Option(
            "--radius", metavar="DIST", help="With --near: 500m, 2km, 1.5mi (default 1km)."
        ),
    ] = None,
    bbox: Annotated[
        str | None,
        typer.Option(
            "--bbox", metavar="S,W,N,E", help="Inside this box (W > E crosses the antimeridian)."
        ),
    ] = None,
    has_location: Annotated[
        bool | None,
        typer.Option(
            "--has-location/--no-location",
            help="Only files with (without) a place.",
            show_default=False,
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag", metavar="TAG", help="Has TAG (or a tag below it); repeat: all of them."
        ),
    ] = None,
    any_tag: Annotated[
        list[str] | None,
        typer.Option("--any-tag", metavar="TAG", help="Has at least one of these tags."),
    ] = None,
    not_tag: Annotated[
        list[str] | None, typer.Option("--not-tag", metavar="TAG", help="Does not have TAG.")
    ] = None,
    untagged: Annotated[bool, typer.Option("--untagged", help="Has no tag at all.")] = False,
    album: Annotated[
        str | None, typer.Option("--album", metavar="NAME", help="In this album.")
    ] = None,
    event: Annotated[
        str | None, typer.Option("--event", metavar="NAME", help="In this event.")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", metavar="KIND", help="photo, video or sidecar (repeatable)."),
    ] = None,
    mime: Annotated[
        str | None,
        typer.Option("--mime", metavar="TYPE", help="image/heic, or a prefix such as image/."),
    ] = None,
    camera: Annotated[
        str | None,
        typer.Option("--camera", metavar="TEXT", help="Make or model contains TEXT (any case)."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="GLOB", help="File name matches GLOB (IMG_*.HEIC)."),
    ] = None,
    path: Annotated[
        str | None, typer.Option("--path", metavar="PREFIX", help="Under this folder.")
    ] = None,
    min_size: Annotated[
        str | None,
        typer.Option("--min-size", metavar="SIZE", help="At least SIZE (2MB, 500k, 1GiB)."),
    ] = None,
    max_size: Annotated[
        str | None, typer.Option("--max-size", metavar="SIZE", help="At most SIZE.")
    ] = None,
    sha: Annotated[
        str | None, typer.Option("--sha", metavar="PREFIX", help="SHA-256 starts with PREFIX.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", metavar="NAME", help="Owned by NAME.")
    ] = None,
    missing: Annotated[
        bool, typer.Option("--missing", help="Files whose path has vanished (left out otherwise).")
    ] = False,
    duplicates: Annotated[
        bool, typer.Option("--duplicates", help="Files whose content appears more than once.")
    ] = False,
    sort: Annotated[
        str, typer.Option("--sort", help="date, -date, name, -name, size, -size or distance.")
    ] = "date",
    limit: Annotated[
        str | None, typer.Option("--limit", metavar="N", help="At most N files.")
    ] = None,
    offset: Annotated[
        str | None, typer.Option("--offset", metavar="N", help="Skip the first N files.")
    ] = None,
    count: Annotated[bool, typer.Option("--count", help="Print only how many match.")] = False,
    paths: Annotated[bool, typer.Option("--paths", help="One path per line.")] = False,
    print0: Annotated[
        bool, typer.Option("--print0", "-0", help="NUL-terminated paths, for xargs -0.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    as_jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header row.")] = False,
    geojson: Annotated[
        bool,
        typer.Option("--geojson", help="A GeoJSON FeatureCollection of the files with a place."),
    ] = False,
    template: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="TEMPLATE",
            help="A line per file: {path} {id} {start:%Y-%m-%d} {tags} ...",
        ),
    ] = None,
) -> None:
    """Find files by time, place, tag, album, event, camera and kind (filters combine
    with AND; none lists everything). No match is not an error: nothing is printed (and
    --count prints 0), exit 0.

    Example: luna find --tag beach --near 43.7,7.26 --radius 20km -0 | xargs -0 ls -l
    """
    from luna.search import query

    outputs = {
        "--paths": paths,
        "--print0": print0,
        "--json": as_json,
        "--jsonl": as_jsonl,
        "--csv": as_csv,
        "--geojson": geojson,
        "--format": template is not None,
    }
    one_output_mode(outputs)
    if count:  # a number, or with --json a document holding it: nothing else
        one_output_mode({"--count": True, **{k: v for k, v in outputs.items() if k != "--json"}})
    if radius is not None and near is None:
        raise BadValue("--radius needs --near")
    filters = read_filters(
        dict(
            after=after, before=before, on=on, near=near, bbox=bbox, tags=tag,
            any_tags=any_tag, not_tags=not_tag, album=album, event=event, kinds=kind,
            mime=mime, camera=camera, name=name, path=path, min_size=min_size,
            max_size=max_size, sha=sha, user=user, limit=limit,
        )
    )  # fmt: skip
    q = query.Query(
        **filters,
        radius_m=values.distance(radius, "--radius") if radius is not None else DEFAULT_RADIUS_M,
        has_location=has_location,
        untagged=untagged,
        missing=missing,
        duplicates=duplicates,
        sort=values.nonempty(sort, "--sort"),
        offset=values.optional(values.count, offset, "--offset") or 0,
    )
    if template is not None:
        values.nonempty(template, "--format")
    if album:
        from luna.config import acting_user

        q.acting_user = acting_user()
    library = _library_file(ctx)
    con = query.connect(library)
    try:
        if count:
            _print_count(query.count(con, q), as_json=as_json)
            return
        structured = as_json or as_jsonl or as_csv or geojson or template is not None
        if print0 or paths or not (structured or sys.stdout.isatty()):
            end = "\0" if print0 else "\n"
            sys.stdout.write("".join(p + end for p in query.find_paths(con, q)))
            return
        hits = query.find(con, q)
        _render(
            con,
            hits,
            q,
            as_json=as_json,
            as_jsonl=as_jsonl,
            as_csv=as_csv,
            geojson=geojson,
            template=template,
        )
    except Exception as exc:
        from luna.store.libfile import is_about_the_file, unusable

        if is_about_the_file(exc):  # a page damaged deep inside the file, say
            raise unusable(library, exc) from None
        raise
    finally:
        con.close()


def _library_file(ctx) -> str:
    from luna.config import default_library_path

    chosen = library_path(ctx)
    return str(chosen.expanduser() if chosen else default_library_path())


# -- output ----------------------------------------------------------------------------------


def _print_count(number: int, *, as_json: bool) -> None:
    if as_json:
        from luna.cli.output import print_json

        print_json({"version": FIND_JSON_VERSION, "count": number})
    else:
        sys.stdout.write(f"{number}\n")


def _render(con, hits, q, *, as_json, as_jsonl, as_csv, geojson, template):
    """Every output but paths (find_paths serves those without building records)."""
    if template is not None:
        _write_template(con, hits, template)
    else:
        records = _records(con, hits)
        if as_json:
            from luna.cli.output import print_json

            print_json({"version": FIND_JSON_VERSION, "count": len(records), "files": records})
        elif as_jsonl:
            from luna.cli.output import print_jsonl

            print_jsonl(records)
        elif as_csv:
            _write_csv(records)
        elif geojson:
            from luna.cli.output import print_json

            print_json(_feature_collection(records))
        else:
            _print_table(records)


def _records(con, hits) -> list[dict]:
    from luna.search.query import tags_by_file
    from luna.timefmt import iso_local

    tags = tags_by_file(con, [h.id for h in hits])
    return [
        {
            "id": uuid_text(h.id),
            "path": h.path,
            "filename": h.filename,
            "kind": h.kind,
            "mime_type": h.mime_type,
            "size_bytes": h.size_bytes,
            "start": iso_local(_dt(h.start), h.utc_offset),
            "end": iso_local(_dt(h.end), h.utc_offset),
            "latitude": h.latitude,
            "longitude": h.longitude,
            "altitude": h.altitude,
            "width": h.width,
            "height": h.height,
            "content_sha": h.content_sha,
            "tags": tags.get(h.id, []),
            "missing": h.missing_since is not None,
            "distance_m": round(h.distance_m, 1) if h.distance_m is not None else None,
        }
        for h in hits
    ]


CSV_COLUMNS = [
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
    "tags",
    "missing",
    "distance_m",
]


def _write_csv(records: list[dict]) -> None:
    import csv

    # RFC 4180: fields with commas, quotes or line breaks are quoted, quotes doubled.
    writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for r in records:
        writer.writerow(
            {**r, "tags": ";".join(r["tags"]), **{k: "" for k in CSV_COLUMNS if r.get(k) is None}}
        )


def _feature_collection(records: list[dict]) -> dict:
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


class _Blank(str):
    """An absent value in a --format template: empty, whatever the format spec."""

    def __format__(self, spec: str) -> str:
        return ""


def _write_template(con, hits, template: str) -> None:
    template = template.replace("\\t", "\t").replace("\\n", "\n").replace("\\0", "\0")
    records = _records(con, hits) if "{tags" in template else None
    write = sys.stdout.write
    for i, h in enumerate(hits):
        fields = {
            "path": h.path,
            "id": uuid_text(h.id),
            "filename": h.filename,
            "kind": h.kind,
            "mime": h.mime_type,
            "size": h.size_bytes,
            "sha": h.content_sha,
            "start": _dt(h.start) or _Blank(),
            "end": _dt(h.end) or _Blank(),
            "latitude": _value(h.latitude),
            "longitude": _value(h.longitude),
            "altitude": _value(h.altitude),
            "width": _value(h.width),
            "height": _value(h.height),
            "distance": _value(h.distance_m),
            "tags": ",".join(records[i]["tags"]) if records else _Blank(),
        }
        try:
            line = template.format_map(fields)
        except (KeyError, ValueError, IndexError, AttributeError) as exc:
            raise BadValue(
                f"--format: {template!r} cannot be filled ({exc}); fields are "
                f"{', '.join(sorted(fields))}"
            ) from None
        write(line if line.endswith(("\n", "\0")) else line + "\n")


def _value(v):
    return _Blank() if v is None else v


def _print_table(records: list[dict]) -> None:
    from rich.table import Table

    from luna.cli.output import stdout_console

    table = Table(box=None, padding=(0, 2))
    for column in ("date", "name", "kind", "size", "place", "tags"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for r in records:
        place = f"{r['latitude']:.4f}, {r['longitude']:.4f}" if r["latitude"] is not None else ""
        table.add_row(
            (r["start"] or "")[:19].replace("T", " "),
            r["filename"],
            r["kind"],
            human_size(r["size_bytes"]),
            place,
            ", ".join(r["tags"]),
        )
    stdout_console().print(table)


def _dt(text):
    import datetime as dt

    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None


app.command("find")(handle_errors(find_files))
app.command(
    "search",
    help="The same as `luna find` (see luna find --help).\n\nExample: luna search --tag beach",
    short_help="The same as find.",
)(handle_errors(find_files))
