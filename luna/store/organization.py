"""What organizes files: the names of their tags, albums and events, for the listings that
show them (find, missing, dupes, organize's templates).

These take a DB-API connection (`sqlite3.Connection`, or peewee's `db.connection()`), so
that `luna find`, which reads the library without peewee, shares them."""

from __future__ import annotations

from luna.store.sql import chunks, marks

_NAMES_BY_FILE = {
    "tags": "SELECT l.file_id, t.name FROM file_tag l JOIN tag t ON t.id = l.tag_id "
    "WHERE l.file_id IN ({}) ORDER BY t.key",
    "albums": "SELECT l.file_id, a.name FROM album_file l JOIN album a ON a.id = l.album_id "
    "WHERE l.file_id IN ({}) ORDER BY a.slug",
    "events": "SELECT l.file_id, e.name FROM event_file l JOIN event e ON e.id = l.event_id "
    "WHERE l.file_id IN ({}) ORDER BY e.start, e.slug",
}


def names_by_file(con, file_ids: list[str], what: str) -> dict[str, list[str]]:
    """file id -> the names of its tags (by key), albums (by slug) or events (by date);
    `what` is "tags", "albums" or "events". Files with none are left out."""
    out: dict[str, list[str]] = {}
    for chunk in chunks(file_ids, 500):
        for file_id, name in con.execute(_NAMES_BY_FILE[what].format(marks(chunk)), chunk):
            out.setdefault(file_id, []).append(name)
    return out
