"""Reading the `file` table: one file's whole record and what links to it, and the library's
counts. (The import's writes are luna.store.writes; the bulk insert luna.store.bulk.)"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass

from luna.fsnames import from_db, to_db, under
from luna.names import uuid_text
from luna.store.dialect import json_field, year_of
from luna.store.rows import DATE_SOURCE, as_dict, encode_json, end_after, time_text, time_value
from luna.store.sql import chunks, marks, now


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
    mtime_ns: int
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
    # What people said in luna (luna.store.marks): rating, label, flag, title, description.
    said: tuple = (None, None, None, None, None)
    location_source: str | None = None  # where luna's position came from (luna geotag)
    # city, region, country, country_code, place_source (luna.ops.places)
    place: tuple = (None, None, None, None, None)


_RECORD = (
    "f.id, f.path, f.filename, f.kind, f.mime_type, f.size_bytes, f.mtime_ns, f.content_sha, "
    'f.start, f."end", f.utc_offset, f.latitude, f.longitude, f.altitude, f.width, f.height, '
    "f.metadata, f.processor_metadata, u.name, f.missing_since, f.verified_at, f.created, "
    "f.modified, f.rating, f.label, f.flag, f.title, f.description, f.location_source, "
    "f.city, f.region, f.country, f.country_code, f.place_source "
    'FROM file f LEFT JOIN "user" u ON u.id = f.owner_id'
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
    record = FileRecord(*values[:23])
    record.said = tuple(values[23:28])
    record.location_source = values[28]
    record.place = tuple(values[29:34])
    return record


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

    def content_history(self, file_id: str) -> list[tuple]:
        """(content_sha, size, replaced_at, reason) of the hashes the file had before, most
        recent first."""
        rows = self.db.execute_sql(
            "SELECT content_sha, size_bytes, replaced_at, reason FROM content_history "
            "WHERE file_id = ? ORDER BY replaced_at DESC, id DESC",
            (file_id,),
        ).fetchall()
        return [(sha, size, time_value(at), reason) for sha, size, at, reason in rows]

    def failures(self) -> list[tuple]:
        """(path, reason, failed_at) of the files an import could not read, most recent
        first."""
        rows = self.db.execute_sql(
            "SELECT path, reason, failed_at FROM import_failure ORDER BY failed_at DESC, id DESC"
        ).fetchall()
        return [(from_db(path), reason, time_value(at)) for path, reason, at in rows]

    # -- missing files, relinking, pruning (luna.ops.missing) -------------------------------
    # A summary row: (id, path, filename, kind, size_bytes, content_sha, missing_since).
    _SUMMARY = "id, path, filename, kind, size_bytes, content_sha, missing_since"

    def missing(self, under: list[str] | None = None) -> list[tuple]:
        """Summaries of the files marked missing, below any of the folders `under` if given
        (a folder as typed and its real path, say)."""
        sql = f"SELECT {self._SUMMARY} FROM file WHERE missing_since IS NOT NULL"
        params: list = []
        if under:
            condition, params = _below_any(under)
            sql += f" AND {condition}"
        return [_summary(row) for row in self.db.execute_sql(sql, params)]

    def missing_ids(self) -> list[str]:
        return [
            row[0]
            for row in self.db.execute_sql("SELECT id FROM file WHERE missing_since IS NOT NULL")
        ]

    def summaries(self, file_ids: list[str]) -> list[tuple]:
        rows = []
        for chunk in chunks(file_ids):
            rows += self.db.execute_sql(
                f"SELECT {self._SUMMARY} FROM file WHERE id IN ({marks(chunk)})", chunk
            ).fetchall()
        return [_summary(row) for row in rows]

    def below(self, folder: str) -> list[tuple[str, str, int, str, int]]:
        """(id, path, size, content_sha, mtime_ns) of the rows at or below `folder`."""
        condition, params = under("path", folder)
        rows = self.db.execute_sql(
            f"SELECT id, path, size_bytes, content_sha, mtime_ns FROM file WHERE {condition}",
            params,
        )
        return [(i, from_db(p), size, sha, mtime) for i, p, size, sha, mtime in rows]

    def count_below(self, folder: str) -> int:
        condition, params = under("path", folder)
        return self.db.execute_sql(
            f"SELECT COUNT(*) FROM file WHERE {condition}", params
        ).fetchone()[0]

    def identity(self, file_id: str) -> tuple[str, int, str] | None:
        """(path, size, content_sha) of the row, or None once it is gone."""
        row = self.db.execute_sql(
            "SELECT path, size_bytes, content_sha FROM file WHERE id = ?", (file_id,)
        ).fetchone()
        return (from_db(row[0]), row[1], row[2]) if row else None

    def at_path(self, path: str) -> tuple[str, str, int, int] | None:
        """(id, content_sha, size, mtime_ns) of the row recorded at `path`."""
        return self.db.execute_sql(
            "SELECT id, content_sha, size_bytes, mtime_ns FROM file WHERE path = ?",
            (to_db(path),),
        ).fetchone()

    def relink(self, file_id: str, new_path: str, mtime_ns: int | None, *, verified: bool) -> None:
        """The row's file is at `new_path`, present again, with this mtime (None: the row
        keeps its own); verified: its content was just read and found to be the row's."""
        stamp = now()
        also = ", verified_at = ?" if verified else ""
        self.db.execute_sql(
            "UPDATE file SET path = ?, filename = ?, mtime_ns = COALESCE(?, mtime_ns), "
            f"missing_since = NULL, modified = ?{also} WHERE id = ?",
            (to_db(new_path), to_db(os.path.basename(new_path)), mtime_ns, stamp,
             *([stamp] if verified else []), file_id),
        )  # fmt: skip
        if mtime_ns is not None:  # the file's own, exact (luna.mtimes)
            self.db.execute_sql("DELETE FROM approximate_mtime WHERE file_id = ?", (file_id,))

    def forget_missing(self, file_ids: list[str]) -> None:
        """Delete these rows if they are still marked missing. Their links to tags, albums,
        events and related files go with them (ON DELETE CASCADE); those themselves stay."""
        for chunk in chunks(file_ids):
            self.db.execute_sql(
                f"DELETE FROM file WHERE id IN ({marks(chunk)}) AND missing_since IS NOT NULL",
                chunk,
            )

    # -- what a move into the library folder needs (luna.ops.organize) ----------------------
    _PLACEMENT = (
        f"id, path, kind, mime_type, content_sha, size_bytes, start, {DATE_SOURCE}, metadata, "
        "city, region, country, country_code"
    )

    def set_date(self, file_id: str, start, utc_offset: int | None, sources: dict) -> None:
        """Give a file a date its own metadata lacks (a Takeout JSON's): `start` local
        time, a video's end its duration after; `sources` ({"date_source",
        "offset_source"}) go into processor_metadata. Kept apart too (schema 9's set_start
        ...), so that reading the file again keeps it (luna.store.writes)."""
        row = self.db.execute_sql(
            "SELECT metadata, processor_metadata FROM file WHERE id = ?", (file_id,)
        ).fetchone()
        if row is None:
            return
        processor = {**as_dict(row[1]), **sources}
        self.db.execute_sql(
            'UPDATE file SET start = ?, "end" = ?, utc_offset = ?, processor_metadata = ?, '
            "set_start = ?, set_utc_offset = ?, set_date_source = ?, set_offset_source = ? "
            "WHERE id = ?",
            (time_text(start), time_text(end_after(start, row[0])), utc_offset,
             encode_json(processor), time_text(start), utc_offset, sources.get("date_source"),
             sources.get("offset_source"), file_id),
        )  # fmt: skip

    def keep_date_as_set(self, file_ids: list[str]) -> None:
        """The dates these files were recorded with are luna's, not their own (a Takeout
        JSON's, given at import): kept apart as well (schema 9), so that reading the file
        again keeps them, and its own capture date, should it get one, wins."""
        date_source = json_field("processor_metadata", "date_source")
        offset_source = json_field("processor_metadata", "offset_source")
        for chunk in chunks(file_ids, 500):
            self.db.execute_sql(
                "UPDATE file SET set_start = start, set_utc_offset = utc_offset, "
                f"set_date_source = {date_source}, set_offset_source = {offset_source} "
                f"WHERE id IN ({marks(chunk)}) AND start IS NOT NULL AND set_start IS NULL",
                list(chunk),
            )

    def present_contents(self, shas: list[str]) -> dict[str, str]:
        """content_sha -> id of a present file with that content, for those the library
        has."""
        found: dict[str, str] = {}
        for chunk in chunks(sorted(set(shas)), 500):
            for sha, file_id in self.db.execute_sql(
                f"SELECT content_sha, id FROM file WHERE content_sha IN ({marks(chunk)}) "
                "AND missing_since IS NULL",
                list(chunk),
            ):
                found.setdefault(sha, str(file_id))
        return found

    def placements_below(self, folder: str) -> list[tuple]:
        """(id, path, kind, mime_type, content_sha, size, start, date_source, metadata,
        (city, region, country, country_code)) of the present files at or below `folder`."""
        condition, params = under("path", folder)
        return self._placements(f"{condition} AND missing_since IS NULL", params)

    def placements(self, file_ids: list[str]) -> list[tuple]:
        """The same, for these present files."""
        rows = []
        for chunk in chunks(file_ids, 500):
            rows += self._placements(
                f"id IN ({marks(chunk)}) AND missing_since IS NULL", list(chunk)
            )
        return rows

    def _placements(self, where: str, params: list) -> list[tuple]:
        rows = self.db.execute_sql(f"SELECT {self._PLACEMENT} FROM file WHERE {where}", params)
        return [
            (i, from_db(path), kind, mime, sha, size, time_value(start), source,
             json.loads(metadata) if metadata else {}, tuple(place))
            for i, path, kind, mime, sha, size, start, source, metadata, *place in rows
        ]  # fmt: skip

    def moved(self, file_id: str, new_path: str) -> None:
        """The row's file now lives at `new_path` (same content; its mtime as it is there)."""
        self.db.execute_sql(
            "UPDATE file SET path = ?, filename = ? WHERE id = ?",
            (to_db(new_path), to_db(os.path.basename(new_path)), file_id),
        )
        self._mtime_found(file_id, new_path)

    def _mtime_found(self, file_id: str, path: str) -> None:
        """The row takes the mtime of its file at `path`, exactly (luna.mtimes)."""
        self.db.execute_sql(
            "UPDATE file SET mtime_ns = ? WHERE id = ?", (os.stat(path).st_mtime_ns, file_id)
        )
        self.db.execute_sql("DELETE FROM approximate_mtime WHERE file_id = ?", (file_id,))

    # -- naming files (luna.ops.targets) ----------------------------------------------------
    def id_at(self, path: str) -> str | None:
        row = self.db.execute_sql("SELECT id FROM file WHERE path = ?", (to_db(path),)).fetchone()
        return row[0] if row else None

    def ids_at(self, paths: list[str]) -> dict[str, str]:
        """path -> id, for those of `paths` the library has a file at (one query per 500)."""
        found: dict[str, str] = {}
        for chunk in chunks([to_db(p) for p in paths], 500):
            for file_id, path in self.db.execute_sql(
                f"SELECT id, path FROM file WHERE path IN ({marks(chunk)})", list(chunk)
            ):
                found[from_db(path)] = file_id
        return found

    def ids_below(self, folder: str) -> list[str]:
        """The ids of the files at or below `folder`, by path."""
        condition, params = under("path", folder)
        return [
            row[0]
            for row in self.db.execute_sql(
                f"SELECT id FROM file WHERE {condition} ORDER BY path", params
            )
        ]

    def ids_starting(self, prefix: str, limit: int = 2) -> list[str]:
        """Up to `limit` ids that start with these (lower-case) hex digits."""
        return [
            row[0]
            for row in self.db.execute_sql(
                # Bounds of the same length as an id: text on SQLite, a uuid on PostgreSQL.
                "SELECT id FROM file WHERE id >= ? AND id <= ? ORDER BY id LIMIT ?",
                (prefix.ljust(32, "0"), prefix.ljust(32, "f"), limit),
            )
        ]

    # -- after a crash (luna.ops.transfer.recover) ------------------------------------------
    def follow(self, file_id: str, new_path: str, *, new_mtime: bool) -> None:
        """The row's file was moved to `new_path` by a transfer a crash interrupted: the row
        follows it and is present; with new_mtime, its mtime is taken from there too."""
        self.db.execute_sql(
            "UPDATE file SET path = ?, filename = ?, missing_since = NULL WHERE id = ?",
            (to_db(new_path), to_db(os.path.basename(new_path)), file_id),
        )
        if new_mtime:
            self._mtime_found(file_id, new_path)

    # -- counting (luna stats) --------------------------------------------------------------
    def counts(self) -> dict:
        """The library's counts: files, bytes, located, missing, failed, tags, albums,
        events; and files by kind, by year taken and by how their date was found."""
        q = self.db.execute_sql

        def by(sql: str) -> dict:
            return {str(k) if k is not None else "unknown": v for k, v in q(sql).fetchall()}

        files, total_bytes, located, missing = q(
            "SELECT COUNT(*), COALESCE(SUM(size_bytes), 0), COUNT(latitude), "
            "COUNT(missing_since) FROM file"
        ).fetchone()
        return {
            "files": files,
            "total_bytes": total_bytes,
            "with_location": located,
            "missing": missing,
            "by_kind": by("SELECT kind, COUNT(*) FROM file GROUP BY kind ORDER BY kind"),
            "by_year": by(
                f"SELECT {year_of('start')} AS y, COUNT(*) FROM file "
                "GROUP BY y ORDER BY y NULLS FIRST"
            ),
            "by_date_source": by(
                f"SELECT {DATE_SOURCE} AS src, COUNT(*) "
                "FROM file GROUP BY src ORDER BY COUNT(*) DESC, src NULLS FIRST"
            ),
            **{
                name: q(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for name, table in (
                    ("failed", "import_failure"), ("tags", "tag"), ("albums", "album"),
                    ("events", "event"),
                )
            },
        }  # fmt: skip

    def by_make_and_model(self) -> list[tuple]:
        """(make, model, files) as the files' metadata says, each pair once."""
        return self.db.execute_sql(
            f"SELECT {json_field('metadata', 'make')}, {json_field('metadata', 'model')}, "
            "COUNT(*) FROM file GROUP BY 1, 2"
        ).fetchall()


def _summary(row) -> tuple:
    file_id, path, filename, kind, size, sha, missing_since = row
    return (file_id, from_db(path), from_db(filename), kind, size, sha, time_value(missing_since))


def _below_any(folders: list[str]) -> tuple[str, list]:
    parts: list[str] = []
    params: list = []
    for folder in folders:
        sql, more = under("path", folder)
        parts.append(sql)
        params += more
    return f"({' OR '.join(parts)})", params
