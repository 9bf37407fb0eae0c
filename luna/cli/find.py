"""`luna find` (alias `luna search`): the library's files matching filters, for a person
(a table) or for a program (paths, NUL-separated paths, JSON, JSON lines, CSV, GeoJSON, or
a template). Kept lean: this runs inside shell loops, so heavy modules load only when an
output needs them.
"""

import sys
from typing import Annotated

import typer

from luna import values
from luna.cli.app import app, library_path
from luna.cli.output import handle_errors, human_size, print_json, print_paths
from luna.cli.render import (
    FILE_COLUMNS,
    Listing,
    Output,
    listing_options,
    print_document,
    render,
    write_template,
)
from luna.cli.usage import one_output_mode, read_filters
from luna.errors import BadValue

DEFAULT_RADIUS_M = 1000.0


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
    owner: Annotated[
        str | None, typer.Option("--owner", metavar="NAME", help="Owned by NAME.")
    ] = None,
    owner_legacy: Annotated[str | None, typer.Option("--user", hidden=True)] = None,
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
    geojson: Annotated[
        bool,
        typer.Option("--geojson", help="A GeoJSON FeatureCollection of the files with a place."),
    ] = False,
    output: Output = Output(),
) -> None:
    """Find files by time, place, tag, album, event, camera and kind (filters combine
    with AND; none lists everything). No match is not an error: nothing is printed (and
    --count prints 0), exit 0.

    Example: luna find --tag beach --near 43.7,7.26 --radius 20km -0 | xargs -0 ls -l
    """
    from luna.library import Library
    from luna.search import query

    if geojson:  # an output of find's own, besides the listing's
        one_output_mode({"--geojson": True, **output.given()})
    if count:  # a number, or with --json a document holding it: nothing else
        one_output_mode(
            {"--count": True, **{k: v for k, v in output.given().items() if k != "--json"}}
        )
    if radius is not None and near is None:
        raise BadValue("--radius needs --near")
    filters = read_filters(
        dict(
            after=after, before=before, on=on, near=near, bbox=bbox, tags=tag,
            any_tags=any_tag, not_tags=not_tag, album=album, event=event, kinds=kind,
            mime=mime, camera=camera, name=name, path=path, min_size=min_size,
            max_size=max_size, sha=sha, limit=limit,
            user=owner if owner is not None else owner_legacy,
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
    if album:
        from luna.config import acting_user

        q.acting_user = acting_user()
    mode = "geojson" if geojson else output.mode
    # for_search: no ORM, so that a search inside a shell loop starts fast.
    with Library.for_search(library_path(ctx)) as lib:
        if count:
            number = lib.count(q)
            if output.json:
                print_document({"count": number})
            else:
                sys.stdout.write(f"{number}\n")
        elif mode in ("paths", "print0", "lines"):
            # find_paths serves these without building records.
            print_paths(lib.find_paths(q), null=mode == "print0")
        else:
            # --format reads the tags (a query) only if the template asks for them.
            with_tags = mode != "template" or "{tags" in (output.template or "")
            _print_found(lib.find(q, with_tags=with_tags), mode, output)


def _print_found(found, mode: str, output: Output) -> None:
    if mode == "template":
        template = output.template or ""
        write_template(template, _template_fields(found, template))
    elif mode == "geojson":
        print_json(_feature_collection(found.records()))
    else:
        render(_listing(found.records()), output)


# -- output ----------------------------------------------------------------------------------


CSV_COLUMNS = [*FILE_COLUMNS, "tags", "missing", "distance_m"]


def _listing(records: list[dict]) -> Listing:
    return Listing(
        "files",
        records,
        CSV_COLUMNS,
        table=["date", "name", "kind", "size", "place", "tags"],
        view=_table_view,
    )


def _table_view(r: dict) -> dict:
    place = f"{r['latitude']:.4f}, {r['longitude']:.4f}" if r["latitude"] is not None else ""
    return {
        **r,
        "date": (r["start"] or "")[:19].replace("T", " "),
        "name": r["filename"],
        "size": human_size(r["size_bytes"]),
        "place": place,
    }


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


def _template_fields(found, template: str):
    """The fields of --format: a hit's record, with dates that take a format spec
    ({start:%Y-%m-%d}) and the short names --format had first."""
    from luna.search.query import as_datetime

    records = found.records()
    for h, record in zip(found.hits, records, strict=True):
        yield {
            **record,
            "start": as_datetime(h.start),
            "end": as_datetime(h.end),
            "mime": h.mime_type,
            "size": h.size_bytes,
            "sha": h.content_sha,
            "distance": h.distance_m,
        }


find_files = listing_options(paths=True)(find_files)
app.command("find")(handle_errors(find_files))
app.command(
    "search",
    help="The same as `luna find` (see luna find --help).\n\nExample: luna search --tag beach",
    short_help="The same as find.",
)(handle_errors(find_files))
