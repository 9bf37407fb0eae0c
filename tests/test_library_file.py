"""The library file is the only copy of a user's organisation: luna never changes a file that
is not a current luna library, reads a library it may not write, and says plainly why a
write failed (read-only, disk full) instead of "internal error"."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
from pathlib import Path

import pytest
from conftest import make_photo, run_cli, run_luna_as_owner

from luna.errors import CannotWrite, LibraryError
from luna.library import Library
from luna.store import db as dbmod
from luna.store import libfile

# All about the SQLite file: its bytes, permissions, -wal and -shm, a full disk under it. (That
# only import creates a library, on either database, is in test_library.py.)
pytestmark = pytest.mark.sqlite_only

# -- what the folder holds, before and after ------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in the folder with its bytes: a refusal must leave this exactly as it was."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def luna(library: Path, command: str, *args) -> tuple[int, str, str]:
    return run_cli("-L", library, *command.split(), *args)


def args_for(command: str, photos: Path) -> list:
    """Enough arguments for each command to run."""
    return {"import": [photos], "show": [photos / "a.jpg"], "tag add": ["x", photos / "a.jpg"]}.get(
        command, []
    )


@pytest.fixture
def folder(tmp_path) -> Path:
    """The folder holding the library under test, and nothing else."""
    path = tmp_path / "lib"
    path.mkdir()
    return path


@pytest.fixture
def library(folder, photos) -> Path:
    """A real luna library in its own folder, with one photo (a.jpg) in it."""
    make_photo(photos / "a.jpg")
    path = folder / "library.db"
    with Library.open(path) as lib:
        assert lib.import_paths([str(photos)]).added == 1
    return path


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: "), err
    assert "internal error" not in err and "Traceback" not in err
    return lines[0]


# -- files luna must not change -------------------------------------------------------------


def newer_luna_library_in_rollback_mode(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA journal_mode = delete")
        con.execute("CREATE TABLE file (id)")
        con.execute("PRAGMA user_version = 999")
    con.close()


def someone_elses_database(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE things (x)")
        con.execute("INSERT INTO things VALUES ('mine')")
    con.close()


def random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(3 * 4096))


def empty_file(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("command", ["stats", "find", "import"])
@pytest.mark.parametrize(
    ("make", "says"),
    [
        (newer_luna_library_in_rollback_mode, "newer luna"),
        (someone_elses_database, "not a luna library"),
        (random_bytes, "not an SQLite database"),
    ],
)
def test_a_file_that_is_not_a_current_library_is_left_byte_for_byte(
    folder, photos, make, says, command
):
    path = folder / "library.db"
    make(path)
    before = snapshot(folder)
    code, out, err = luna(path, command, *args_for(command, photos))
    assert code == 4
    assert out == ""
    assert says in one_error_line(err)
    assert snapshot(folder) == before  # the same bytes, and no -wal or -shm beside it


@pytest.mark.parametrize(
    "command", ["stats", "find", "verify", "doctor", "show", "tag list", "import", "tag add"]
)
def test_an_empty_library_file_is_refused_not_filled(folder, photos, command):
    path = folder / "library.db"
    path.write_bytes(b"")  # cut short by a crash or a bad copy
    make_photo(photos / "a.jpg")
    code, out, err = luna(path, command, *args_for(command, photos))
    assert code == 4
    line = one_error_line(err)
    assert "is empty (0 bytes)" in line and "restore it from a backup" in line
    assert "All is well" not in out + err
    assert snapshot(folder) == {"library.db": b""}  # no schema, no -wal, -shm or journal


def test_an_empty_library_is_refused_by_the_python_api_too(folder):
    path = folder / "library.db"
    path.write_bytes(b"")
    with pytest.raises(LibraryError, match=r"is empty \(0 bytes\)"):
        Library.open(path)
    assert path.read_bytes() == b""


@pytest.mark.parametrize("command", ["find", "stats", "tag list"])
def test_a_damaged_library_is_refused_and_nothing_is_left_beside_it(library, folder, command):
    whole = library.read_bytes()
    library.write_bytes(whole[: len(whole) // 2])  # a copy cut off half way
    before = snapshot(folder)
    code, out, err = luna(library, command)
    assert code == 4
    assert f"{library} is damaged" in one_error_line(err)
    assert snapshot(folder) == before


def test_a_new_library_appears_only_whole(tmp_path, photos, cli):
    """Only import creates a library; it is built aside and appears complete, so an empty
    file at a library's path is never luna's own work in progress."""
    make_photo(photos / "a.jpg")
    path = tmp_path / "new" / "library.db"
    code, _, err = cli("-L", path, "import", photos)
    assert code == 0, err
    assert sorted(os.listdir(path.parent)) == ["library.db"]  # no temporary left over
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == dbmod.current_version()
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


# -- a library luna may not write ------------------------------------------------------------


@contextlib.contextmanager
def read_only(path: Path):
    """`path` read-only inside the block: a file 0444, a folder 0555."""
    mode = path.stat().st_mode & 0o777
    path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        path.chmod(mode)


# What is made read-only (the library file or its folder), and what luna says about it.
READ_ONLY = {
    "file": (lambda library: library, "it is read-only (file permissions)"),
    "folder": (lambda library: library.parent, "the folder {folder} is read-only"),
}


@pytest.mark.parametrize("how", READ_ONLY)
@pytest.mark.parametrize(
    "command", [["tag", "add", "x", "{photo}"], ["verify"], ["album", "create", "Trip"]]
)
def test_writing_to_a_read_only_library_says_why_in_one_line(library, folder, photos, how, command):
    part, reason = READ_ONLY[how]
    words = [w.format(photo=photos / "a.jpg") for w in command]
    before = snapshot(folder)
    with read_only(part(library)):
        done = run_luna_as_owner("-L", library, *words)
    assert done.returncode == 4, done.stderr
    line = one_error_line(done.stderr)
    assert line == f"Error: cannot write to the library {library}: {reason.format(folder=folder)}"
    assert snapshot(folder) == before


@pytest.mark.parametrize("how", READ_ONLY)
def test_reading_commands_work_on_a_read_only_library(library, folder, photos, how):
    from luna.ops.albums import create_album

    with Library.open(library) as lib:  # something to list
        create_album(lib, "Trip", user="alice")
    before = snapshot(folder)
    photo = str(photos / "a.jpg")
    part, _ = READ_ONLY[how]
    with read_only(part(library)):
        runs = {
            "find": run_luna_as_owner("-L", library, "find", "--json"),
            "show": run_luna_as_owner("-L", library, "show", photo, "--json"),
            "stats": run_luna_as_owner("-L", library, "stats", "--json"),
            "tag list": run_luna_as_owner("-L", library, "tag", "list", "--json"),
            "album list": run_luna_as_owner(
                "-L", library, "album", "list", "--as", "alice", "--json"
            ),
            "missing": run_luna_as_owner("-L", library, "missing", "--json"),
            "dupes": run_luna_as_owner("-L", library, "dupes", "--json"),
        }
    for command, done in runs.items():
        assert done.returncode == 0, f"{command}: {done.stderr}"
    assert [f["path"] for f in json.loads(runs["find"].stdout)["files"]] == [photo]
    assert json.loads(runs["show"].stdout)["files"][0]["path"] == photo
    assert json.loads(runs["stats"].stdout)["files"] == 1
    assert [a["name"] for a in json.loads(runs["album list"].stdout)["albums"]] == ["Trip"]
    assert json.loads(runs["missing"].stdout)["count"] == 0
    assert library.read_bytes() == before[library.name]
    if how == "folder":
        assert snapshot(folder) == before  # no -wal or -shm could be, or was, made


@pytest.mark.parametrize("command", ["stats", "find"])
def test_an_old_read_only_library_says_it_needs_an_upgrade(folder, command):
    from test_migrations import SCHEMA1_DUMP

    library = folder / "library.db"
    with sqlite3.connect(library) as con:
        con.executescript(SCHEMA1_DUMP.read_text())
    con.close()
    before = snapshot(folder)
    with read_only(library):
        done = run_luna_as_owner("-L", library, command)
    assert done.returncode == 4
    assert one_error_line(done.stderr) == (
        f"Error: cannot write to the library {library}: it is read-only (file permissions); "
        "it was written by an older luna, and must be upgraded before this luna can read it"
    )
    assert snapshot(folder) == before


def _with_changes_waiting_in_the_wal(library: Path, *, keep_shm: bool) -> None:
    """The library as a luna killed after a commit leaves it: the commit is in the -wal,
    not yet in the library file."""
    copies = {}
    con = sqlite3.connect(library)
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("INSERT INTO tag (name, key, created) VALUES ('waiting', 'waiting', '2020-01-01')")
    con.commit()
    for suffix in ("", "-wal", "-shm"):
        copies[suffix] = Path(f"{library}{suffix}").read_bytes()
    con.close()  # checkpoints and removes the -wal: put back what the crash left
    for suffix, data in copies.items():
        if suffix != "-shm" or keep_shm:
            Path(f"{library}{suffix}").write_bytes(data)


def test_a_read_only_folder_still_shows_the_changes_waiting_in_the_wal(library, folder):
    _with_changes_waiting_in_the_wal(library, keep_shm=True)
    before = snapshot(folder)
    with read_only(folder):
        done = run_luna_as_owner("-L", library, "tag", "list", "--json")
    assert done.returncode == 0, done.stderr
    assert "waiting" in [t["name"] for t in json.loads(done.stdout)["tags"]]
    after = snapshot(folder)
    assert after.keys() == before.keys()  # the -shm is SQLite's shared memory: it may change
    assert [after[n] for n in ("library.db", "library.db-wal")] == [
        before[n] for n in ("library.db", "library.db-wal")
    ]


def test_a_read_only_folder_without_the_shm_is_refused_rather_than_shown_stale(library, folder):
    _with_changes_waiting_in_the_wal(library, keep_shm=False)
    before = snapshot(folder)
    with read_only(folder):
        done = run_luna_as_owner("-L", library, "tag", "list", "--json")
    assert done.returncode == 4
    assert "-wal" in one_error_line(done.stderr) and "read-only" in done.stderr
    assert snapshot(folder) == before


def test_a_new_library_in_a_read_only_folder_is_one_line(folder, photos):
    make_photo(photos / "a.jpg")
    with read_only(folder):
        done = run_luna_as_owner("-L", folder / "library.db", "import", photos)
    assert done.returncode == 4
    line = one_error_line(done.stderr)
    path = folder / "library.db"
    assert line == f"Error: cannot create the library {path}: the folder {folder} is read-only"
    assert os.listdir(folder) == []


# -- the library's own disk full ------------------------------------------------------------


@pytest.fixture
def full_library(library, monkeypatch):
    """Every connection luna opens from now on finds the library's disk full: SQLite's
    max_page_count stops it from growing, and a write that needs room fails with SQLITE_FULL,
    as on a full disk (mounting a small file system needs root)."""
    with sqlite3.connect(library) as con:
        pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    monkeypatch.setattr(dbmod, "PRAGMAS", {**dbmod.PRAGMAS, "max_page_count": pages})
    return library


def test_import_onto_a_full_disk_says_the_disk_is_full(full_library, photos):
    for i in range(60):
        make_photo(photos / "more" / f"{i}.jpg", color=(i, 0, 0), size=(16, 16))
    code, _, err = luna(full_library, "import", photos)
    assert code == 4
    line = one_error_line(err)
    assert line.startswith(f"Error: cannot write to the library {full_library}: the disk is full;")
    assert "what was recorded before stays" in line


def test_other_commands_on_a_full_disk_say_the_disk_is_full(full_library, photos):
    tags = [f"-t{'x' * 3000}{i}" for i in range(4)]  # long names need pages of their own
    code, _, err = luna(full_library, "tag add", *tags, photos / "a.jpg")
    assert code == 4
    assert (
        one_error_line(err)
        == f"Error: cannot write to the library {full_library}: the disk is full"
    )


# -- what SQLite's errors mean ---------------------------------------------------------------


def _peewee_wrapped(message: str) -> Exception:
    """An error as peewee raises it: its own class, the sqlite3 error as its context."""
    from peewee import OperationalError

    try:
        try:
            raise sqlite3.OperationalError(message)
        except sqlite3.OperationalError:
            raise OperationalError(message)  # noqa: B904 - as peewee does
    except OperationalError as exc:
        return exc


def _hidden_by_a_failed_rollback(message: str) -> Exception:
    """SQLite rolled back by itself; peewee's rollback then fails and hides the cause."""
    try:
        try:
            raise sqlite3.OperationalError(message)
        except sqlite3.OperationalError:
            raise sqlite3.OperationalError("cannot rollback - no transaction is active")  # noqa: B904
    except sqlite3.OperationalError as exc:
        return exc


