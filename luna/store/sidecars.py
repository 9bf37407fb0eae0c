"""What luna writes into XMP sidecars, and where they are (luna.ops.sidecars)."""

from __future__ import annotations

from luna.fsnames import from_db, to_db, under
from luna.store.rows import time_value
from luna.store.sql import chunks, marks


class Sidecars:
    def __init__(self, db):
        self.db = db

    def media(self, file_ids: list[str]) -> list[tuple[str, str]]:
        """(id, path) of the photos and videos among the files, present on disk as far as
        the library knows (a missing file gets no sidecar), in path order."""
        found = []
        for chunk in chunks(file_ids, 500):
            found += self.db.execute_sql(
                f"SELECT id, path FROM file WHERE id IN ({marks(chunk)}) "
                "AND kind <> 'sidecar' AND missing_since IS NULL",
                tuple(chunk),
            ).fetchall()
        return sorted(((str(i), from_db(p)) for i, p in found), key=lambda row: row[1])

    def files_tagged(self, tag_ids: list[int]) -> list[str]:
        """The ids of the files carrying any of these tags."""
        found: set[str] = set()
        for chunk in chunks(tag_ids, 500):
            rows = self.db.execute_sql(
                f"SELECT file_id FROM file_tag WHERE tag_id IN ({marks(chunk)})", tuple(chunk)
            ).fetchall()
            found.update(str(row[0]) for row in rows)
        return sorted(found)

    def files_in(self, table: str, group_id: int) -> list[str]:
        """The ids of the files in an album (table "album") or an event ("event")."""
        column = {"album": "album_id", "event": "event_id"}[table]
        rows = self.db.execute_sql(
            f"SELECT file_id FROM {table}_file WHERE {column} = ?", (group_id,)
        ).fetchall()
        return [str(row[0]) for row in rows]

    def every_media_id(self) -> list[str]:
        """The ids of every photo and video present, for a sidecar of each."""
        rows = self.db.execute_sql(
            "SELECT id FROM file WHERE kind <> 'sidecar' AND missing_since IS NULL"
        ).fetchall()
        return [str(row[0]) for row in rows]

    def below(self, folder: str) -> list[str]:
        """The XMP sidecars the library has at or below `folder`, in path order."""
        where, params = under("path", folder)
        rows = self.db.execute_sql(
            f"SELECT path FROM file WHERE kind = 'sidecar' AND missing_since IS NULL AND {where}",
            params,
        ).fetchall()
        paths = (from_db(row[0]) for row in rows)
        return sorted(path for path in paths if path.lower().endswith(".xmp"))

    def of(self, media_id: str) -> list[str]:
        """The paths of the XMP sidecars the library links to a photo or video."""
        rows = self.db.execute_sql(
            "SELECT s.path FROM file_relation r JOIN file s ON s.id = r.from_file_id "
            "WHERE r.to_file_id = ? AND r.kind = 'sidecar' AND s.missing_since IS NULL",
            (media_id,),
        ).fetchall()
        paths = (from_db(row[0]) for row in rows)
        return sorted(path for path in paths if path.lower().endswith(".xmp"))

    def state_at(self, path: str) -> tuple[int, int] | None:
        """(size, mtime_ns) of the file at `path` as the library last read it."""
        return self.db.execute_sql(
            "SELECT size_bytes, mtime_ns FROM file WHERE path = ?", (to_db(path),)
        ).fetchone()

    def said_of(self, file_ids: list[str]) -> dict[str, dict]:
        """What a sidecar holds of each file, a few queries for them all: {id: {"tags":
        [names], "albums": [(name, owner)], "events": [(name, start, end, offset,
        description)], "metadata": dict, "said": (rating, label, flag, title,
        description), "position": luna's (latitude, longitude, altitude) or None}}."""
        import json

        found: dict[str, dict] = {}
        for chunk in chunks(file_ids, 500):
            where = f"IN ({marks(chunk)})"
            for file_id, metadata, lat, lon, alt, *said in self.db.execute_sql(
                "SELECT id, metadata, set_latitude, set_longitude, set_altitude, rating, label, "
                f"flag, title, description FROM file WHERE id {where}",
                tuple(chunk),
            ):
                found[str(file_id)] = {
                    "tags": [], "albums": [], "events": [], "said": tuple(said),
                    "metadata": json.loads(metadata) if metadata else {},
                    "position": (lat, lon, alt) if lat is not None else None,
                }  # fmt: skip
            for file_id, name in self.db.execute_sql(
                "SELECT l.file_id, t.name FROM file_tag l JOIN tag t ON t.id = l.tag_id "
                f"WHERE l.file_id {where}",
                tuple(chunk),
            ):
                found[str(file_id)]["tags"].append(name)
            for file_id, name, owner in self.db.execute_sql(
                "SELECT l.file_id, a.name, u.name FROM album_file l JOIN album a "
                'ON a.id = l.album_id LEFT JOIN "user" u ON u.id = a.owner_id '
                f"WHERE l.file_id {where}",
                tuple(chunk),
            ):
                found[str(file_id)]["albums"].append((name, owner))
            for file_id, name, start, end, offset, description in self.db.execute_sql(
                'SELECT l.file_id, e.name, e.start, e."end", e.utc_offset, e.description '
                f"FROM event_file l JOIN event e ON e.id = l.event_id WHERE l.file_id {where}",
                tuple(chunk),
            ):
                found[str(file_id)]["events"].append(
                    (name, time_value(start), time_value(end), offset, description)
                )
        return found
