"""The library file: where it lives, how it is opened, how its schema evolves."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import library_execute, library_exists, library_rows, library_snapshot, make_photo

from luna.errors import LibraryError, NewerSchema, NotFound
from luna.library import Library
from luna.store import db as dbmod


def test_default_library_is_in_xdg_data_home(monkeypatch, isolated_home, photos, cli):
    monkeypatch.delenv("LUNA_LIBRARY")
    make_photo(photos / "a.jpg")
    code, _, err = cli("import", photos)
    assert code == 0, err
    assert (isolated_home / ".local" / "share" / "luna" / "library.db").is_file()


def test_default_without_xdg_is_under_home(monkeypatch, isolated_home):
    from luna.config import default_library_path

    monkeypatch.delenv("LUNA_LIBRARY")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_library_path() == isolated_home / ".local" / "share" / "luna" / "library.db"


def test_luna_library_env_and_option_choose_another(monkeypatch, tmp_path, photos, cli):
    make_photo(photos / "a.jpg")
    env_lib = tmp_path / "env" / "lib.db"
    monkeypatch.setenv("LUNA_LIBRARY", str(env_lib))
    assert cli("import", photos)[0] == 0
    assert env_lib.is_file()
    opt_lib = tmp_path / "opt" / "lib.db"
    assert cli("-L", opt_lib, "import", photos)[0] == 0
    assert opt_lib.is_file()


@pytest.mark.sqlite_only
def test_library_uses_wal_foreign_keys_and_a_busy_timeout(lib):
    pragma = lambda name: lib.db.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") >= 10_000


def _as_if_made_by_a_newer_luna(library) -> None:
    """Schema version 999: in the file's header (SQLite), in luna_schema (a server)."""
    if isinstance(library, Path):
        with sqlite3.connect(library) as con:
            con.execute("PRAGMA user_version = 999")
    else:
        assert library_execute(library, "UPDATE luna_schema SET version = 999") == 1


def test_a_newer_library_is_refused_without_damage(library_path):
    Library.open(library_path).close()
    _as_if_made_by_a_newer_luna(library_path)
    before = library_snapshot(library_path)
    with pytest.raises(NewerSchema, match="newer luna"):
        Library.open(library_path)
    assert library_snapshot(library_path) == before


def test_newer_library_gives_one_line_error_and_exit_4(library_path, cli):
    Library.open(library_path).close()
    _as_if_made_by_a_newer_luna(library_path)
    code, out, err = cli("stats")
    assert code == 4
    assert out == ""
    assert err.startswith("Error: ") and "newer luna" in err
    assert len(err.strip().splitlines()) == 1


def test_not_a_library_is_a_clear_error(tmp_path, cli):
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n" * 100)
    code, _, err = cli("-L", bogus, "stats")
    assert code == 4
    assert "Error:" in err and "Traceback" not in err
    assert bogus.read_text().startswith("these are my notes")


