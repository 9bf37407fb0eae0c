"""Positions luna gives files that have none of their own (luna.ops.geotag)."""

from __future__ import annotations

from luna.fsnames import from_db
from luna.store.dialect import json_field
from luna.store.rows import time_value
from luna.store.sql import chunks, marks


class Geotags:
    def __init__(self, db):
        self.db = db

    def candidates(self, file_ids: list[str]) -> list[tuple]:
        """(id, path, start, utc_offset, has a position of its own, date source) of the photos and
        videos among the files, present, in path order."""
        found = []
        source = json_field("processor_metadata", "date_source")
        for chunk in chunks(file_ids, 500):
            found += self.db.execute_sql(
                "SELECT id, path, start, utc_offset, "
                f"latitude IS NOT NULL AND set_latitude IS NULL, {source} FROM file "
                f"WHERE id IN ({marks(chunk)}) AND kind <> 'sidecar' AND missing_since IS NULL",
                tuple(chunk),
            ).fetchall()
        rows = [(str(i), from_db(p), time_value(s), o, bool(h), d) for i, p, s, o, h, d in found]
        return sorted(rows, key=lambda row: row[1])

    def positioned(self, guessed_dates: tuple[str, ...]) -> list[tuple]:
        """(id, start, utc_offset, latitude, longitude, altitude) of every photo and video
        present with a position of its own (its file's, not one luna set) and a capture date
        that is not a guess (not from one of `guessed_dates`), in time order: one query for
        the whole library."""
        source = json_field("processor_metadata", "date_source")
        rows = self.db.execute_sql(
            "SELECT id, start, utc_offset, latitude, longitude, altitude FROM file "
            "WHERE latitude IS NOT NULL AND longitude IS NOT NULL AND set_latitude IS NULL "
            "AND start IS NOT NULL AND kind <> 'sidecar' AND missing_since IS NULL "
            f"AND ({source} IS NULL OR {source} NOT IN ({marks(guessed_dates)})) "
            "ORDER BY start",
            guessed_dates,
        ).fetchall()
        return [(str(i), time_value(s), o, lat, lon, alt) for i, s, o, lat, lon, alt in rows]

    def without_position(self) -> list[str]:
        """The ids of every photo and video present that has no position."""
        rows = self.db.execute_sql(
            "SELECT id FROM file WHERE kind <> 'sidecar' AND missing_since IS NULL "
            "AND latitude IS NULL"
        ).fetchall()
        return [str(row[0]) for row in rows]

    def keep_as_set(self, file_ids: list[str], source: str) -> None:
        """The positions these files were recorded with are luna's, not their own (a
        Takeout JSON's, given at import): kept as luna's, with `source`, so that reading
        the file again keeps them and its own GPS, should it get one, wins."""
        for chunk in chunks(file_ids, 500):
            self.db.execute_sql(
                "UPDATE file SET set_latitude = latitude, set_longitude = longitude, "
                "set_altitude = altitude, location_source = ? "
                f"WHERE id IN ({marks(chunk)}) AND latitude IS NOT NULL AND set_latitude IS NULL",
                (source, *chunk),
            )

    def set(self, file_id: str, latitude: float, longitude: float, altitude, source: str):
        """Give a file without a position of its own this one (kept as luna's, with where
        it came from, so that the file's own, should it get one, wins)."""
        self.db.execute_sql(
            "UPDATE file SET latitude = ?, longitude = ?, altitude = ?, set_latitude = ?, "
            "set_longitude = ?, set_altitude = ?, location_source = ?, place_source = NULL "
            "WHERE id = ? AND (latitude IS NULL OR set_latitude IS NOT NULL)",
            (latitude, longitude, altitude, latitude, longitude, altitude, source, file_id),
        )
