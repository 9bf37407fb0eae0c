"""Recording many files at once, from records that already say what each file is.

For tools, migrations from other photo managers and benchmarks: the importer reads every
file it records, which a migration has no need to do (the other manager knows the dates,
places and tags) and a benchmark cannot afford for a million files. Rows are written the
way the importer writes them (same columns, same text for dates and JSON; a test compares
the two), through a few prepared statements run with `executemany`, one transaction per
batch. Tag, user, album and event names are looked up (or created) once per call.

Used from Python::

    from luna import Library
    from luna.store.bulk import bulk_insert_files
    with Library.open("library.db") as lib:
        bulk_insert_files(lib, [{"path": "/photos/a.jpg", "tags": ["beach"]}])
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice

from luna.errors import BadRecord, LibraryError
from luna.fsnames import from_db, to_db
from luna.mtimes import ns_from_seconds
from luna.names import slugify, tidy_name
from luna.store import dialect
from luna.store.models import utcnow
from luna.store.orm import peewee
from luna.store.rows import ROW_COLUMN_NAMES, ROW_COLUMNS, file_values, time_text

# The columns of a file row, in the order `_file_row` builds its values: the id and
# creation time, then the columns the importer writes (luna.store.writes).
FILE_COLUMNS = ("id", "created", *ROW_COLUMN_NAMES)
_START, _END, _OWNER = (FILE_COLUMNS.index(c) for c in ("start", "end", "owner_id"))
_QUOTED = ", ".join(f'"{c}"' for c in FILE_COLUMNS)  # "end" is an SQL keyword
_INSERT_FILE = f"INSERT INTO file ({_QUOTED}) VALUES ({', '.join('?' for _ in FILE_COLUMNS)})"
# DO NOTHING: a record may name one tag twice ("Beach", "beach"), which is one link.
_INSERT_TAG = (
    "INSERT INTO file_tag (file_id, tag_id, source) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)
_INSERT_ALBUM = (
    "INSERT INTO album_file (album_id, file_id, added) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)
_INSERT_EVENT = "INSERT INTO event_file (event_id, file_id) VALUES (?, ?) ON CONFLICT DO NOTHING"

TAG_SOURCES = ("user", "metadata")
_PATHS_PER_QUERY = 500  # well under SQLite's limit on bound variables
# A bigger page cache while inserting: rows land at random places in a dozen indexes
# (ids, hashes, sizes, places), and a page evicted mid-batch is written to the WAL twice.
# Pages are only taken as they are read, so a small insert does not use it all.
_BULK_CACHE_KB = 256_000


def bulk_insert_files(
    lib, records: Iterable[dict], *, batch: int = 5000, tag_source: str = "user"
) -> int:
    """Insert many file records at once (for tools, migrations from other managers and
    benchmarks). Returns how many were inserted.

    Each record is a dict; only `path` (absolute) is required:

        path, size_bytes (0), mtime_ns (0; or mtime, a float of seconds), content_sha (""),
        kind ("photo"; or "video", "sidecar"), mime_type (""), start and end (naive local
        datetimes, or aware ones whose offset becomes utc_offset, or ISO text), utc_offset
        (minutes), latitude, longitude, altitude, width, height, metadata and
        processor_metadata (dicts, stored as JSON), owner (a user name, created if new),
        tags (names), albums (names; a new album is owned by the record's owner), events
        (names; a new event is dated by the files this call links to it, so the first
        record naming it needs a start).

    Tags are linked with `tag_source`: "user" tags survive re-imports, "metadata" tags are
    replaced by the file's keywords when an import reads the file again.

    One transaction per `batch` records: a bad record raises BadRecord and leaves the
    batches before it in place. Paths already in the library are skipped, as are repeats.
    For a large load, pass a larger batch: each commit rewrites every index page its batch
    touched, and file ids land all over the id-keyed indexes (1,000,000 files take about
    2.5x longer in batches of 5,000 than in batches of 100,000).

    Album roles are not checked: like the library file itself, this is a door for tools
    and migrations, not for users acting on shared albums.
    """
    if tag_source not in TAG_SOURCES:
        raise ValueError(f"tag_source must be one of {TAG_SOURCES}, not {tag_source!r}")
    names = _Names(lib)
    inserted = 0
    with _big_cache(lib.db):
        for chunk in _batches(records, batch):
            try:
                with lib.db.atomic("IMMEDIATE"):
                    inserted += _insert_batch(lib.db.cursor(), chunk, names, tag_source)
            except (sqlite3.OperationalError, peewee.OperationalError) as exc:
                # Disk full, or another process held the library longer than the busy
                # timeout. This batch rolled back; earlier ones are committed.
                raise LibraryError(
                    f"cannot write to the library {lib.path}: {exc}; the {inserted} files "
                    "recorded before stay"
                ) from None
    return inserted


def _batches(records: Iterable[dict], size: int) -> Iterator[list[dict]]:
    records = iter(records)
    while chunk := list(islice(records, max(1, size))):
        yield chunk


@contextmanager
def _big_cache(db):
    """A bigger page cache for this connection during the call; the old one after. (SQLite's
    own: a server manages its memory itself.)"""
    if getattr(db, "backend", "sqlite") != "sqlite":
        yield
        return
    before = db.execute_sql(dialect.READ_CACHE_SIZE).fetchone()[0]
    db.execute_sql(dialect.set_cache_size(-_BULK_CACHE_KB))  # negative: in KB
    try:
        yield
    finally:
        db.execute_sql(dialect.set_cache_size(before))


def _insert_batch(cursor, chunk: list[dict], names: _Names, tag_source: str) -> int:
    fresh = _new_records(cursor, chunk)
    now = str(time_text(utcnow()))
    # Random uuid4s, handed out in sorted order: each index keyed by file id (the primary
    # key, and file_id in the link tables) then takes the batch's rows in key order, which
    # halves the cost of writing the links.
    ids = sorted(uuid.uuid4().hex for _ in fresh)
    rows, tags, albums, events = [], [], [], []
    tag_ids = names.tags
    for file_id, record in zip(ids, fresh, strict=True):
        row = _file_row(record, file_id, now, names.user(record.get("owner")))
        rows.append(row)
        for name in _listed(record, "tags"):
            tags.append((file_id, tag_ids.get(name) or names.tag(name), tag_source))
        for name in _listed(record, "albums"):
            albums.append((names.album(name, row[_OWNER]), file_id, now))
        for name in _listed(record, "events"):
            events.append((names.event(name, row[_START], row[_END], record["path"]), file_id))
    cursor.executemany(_INSERT_FILE, rows)
    cursor.executemany(_INSERT_TAG, tags)
    cursor.executemany(_INSERT_ALBUM, albums)
    cursor.executemany(_INSERT_EVENT, events)
    names.store_event_spans(cursor)
    return len(rows)


def _listed(record: dict, key: str):
    names = record.get(key)
    if not names:
        return ()
    if isinstance(names, str):  # would otherwise be read as one name per letter
        raise BadRecord(f"{record['path']}: {key} must be a list of names, not {names!r}")
    return names


def _new_records(cursor, chunk: list[dict]) -> list[dict]:
    """The records whose path is neither in the library nor earlier in `chunk`."""
    by_path: dict[str, dict] = {}
    for record in chunk:
        path = record.get("path")
        if not isinstance(path, str) or not os.path.isabs(path):
            raise BadRecord(f"a record's path must be absolute, not {path!r}")
        by_path.setdefault(path, record)
    # Earlier batches are committed by now, so this also catches repeats across batches.
    paths = list(by_path)
    for i in range(0, len(paths), _PATHS_PER_QUERY):
        part = [to_db(p) for p in paths[i : i + _PATHS_PER_QUERY]]
        marks = ", ".join("?" for _ in part)
        for (path,) in cursor.execute(f"SELECT path FROM file WHERE path IN ({marks})", part):
            del by_path[from_db(path)]
    return list(by_path.values())


def _mtime_ns(ns, seconds) -> int:
    if ns is not None:
        return int(ns)
    return 0 if seconds is None else ns_from_seconds(float(seconds))


def _file_row(record: dict, file_id: str, now: str, owner_id: int | None) -> tuple:
    """The values of FILE_COLUMNS for one record, through the importer's codec."""
    get = record.get
    path = record["path"]
    start, end, offset = _dates(get("start"), get("end"), get("utc_offset"), path)
    row = {
        "path": path,
        "filename": os.path.basename(path),
        "kind": get("kind") or "photo",
        "mime_type": get("mime_type"),
        "size_bytes": get("size_bytes"),
        "mtime_ns": _mtime_ns(get("mtime_ns"), get("mtime")),
        "content_sha": get("content_sha"),
        "start": start,
        "end": end,
        "utc_offset": offset,
        "latitude": get("latitude"),
        "longitude": get("longitude"),
        "altitude": get("altitude"),
        "width": get("width"),
        "height": get("height"),
        "metadata": get("metadata"),
        "processor_metadata": get("processor_metadata"),
        "owner": owner_id,
        "missing_since": None,
        "modified": None,  # now, below: already text
        "verified_at": None,  # nobody read these files
    }
    values = file_values(row)
    values[_MODIFIED] = now
    return (file_id, now, *values)


_MODIFIED = ROW_COLUMNS.index("modified")


def _dates(start, end, offset, path: str):
    """Start and end as naive wall-clock datetimes, and the UTC offset."""
    if end is None and start.__class__ is dt.datetime and start.tzinfo is None:
        return start, None, offset  # the common case, a photo: one naive time
    start, offset = _wall_clock(start, offset, path)
    end, offset = _wall_clock(end, offset, path)
    return start, end, offset


def _wall_clock(value, offset: int | None, path: str) -> tuple[dt.datetime | None, int | None]:
    """A date as a naive local wall-clock datetime and the UTC offset, taken from an aware
    datetime when the record gives none."""
    if value is None:
        return None, offset
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise BadRecord(f"{path}: {value!r} is not an ISO date") from None
    elif not isinstance(value, dt.datetime):
        raise BadRecord(f"{path}: a date must be a datetime or ISO text, not {value!r}")
    if value.tzinfo is not None:
        if offset is None:
            offset = int(value.utcoffset().total_seconds() // 60)
        value = value.replace(tzinfo=None)
    return value, offset


class _Names:
    """Ids of the users, tags, albums and events that records name, each looked up (or
    created) once per call, and the spans of the events this call creates."""

    def __init__(self, lib):
        self.lib = lib
        self.users: dict[str, int] = {}
        self.tags: dict[str, int] = {}
        self.albums: dict[str, int] = {}
        self.events: dict[str, int] = {}
        self.new_spans: dict[int, list[str]] = {}  # event id -> [first, last] file time
        self.stored_spans: dict[int, tuple[str, str]] = {}

    def user(self, name: str | None) -> int | None:
        if name is None:
            return None
        if name not in self.users:
            self.users[name] = self.lib.user_id(tidy_name(name, "user"), create=True)
        return self.users[name]

    def tag(self, name: str) -> int:
        if name not in self.tags:
            self.tags[name] = self.lib.tag_id(name)  # raises BadName for "a//b"
        return self.tags[name]

    def album(self, name: str, owner_id: int | None) -> int:
        if name not in self.albums:
            self.albums[name] = self._album_id(tidy_name(name, "album"), owner_id)
        return self.albums[name]

    def _album_id(self, name: str, owner_id: int | None) -> int:
        slug = slugify(name)
        found = self.lib.db.execute_sql("SELECT id FROM album WHERE slug = ?", (slug,)).fetchone()
        if found:
            return found[0]
        now = time_text(utcnow())
        return self.lib.db.execute_sql(
            "INSERT INTO album (name, slug, description, owner_id, created, modified) "
            "VALUES (?, ?, '', ?, ?, ?) RETURNING id",
            (name, slug, owner_id, now, now),
        ).fetchone()[0]

    def event(self, name: str, start: str | None, end: str | None, path: str) -> int:
        if name not in self.events:
            self.events[name] = self._event_id(tidy_name(name, "event"), start, path)
        event_id = self.events[name]
        span = self.new_spans.get(event_id)
        if span is not None and start is not None:
            span[0] = min(span[0], start)
            span[1] = max(span[1], end or start)
        return event_id

    def _event_id(self, name: str, start: str | None, path: str) -> int:
        slug = slugify(name)
        found = self.lib.db.execute_sql("SELECT id FROM event WHERE slug = ?", (slug,)).fetchone()
        if found:
            return found[0]
        if start is None:
            raise BadRecord(f"{path}: event {name!r} is new, and a record without a start "
                            "cannot date it")  # fmt: skip
        event_id = self.lib.db.execute_sql(
            'INSERT INTO event (name, slug, start, "end", utc_offset, description, created) '
            "VALUES (?, ?, ?, NULL, NULL, '', ?) RETURNING id",
            (name, slug, start, time_text(utcnow())),
        ).fetchone()[0]
        self.new_spans[event_id] = [start, start]
        return event_id

    def store_event_spans(self, cursor) -> None:
        """Stretch the events this call created over their files: one file's event is a
        point (its minute), several files' event spans the first to the last."""
        for event_id, (first, last) in self.new_spans.items():
            if self.stored_spans.get(event_id) == (first, last):
                continue
            cursor.execute(
                'UPDATE event SET start = ?, "end" = ? WHERE id = ?',
                (first, None if last == first else last, event_id),
            )
            self.stored_spans[event_id] = (first, last)
