"""The import's writes: a handful of prepared statements on the `file` table and its links.

The importer calls these once or more per file, thousands of times a second, so they skip
peewee's query builder (tens of microseconds a query) and use SQLite's cached prepared
statements. Values go through luna.store.rows, the codec the bulk insert shares, so rows
are stored exactly as the models store and read them.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from luna.fsnames import StoredName, from_db, is_utf8, raw, stored_form, to_db, under
from luna.store.dialect import json_field, position
from luna.store.marks import MARK_COLUMNS
from luna.store.models import utcnow
from luna.store.rows import (
    ROW_COLUMN_NAMES,
    ROW_COLUMNS,
    as_dict,
    end_after,
    file_values,
    time_text,
    time_value,
)
from luna.store.sql import chunks, marks
from luna.values import NOT_CAPTURE_DATES

_COLUMN_NAMES = [f'"{name}"' for name in ROW_COLUMN_NAMES]  # "end" is an SQL keyword

_INSERT = (
    f"INSERT INTO file (id, created, {', '.join(_COLUMN_NAMES)}) "
    f"VALUES (?, ?, {', '.join('?' for _ in ROW_COLUMNS)})"
)
# A file read again has its place worked out again (luna.ops.places): NULL is "to do".
_UPDATE = (
    f"UPDATE file SET {', '.join(f'{c} = ?' for c in _COLUMN_NAMES)}, place_source = NULL "
    "WHERE id = ?"
)


# After a file is read again: a position luna gave it (luna geotag) stays while the file has
# none of its own, and goes once it has one. (Every right-hand side sees the row as it was.)
_KEEP_SET_POSITION = (
    "UPDATE file SET latitude = COALESCE(latitude, set_latitude), "
    "longitude = CASE WHEN latitude IS NULL THEN set_longitude ELSE longitude END, "
    "altitude = CASE WHEN latitude IS NULL THEN set_altitude ELSE altitude END, "
    "set_latitude = CASE WHEN latitude IS NULL THEN set_latitude END, "
    "set_longitude = CASE WHEN latitude IS NULL THEN set_longitude END, "
    "set_altitude = CASE WHEN latitude IS NULL THEN set_altitude END, "
    "location_source = CASE WHEN latitude IS NULL THEN location_source END "
    "WHERE id = ? AND set_latitude IS NOT NULL"
)


class FileStore:
    def __init__(self, database):
        self.db = database

    def _run(self, sql: str, params=()):
        return self.db.cursor().execute(sql, params)

    # -- what the library knows before an import ---------------------------------------------
    def known_below(self, folder: str) -> dict[str, tuple[int, int, int]]:
        """path -> (size, mtime_ns, 1 if missing else 0) of every row at or below `folder`."""
        # Served from the covering index file(path, size_bytes, mtime_ns, missing_since), and
        # built in one comprehension: a re-import of 100,000 files starts with this.
        condition, params = under("path", folder)
        rows = self._run(
            "SELECT path, size_bytes, mtime_ns, missing_since IS NOT NULL FROM file "
            f"WHERE {condition}",
            params,
        )
        return {from_db(path): (size, mtime, missing) for path, size, mtime, missing in rows}

    def approximate_below(self, folder: str) -> list[str]:
        """Paths at or below `folder` of the rows whose mtime_ns was converted from schema
        4's float (luna.mtimes); none in a library made since."""
        if self._run("SELECT 1 FROM approximate_mtime LIMIT 1").fetchone() is None:
            return []
        condition, params = under("f.path", folder)
        rows = self._run(
            "SELECT f.path FROM approximate_mtime a JOIN file f ON f.id = a.file_id "
            f"WHERE {condition}",
            params,
        )
        return [from_db(path) for (path,) in rows]

    def failures_below(self, folder: str):
        """(path, size, mtime_ns, reason) of the files below `folder` an import could not
        read."""
        condition, params = under("path", folder)
        for path, size, mtime, reason in self._run(
            f"SELECT path, size_bytes, mtime_ns, reason FROM import_failure WHERE {condition}",
            params,
        ):
            yield from_db(path), size, mtime, reason

    # -- reads inside the write transaction ------------------------------------------------
    def find_by_path(self, path: str) -> tuple | None:
        """(id hex, content_sha, size, mtime_ns) of the row at `path`."""
        return self._run(
            "SELECT id, content_sha, size_bytes, mtime_ns FROM file WHERE path = ?",
            (to_db(path),),
        ).fetchone()

    def rows_at(self, paths: list[str]) -> dict[str, tuple]:
        """path -> (id hex, content_sha, size, mtime_ns) of the rows at those paths."""
        found = {}
        for chunk in chunks([to_db(p) for p in paths], 500):
            for file_id, path, sha, size, mtime in self._run(
                "SELECT id, path, content_sha, size_bytes, mtime_ns FROM file "
                f"WHERE path IN ({marks(chunk)})",
                chunk,
            ):
                found[from_db(path)] = (file_id, sha, size, mtime)
        return found

    def same_contents_elsewhere(self, shas: list[str]) -> dict[str, list[tuple]]:
        """content_sha -> (id hex, path, size, missing_since) of the rows with that content
        (the caller leaves out its own path, and other sizes: a hash collision)."""
        # Only content_sha in SQL: given "size_bytes = ?" too, SQLite may pick the size
        # index, and thousands of equal-sized RAW files would make every lookup a scan.
        found: dict[str, list[tuple]] = {}
        for chunk in chunks(sorted(set(shas)), 500):
            for file_id, path, sha, size, missing in self._run(
                "SELECT id, path, content_sha, size_bytes, missing_since FROM file "
                f"WHERE content_sha IN ({marks(chunk)})",
                chunk,
            ):
                found.setdefault(sha, []).append((file_id, from_db(path), size, missing))
        return found

    def id_at(self, path: str) -> str | None:
        """The id of the row recorded at exactly `path`."""
        row = self._run("SELECT id FROM file WHERE path = ?", (to_db(path),)).fetchone()
        return row[0] if row else None

    def owner_of(self, file_id: str) -> int | None:
        row = self._run("SELECT owner_id FROM file WHERE id = ?", (file_id,)).fetchone()
        return row[0] if row else None

    def same_content_elsewhere(self, sha: str, size: int, path: str) -> list[tuple]:
        """(id hex, path, missing_since) of rows with this content and size at another path."""
        return [
            (i, p, m)
            for i, p, s, m in self.same_contents_elsewhere([sha]).get(sha, ())
            if s == size and p != path
        ]

    # -- writes ----------------------------------------------------------------------------
    def insert(self, row: dict) -> str:
        file_id = uuid.uuid4().hex
        self.insert_many([(file_id, row)])
        return file_id

    def insert_many(self, rows: list[tuple[str, dict]]) -> None:
        """Insert rows given with their ids (hex), in one statement run for each."""
        if rows:
            created = time_text(utcnow())
            self.db.cursor().executemany(
                _INSERT, [(file_id, created, *file_values(row)) for file_id, row in rows]
            )

    def update(self, file_id: str, row: dict) -> None:
        row = self._keeping_set_date(file_id, row)
        self._run(_UPDATE, (*file_values(row), file_id))
        self._run(_KEEP_SET_POSITION, (file_id,))
        # Its mtime is exact now (luna.mtimes).
        self._run("DELETE FROM approximate_mtime WHERE file_id = ?", (file_id,))

    def _keeping_set_date(self, file_id: str, row: dict) -> dict:
        """A file read again keeps the date luna gave it (schema 9's set_start...) while it
        has no capture date of its own; once it has one, luna's goes (as positions do, by
        _KEEP_SET_POSITION)."""
        given = self._run(
            "SELECT set_start, set_utc_offset, set_date_source, set_offset_source FROM file "
            "WHERE id = ?",
            (file_id,),
        ).fetchone()
        if given is None or given[0] is None:
            return row
        processor = as_dict(row["processor_metadata"])
        if processor.get("date_source") not in (None, *NOT_CAPTURE_DATES):
            self._run(
                "UPDATE file SET set_start = NULL, set_utc_offset = NULL, "
                "set_date_source = NULL, set_offset_source = NULL WHERE id = ?",
                (file_id,),
            )
            return row
        start, offset, date_source, offset_source = given
        start = time_value(start)
        processor.update(date_source=date_source, offset_source=offset_source)
        return {**row, "start": start, "end": end_after(start, row["metadata"]),
                "utc_offset": offset, "processor_metadata": processor}  # fmt: skip

    def record_exact_mtimes(self, mtimes: dict[str, int]) -> None:
        """path -> mtime_ns of files found unchanged at their pre-schema-5 precision."""
        self.db.cursor().executemany(
            "UPDATE file SET mtime_ns = ? WHERE path = ?",
            [(ns, to_db(path)) for path, ns in mtimes.items()],
        )
        for chunk in chunks([to_db(p) for p in mtimes], 500):
            self._run(
                "DELETE FROM approximate_mtime WHERE file_id IN "
                f"(SELECT id FROM file WHERE path IN ({marks(chunk)}))",
                chunk,
            )

    def move_row(self, file_id: str, new_path: str) -> None:
        """The file of row `file_id` now lives at `new_path`; everything else stays."""
        self._run(
            "UPDATE file SET path = ?, filename = ?, missing_since = NULL WHERE id = ?",
            (to_db(new_path), to_db(os.path.basename(new_path)), file_id),
        )

    def remember_content(self, file_id: str, sha: str, size: int, reason: str) -> None:
        """Keep the hash a file had, before its row takes a new one."""
        self._run(
            "INSERT INTO content_history (file_id, content_sha, size_bytes, replaced_at, reason) "
            "VALUES (?, ?, ?, ?, ?)",
            (file_id, sha, size, time_text(utcnow()), reason),
        )

    def set_metadata_tags(self, file_id: str, tag_ids: set[int], had_any: bool) -> None:
        """Tags that come from the file follow the file; tags added by hand stay."""
        table = "file_tag"
        if had_any:
            marks = ", ".join("?" for _ in tag_ids)
            keep = f" AND tag_id NOT IN ({marks})" if tag_ids else ""
            self._run(
                f"DELETE FROM {table} WHERE file_id = ? AND source = 'metadata'{keep}",
                (file_id, *tag_ids),
            )
        if tag_ids:
            self.db.cursor().executemany(
                f"INSERT INTO {table} (file_id, tag_id, source) "
                "VALUES (?, ?, 'metadata') ON CONFLICT DO NOTHING",
                [(file_id, t) for t in tag_ids],
            )

    def record_failure(self, path: str, size: int, mtime_ns: int, reason: str) -> None:
        table = "import_failure"
        self._run(
            f"INSERT INTO {table} (path, size_bytes, mtime_ns, reason, failed_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
            "size_bytes = excluded.size_bytes, mtime_ns = excluded.mtime_ns, "
            "reason = excluded.reason, failed_at = excluded.failed_at",
            (to_db(path), size, mtime_ns, reason, time_text(utcnow())),
        )

    def forget_failures(self, paths: list[str]) -> None:
        for chunk in chunks([to_db(p) for p in paths], 500):
            self._run(f"DELETE FROM import_failure WHERE path IN ({marks(chunk)})", chunk)

    def mark_missing(self, path: str) -> int:
        """Mark the row at `path` missing; returns 1 if it did."""
        now = time_text(utcnow())
        cursor = self._run(
            "UPDATE file SET missing_since = ? WHERE path = ? AND missing_since IS NULL",
            (now, to_db(path)),
        )
        return cursor.rowcount

    def clear_missing(self, paths: list[str]) -> None:
        for chunk in chunks([to_db(p) for p in paths], 500):
            self._run(f"UPDATE file SET missing_since = NULL WHERE path IN ({marks(chunk)})", chunk)


