"""Libraries written by earlier luna releases open in this one: upgraded in place, after a
backup, with nothing lost, and with the same schema a new library gets."""

from __future__ import annotations

import json
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
