"""The `event` and `event_file` tables, and the file rows event detection reads
(luna.ops.events says what an event covers and how groups are found)."""

from __future__ import annotations

import datetime as dt

from luna.store.dialect import json_field, not_same, same
from luna.store.rows import DATE_SOURCE, time_text
from luna.store.sql import chunks, marks, now

# An event row: (id, name, slug, start, end, utc_offset, description), times as stored.
_EVENT = 'id, name, slug, start, "end", utc_offset, description'


class Events:
    def __init__(self, db):
        self.db = db

    # -- events ----------------------------------------------------------------------------
    def by_slug(self, slug: str) -> tuple | None:
        return self.db.execute_sql(f"SELECT {_EVENT} FROM event WHERE slug = ?", (slug,)).fetchone()

    def insert(self, name, slug, start, end, offset, description) -> int:
        cursor = self.db.execute_sql(
            'INSERT INTO event (name, slug, start, "end", utc_offset, description, created) '
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (name, slug, time_text(start), time_text(end), offset, description, now()),
        )
        return cursor.fetchone()[0]

    def rename(self, event_id: int, name: str, slug: str) -> None:
        self.db.execute_sql(
            "UPDATE event SET name = ?, slug = ? WHERE id = ?", (name, slug, event_id)
        )

    def delete(self, event_id: int) -> None:
        """The event; its event_file rows go with it (ON DELETE CASCADE), never a file."""
        self.db.execute_sql("DELETE FROM event WHERE id = ?", (event_id,))

    def with_counts(self) -> list[tuple]:
        """Every event row with how many files it holds, earliest first."""
        return self.db.execute_sql(
            'SELECT e.id, e.name, e.slug, e.start, e."end", e.utc_offset, e.description, '
            "COUNT(l.file_id) FROM event e LEFT JOIN event_file l ON l.event_id = e.id "
            "GROUP BY e.id ORDER BY e.start, e.slug"
        ).fetchall()

    def all(self) -> list[tuple]:
        """Every event row, earliest first."""
        return self.db.execute_sql(f"SELECT {_EVENT} FROM event ORDER BY start").fetchall()

    # -- their files -----------------------------------------------------------------------
    def count(self, event_id: int) -> int:
        return self.db.execute_sql(
            "SELECT COUNT(*) FROM event_file WHERE event_id = ?", (event_id,)
        ).fetchone()[0]

    def files(self, event_id: int) -> list[tuple]:
        """(id, path, filename, start, utc_offset, kind) of the event's files, in the order
        they were taken (undated last)."""
        return self.db.execute_sql(
            "SELECT f.id, f.path, f.filename, f.start, f.utc_offset, f.kind "
            "FROM event_file l JOIN file f ON f.id = l.file_id WHERE l.event_id = ? "
            "ORDER BY f.start IS NULL, f.start, f.path",
            (event_id,),
        ).fetchall()

    def linked(self, event_id: int, file_ids: list[str]) -> set[str]:
        """Which of these file ids are in the event."""
        present: set[str] = set()
        for chunk in chunks(file_ids):
            present.update(
                r[0]
                for r in self.db.execute_sql(
                    "SELECT file_id FROM event_file WHERE event_id = ? "
                    f"AND file_id IN ({marks(chunk)})",
                    (event_id, *chunk),
                )
            )
        return present

    def link(self, event_id: int, file_ids: list[str]) -> None:
        self.db.cursor().executemany(
            "INSERT INTO event_file (event_id, file_id) VALUES (?, ?) "
            "ON CONFLICT (event_id, file_id) DO NOTHING",
            [(event_id, f) for f in file_ids],
        )

    def unlink(self, event_id: int, file_ids: list[str]) -> None:
        self.db.cursor().executemany(
            "DELETE FROM event_file WHERE event_id = ? AND file_id = ?",
            [(event_id, f) for f in sorted(file_ids)],
        )

    def all_links(self) -> list[tuple[int, str]]:
        """(event id, file id) of every link."""
        return self.db.execute_sql("SELECT event_id, file_id FROM event_file").fetchall()

    # -- the files events are made of ------------------------------------------------------
    def sidecars(self, file_ids: list[str]) -> set[str]:
        """Which of these file ids are sidecars."""
        found: set[str] = set()
        for chunk in chunks(file_ids):
            found.update(
                r[0]
                for r in self.db.execute_sql(
                    f"SELECT id FROM file WHERE kind = 'sidecar' AND id IN ({marks(chunk)})",
                    chunk,
                )
            )
        return found

    def taken_between(self, low: dt.datetime, high: dt.datetime, guess: str) -> list[tuple]:
        """(id, dated only by a guess) of the photos and videos taken in [low, high), by
        time; `guess` is the date source that is only a guess (the file's mtime)."""
        return self.db.execute_sql(
            f"SELECT id, {same(DATE_SOURCE, '?')} "
            "FROM file WHERE start >= ? AND start < ? AND kind != 'sidecar' ORDER BY start",
            (guess, time_text(low), time_text(high)),
        ).fetchall()

    def time_line(self, guess: str) -> list[tuple]:
        """(id, start, end, utc_offset, city, region, country) of the present, dated photos
        and videos whose date is not only a guess, by time. The city is the metadata's
        until the file's place is worked out (luna.ops.places)."""
        city = f"CASE WHEN place_source IS NULL THEN {json_field('metadata', 'city')} ELSE city END"
        return self.db.execute_sql(
            f'SELECT id, start, "end", utc_offset, {city}, region, country FROM file '
            "WHERE start IS NOT NULL AND kind != 'sidecar' AND missing_since IS NULL "
            f"AND {not_same(DATE_SOURCE, '?')} "
            "ORDER BY start, path",
            (guess,),
        ).fetchall()
