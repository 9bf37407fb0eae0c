"""Where files were taken, in words: the city, region and country columns (luna.ops.places
works them out; `luna places`, `find --place` and `luna stats` read them)."""

from __future__ import annotations

import json

from luna.store.dialect import json_values
from luna.store.sql import chunks

# The place a file names itself, as the metadata keeps it (luna.ingest.extract.xmp's
# PLACE_KEYS but the sublocation, which is finer than a city).
OWN_NAME_KEYS = ("city", "state", "country", "country_code")
NAME_COLUMNS = ("city", "region", "country", "country_code")
_PRESENT = "missing_since IS NULL"


class Places:
    def __init__(self, db):
        self.db = db

    def to_work_out(self, *, everything: bool = False, batch: int = 10_000):
        """(id, kind, latitude, longitude, {the file's own names}) of the files whose place
        is not worked out yet (every file, with `everything`), in lists of `batch` by id,
        so that a library of millions is never in memory at once. Served by the
        file_place_pending index: after an import, only the files it recorded."""
        pending = "" if everything else "AND place_source IS NULL"
        after = None
        while True:
            rows = self.db.execute_sql(
                f"SELECT id, kind, latitude, longitude, {json_values('metadata', OWN_NAME_KEYS)} "
                f"FROM file WHERE {'TRUE' if after is None else 'id > ?'} {pending} "
                f"ORDER BY id LIMIT {int(batch)}",
                () if after is None else (after,),
            ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield [(str(i), kind, lat, lon, _own_names(names)) for i, kind, lat, lon, names in rows]

    def pending(self) -> int:
        """How many files' places are not worked out yet."""
        return self.db.execute_sql(
            "SELECT COUNT(*) FROM file WHERE place_source IS NULL"
        ).fetchone()[0]

    def set_names(self, rows: list[tuple]) -> None:
        """rows: (city, region, country, country_code, place_source, file id)."""
        for chunk in chunks(rows, 1000):
            self.db.cursor().executemany(
                "UPDATE file SET city = ?, region = ?, country = ?, country_code = ?, "
                "place_source = ? WHERE id = ?",
                chunk,
            )

    def counts(self) -> list[tuple]:
        """(country_code, country, region, city, files) of every place of the photos and
        videos present, most files first; no place at all is (None, None, None, None, files)."""
        return self.db.execute_sql(
            "SELECT country_code, country, region, city, COUNT(*) FROM file "
            f"WHERE {_PRESENT} AND kind <> 'sidecar' "
            "GROUP BY country_code, country, region, city "
            "ORDER BY COUNT(*) DESC, country, region, city"
        ).fetchall()


def names_in(con) -> list[tuple]:
    """Each distinct (city, region, country, country_code) in the library: what `find
    --place` compares its words with (a few thousand at most, read from an index). `con`:
    a connection with `execute` (luna.store.search's)."""
    return con.execute(
        "SELECT DISTINCT city, region, country, country_code FROM file "
        "WHERE country IS NOT NULL OR region IS NOT NULL OR city IS NOT NULL"
    ).fetchall()


def _own_names(values) -> dict:
    """The metadata's place keys as a dict of the texts it holds."""
    if isinstance(values, str):
        try:
            values = json.loads(values)
        except ValueError:
            values = None
    if not isinstance(values, list) or len(values) != len(OWN_NAME_KEYS):
        return {}
    return {k: v.strip() for k, v in zip(OWN_NAME_KEYS, values, strict=True)
            if isinstance(v, str) and v.strip()}  # fmt: skip
