"""What thumbnails are made from: the photos and videos present, and every content the
library knows (luna.ops.thumbs keeps the cache; it never writes the library)."""

from __future__ import annotations

import uuid

from luna.fsnames import from_db
from luna.store.rows import time_value
from luna.store.sql import chunks, marks

_ABOUT = "SELECT id, filename, path, content_sha, start FROM file"
_SOURCE = "SELECT id, path, content_sha, kind, mime_type FROM file WHERE kind <> 'sidecar' "


class Thumbs:
    def __init__(self, db):
        self.db = db

    def sources(self, file_ids: list[str] | None = None) -> list[tuple[str, str, str, str, str]]:
        """(id, path, content_sha, kind, mime_type) of the photos and videos present: all of
        them, or those among `file_ids`, in path order."""
        present = "AND missing_since IS NULL"
        if file_ids is None:
            rows = list(self.db.execute_sql(f"{_SOURCE}{present}"))
        else:
            rows = []
            for chunk in chunks(file_ids):
                sql = f"{_SOURCE}{present} AND id IN ({marks(chunk)})"
                rows += self.db.execute_sql(sql, chunk).fetchall()
        found = [(str(i), from_db(path), sha, kind, mime) for i, path, sha, kind, mime in rows]
        return sorted(found, key=lambda row: row[1])

    def about(self, file_ids: list[str]) -> list[tuple]:
        """(file name, path, content_sha, start) of these files, in the order given (once
        each): what a contact sheet writes under each thumbnail."""
        found = {}
        for chunk in chunks(file_ids):
            sql = f"{_ABOUT} WHERE id IN ({marks(chunk)})"
            for file_id, name, path, sha, start in self.db.execute_sql(sql, chunk):
                found[_key(file_id)] = (from_db(name), from_db(path), sha, time_value(start))
        wanted = dict.fromkeys(_key(i) for i in file_ids)
        return [found[i] for i in wanted if i in found]

    def known_contents(self) -> set[str]:
        """The SHA-256 of every file the library has, present or missing (a missing file
        may be relinked: its thumbnail stays useful)."""
        return {row[0] for row in self.db.execute_sql("SELECT DISTINCT content_sha FROM file")}


def _key(file_id) -> str:
    """An id as 32 hex digits, however it came (dashed, a UUID)."""
    return uuid.UUID(str(file_id)).hex
