"""Every index on `file` earns its place: some query luna runs is answered through it.

Each index is written for every imported row, so one that no query plan uses only slows
imports down; and an index SQLite reaches for where another is far more selective turns a
lookup into a read of the whole library. This runs what a user runs (import, re-import,
find with each filter and sort, show, missing, dupes, events, verify), records every
statement, and asks SQLite how it would answer each one."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

import pytest
from conftest import make_photo

from luna.ingest.importer import ImportOptions
from luna.library import Library
from luna.search.query import Query

pytestmark = pytest.mark.sqlite_only  # SQLite's query plans


@pytest.fixture
def statements(monkeypatch, tmp_path, photos):
    """What luna ran against a small library, as SQL with its values inlined."""
    ran: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        con = connect(*args, **kwargs)
        con.set_trace_callback(ran.append)
        return con

    for day in range(1, 7):
        for n in range(3):
            gps = (48.85 + n / 100, 2.35) if n else None
            make_photo(photos / f"2019-06-0{day}" / f"IMG_{n}.jpg", color=(day, n, 9),
                       taken=f"2019:06:0{day} 1{n}:00:00", gps=gps)  # fmt: skip
    (photos / "2019-06-01" / "IMG_0.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    _with_content_identifier(photos / "2019-06-04" / "IMG_0.jpg", "570F1469-09C7-4E50")
    monkeypatch.setattr(sqlite3, "connect", traced)
    path = tmp_path / "plans.db"
    with Library.open(path) as lib:
        lib.import_paths([str(photos)], ImportOptions())
        lib.tags.add("beach", [str(photos / "2019-06-02" / "IMG_1.jpg")])
        lib.albums.create("Trip")
        lib.albums.add("Trip", [str(photos / "2019-06-03" / "IMG_1.jpg")])
        (photos / "2019-06-06" / "IMG_2.jpg").unlink()
        lib.import_paths([str(photos)], ImportOptions())  # a re-import: one file missing
        lib.events.detect(dry_run=True)
        lib.dupes()
        lib.missing()
        lib.stats()
        lib.show([str(photos / "2019-06-01" / "IMG_1.jpg")])
        lib.verify([str(photos / "2019-06-01" / "IMG_1.jpg")])
        lib.verify(older_than=dt.timedelta(days=30), limit=3)
    with Library.for_search(path) as lib:
        for query in (
            Query(near=(48.85, 2.35), radius_m=2000),
            Query(after="2019-06-03", before="2019-06-05"),
            Query(on="2019-06-02"),
            Query(tags=["beach"]),
            Query(album="Trip"),
            Query(kinds=["photo"], sort="name", limit=5),
            Query(sort="-name", limit=5),
            Query(user="nobody"),
            Query(name="IMG_1*"),
            Query(min_size=100),
            Query(missing=True),
            Query(sha="0" * 64),
            Query(sort="size", limit=3),
        ):
            lib.find(query)
    return ran


def _with_content_identifier(path, identifier: str) -> None:
    """An iPhone still: pairs with its Live Photo video anywhere in the library."""
    import piexif
    from test_related import apple_maker_note

    exif = piexif.load(str(path))
    exif["Exif"][piexif.ExifIFD.MakerNote] = apple_maker_note(identifier)
    piexif.insert(piexif.dump(exif), str(path))


def file_statements(statements: list[str]) -> list[str]:
    """The distinct statements that read or change `file`."""
    return [
        sql
        for sql in dict.fromkeys(statements)
        if re.search(r"\b(FROM|UPDATE)\s+\"?file\"?(\s|$)", sql, re.IGNORECASE)
        and sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH"))
    ]


def test_every_index_on_file_is_used_by_a_query_luna_runs(statements, tmp_path):
    library = tmp_path / "plans.db"
    con = sqlite3.connect(library)
    indexes = {
        name
        for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'file' "
            "AND sql IS NOT NULL"
        )
    }
    used: dict[str, str] = {}
    for sql in file_statements(statements):
        try:
            rows = con.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        except sqlite3.Error:
            continue  # temporary tables of the run, gone now
        for *_, detail in rows:
            m = re.search(r"USING (?:COVERING )?INDEX (\w+)", detail)
            if m:
                used.setdefault(m.group(1), sql)
    assert indexes - set(used) == set(), "indexes no query uses"


def test_a_folder_or_a_missing_file_is_found_without_reading_the_library(statements, tmp_path):
    # "missing_since IS NULL" holds for nearly every row: answered through an index of it,
    # listing one folder's files (each import does, for each folder it touched) would read
    # every present file of the library.
    con = sqlite3.connect(tmp_path / "plans.db")
    for sql in file_statements(statements):
        try:
            detail = " ".join(r[-1] for r in con.execute(f"EXPLAIN QUERY PLAN {sql}"))
        except sqlite3.Error:
            continue
        if "file_missing_since" in detail:
            assert "missing_since IS NOT NULL" in sql, sql
