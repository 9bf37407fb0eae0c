"""The `tag` and `file_tag` tables.

A tag's `key` (trimmed, case-folded: luna.names.tag_key) is its identity; `name` is its
first spelling. A tag's children are the tags whose key starts with its key and a slash.
"""

from __future__ import annotations

from luna.fsnames import from_db
from luna.names import tag_key, tidy_name
from luna.store.sql import chunks, like_prefix, marks, now


class Tags:
    def __init__(self, db):
        self.db = db

    # -- tags ------------------------------------------------------------------------------
    def find(self, name: str) -> tuple[int, str] | None:
        """(id, stored name) of the tag `name` (any case), or None."""
        return self.db.execute_sql(
            "SELECT id, name FROM tag WHERE key = ?", (tag_key(name),)
        ).fetchone()

    def ensure(self, name: str) -> int:
        """The id of the tag `name`, created (with this spelling) if it does not exist."""
        name = tidy_name(name, "tag")
        self.db.execute_sql(
            "INSERT INTO tag (name, key, created) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (name, tag_key(name), now()),
        )
        found = self.find(name)
        assert found is not None  # inserted, or there already
        return found[0]

    def with_children(self, name: str) -> list[tuple[int, str]]:
        """(id, name) of the tag `name` and of every tag below it, the shortest first."""
        key = tag_key(name)
        return self.db.execute_sql(
            "SELECT id, name FROM tag WHERE key = ? OR key LIKE ? ESCAPE '\\' ORDER BY length(key)",
            (key, like_prefix(key + "/")),
        ).fetchall()

    def rename(self, tag_id: int, name: str) -> None:
        self.db.execute_sql(
            "UPDATE tag SET name = ?, key = ? WHERE id = ?", (name, tag_key(name), tag_id)
        )

    def merge(self, tag_id: int, *, into: int) -> None:
        """Tag `tag_id`'s files with `into` instead, and delete `tag_id`."""
        self.db.execute_sql(
            "INSERT INTO file_tag (file_id, tag_id, source) "
            "SELECT file_id, ?, source FROM file_tag WHERE tag_id = ? "
            "ON CONFLICT (file_id, tag_id) DO NOTHING",
            (into, tag_id),
        )
        self.delete(tag_id)

    def delete(self, tag_id: int) -> None:
        """The tag and its links (file_tag rows go with it: ON DELETE CASCADE)."""
        self.db.execute_sql("DELETE FROM tag WHERE id = ?", (tag_id,))

    def counts(self) -> list[tuple[str, int, int]]:
        """(name, files carrying it, of which from metadata) for every tag, by key."""
        return self.db.execute_sql(
            "SELECT t.name, COUNT(l.file_id), COUNT(CASE WHEN l.source = 'metadata' THEN 1 END) "
            "FROM tag t LEFT JOIN file_tag l ON l.tag_id = t.id GROUP BY t.id ORDER BY t.key"
        ).fetchall()

    # -- links -----------------------------------------------------------------------------
    def links_present(self, tag_ids: list[int], file_ids: list[str]) -> set[tuple[int, str]]:
        """The (tag id, file id) pairs among these that exist."""
        present: set[tuple[int, str]] = set()
        for chunk in chunks(file_ids, 400):
            present |= set(
                self.db.execute_sql(
                    f"SELECT tag_id, file_id FROM file_tag WHERE tag_id IN ({marks(tag_ids)}) "
                    f"AND file_id IN ({marks(chunk)})",
                    (*tag_ids, *chunk),
                ).fetchall()
            )
        return present

    def link(self, pairs: list[tuple[int, str]], source: str = "user") -> None:
        """Tag files: (tag id, file id) pairs; a pair that exists stays as it is."""
        self.db.cursor().executemany(
            "INSERT INTO file_tag (file_id, tag_id, source) VALUES (?, ?, ?) "
            "ON CONFLICT (file_id, tag_id) DO NOTHING",
            [(file_id, tag_id, source) for tag_id, file_id in pairs],
        )

    def unlink(self, pairs: list[tuple[int, str]]) -> None:
        self.db.cursor().executemany(
            "DELETE FROM file_tag WHERE tag_id = ? AND file_id = ?", sorted(pairs)
        )

    def file_count(self, tag_id: int) -> int:
        return self.db.execute_sql(
            "SELECT COUNT(*) FROM file_tag WHERE tag_id = ?", (tag_id,)
        ).fetchone()[0]

    def of_file(self, file_id: str) -> tuple[str | None, list[tuple[str, str]]]:
        """The file's path (None if it is not in the library) and its (tag, source) pairs
        by key."""
        path = self.db.execute_sql("SELECT path FROM file WHERE id = ?", (file_id,)).fetchone()
        rows = self.db.execute_sql(
            "SELECT t.name, l.source FROM file_tag l JOIN tag t ON t.id = l.tag_id "
            "WHERE l.file_id = ? ORDER BY t.key",
            (file_id,),
        ).fetchall()
        return (from_db(path[0]) if path else None), rows
