"""What `luna find` (alias `luna search`) does once its command line is read: by Typer
(luna.cli.find declares the options and their help) or, for the command lines scripts
type, by luna.cli.quick_find without loading Typer. Kept lean: this runs inside shell
loops, so heavy modules load only when an output needs them.
"""

import contextlib
import gc
import json
import sys

from luna import values
from luna.cli.output import Encoded, human_size, print_json, print_paths
from luna.cli.render import (
    FILE_COLUMNS,
    Listing,
    Output,
    feature_collection,
    field_names,
    print_document,
    render,
    write_fields,
    write_template,
)
from luna.cli.usage import one_output_mode, read_filters
from luna.errors import BadValue
from luna.fsnames import is_utf8
from luna.locations import Location
from luna.names import uuid_text
from luna.readable import NUMBER_FIELDS, SHOT_FIELDS, template_fields
from luna.search.query import Hit, hit_record, local_time, shot_fields

DEFAULT_RADIUS_M = 1000.0


def run_find(
    library: Location | None,
    output: Output,
    *,
    after: str | None,
    before: str | None,
    on: str | None,
    near: str | None,
    radius: str | None,
    bbox: str | None,
    place: str | None,
    country: str | None,
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
    lens: str | None,
    iso: str | None,
    focal: str | None,
    aperture: str | None,
    rating: str | None,
    unrated: bool,
    label: str | None,
    picked: bool,
    rejected: bool,
    duration: str | None,
    date_source: str | None,
    location_source: str | None,
    text: str | None,
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
    contact_sheet: str | None = None,
) -> None:
    """Find the files the options (as typed) ask for in `library` and print them."""
    from luna.library import Library

    if contact_sheet is not None:  # a JPEG instead of a listing
        one_output_mode(
            {"--contact-sheet": True, "--count": count, "--geojson": geojson, **output.given()}
        )
    if geojson:  # an output of find's own, besides the listing's
        one_output_mode({"--geojson": True, **output.given()})
    if count:  # a number, or with --json a document holding it: nothing else
        one_output_mode(
            {"--count": True, **{k: v for k, v in output.given().items() if k != "--json"}}
        )
    q = find_query(
        after=after, before=before, on=on, near=near, radius=radius, bbox=bbox, place=place,
        country=country, has_location=has_location, tag=tag, any_tag=any_tag,
        not_tag=not_tag, untagged=untagged, album=album, event=event, kind=kind, mime=mime,
        camera=camera, lens=lens, iso=iso, focal=focal, aperture=aperture, rating=rating,
        unrated=unrated, label=label, picked=picked, rejected=rejected, duration=duration,
        date_source=date_source, location_source=location_source, text=text, name=name,
        path=path, min_size=min_size, max_size=max_size, sha=sha, owner=owner,
        owner_legacy=owner_legacy, missing=missing, duplicates=duplicates, sort=sort,
        limit=limit, offset=offset,
    )  # fmt: skip
    mode = "geojson" if geojson else output.mode
    # for_search: no ORM, so that a search inside a shell loop starts fast.
    with Library.for_search(library) as lib:
        if place or country:
            _say_places_pending(lib)
        if album:
            q.acting_user = lib.acting_user()
        if contact_sheet is not None:
            from luna.cli.sheet import write_sheet

            write_sheet(lib, contact_sheet, query=q)
        elif count:
            number = lib.count(q)
            if output.json:
                print_document({"count": number})
            else:
                sys.stdout.write(f"{number}\n")
        elif mode in ("paths", "print0", "lines"):
            # find_paths serves these without building records.
            print_paths(lib.find_paths(q), null=mode == "print0")
        else:
            # --format and --fields read the tags (a query) only if they are asked for.
            with_tags = _tags_asked(mode, output)
            with _no_cycle_collection():
                _print_found(lib.find(q, with_tags=with_tags), mode, output)