def merge_rows(db, *, keep: str, drop: str) -> None:
    """Move everything attached to row `drop` (tags, albums, events, history, related
    files) onto row `keep`, then delete `drop`: two rows of one content become one, and
    nothing a person added is lost."""
    run = db.execute_sql
    run(
        # `keep`'s id is read from its row (k), not bound in the SELECT list: there a bare
        # value has no type PostgreSQL could give the uuid column.
        "INSERT INTO file_tag (file_id, tag_id, source) "
        "SELECT k.id, l.tag_id, l.source FROM file_tag l JOIN file k ON k.id = ? "
        "WHERE l.file_id = ? ON CONFLICT DO NOTHING",
        (keep, drop),
    )
    # A tag both rows have, added by hand on the newer one: it stays a hand-added tag,
    # which no import takes away.
    run(
        "UPDATE file_tag SET source = 'user' WHERE file_id = ? AND source != 'user' AND "
        "tag_id IN (SELECT tag_id FROM file_tag WHERE file_id = ? AND source = 'user')",
        (keep, drop),
    )
    run(
        "INSERT INTO album_file (album_id, file_id, added) "
        "SELECT l.album_id, k.id, l.added FROM album_file l JOIN file k ON k.id = ? "
        "WHERE l.file_id = ? ON CONFLICT DO NOTHING",
        (keep, drop),
    )
    run(
        "INSERT INTO event_file (event_id, file_id) "
        "SELECT l.event_id, k.id FROM event_file l JOIN file k ON k.id = ? "
        "WHERE l.file_id = ? ON CONFLICT DO NOTHING",
        (keep, drop),
    )
    # Stars, label, flag, title and description said in luna: `keep`'s where it has them.
    kept = [f"{c} = COALESCE({c}, (SELECT {c} FROM file d WHERE d.id = ?))" for c in MARK_COLUMNS]
    run(
        f"UPDATE file SET {', '.join(kept)} WHERE id = ?",
        (*[drop] * len(MARK_COLUMNS), keep),
    )
    run("UPDATE content_history SET file_id = ? WHERE file_id = ?", (keep, drop))
    for end, other in (("from_file_id", "to_file_id"), ("to_file_id", "from_file_id")):
        # A link `keep` already has stays; the same link of `drop` goes (it would repeat it).
        run(
            f"DELETE FROM file_relation WHERE {end} = ? AND EXISTS (SELECT 1 FROM "
            f"file_relation r WHERE r.{end} = ? AND r.{other} = file_relation.{other} "
            "AND r.kind = file_relation.kind)",
            (drop, keep),
        )
        run(f"UPDATE file_relation SET {end} = ? WHERE {end} = ?", (keep, drop))
    run("DELETE FROM file_relation WHERE from_file_id = ? AND to_file_id = ?", (keep, keep))
    # What was not moved (links `keep` already had) goes with the row: ON DELETE CASCADE.
    run("DELETE FROM file WHERE id = ?", (drop,))


