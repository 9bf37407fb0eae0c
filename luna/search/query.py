"""`luna find`: what a search asks for (Query), what it answers (Hit), and how.

The rows come from luna.store.search, on a plain sqlite3 connection, so that a search run
inside a shell loop does not pay for importing the ORM. Places are answered in two steps:
the bounding boxes of luna.search.geo select rows through the (latitude, longitude) index,
then the exact great-circle distance filters (and sorts) them here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from luna.errors import BadValue
from luna.names import uuid_text
from luna.readable import record_fields
from luna.results import Plain, Result
from luna.store import search as search_store
from luna.store.search import Search
from luna.timefmt import iso_local, with_offset
from luna.values import Range, When

if TYPE_CHECKING:
    import sqlite3

T = TypeVar("T")
_from_iso = dt.datetime.fromisoformat
SORTS = ("date", "-date", "name", "-name", "size", "-size", "rating", "-rating", "distance")


class Query(Plain):
    """What a search asks for: each of `luna find`'s filters, by keyword
    (`Query(tags=["beach"], after="2019")`); every one left out matches everything."""

    after: str | When | None = None  # the --after WHEN as given, or read (luna.values.when)
    before: str | When | None = None
    on: str | When | None = None
    near: tuple[float, float] | None = None
    radius_m: float = 1000.0
    bbox: tuple[float, float, float, float] | None = None
    has_location: bool | None = None
    place: str | None = None  # a city, region or country, any case and accents
    country: str | None = None  # a country's name or ISO code
    tags: list[str] = []
    any_tags: list[str] = []
    not_tags: list[str] = []
    untagged: bool = False
    album: str | None = None
    event: str | None = None
    kinds: list[str] = []
    mime: str | None = None
    camera: str | None = None
    lens: str | None = None
    iso: Range | None = None  # each range read by luna.values (iso_range, focal_range...)
    focal: Range | None = None
    aperture: Range | None = None
    rating: Range | None = None  # stars said in luna, else the file's
    unrated: bool = False  # no stars (0 or none)
    label: str | None = None  # a colour of luna.values.LABELS, or "none"
    picked: bool = False
    rejected: bool = False
    duration: Range | None = None  # seconds
    date_source: str | None = None  # luna.values.date_source: exif, guessed, exif:createdate
    location_source: str | None = None  # luna.values.location_source: gpx, gpx:walk.gpx
    text: list[str] = []  # words, each in the title, the description or a tag
    name: str | None = None
    path: str | None = None
    min_size: int | None = None
    max_size: int | None = None
    sha: str | None = None
    user: str | None = None
    missing: bool = False
    duplicates: bool = False
    sort: str = "date"
    limit: int | None = None
    offset: int = 0
    acting_user: str | None = None  # whose album roles apply to --album

    def __init__(self, **filters):
        unknown = filters.keys() - set(self._fields)
        if unknown:
            raise TypeError(f"Query() got unexpected keyword arguments: {sorted(unknown)}")
        for name in _LISTS:
            setattr(self, name, [])  # each query its own lists, never the class's
        for name, value in filters.items():
            setattr(self, name, value)


Query._fields = tuple(name for name in Query.__annotations__ if not name.startswith("_"))
_LISTS = ("tags", "any_tags", "not_tags", "kinds", "text")


class Hit(NamedTuple):
    """One file found, with what the output formats need (a tuple: 20,000 of them are
    made in a blink)."""

    id: str
    path: str
    filename: str
    kind: str
    mime_type: str
    size_bytes: int
    start: str | None
    end: str | None
    utc_offset: int | None
    latitude: float | None
    longitude: float | None
    altitude: float | None
    width: int | None
    height: int | None
    content_sha: str
    missing_since: str | None
    owner_id: int | None
    facts: str | None = None  # a JSON array of the metadata's luna.readable.RECORD_KEYS
    date_source: str | None = None
    # What people said in luna (luna.store.marks), over the file's own values in `facts`.
    said_rating: int | None = None
    said_label: str | None = None
    said_flag: int | None = None
    said_title: str | None = None
    said_description: str | None = None
    # Where it was taken in words (luna.ops.places); place_source None: not worked out yet.
    city: str | None = None
    region: str | None = None
    country: str | None = None
    country_code: str | None = None
    place_source: str | None = None
    distance_m: float | None = None


def validate(q: Query) -> None:
    """Refuse a sort the query cannot have, before anything is read."""
    if q.sort == "distance" and not q.near:
        raise BadValue("--sort distance needs --near")
    if q.sort not in SORTS:
        raise BadValue(f"--sort: {q.sort!r} is not one of {', '.join(SORTS)}")


def _boxes(q: Query) -> list:
    """The bounding boxes --near and --bbox select rows by (luna.search.geo)."""
    if not (q.near or q.bbox):
        return []
    from luna.search import geo

    boxes = []
    if q.near:
        boxes += geo.boxes_around(q.near[0], q.near[1], q.radius_m)
    if q.bbox:
        boxes += geo.boxes_for_bbox(*q.bbox)
    return boxes


def find(con: sqlite3.Connection, q: Query) -> list[Hit]:
    """The files matching `q`, sorted, limited."""
    validate(q)
    by_distance = q.near is not None
    rows = Search(con).rows(q, _boxes(q), limit=not by_distance)
    hits = [Hit(*row) for row in rows]
    if not by_distance:
        return hits
    near = _within(q, ((h.latitude, h.longitude, h.path, h) for h in hits))
    return [hit._replace(distance_m=distance) for distance, hit in near]


def find_paths(con: sqlite3.Connection, q: Query) -> list[str]:
    """Only the paths: what `--paths` and `-0` print, without building a record per file
    (by distance: from each row's path and place alone)."""
    validate(q)
    if q.near is None:
        return Search(con).paths(q, _boxes(q))
    places = Search(con).places(q, _boxes(q))
    return [path for _, path in _within(q, ((lat, lon, p, p) for p, lat, lon in places))]


def count(con: sqlite3.Connection, q: Query) -> int:
    if q.near is not None:
        return len(find_paths(con, q))
    validate(q)
    unfiltered = q == Query(sort=q.sort, acting_user=q.acting_user)
    total = Search(con).count(q, _boxes(q), filtered=not unfiltered)
    if unfiltered:
        return total
    total = max(0, total - q.offset)
    return total if q.limit is None else min(total, q.limit)


def _within(q: Query, places: Iterable[tuple[float | None, float | None, str, T]]):
    """The exact great-circle filter after the boxes' coarse one: of `places` (latitude,
    longitude, path, item), in the search's order, (distance, item) for those within the
    radius, sorted by distance (then path) for --sort distance, offset and limit applied."""
    from luna.search.geo import distance_m

    assert q.near is not None
    lat, lon = q.near
    kept: list[tuple[float, str, T]] = []
    for latitude, longitude, path, item in places:
        if latitude is None or longitude is None:
            continue  # the boxes select located files only
        distance = distance_m(lat, lon, latitude, longitude)
        if distance <= q.radius_m:
            kept.append((distance, path, item))
    if q.sort == "distance":
        kept.sort(key=lambda k: (k[0], k[1]))
    end = None if q.limit is None else q.offset + q.limit
    return [(distance, item) for distance, _, item in kept[q.offset : end]]


class Found(Plain, Result):
    """What a search found: its hits, and each one's tag names by file id (None when the
    search was told not to read them)."""

    _fields = ("hits", "tags")

    def __init__(self, hits: list[Hit], tags: dict[str, list[str]] | None = None):
        self.hits = hits
        self.tags = tags

    def records(self, *, shot: bool = True) -> list[dict]:
        """The hits as --json, --jsonl and --csv give them; without their camera and video
        fields (shot_fields) when told `shot=False`, for a template that uses none."""
        tags = self.tags
        if tags is None:
            return [hit_record(h, None, shot=shot) for h in self.hits]
        return [hit_record(h, tags.get(h.id, []), shot=shot) for h in self.hits]

    def data(self) -> dict:
        return {"count": len(self.hits), "files": self.records()}

    def __iter__(self):
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)


