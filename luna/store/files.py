"""Reading the `file` table: one file's whole record and what links to it, and the library's
counts. (The import's writes are luna.store.writes; the bulk insert luna.store.bulk.)"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from luna.fsnames import from_db
from luna.names import uuid_text
from luna.store.rows import time_value


@dataclass
class FileRecord:
    """A `file` row as Python values: paths as str, times as naive datetimes (start/end
    local wall-clock, the others UTC), metadata as dicts."""

    id: str  # 32 hex digits, as stored
    path: str
    filename: str
    kind: str
    mime_type: str
    size_bytes: int
    mtime: float
    content_sha: str
    start: dt.datetime | None
    end: dt.datetime | None
    utc_offset: int | None
    latitude: float | None
    longitude: float | None
    altitude: float | None
    width: int | None
    height: int | None
    metadata: dict | None
    processor_metadata: dict | None
    owner: str | None  # the owner's user name
    missing_since: dt.datetime | None
    verified_at: dt.datetime | None
    created: dt.datetime | None
    modified: dt.datetime | None


_RECORD = (
    "f.id, f.path, f.filename, f.kind, f.mime_type, f.size_bytes, f.mtime, f.content_sha, "
    'f.start, f."end", f.utc_offset, f.latitude, f.longitude, f.altitude, f.width, f.height, '
    "f.metadata, f.processor_metadata, u.name, f.missing_since, f.verified_at, f.created, "
    "f.modified FROM file f LEFT JOIN user u ON u.id = f.owner_id"
)
_TIMES = {8, 9, 19, 20, 21, 22}  # positions of the stored times in _RECORD
_JSON = {16, 17}


def _record(row) -> FileRecord:
    values = list(row)
    values[1], values[2] = from_db(values[1]), from_db(values[2])
    for i in _TIMES:
        values[i] = time_value(values[i])
    for i in _JSON:
        values[i] = None if values[i] is None else json.loads(values[i])
    return FileRecord(*values)


class Files:
    def __init__(self, db):
        self.db = db

    def record(self, file_id: str) -> FileRecord | None:
        row = self.db.execute_sql(f"SELECT {_RECORD} WHERE f.id = ?", (file_id,)).fetchone()
        return _record(row) if row else None

    def tags(self, file_id: str) -> list[str]:
        """The file's tag names, by name."""
        return [
            name
            for (name,) in self.db.execute_sql(
                "SELECT t.name FROM file_tag l JOIN tag t ON t.id = l.tag_id "
                "WHERE l.file_id = ? ORDER BY t.name",
                (file_id,),
            )
        ]

    def albums(self, file_id: str) -> list[tuple[str, str]]:
        """(name, slug) of the albums the file is in, by name."""
        return self.db.execute_sql(
            "SELECT a.name, a.slug FROM album_file l JOIN album a ON a.id = l.album_id "
            "WHERE l.file_id = ? ORDER BY a.name",
            (file_id,),
        ).fetchall()

    def events(self, file_id: str) -> list[tuple]:
        """(id, name, start, end, utc_offset) of the file's events, by start."""
        rows = self.db.execute_sql(
            'SELECT e.id, e.name, e.start, e."end", e.utc_offset FROM event_file l '
            "JOIN event e ON e.id = l.event_id WHERE l.file_id = ? ORDER BY e.start",
            (file_id,),
        ).fetchall()
        return [(i, name, time_value(s), time_value(e), o) for i, name, s, e, o in rows]

    def related(self, file_id: str) -> list[dict]:
        """The files linked to this one (raw+jpeg, live photo, edited, sidecar), either way."""
        rows = self.db.execute_sql(
            "SELECT o.id, o.path, r.kind FROM file_relation r "
            "JOIN file o ON o.id = CASE WHEN r.from_file_id = ? THEN r.to_file_id "
            "ELSE r.from_file_id END "
            "WHERE r.from_file_id = ? OR r.to_file_id = ? ORDER BY r.id",
            (file_id, file_id, file_id),
        ).fetchall()
        return [
            {"id": uuid_text(other), "path": from_db(path), "relation": kind}
            for other, path, kind in rows
        ]

    def content_history(self, file_id: str) -> list[tuple[str, int | None, dt.datetime, str]]:
        """(content_sha, size, replaced_at, reason) of the hashes the file had before, most
        recent first."""
        rows = self.db.execute_sql(
            "SELECT content_sha, size_bytes, replaced_at, reason FROM content_history "
            "WHERE file_id = ? ORDER BY replaced_at DESC, id DESC",
            (file_id,),
        ).fetchall()
        return [(sha, size, time_value(at), reason) for sha, size, at, reason in rows]

    def failures(self) -> list[tuple[str, str, dt.datetime]]:
        """(path, reason, failed_at) of the files an import could not read, most recent
        first."""
        rows = self.db.execute_sql(
            "SELECT path, reason, failed_at FROM import_failure ORDER BY failed_at DESC, id DESC"
        ).fetchall()
        return [(from_db(path), reason, time_value(at)) for path, reason, at in rows]