@pytest.mark.parametrize(
    "wrap", [sqlite3.OperationalError, _peewee_wrapped, _hidden_by_a_failed_rollback]
)
def test_sqlite_full_means_the_disk_is_full(tmp_path, wrap):
    assert (
        libfile.plain_cause(wrap("database or disk is full"), tmp_path / "l.db")
        == "the disk is full"
    )


def test_an_io_error_on_a_full_disk_means_the_disk_is_full(tmp_path, monkeypatch):
    error = sqlite3.OperationalError("disk I/O error")
    assert "disk I/O error" in libfile.plain_cause(error, tmp_path / "l.db")  # room left here
    full = os.statvfs_result((4096, 4096, 1000, 0, 0, 100, 0, 0, 0, 255))
    monkeypatch.setattr(os, "statvfs", lambda _path: full)
    assert libfile.plain_cause(error, tmp_path / "l.db") == "the disk is full"


def test_read_only_means_saying_what_is_read_only(tmp_path, monkeypatch):
    path = tmp_path / "l.db"
    path.write_bytes(b"")
    error = _peewee_wrapped("attempt to write a readonly database")
    refused = {str(path): False, str(tmp_path): True}
    monkeypatch.setattr(os, "access", lambda p, mode: refused.get(os.fspath(p), True))
    assert libfile.plain_cause(error, path) == "it is read-only (file permissions)"
    refused = {str(path): True, str(tmp_path): False}
    assert libfile.plain_cause(error, path) == f"the folder {tmp_path} is read-only"


def test_other_causes_in_plain_words(tmp_path):
    path = tmp_path / "l.db"
    locked = libfile.plain_cause(sqlite3.OperationalError("database is locked"), path)
    assert locked == f"another program kept it locked for more than {libfile.BUSY_TIMEOUT_S} s"
    no_room = OSError(errno.ENOSPC, "No space left on device")
    assert libfile.plain_cause(no_room, path) == "the disk is full"
    error = libfile.cannot_write(path, sqlite3.OperationalError("database or disk is full"), "; x")
    assert isinstance(error, CannotWrite) and error.exit_status == 4
    assert str(error) == f"cannot write to the library {path}: the disk is full; x"
