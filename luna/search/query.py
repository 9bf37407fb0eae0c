"""`luna find`'s filters as SQL over the library, with plain sqlite3 so that a search run
inside a shell loop does not pay for importing the ORM.

Every filter adds a condition; all of them combine with AND. Places are answered in two
steps: the bounding boxes of luna.search.geo select rows through the (latitude, longitude)
index, then the exact great-circle distance filters (and sorts) them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from luna import values
from luna.errors import BadValue, NotFound, PermissionDenied
from luna.fsnames import from_db, to_db, under
from luna.values import When

COLUMNS = (
    'id, path, filename, kind, mime_type, size_bytes, start, "end", utc_offset, latitude, '
    "longitude, altitude, width, height, content_sha, missing_since, owner_id"
)
SORTS = ("date", "-date", "name", "-name", "size", "-size", "distance")
_ORDER = {
    "date": "start IS NULL, start, path",
    "-date": "start IS NULL, start DESC, path",
    "name": "filename, path",
    "-name": "filename DESC, path",
    "size": "size_bytes, path",
    "-size": "size_bytes DESC, path",
}


@dataclass
class Query:
    after: str | When | None = None  # the --after WHEN as given, or read (luna.values.when)
    before: str | When | None = None
    on: str | When | None = None
    near: tuple[float, float] | None = None
    radius_m: float = 1000.0
    bbox: tuple[float, float, float, float] | None = None
    has_location: bool | None = None
    tags: list[str] = field(default_factory=list)
    any_tags: list[str] = field(default_factory=list)
    not_tags: list[str] = field(default_factory=list)
    untagged: bool = False
    album: str | None = None
    event: str | None = None
    kinds: list[str] = field(default_factory=list)
    mime: str | None = None
    camera: str | None = None
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


@dataclass
class Hit:
    """One file found, with what the output formats need."""

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
    distance_m: float | None = None


def _stamp(when: dt.datetime) -> str:
    return str(when)  # peewee's storage form, 'YYYY-MM-DD HH:MM:SS', compares as text


# -- the SQL -------------------------------------------------------------------------------


class _Builder:
    def __init__(self, con: sqlite3.Connection):
        self.con = con
        self.where: list[str] = []
        self.params: list = []

    def add(self, sql: str, *params) -> None:
        self.where.append(sql)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.where) if self.where else "1"


def _time(b: _Builder, q: Query) -> None:
    # A video matches when its span [start, end] overlaps the range.
    if q.on:
        on = _when(q.on, "--on")
        b.add('start < ? AND COALESCE("end", start) >= ?', _stamp(on.after), _stamp(on.moment))
    if q.after:
        b.add('COALESCE("end", start) >= ?', _stamp(_when(q.after, "--after").moment))
    if q.before:
        b.add("start < ?", _stamp(_when(q.before, "--before").moment))


def _when(value: str | When, option: str) -> When:
    return value if isinstance(value, When) else values.when(value, option)


def _place(b: _Builder, q: Query) -> None:
    from luna.search import geo

    if q.near:
        _boxes_condition(b, geo.boxes_around(q.near[0], q.near[1], q.radius_m))
    if q.bbox:
        _boxes_condition(b, geo.boxes_for_bbox(*q.bbox))
    if q.has_location is True:
        b.add("latitude IS NOT NULL")
    elif q.has_location is False:
        b.add("latitude IS NULL")


def _boxes_condition(b: _Builder, boxes) -> None:
    parts = []
    for south, west, north, east in boxes:
        parts.append("(latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ?)")
        b.params.extend([south, north, west, east])
    b.where.append("(" + " OR ".join(parts) + ")")


def _tag_ids(con, name: str) -> list[int]:
    from luna.names import tag_key

    key = tag_key(name)
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [
        r[0]
        for r in con.execute(
            "SELECT id FROM tag WHERE key = ? OR key LIKE ? ESCAPE '\\'", (key, escaped + "/%")
        )
    ]


def _has_tags_sql(ids: list[int]) -> str:
    # "id IN (files with the tag)" lets SQLite start from the tag's (usually few) files;
    # an EXISTS per file would visit every file of the library first (5x slower at 1M).
    if not ids:
        return "0"
    return (
        "id IN (SELECT file_id FROM file_tag WHERE tag_id IN "
        f"({', '.join(str(int(i)) for i in ids)}))"
    )


def _organization(b: _Builder, q: Query) -> None:
    for name in q.tags:
        b.add(_has_tags_sql(_tag_ids(b.con, name)))
    if q.any_tags:
        ids = [i for name in q.any_tags for i in _tag_ids(b.con, name)]
        b.add(_has_tags_sql(ids))
    for name in q.not_tags:
        b.add("NOT " + _has_tags_sql(_tag_ids(b.con, name)))
    if q.untagged:
        b.add("id NOT IN (SELECT file_id FROM file_tag)")
    if q.album:
        album_id = _album_id(b.con, q.album, q.acting_user)
        b.add(
            "EXISTS (SELECT 1 FROM album_file af WHERE af.file_id = file.id AND af.album_id = ?)",
            album_id,
        )
    if q.event:
        event_id = _event_id(b.con, q.event)
        b.add(
            "EXISTS (SELECT 1 FROM event_file ef WHERE ef.file_id = file.id AND ef.event_id = ?)",
            event_id,
        )


def _album_id(con, name: str, acting_user: str | None) -> int:
    """An album the acting user may see (owner, editor or viewer)."""
    from luna.names import slugify

    row = con.execute(
        "SELECT a.id, a.name, u.name FROM album a LEFT JOIN user u ON u.id = a.owner_id "
        "WHERE a.slug = ?",
        (slugify(name),),
    ).fetchone()
    if row is None:
        raise NotFound(f"--album: no album {name!r}")
    album_id, album_name, owner = row
    if acting_user and acting_user != owner:
        shared = con.execute(
            "SELECT 1 FROM user u WHERE u.name = ? AND (u.id IN (SELECT user_id FROM "
            "album_editor WHERE album_id = ?) OR u.id IN (SELECT user_id FROM album_viewer "
            "WHERE album_id = ?))",
            (acting_user, album_id, album_id),
        ).fetchone()
        if not shared:
            raise PermissionDenied(
                f"only {owner} (the owner), its editors or viewers may list album "
                f"{album_name!r}; you are {acting_user}"
            )
    return album_id


def _event_id(con, name: str) -> int:
    from luna.names import slugify

    row = con.execute("SELECT id FROM event WHERE slug = ?", (slugify(name),)).fetchone()
    if row is None:
        raise NotFound(f"--event: no event {name!r}")
    return row[0]


def _file(b: _Builder, q: Query) -> None:
    if q.kinds:
        b.add(f"kind IN ({', '.join('?' for _ in q.kinds)})", *q.kinds)
    if q.mime:
        if q.mime.endswith("/"):
            b.add("mime_type LIKE ? ESCAPE '\\'", q.mime.replace("%", "\\%") + "%")
        else:
            b.add("mime_type = ?", q.mime.lower())
    if q.camera:
        b.add(
            "instr(lower(COALESCE(json_extract(metadata, '$.make'), '') || ' ' || "
            "COALESCE(json_extract(metadata, '$.model'), '')), ?) > 0",
            q.camera.lower(),
        )
    if q.name:
        # Any case, as --camera and --tag: IMG_*.HEIC and *.heic find the same files. lower()
        # folds ASCII letters only and leaves other bytes as they are, so a name stored as
        # bytes (not UTF-8) matches a pattern on its bytes; a plain GLOB never matches one.
        b.add("lower(filename) GLOB lower(?)", to_db(q.name))
    if q.path:
        below, params = under("path", os.path.abspath(os.path.expanduser(q.path)))
        b.add(below, *params)
    if q.min_size is not None:
        b.add("size_bytes >= ?", q.min_size)
    if q.max_size is not None:
        b.add("size_bytes <= ?", q.max_size)
    if q.sha:
        if not re.fullmatch(r"[0-9a-fA-F]{1,64}", q.sha):
            raise BadValue(f"--sha: {q.sha!r} is not a hexadecimal SHA-256 prefix")
        b.add("content_sha >= ? AND content_sha < ?", q.sha.lower(), q.sha.lower() + "g")
    if q.user:
        b.add("owner_id = (SELECT id FROM user WHERE name = ?)", q.user)
    # Missing files are left out unless asked for: a script would fail on their paths.
    # "+" keeps SQLite from answering "IS NULL" through the missing_since index, which
    # matches nearly every row: without statistics (no ANALYZE) it would otherwise pick
    # that index over the place or date one and walk the whole library.
    b.add("missing_since IS NOT NULL" if q.missing else "+missing_since IS NULL")
    if q.duplicates:
        b.add(
            "content_sha IN (SELECT content_sha FROM file GROUP BY content_sha HAVING COUNT(*) > 1)"
        )


def build(con: sqlite3.Connection, q: Query) -> tuple[str, list]:
    """The WHERE clause and its parameters for a query."""
    if q.sort == "distance" and not q.near:
        raise BadValue("--sort distance needs --near")
    if q.sort not in SORTS:
        raise BadValue(f"--sort: {q.sort!r} is not one of {', '.join(SORTS)}")
    b = _Builder(con)
    _time(b, q)
    _place(b, q)
    _organization(b, q)
    _file(b, q)
    return b.sql(), b.params


def _source(q: Query) -> str:
    """The table, with the covering index forced when tags drive the search: SQLite would
    otherwise take the unique id index and read every row's JSON for its date and path."""
    if (q.tags or q.any_tags) and not (q.near or q.bbox):
        return "file INDEXED BY file_find"
    return "file"