# The options of `luna find` that choose files (find_query's), which other commands that
# choose files as find does take too (luna gallery): all but the output and the order.
FILTER_OPTIONS = (
    "after", "before", "on", "near", "radius", "bbox", "place", "country", "has_location",
    "tag", "any_tag", "not_tag", "untagged", "album", "event", "kind", "mime", "camera",
    "lens", "iso", "focal", "aperture", "rating", "unrated", "label", "picked", "rejected",
    "duration", "date_source", "location_source", "text", "name", "path", "min_size",
    "max_size", "sha", "owner", "owner_legacy", "duplicates",
)  # fmt: skip


def find_query(
    *,
    after: str | None = None,
    before: str | None = None,
    on: str | None = None,
    near: str | None = None,
    radius: str | None = None,
    bbox: str | None = None,
    place: str | None = None,
    country: str | None = None,
    has_location: bool | None = None,
    tag: list[str] | None = None,
    any_tag: list[str] | None = None,
    not_tag: list[str] | None = None,
    untagged: bool = False,
    album: str | None = None,
    event: str | None = None,
    kind: list[str] | None = None,
    mime: str | None = None,
    camera: str | None = None,
    lens: str | None = None,
    iso: str | None = None,
    focal: str | None = None,
    aperture: str | None = None,
    rating: str | None = None,
    unrated: bool = False,
    label: str | None = None,
    picked: bool = False,
    rejected: bool = False,
    duration: str | None = None,
    date_source: str | None = None,
    location_source: str | None = None,
    text: str | None = None,
    name: str | None = None,
    path: str | None = None,
    min_size: str | None = None,
    max_size: str | None = None,
    sha: str | None = None,
    owner: str | None = None,
    owner_legacy: str | None = None,
    missing: bool = False,
    duplicates: bool = False,
    sort: str = "date",
    limit: str | None = None,
    offset: str | None = None,
):
    """The Query (luna.search.query) that find's options, as typed, ask for; a bad or
    empty value is refused (BadValue) before anything is read."""
    from luna.search import query

    if radius is not None and near is None:
        raise BadValue("--radius needs --near")
    filters = read_filters(
        dict(
            after=after, before=before, on=on, near=near, bbox=bbox, place=place,
            country=country, tags=tag,
            any_tags=any_tag, not_tags=not_tag, album=album, event=event, kinds=kind,
            mime=mime, camera=camera, lens=lens, iso=iso, focal=focal, aperture=aperture,
            rating=rating, label=label, duration=duration, date_source=date_source,
            location_source=location_source, text=text, name=name, path=path, min_size=min_size,
            max_size=max_size, sha=sha, limit=limit,
            user=owner if owner is not None else owner_legacy,
        )
    )  # fmt: skip
    filters["text"] = filters["text"] or []  # --text's words, each to be found
    return query.Query(
        **filters,
        radius_m=values.distance(radius, "--radius") if radius is not None else DEFAULT_RADIUS_M,
        has_location=has_location,
        untagged=untagged,
        unrated=unrated,
        picked=picked,
        rejected=rejected,
        missing=missing,
        duplicates=duplicates,
        sort=values.nonempty(sort, "--sort"),
        offset=values.optional(values.count, offset, "--offset") or 0,
    )


def _say_places_pending(lib) -> None:
    """Files whose place names are still to be worked out cannot match --place: say so,
    with what to do (after an upgrade to schema 8, that is every file)."""
    pending = lib.places_pending()
    if pending:
        from luna.cli.output import note

        note(
            f"{pending:,} files have no place names yet and cannot match --place or "
            "--country: run `luna places update`"
        )


def _tags_asked(mode: str, output: Output) -> bool:
    """Whether the output shows tags: --format and --fields only when they name them."""
    if mode == "template":
        return "{tags" in (output.template or "")
    if mode == "fields":
        return "tags" in field_names(output.fields or "")
    return True


