"""The SQL of `luna find`: a search's filters as one WHERE clause over the `file` table,
run on a plain sqlite3 connection so that a search inside a shell loop does not pay for
importing the ORM (luna.search.query holds the search itself and its answers).

Every filter adds a condition; all of them combine with AND. A place arrives as bounding
boxes (luna.search.geo), which select rows through the (latitude, longitude) index; the
exact distance is the query layer's second step.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from luna import values
from luna.errors import BadValue, NotFound, PermissionDenied
from luna.fsnames import from_db, to_db, under
from luna.readable import RECORD_KEYS
from luna.store.dialect import (
    glob,
    indexed_by,
    json_field,
    json_number,
    json_values,
    position,
    unindexed,
)
from luna.values import When

if TYPE_CHECKING:
    from luna.search.query import Query

Box = tuple[float, float, float, float]  # south, west, north, east

COLUMNS = (
    'id, path, filename, kind, mime_type, size_bytes, start, "end", utc_offset, latitude, '
    "longitude, altitude, width, height, content_sha, missing_since, owner_id, "
    f"{json_values('metadata', RECORD_KEYS)}, {json_field('processor_metadata', 'date_source')}, "
    "rating, label, flag, title, description, city, region, country, country_code, place_source"
)

# What people said in luna (luna.store.marks) wins over what the file says. A file's XMP
# rating of -1 is Lightroom's and darktable's "rejected": a flag, not a number of stars.
_FILE_RATING = json_number("metadata", "rating")
RATING = f"COALESCE(rating, CASE WHEN {_FILE_RATING} >= 0 THEN {_FILE_RATING} END)"
FLAG = f"COALESCE(flag, CASE WHEN {_FILE_RATING} = -1 THEN -1 END)"
LABEL = f"NULLIF(lower(COALESCE(label, {json_field('metadata', 'label')}, '')), '')"
TITLE = f"COALESCE(title, {json_field('metadata', 'title')}, '')"
DESCRIPTION = f"COALESCE(description, {json_field('metadata', 'description')}, '')"

ORDER = {
    "date": "start IS NULL, start, path",
    "-date": "start IS NULL, start DESC, path",
    "name": "filename, path",
    "-name": "filename DESC, path",
    "size": "size_bytes, path",
    "-size": "size_bytes DESC, path",
    # Unrated files last either way, then by date.
    "rating": f"{RATING} IS NULL, {RATING}, start IS NULL, start, path",
    "-rating": f"{RATING} IS NULL, {RATING} DESC, start IS NULL, start, path",
}


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


class Search:
    """The rows a search finds, on one connection."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def rows(self, q: Query, boxes: list[Box], *, limit: bool = True) -> list[tuple]:
        """Rows of COLUMNS, in the search's order; limited here unless limit=False (a
        search by distance is cut after its exact filter)."""
        where, params = self._where(q, boxes)
        sql = f"SELECT {COLUMNS} FROM {_source(q)} WHERE {where}"
        if q.sort in ORDER:
            sql += f" ORDER BY {ORDER[q.sort]}"
        if limit:
            sql += _limit(q)
        return [(r[0], from_db(r[1]), from_db(r[2]), *r[3:]) for r in self.con.execute(sql, params)]

    def paths(self, q: Query, boxes: list[Box]) -> list[str]:
        """Only the paths, without a record per file (`--paths`, `-0`)."""
        where, params = self._where(q, boxes)
        sql = f"SELECT path FROM {_source(q)} WHERE {where} ORDER BY {ORDER[q.sort]}{_limit(q)}"
        return [from_db(row[0]) for row in self.con.execute(sql, params)]

    def places(self, q: Query, boxes: list[Box]) -> list[tuple]:
        """(path, latitude, longitude) of each row, in the search's order and not limited:
        what a search by distance filters further when it wants only the paths."""
        where, params = self._where(q, boxes)
        sql = f"SELECT path, latitude, longitude FROM {_source(q)} WHERE {where}"
        if q.sort in ORDER:
            sql += f" ORDER BY {ORDER[q.sort]}"
        return [(from_db(p), lat, lon) for p, lat, lon in self.con.execute(sql, params)]

    def count(self, q: Query, boxes: list[Box], *, filtered: bool) -> int:
        """How many files the search finds before its offset and limit."""
        if not filtered:  # every present file: two index counts, not a walk of the table
            total = self.con.execute("SELECT COUNT(*) FROM file").fetchone()[0]
            return (
                total
                - self.con.execute(
                    "SELECT COUNT(*) FROM file WHERE missing_since IS NOT NULL"
                ).fetchone()[0]
            )
        where, params = self._where(q, boxes)
        return self.con.execute(f"SELECT COUNT(*) FROM file WHERE {where}", params).fetchone()[0]

    def places_pending(self) -> int:
        """How many files' places are not worked out yet (luna.ops.places)."""
        (pending,) = self.con.execute(
            "SELECT COUNT(*) FROM file WHERE place_source IS NULL"
        ).fetchone()
        return pending

    def tags_by_file(self, ids: list[str]) -> dict[str, list[str]]:
        """Each file's tag names, for the formats that show them."""
        from luna.store.organization import names_by_file

        return names_by_file(self.con, ids, "tags")

    def _where(self, q: Query, boxes: list[Box]) -> tuple[str, list]:
        b = _Conditions(self.con)
        _time(b, q)
        _place(b, q, boxes)
        _organization(b, q)
        _file(b, q)
        _shot(b, q)
        return b.sql(), b.params