def find_paths(con: sqlite3.Connection, q: Query) -> list[str]:
    """Only the paths: what `--paths` and `-0` print, without building a record per file."""
    if q.near is not None:
        return [hit.path for hit in find(con, q)]
    where, params = build(con, q)
    sql = f"SELECT path FROM {_source(q)} WHERE {where} ORDER BY {_ORDER[q.sort]}"
    if q.limit is not None or q.offset:
        sql += f" LIMIT {-1 if q.limit is None else int(q.limit)} OFFSET {int(q.offset)}"
    return [from_db(row[0]) for row in con.execute(sql, params)]


def find(con: sqlite3.Connection, q: Query) -> list[Hit]:
    """The files matching `q`, sorted, limited."""
    where, params = build(con, q)
    by_distance = q.near is not None
    sql = f"SELECT {COLUMNS} FROM {_source(q)} WHERE {where}"
    if not by_distance or q.sort != "distance":
        sql += f" ORDER BY {_ORDER.get(q.sort, _ORDER['date'])}"
    if not by_distance and q.limit is not None:
        sql += f" LIMIT {int(q.limit)} OFFSET {int(q.offset)}"
    elif not by_distance and q.offset:
        sql += f" LIMIT -1 OFFSET {int(q.offset)}"
    hits = [Hit(r[0], from_db(r[1]), from_db(r[2]), *r[3:]) for r in con.execute(sql, params)]
    if by_distance:
        hits = _within(hits, q)
    return hits