@contextlib.contextmanager
def _no_cycle_collection():
    """A listing is tens of thousands of objects made at once, none in a reference cycle,
    all alive until printed: the cycle collector, set off by their number, would walk
    them again and again for nothing (a sixth of `find --json`'s time). Memory is freed as
    ever; only the search for cycles waits, until the listing is printed."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _print_found(found, mode: str, output: Output) -> None:
    if mode == "template":
        template = output.template or ""
        named = _template_names(template)
        _refuse_unknown_names(template, named)
        write_template(template, _template_fields(found, named))
    elif mode == "fields":
        columns = set(field_names(output.fields or ""))
        write_fields(output.fields or "", list(_template_fields(found, columns)), _find_fields())
    elif mode == "geojson":
        print_json(feature_collection(found.records()))
    elif mode == "json":
        # render's document, with each record written as text straight from its hit.
        print_document({"count": len(found), "files": _json_records(found)})
    else:
        render(_listing(found.records()), output)


# -- output ----------------------------------------------------------------------------------


CSV_COLUMNS = [
    *FILE_COLUMNS,
    "tags",
    "missing",
    "distance_m",
    *SHOT_FIELDS,
]


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
        "date": _table_date(r),
        "name": r["filename"],
        "size": human_size(r["size_bytes"]),
        "place": place,
    }


def _table_date(record: dict) -> str:
    """The date people read: local wall-clock time, to the second, without its zone."""
    return (record["start"] or "")[:19].replace("T", " ")


def _json_records(found) -> list:
    """The records of --json, as JSON text (files_json) where they are valid UTF-8, else
    the record itself, which print_json gives a readable name and its base64."""
    tags = found.tags
    names = [None] * len(found.hits) if tags is None else [tags.get(h.id, []) for h in found]
    try:
        texts = files_json(found.hits, names)
    except TypeError:  # a value of a type the file table never holds: the encoder's
        return [hit_record(h, n) for h, n in zip(found.hits, names, strict=True)]
    return [
        Encoded(text) if is_utf8(text) else hit_record(h, n)
        for text, h, n in zip(texts, found.hits, names, strict=True)
    ]


def files_json(hits: list[Hit], tags: list[list[str] | None]) -> list[str]:
    """Each `hit_record(hit, its tags)` as the JSON text print_json writes for it, built
    from the hits column by column: a dict per file, then encoding its keys and values one
    by one, costs twice as much (tests/test_find.py compares them on every kind of value).
    TypeError for a value of another type than the file table's own."""
    if not hits:
        return []
    column = dict(zip(Hit._fields, zip(*hits, strict=True), strict=True))
    offsets = column["utc_offset"]
    starts = _texts([local_time(t, o) for t, o in zip(column["start"], offsets, strict=True)])
    ends = _texts(
        [
            None if t is None else local_time(t, o)
            for t, o in zip(column["end"], offsets, strict=True)
        ]
    )
    distances = [None if d is None else round(d, 1) for d in column["distance_m"]]
    return [
        f'{{"id": {i}, "path": {p}, "filename": {f}, "kind": {k}, "mime_type": {m}, '
        f'"size_bytes": {size}, "start": {start}, "end": {end}, "latitude": {lat}, '
        f'"longitude": {lon}, "altitude": {alt}, "width": {w}, "height": {h}, '
        f'"content_sha": {sha}, "tags": {names}, "missing": {missing}, "distance_m": {d}, '
        f"{s}}}"
        for i, p, f, k, m, size, start, end, lat, lon, alt, w, h, sha, names, missing, d, s in zip(
            [_quoted(uuid_text(i)) for i in column["id"]],
            map(_quoted, column["path"]),
            map(_quoted, column["filename"]),
            map(_quoted, column["kind"]),
            map(_quoted, column["mime_type"]),
            _numbers(column["size_bytes"]),
            starts,
            ends,
            _numbers(column["latitude"]),
            _numbers(column["longitude"]),
            _numbers(column["altitude"]),
            _numbers(column["width"]),
            _numbers(column["height"]),
            map(_quoted, column["content_sha"]),
            ["null" if n is None else "[" + ", ".join(map(_quoted, n)) + "]" for n in tags],
            ["false" if t is None else "true" for t in column["missing_since"]],
            _numbers(distances),
            _shot_texts(hits),
            strict=True,
        )
    ]


