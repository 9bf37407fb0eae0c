"""What `luna find` (alias `luna search`) does once its command line is read: by Typer
(luna.cli.find declares the options and their help) or, for the command lines scripts
type, by luna.cli.quick_find without loading Typer. Kept lean: this runs inside shell
loops, so heavy modules load only when an output needs them.
"""

import sys
from pathlib import Path

from luna import values
from luna.cli.output import human_size, print_json, print_paths
from luna.cli.render import FILE_COLUMNS, Listing, Output, print_document, render, write_template
from luna.cli.usage import one_output_mode, read_filters
from luna.errors import BadValue

DEFAULT_RADIUS_M = 1000.0


def run_find(
    library: Path | None,
    output: Output,
    *,
    after: str | None,
    before: str | None,
    on: str | None,
    near: str | None,
    radius: str | None,
    bbox: str | None,
    has_location: bool | None,
    tag: list[str] | None,
    any_tag: list[str] | None,
    not_tag: list[str] | None,
    untagged: bool,
    album: str | None,
    event: str | None,
    kind: list[str] | None,
    mime: str | None,
    camera: str | None,
    name: str | None,
    path: str | None,
    min_size: str | None,
    max_size: str | None,
    sha: str | None,
    owner: str | None,
    owner_legacy: str | None,
    missing: bool,
    duplicates: bool,
    sort: str,
    limit: str | None,
    offset: str | None,
    count: bool,
    geojson: bool,
) -> None:
    """Find the files the options (as typed) ask for in `library` and print them."""
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
    with Library.for_search(library) as lib:
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