def _within(hits: list[Hit], q: Query) -> list[Hit]:
    """The exact great-circle filter after the boxes' coarse one."""
    from luna.search.geo import distance_m

    lat, lon = q.near
    kept = []
    for hit in hits:
        hit.distance_m = distance_m(lat, lon, hit.latitude, hit.longitude)
        if hit.distance_m <= q.radius_m:
            kept.append(hit)
    if q.sort == "distance":
        kept.sort(key=lambda h: (h.distance_m, h.path))
    end = None if q.limit is None else q.offset + q.limit
    return kept[q.offset : end]


def count(con: sqlite3.Connection, q: Query) -> int:
    if q.near is not None:
        return len(find(con, q))
    if q == Query(sort=q.sort, acting_user=q.acting_user):  # no filter: all present files
        total = con.execute("SELECT COUNT(*) FROM file").fetchone()[0]
        total -= con.execute(
            "SELECT COUNT(*) FROM file WHERE missing_since IS NOT NULL"
        ).fetchone()[0]
        return total
    where, params = build(con, q)
    sql = f"SELECT COUNT(*) FROM file WHERE {where}"
    total = con.execute(sql, params).fetchone()[0]
    total = max(0, total - q.offset)
    return total if q.limit is None else min(total, q.limit)


def tags_by_file(con: sqlite3.Connection, ids: list[str]) -> dict[str, list[str]]:
    """Each file's tag names, for the formats that show them."""
    from luna.store.organization import names_by_file

    return names_by_file(con, ids, "tags")


def connect(path) -> sqlite3.Connection:
    """Open a library for searching: read only, without the ORM. A file that is not a
    luna library this luna can use is refused unchanged; one that needs an upgrade goes
    through luna.store.db first, which upgrades it or says why it cannot."""
    from luna.config import SCHEMA_VERSION
    from luna.store import libfile

    if not os.path.isfile(path):
        raise NotFound(f"no library at {path} (run `luna import PATH` to create it)")
    if libfile.identify(path, SCHEMA_VERSION) < SCHEMA_VERSION:
        from luna.store import db

        db.upgrade_to_read(Path(path))
    return libfile.connect_for_reading(path)