def _limit(q: Query) -> str:
    if q.limit is None and not q.offset:
        return ""
    return f" LIMIT {-1 if q.limit is None else int(q.limit)} OFFSET {int(q.offset)}"


def _source(q: Query) -> str:
    """The table, with the covering index forced when tags drive the search: SQLite would
    otherwise take the unique id index and read every row's JSON for its date and path."""
    if (q.tags or q.any_tags) and not (q.near or q.bbox):
        return indexed_by("file", "file_find")
    return "file"


class _Conditions:
    def __init__(self, con: sqlite3.Connection):
        self.con = con
        self.where: list[str] = []
        self.params: list = []

    def add(self, sql: str, *params) -> None:
        self.where.append(sql)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.where) if self.where else "TRUE"


def _stamp(when: dt.datetime) -> str:
    return str(when)  # peewee's storage form, 'YYYY-MM-DD HH:MM:SS', compares as text


def _time(b: _Conditions, q: Query) -> None:
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


def _place(b: _Conditions, q: Query, boxes: list[Box]) -> None:
    if boxes:
        parts = []
        for south, west, north, east in boxes:
            parts.append("(latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ?)")
            b.params.extend([south, north, west, east])
        b.where.append("(" + " OR ".join(parts) + ")")
    if q.place:
        b.add(*_named_place(b.con, q.place, ("city", "region", "country")))
    if q.country:
        b.add(*_named_place(b.con, q.country, ("country", "country_code")))
    if q.has_location is True:
        b.add("latitude IS NOT NULL")
    elif q.has_location is False:
        b.add("latitude IS NULL")


def _named_place(con, text: str, columns: tuple[str, ...]) -> tuple:
    """A condition on the place columns for a name as people type it: compared with each
    city, region and country name in the library (luna.names.place_key: any case, without
    accents), and with the ISO codes as they are, any case. Answered from the place index
    (names_in), then by the names it matched."""
    from luna.names import place_key
    from luna.store.places import NAME_COLUMNS, names_in

    key, code = place_key(text), text.strip().upper()
    matched: dict[str, set[str]] = {column: set() for column in columns}
    for row in names_in(con):
        for column, name in zip(NAME_COLUMNS, row, strict=True):
            if column not in matched or not name:
                continue
            same = name.upper() == code if column == "country_code" else place_key(name) == key
            if same:
                matched[column].add(name)
    parts, params = [], []
    for column, names in matched.items():
        if names:
            parts.append(f"{column} IN ({', '.join('?' for _ in names)})")
            params += sorted(names)
    return ("(" + " OR ".join(parts) + ")" if parts else "FALSE"), *params