RELATION_TABLE = "file_relation"
IDENTIFIER = json_field("metadata", "content_identifier")
DATE_SOURCE = json_field("processor_metadata", "date_source")


class RelationStore:
    """Reads and writes for luna.ingest.relations, one folder at a time."""

    _MEMBER_COLUMNS = f"id, path, kind, mime_type, {IDENTIFIER}, start, utc_offset, {DATE_SOURCE}"

    def __init__(self, database):
        self.db = database

    def folder_members(self, folder: str) -> list:
        # The files directly in `folder`: below it, with no "/" after its own. A folder
        # whose name is UTF-8 may hold files whose names are not, so both forms are read.
        base = stored_form(folder.rstrip("/")) + "/"  # relative to its root, if any
        forms: list[str | bytes] = [StoredName(base), raw(base)] if is_utf8(base) else [raw(base)]
        members = []
        for start in forms:
            # Names in this folder sort between "folder/" and "folder0" ("/" + 1), as text
            # or as bytes for a name that is not UTF-8.
            slash: str | bytes
            past: str | bytes
            if isinstance(start, str):
                slash, past = StoredName("/"), StoredName(start[:-1] + "0")
            else:
                slash, past = b"/", start[:-1] + b"0"
            rows = self.db.cursor().execute(
                f"SELECT {self._MEMBER_COLUMNS} FROM file WHERE path > ? AND path < ? "
                f"AND {position('?', 'substr(path, ?)')} = 0 AND missing_since IS NULL",
                (start, past, len(start) + 1, slash),
            )
            members += [Member(row[0], from_db(row[1]), *row[2:]) for row in rows]
        return members

    def same_identifiers(self, identifiers: list[str]) -> list:
        found = []
        for chunk in chunks(identifiers, 500):
            found += [
                Member(row[0], from_db(row[1]), *row[2:])
                for row in self.db.cursor().execute(
                    f"SELECT {self._MEMBER_COLUMNS} FROM file WHERE "
                    f"{IDENTIFIER} IN ({marks(chunk)}) "
                    "AND missing_since IS NULL",
                    chunk,
                )
            ]
        return found

    def replace(self, ids: list[str], kinds, links) -> None:
        """Drop the derived links touching `ids`, then write `links` (from, to, kind)."""
        cursor = self.db.cursor()
        for chunk in chunks(ids):
            cursor.execute(
                f"DELETE FROM {RELATION_TABLE} WHERE kind IN ({marks(kinds)}) AND "
                f"(from_file_id IN ({marks(chunk)}) OR to_file_id IN ({marks(chunk)}))",
                (*kinds, *chunk, *chunk),
            )
        cursor.executemany(
            f"INSERT INTO {RELATION_TABLE} (from_file_id, to_file_id, kind) "
            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            sorted(links),
        )


@dataclass(frozen=True, slots=True)
class Member:
    """A file of a folder as luna.ingest.relations sees it."""

    id: str
    path: str
    kind: str
    mime: str
    content_identifier: str | None
    # When it was taken, as the file row has it (ISO text), and what said so.
    start: str | None = None
    utc_offset: int | None = None
    date_source: str | None = None

    @property
    def name(self) -> str:
        return os.path.basename(self.path)