# A str as JSON text with non-ASCII characters kept (json's own, in C); TypeError otherwise.
_quoted = json.encoder.encode_basestring
_ENCODE_NUMBERS = json.JSONEncoder().encode


def _shot_texts(hits: list[Hit]) -> list[str]:
    """Each hit's camera and video fields (luna.search.query.shot_fields) as the JSON text
    of their keys and values, as print_json's encoder writes them: encoded a column at a
    time (texts or numbers, as luna.readable.record_fields guarantees), then put in one
    template per file; encoding a dict per file cost a third of `find --json`."""
    fields = [shot_fields(h) for h in hits]
    columns = [
        _numbers([f[key] for f in fields])
        if key in NUMBER_FIELDS
        else _texts([f[key] for f in fields])
        for key in SHOT_FIELDS
    ]
    return [_SHOT_TEMPLATE.format(*values) for values in zip(*columns, strict=True)]


_SHOT_TEMPLATE = ", ".join(f'"{key}": {{}}' for key in SHOT_FIELDS)


def _texts(values: list[str | None]) -> list[str]:
    return ["null" if value is None else _quoted(value) for value in values]


def _numbers(values) -> list[str]:
    """A column of numbers as json writes each (NaN, Infinity and null included), by one
    call of its C encoder: split at the list's separators, which no number's text holds.
    TypeError for any other type than a number's, None's or a bool's."""
    if not _JSON_SCALARS.issuperset(map(type, values)):
        raise TypeError("not a column of numbers")
    return _ENCODE_NUMBERS(list(values))[1:-1].split(", ")


_JSON_SCALARS = frozenset({int, float, bool, type(None)})


def _template_fields(found, used: set[str] | None = None):
    """The fields of --format and --fields: a hit's record, its camera facts in words
    (luna.readable.template_fields), dates that take a format spec ({start:%Y-%m-%d}), the
    table's `date`, and the short names --format had first. The camera and video fields are
    left out when the names `used` are all others: a template of paths and dates, in a
    shell loop, does not pay for them."""
    from luna.search.query import as_datetime

    shot = used is None or not used <= _PLAIN_FIELDS
    records = found.records(shot=shot)
    for h, record in zip(found.hits, records, strict=True):
        yield {
            **record,
            **(template_fields(record) if shot else {}),
            "date": _table_date(record),
            "start": as_datetime(h.start),
            "end": as_datetime(h.end),
            "mime": h.mime_type,
            "size": h.size_bytes,
            "sha": h.content_sha,
            "distance": h.distance_m,
        }


def _refuse_unknown_names(template: str, names: set[str] | None) -> None:
    """A --format naming no field of find's is an error even when no file matches."""
    from luna.errors import BadValue

    unknown = sorted((names or set()) - _find_fields())
    if unknown:
        raise BadValue(
            f"--format: {template!r} names no field {unknown[0]!r}; fields are "
            f"{', '.join(sorted(_find_fields()))}"
        )


def _find_fields() -> frozenset[str]:
    """Every field _template_fields gives, whether or not a file matched."""
    return frozenset({*CSV_COLUMNS, *template_fields({}), *_PLAIN_FIELDS, "start", "end"})


# The fields of --format that are not a camera's or a video's.
_PLAIN_FIELDS = frozenset({*CSV_COLUMNS[: CSV_COLUMNS.index("camera")], "date", "mime", "size",
    "sha", "distance"})  # fmt: skip


def _template_names(template: str) -> set[str] | None:
    """The fields a --format template names ({start:%Y} and {start.year} name start); None
    when it cannot be read, for the template's own error to say why."""
    import string

    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return None
    names = set()
    for _, field, _, _ in parsed:
        if field is not None:
            names.add(field.split(".", 1)[0].split("[", 1)[0])
    return names
