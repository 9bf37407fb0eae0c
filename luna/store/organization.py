"""What organizes files: the names of their tags, albums and events, for the listings that
show them (find, missing, dupes, organize's templates).

These take a DB-API connection (`sqlite3.Connection`, or peewee's `db.connection()`), so
that `luna find`, which reads the library without peewee, shares them."""

from __future__ import annotations

from luna.store.sql import chunks, marks

# Each kind of name: its link table, and its names' table, join and order.
_LINKS = {
    "tags": ("file_tag", "JOIN tag t ON t.id = l.tag_id", "t.name", "t.key"),
    "albums": ("album_file", "JOIN album a ON a.id = l.album_id", "a.name", "a.slug"),
    "events": ("event_file", "JOIN event e ON e.id = l.event_id", "e.name", "e.start, e.slug"),
}
# From this many files on, reading every link once may be cheaper than looking each file up.
_SCAN_FROM = 2000


def names_by_file(con, file_ids: list[str], what: str) -> dict[str, list[str]]:
    """file id -> the names of its tags (by key), albums (by slug) or events (by date);
    `what` is "tags", "albums" or "events". Files with none are left out."""
    table, join, name, order = _LINKS[what]
    out: dict[str, list[str]] = {}
    if len(file_ids) >= _SCAN_FROM and 2 * len(file_ids) >= _most_links(con, table):
        # Most of the library (`find --json` of everything): one pass over all the links,
        # in order, costs a third of a lookup per file.
        wanted = set(file_ids)
        sql = f"SELECT l.file_id, {name} FROM {table} l {join} ORDER BY {order}"
        for file_id, text in con.execute(sql):
            if file_id in wanted:
                out.setdefault(file_id, []).append(text)
        return out
    for chunk in chunks(file_ids, 500):
        sql = (
            f"SELECT l.file_id, {name} FROM {table} l {join} "
            f"WHERE l.file_id IN ({marks(chunk)}) ORDER BY {order}"
        )
        for file_id, text in con.execute(sql, chunk):
            out.setdefault(file_id, []).append(text)
    return out


def _most_links(con, table: str) -> int:
    """At least as many as the links in `table` (its largest id: one index step, where a
    count would read them all)."""
    return con.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0] or 0
