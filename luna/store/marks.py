"""What people say of a file in luna: stars, a colour label, pick or reject, a title and a
description (the `rating`, `label`, `flag`, `title` and `description` columns of `file`).

NULL is "not said in luna" (the file's own value counts); 0 or '' is "said: none".
"""

from __future__ import annotations

from luna.store.dialect import not_same
from luna.store.sql import chunks, marks

# The columns a mark may be written to: names are never taken from input.
MARK_COLUMNS = ("rating", "label", "flag", "title", "description")


class Marks:
    def __init__(self, db):
        self.db = db

    def set(self, column: str, value, file_ids: list[str], *, dry_run: bool = False):
        """Give the photos and videos among the files `value` in `column` (a sidecar is
        not marked: it speaks for its photo). (how many did not have it already, how many
        photos and videos there were)."""
        if column not in MARK_COLUMNS:
            raise ValueError(f"not a mark: {column}")
        changed = media = 0
        for chunk in chunks(file_ids, 500):
            where = f"id IN ({marks(chunk)}) AND kind <> 'sidecar'"
            sql = f"SELECT COUNT(*) FROM file WHERE {where}"
            media += self.db.execute_sql(sql, tuple(chunk)).fetchone()[0]
            where += f" AND {not_same(column, '?')}"
            if dry_run:
                sql = f"SELECT COUNT(*) FROM file WHERE {where}"
                changed += self.db.execute_sql(sql, (*chunk, value)).fetchone()[0]
            else:
                sql = f"UPDATE file SET {column} = ? WHERE {where}"
                changed += self.db.execute_sql(sql, (value, *chunk, value)).rowcount
        return changed, media

    def of(self, file_ids: list[str]) -> dict[str, tuple]:
        """{id: (rating, label, flag, title, description)} as said in luna."""
        found: dict[str, tuple] = {}
        for chunk in chunks(file_ids, 500):
            rows = self.db.execute_sql(
                "SELECT id, rating, label, flag, title, description FROM file "
                f"WHERE id IN ({marks(chunk)})",
                tuple(chunk),
            ).fetchall()
            found.update((str(row[0]), tuple(row[1:])) for row in rows)
        return found