def hit_record(h: Hit, tags: list[str] | None, *, shot: bool = True) -> dict:
    """One hit as --json, --jsonl and --csv give it (with shot=False, without its camera
    and video fields)."""
    record = {
        "id": uuid_text(h.id),
        "path": h.path,
        "filename": h.filename,
        "kind": h.kind,
        "mime_type": h.mime_type,
        "size_bytes": h.size_bytes,
        "start": local_time(h.start, h.utc_offset),
        "end": local_time(h.end, h.utc_offset),
        "latitude": h.latitude,
        "longitude": h.longitude,
        "altitude": h.altitude,
        "width": h.width,
        "height": h.height,
        "content_sha": h.content_sha,
        "tags": tags,
        "missing": h.missing_since is not None,
        "distance_m": round(h.distance_m, 1) if h.distance_m is not None else None,
    }
    if shot:
        record.update(shot_fields(h))
    return record


def shot_fields(h: Hit) -> dict:
    """What a record says of how the file was taken and of itself (camera, lens, exposure,
    title...: luna.readable.record_fields), from the hit's metadata."""
    facts = h.facts
    if type(facts) is str:
        try:
            facts = _loads(facts)
        except ValueError:
            facts = None
    said = (h.said_rating, h.said_label, h.said_flag, h.said_title, h.said_description)
    place = (h.city, h.region, h.country, h.country_code, h.place_source)
    return record_fields(facts, h.date_source, said, place)


_loads = json.JSONDecoder().decode


def local_time(text: str | None, offset_minutes: int | None) -> str | None:
    """A stored time as records give it: wall-clock time with its zone when known
    (luna.timefmt.iso_local), None if absent or unreadable."""
    if type(text) is not str:
        return iso_local(as_datetime(text), offset_minutes)
    try:
        value = _from_iso(text)
    except ValueError:
        return None
    # What luna stores, "2019-06-01 12:00:00[.123456]" (naive, microseconds only when not
    # zero), is isoformat's text but for the "T": a slice instead of formatting the
    # datetime back, the larger part of a record's cost (20,000 of them in a listing).
    if (
        value.tzinfo is None
        and len(text) == (26 if value.microsecond else 19)
        and text[4] == text[7] == "-"
        and text[10] == " "
        and text[13] == text[16] == ":"
        and text[19:20] in ("", ".")
    ):
        return with_offset(text[:10] + "T" + text[11:], offset_minutes)
    return iso_local(value, offset_minutes)


def as_datetime(text):
    """A stored time as a datetime (None if absent or unreadable)."""
    if text is None:
        return None
    try:
        return _from_iso(str(text))
    except ValueError:
        return None


def tags_by_file(con: sqlite3.Connection, ids: list[str]) -> dict[str, list[str]]:
    """Each file's tag names, for the formats that show them."""
    return Search(con).tags_by_file(ids)


def connect(path) -> sqlite3.Connection:
    """Open a library for searching: read only, without the ORM (luna.store.search)."""
    return search_store.connect(path)
