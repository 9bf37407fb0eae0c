"""Libraries written by earlier luna releases open in this one: upgraded in place, after a
backup, with nothing lost, and with the same schema a new library gets."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from luna.library import Library
from luna.store import db as dbmod

# SQLite libraries left by earlier releases (a server library starts at schema 4).
pytestmark = pytest.mark.sqlite_only

SCHEMA1_DUMP = Path(__file__).parent / "data" / "library-schema1.sql"


def _schema1_library(path: Path) -> Path:
    """A library as luna's first release (schema 1) left it: two photos, a tag, an album."""
    with sqlite3.connect(path) as con:
        con.executescript(SCHEMA1_DUMP.read_text())
    return path


def _schema(path: Path) -> dict:
    """Tables with their column sets, and index names with their columns."""
    with sqlite3.connect(path) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        columns = {
            t: sorted((r[1], r[2], r[3]) for r in con.execute(f'PRAGMA table_info("{t}")'))
            for t in tables
        }
        indexes = {
            name: (table, sql and " ".join(sql.split()).split(" ON ", 1)[1])
            for name, table, sql in con.execute(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type='index'"
            )
        }
    return {"columns": columns, "indexes": indexes}


def test_a_schema1_library_upgrades_with_a_backup_and_keeps_everything(tmp_path):
    path = _schema1_library(tmp_path / "old.db")
    with Library.open(path) as lib:
        assert lib.backup_path is not None
        shown = lib.serialize(lib.get_file("/photos/a.jpg"))
        assert shown["tags"] == ["beach", "fav"]
        assert lib.serialize(lib.get_file("/photos/b.jpg"))["albums"][0]["name"] == "Trip"
        assert lib.stats()["files"] == 2
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == dbmod.current_version()
    with sqlite3.connect(lib.backup_path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 1
        assert con.execute("SELECT COUNT(*) FROM file").fetchone()[0] == 2


def test_an_upgraded_library_has_the_schema_of_a_new_one(tmp_path):
    old = _schema1_library(tmp_path / "old.db")
    Library.open(old).close()
    new = tmp_path / "new.db"
    Library.open(new).close()
    assert _schema(old) == _schema(new)


def test_find_upgrades_an_old_library_and_says_where_the_backup_is(tmp_path, cli):
    path = _schema1_library(tmp_path / "old.db")
    code, out, err = cli("-L", path, "find", "--tag", "beach", "--json")
    assert code == 0, err
    assert [f["path"] for f in json.loads(out)["files"]] == ["/photos/a.jpg"]


# -- schema 5: mtimes in nanoseconds ----------------------------------------------------------

SCHEMA_6_COLUMNS = ("rating", "label", "flag", "title", "description")
SCHEMA_7_COLUMNS = ("set_latitude", "set_longitude", "set_altitude", "location_source")
SCHEMA_8_COLUMNS = ("city", "region", "country", "country_code", "place_source")
SCHEMA_8_INDEXES = ("file_country_code_country_region_city", "file_place_pending")
SCHEMA_9_COLUMNS = ("set_start", "set_utc_offset", "set_date_source", "set_offset_source")


def _as_schema4(path: Path) -> None:
    """Make a library of this luna what luna of schema 4 would have left: mtimes as the
    floats of st_mtime (no approximate_mtime table)."""
    from luna.mtimes import seconds_from_ns

    with sqlite3.connect(path) as con:
        con.create_function("seconds", 1, seconds_from_ns)
        for statement in [
            *(f'DROP INDEX "{name}"' for name in SCHEMA_8_INDEXES),
            *(
                f'ALTER TABLE file DROP COLUMN "{c}"'
                for c in SCHEMA_9_COLUMNS + SCHEMA_8_COLUMNS + SCHEMA_7_COLUMNS + SCHEMA_6_COLUMNS
            ),
            'ALTER TABLE file ADD COLUMN "mtime" REAL NOT NULL DEFAULT 0',
            'UPDATE file SET "mtime" = seconds(mtime_ns)',
            'DROP INDEX "file_path_size_bytes_mtime_ns_missing_since"',
            'ALTER TABLE file DROP COLUMN "mtime_ns"',
            'CREATE INDEX "file_path_size_bytes_mtime_missing_since" '
            'ON "file" ("path", "size_bytes", "mtime", "missing_since")',
            'ALTER TABLE import_failure ADD COLUMN "mtime" REAL',
            'ALTER TABLE import_failure DROP COLUMN "mtime_ns"',
            "DROP TABLE approximate_mtime",
            'DROP INDEX "file_tag_tag_id_file_id"',
            'CREATE INDEX "file_tag_tag_id" ON "file_tag" ("tag_id")',
            "PRAGMA user_version = 4",
        ]:
            con.execute(statement)


def test_after_the_upgrade_to_nanoseconds_no_file_is_read_again(tmp_path, cli):
    """A library of schema 4 kept mtimes as floats (to ~240 ns). After the upgrade, the
    first import trusts them at that precision (200,000 unchanged files must not be read
    again), records the exact mtimes, and from then on 1 ns is a change."""
    from conftest import make_photo

    photos = tmp_path / "photos"
    exact = {}
    for i in range(3):
        path = make_photo(photos / f"{i}.jpg", color=(i, 0, 0))
        exact[str(path)] = 1_700_000_000_123_456_789 + 1_000 * i
        os.utime(path, ns=(exact[str(path)],) * 2)
    library = tmp_path / "library.db"
    assert cli("-L", library, "import", photos)[0] == 0
    _as_schema4(library)

    code, out, err = cli("-L", library, "import", photos, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["unchanged"], report["files_read"]) == (3, 0)
    with sqlite3.connect(library) as con:
        assert dict(con.execute("SELECT path, mtime_ns FROM file")) == exact
        assert con.execute("SELECT COUNT(*) FROM approximate_mtime").fetchone() == (0,)
    assert list(tmp_path.glob("library.db.schema4-*.bak"))  # backed up before

    first = photos / "0.jpg"
    os.utime(first, ns=(exact[str(first)] + 1,) * 2)  # the same float as before
    report = json.loads(cli("-L", library, "import", photos, "--json")[1])
    assert (report["unchanged"], report["updated"], report["files_read"]) == (2, 1, 1)


def test_an_upgraded_row_is_trusted_only_at_its_old_precision(tmp_path, cli):
    """Until an import records its exact mtime, a row from schema 4 takes a file whose
    mtime is more than its float's precision away as changed."""
    from conftest import make_photo

    photos = tmp_path / "photos"
    path = make_photo(photos / "a.jpg")
    os.utime(path, ns=(1_700_000_000_123_456_789,) * 2)
    library = tmp_path / "library.db"
    cli("-L", library, "import", photos)
    _as_schema4(library)
    os.utime(path, ns=(1_700_000_000_123_457_789,) * 2)  # 1 microsecond later
    report = json.loads(cli("-L", library, "import", photos, "--json")[1])
    assert (report["unchanged"], report["updated"]) == (0, 1)
    with sqlite3.connect(library) as con:
        assert con.execute("SELECT mtime_ns FROM file").fetchone() == (1_700_000_000_123_457_789,)
        assert con.execute("SELECT COUNT(*) FROM approximate_mtime").fetchone() == (0,)