def test_someone_elses_sqlite_database_is_refused(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE things (x)")
    with pytest.raises(LibraryError, match="not a luna library"):
        Library.open(other)


@pytest.mark.parametrize(
    "command",
    [["stats"], ["find"], ["album", "create", "Trip"], ["tag", "list"], ["event", "list"]],
)
def test_only_import_creates_a_library(library_path, cli, command):
    code, _, err = cli("-L", str(library_path), *command)
    assert code == 1 and "no library" in err and "luna import" in err
    assert not library_exists(library_path)


def test_missing_library_for_a_read_command(tmp_path, cli):
    code, _, err = cli("-L", tmp_path / "nope.db", "stats")
    assert code == 1
    assert "no library" in err
    with pytest.raises(NotFound):
        Library.open(tmp_path / "nope.db", create=False)


@pytest.mark.sqlite_only  # SQLite's migrations, its backup file
def test_migration_backs_up_then_upgrades(library_path, photos, monkeypatch):
    make_photo(photos / "a.jpg")
    with Library.open(library_path) as lib:
        lib.import_paths([str(photos)])

    def add_colour_space(database):
        from peewee import IntegerField
        from playhouse.migrate import SqliteMigrator, migrate

        migrate(
            SqliteMigrator(database).add_column("file", "colour_space", IntegerField(null=True))
        )

    monkeypatch.setattr(dbmod, "MIGRATIONS", [*dbmod.MIGRATIONS, add_colour_space])
    with Library.open(library_path) as lib:
        assert lib.backup_path is not None and lib.backup_path.is_file()
        columns = [c.name for c in lib.db.get_columns("file")]
        assert "colour_space" in columns
        assert lib.stats()["files"] == 1
    with sqlite3.connect(library_path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == dbmod.current_version()
    with sqlite3.connect(lib.backup_path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == dbmod.current_version() - 1
        assert con.execute("SELECT COUNT(*) FROM file").fetchone()[0] == 1


@pytest.mark.sqlite_only  # SQLite's migrations, its backup file
def test_a_failed_migration_leaves_the_old_schema(library_path, monkeypatch):
    Library.open(library_path).close()
    released = dbmod.current_version()

    def broken(database):
        database.execute_sql("ALTER TABLE file ADD COLUMN half_done INTEGER")
        raise RuntimeError("disk full, say")

    monkeypatch.setattr(dbmod, "MIGRATIONS", [*dbmod.MIGRATIONS, broken])
    with pytest.raises(LibraryError, match="left as it was"):
        Library.open(library_path)
    with sqlite3.connect(library_path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == released
        columns = [r[1] for r in con.execute("PRAGMA table_info(file)")]
        assert "half_done" not in columns


def _schema(lib) -> tuple[set, set, set]:
    """The library's tables, the columns of file, and the column lists of its indexes."""
    if not lib.on_server:
        columns = {c.name for c in lib.db.get_columns("file")}
        indexed = {tuple(i.columns) for i in lib.db.get_indexes("file")}
        return set(lib.db.get_tables()), columns, indexed
    catalog = "FROM information_schema.{} WHERE table_schema = current_schema()"
    tables = {t for (t,) in library_rows(lib.path, "SELECT table_name " + catalog.format("tables"))}
    in_file = "SELECT column_name " + catalog.format("columns") + " AND table_name = 'file'"
    columns = {c for (c,) in library_rows(lib.path, in_file)}
    indexes = "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    indexed = set()
    for (definition,) in library_rows(lib.path, indexes + " AND tablename = 'file'"):
        listed = definition[definition.index("(") + 1 : definition.rindex(")")]
        indexed.add(tuple(c.strip().strip('"') for c in listed.split(",")))
    return tables, columns, indexed


def test_schema_has_the_seed_models(lib):
    tables, columns, indexed = _schema(lib)
    assert {
        "file",
        "user",
        "tag",
        "album",
        "event",
        "file_tag",
        "album_file",
        "event_file",
        "file_relation",
        "album_editor",
        "album_viewer",
    } <= tables
    assert {
        "id",
        "path",
        "filename",
        "kind",
        "mime_type",
        "size_bytes",
        "mtime_ns",
        "content_sha",
        "start",
        "end",
        "latitude",
        "longitude",
        "altitude",
        "width",
        "height",
        "metadata",
        "processor_metadata",
        "owner_id",
        "created",
        "modified",
    } <= columns
    assert ("latitude", "longitude") in indexed


def test_library_folder_that_cannot_be_created_is_one_line(tmp_path, cli):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    code, out, err = cli("-L", blocker / "luna" / "library.db", "import", tmp_path)
    assert code == 4
    assert err.strip().startswith("Error: cannot create the library folder")
    assert len(err.strip().splitlines()) == 1


def test_the_schema_version_find_checks_is_the_migrations_count():
    from luna.config import SCHEMA_VERSION

    assert dbmod.current_version() == SCHEMA_VERSION