def _tag_ids(con, name: str) -> list[int]:
    from luna.names import tag_key
    from luna.store.sql import like_prefix

    key = tag_key(name)
    return [
        r[0]
        for r in con.execute(
            "SELECT id FROM tag WHERE key = ? OR key LIKE ? ESCAPE '\\'",
            (key, like_prefix(key + "/")),
        )
    ]


def _has_tags_sql(ids: list[int]) -> str:
    # "id IN (files with the tag)" lets SQLite start from the tag's (usually few) files;
    # an EXISTS per file would visit every file of the library first (5x slower at 1M).
    if not ids:
        return "FALSE"
    return (
        "id IN (SELECT file_id FROM file_tag WHERE tag_id IN "
        f"({', '.join(str(int(i)) for i in ids)}))"
    )


def _organization(b: _Conditions, q: Query) -> None:
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
        'SELECT a.id, a.name, u.name FROM album a LEFT JOIN "user" u ON u.id = a.owner_id '
        "WHERE a.slug = ?",
        (slugify(name),),
    ).fetchone()
    if row is None:
        raise NotFound(f"--album: no album {name!r}")
    album_id, album_name, owner = row
    if acting_user and acting_user != owner:
        shared = con.execute(
            'SELECT 1 FROM "user" u WHERE u.name = ? AND (u.id IN (SELECT user_id FROM '
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


def _file(b: _Conditions, q: Query) -> None:
    if q.kinds:
        b.add(f"kind IN ({', '.join('?' for _ in q.kinds)})", *q.kinds)
    if q.mime:
        if q.mime.endswith("/"):
            b.add("mime_type LIKE ? ESCAPE '\\'", q.mime.replace("%", "\\%") + "%")
        else:
            b.add("mime_type = ?", q.mime.lower())
    if q.camera:
        camera = (
            f"lower(COALESCE({json_field('metadata', 'make')}, '') || ' ' || "
            f"COALESCE({json_field('metadata', 'model')}, ''))"
        )
        b.add(f"{position('?', camera)} > 0", q.camera.lower())
    if q.name:
        # Any case, as --camera and --tag: IMG_*.HEIC and *.heic find the same files. lower()
        # folds ASCII letters only and leaves other bytes as they are, so a name stored as
        # bytes (not UTF-8) matches a pattern on its bytes; a plain GLOB never matches one.
        b.add(glob("lower(filename)", "lower(?)"), to_db(q.name))
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
        b.add('owner_id = (SELECT id FROM "user" WHERE name = ?)', q.user)
    # Missing files are left out unless asked for: a script would fail on their paths. The
    # hint keeps SQLite from answering "IS NULL" through the missing_since index, which
    # matches nearly every row: without statistics (no ANALYZE) it would otherwise pick
    # that index over the place or date one and walk the whole library.
    b.add("missing_since IS NOT NULL" if q.missing else f"{unindexed('missing_since')} IS NULL")
    if q.duplicates:
        b.add(
            "content_sha IN (SELECT content_sha FROM file GROUP BY content_sha HAVING COUNT(*) > 1)"
        )


# -- how the picture was taken, and what it says of itself ----------------------------------

# The searched focal length: the 35 mm equivalent where the camera gave it, so that 24-70
# means the same framing on a phone (4.2 mm, 26 mm equivalent) and on a full-frame body;
# else the lens's own focal length (a full-frame camera often writes only that).
FOCAL = (
    f"COALESCE({json_number('metadata', 'focal_length_35mm')}, "
    f"{json_number('metadata', 'focal_length')})"
)
DATE_SOURCE = f"lower({json_field('processor_metadata', 'date_source')})"
_TEXT = f"lower({TITLE} || ' ' || {DESCRIPTION})"


def _shot(b: _Conditions, q: Query) -> None:
    if q.lens:
        lens = f"lower(COALESCE({json_field('metadata', 'lens')}, ''))"
        b.add(f"{position('?', lens)} > 0", q.lens.lower())
    for value, bounds in (
        (json_number("metadata", "iso"), q.iso),
        (FOCAL, q.focal),
        (json_number("metadata", "f_number"), q.aperture),
        (RATING, q.rating),
        (json_number("metadata", "duration_s"), q.duration),
    ):
        if bounds is not None:
            _within_range(b, value, bounds)
    _marks(b, q)
    if q.date_source:
        _date_source(b, q.date_source)
    if q.location_source:
        _location_source(b, q.location_source)
    for word in q.text or ():
        # Keywords become tags on import: a word is looked for in the file's tags (their
        # case-folded keys) as well as in its title and description.
        b.add(
            f"({position('?', _TEXT)} > 0 OR id IN (SELECT file_id FROM file_tag WHERE "
            f"tag_id IN (SELECT id FROM tag WHERE {position('?', 'key')} > 0)))",
            word.lower(),
            word.casefold(),
        )


def _marks(b: _Conditions, q: Query) -> None:
    """--unrated, --label, --picked, --rejected."""
    if q.unrated:
        b.add(f"COALESCE({RATING}, 0) = 0")
    if q.label == "none":
        b.add(f"{LABEL} IS NULL")
    elif q.label:
        b.add(f"{LABEL} = ?", q.label)
    if q.picked:
        b.add(f"{FLAG} = 1")
    if q.rejected:
        b.add(f"{FLAG} = -1")


def _within_range(b: _Conditions, value: str, bounds) -> None:
    """`value` within a luna.values.Range. A bound that is not a whole number is widened by
    a hair, so that 1/60 s or f/2.8 stored as 2.8000000000000003 is still 2.8."""
    low, high = bounds
    if low is not None:
        b.add(f"{value} >= ?", low - _SLACK * abs(low))
    if high is not None:
        b.add(f"{value} <= ?", high + _SLACK * abs(high))
    if low is None and high is None:
        b.add(f"{value} IS NOT NULL")


_SLACK = 1e-9


# luna's position (luna geotag) first, else the file's own.
LOCATION_SOURCE = (
    f"lower(COALESCE(location_source, {json_field('processor_metadata', 'location_source')}))"
)


def _location_source(b: _Conditions, source: str) -> None:
    """luna.values.location_source's answer: "none", a family, or a full source."""
    if source == "none":
        b.add("latitude IS NULL")
    elif ":" in source:
        b.add(f"{LOCATION_SOURCE} = ?", source)
    else:
        b.add(f"{LOCATION_SOURCE} LIKE ? ESCAPE '\\'", source.replace("_", "\\_") + ":%")


def _date_source(b: _Conditions, source: str) -> None:
    """luna.values.date_source's answer: a family (exif), a word (guessed, mtime, none) or
    a full source name, compared without case."""
    if source in values.DATE_SOURCE_WORDS:
        names = values.DATE_SOURCE_WORDS[source]
        if not names:  # none: files without a date
            b.add(f"{DATE_SOURCE} IS NULL")
        else:
            b.add(f"{DATE_SOURCE} IN ({', '.join('?' for _ in names)})", *names)
    elif ":" in source or source == "filename":
        b.add(f"{DATE_SOURCE} = ?", source)
    else:  # a family: exif is exif:DateTimeOriginal, exif:CreateDate, exif:ModifyDate
        b.add(f"{DATE_SOURCE} LIKE ? ESCAPE '\\'", source.replace("_", "\\_") + ":%")
