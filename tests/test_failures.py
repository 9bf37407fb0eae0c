"""One bad file never stops an import; Ctrl-C, kill -9 and a second luna never damage it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import library_rows, make_photo

from luna.errors import LibraryError
from luna.ingest.importer import ImportOptions
from luna.ingest.workers import Failed, Pool
from luna.store.orm import peewee


def imp(lib, *paths, **options):
    return lib.import_paths([str(p) for p in paths], ImportOptions(**options))


def test_broken_files_are_reported_and_the_rest_imported(lib, photos):
    good = make_photo(photos / "good.jpg")
    (photos / "empty.jpg").write_bytes(b"")
    (photos / "garbage.jpg").write_bytes(os.urandom(5000))
    # A JPEG cut off inside its header.
    (photos / "truncated.jpg").write_bytes(good.read_bytes()[:40])
    # A PNG that claims 100,000 x 100,000 pixels: a decompression bomb.
    (photos / "bomb.png").write_bytes(png_header(100_000, 100_000))
    report = imp(lib, photos)
    reasons = {os.path.basename(f["path"]): f["reason"] for f in report.failures}
    assert report.added == 1
    assert report.failed == 4
    assert reasons["empty.jpg"] == "empty file (0 bytes)"
    assert "damaged" in reasons["garbage.jpg"]
    assert (
        "not a readable image" in reasons["truncated.jpg"] or "damaged" in reasons["truncated.jpg"]
    )
    assert "decompression bomb" in reasons["bomb.png"]
    assert report.exit_status == 3
    assert lib.stats()["failed"] == 4


def test_failed_files_are_not_retried_while_unchanged(lib, photos):
    (photos / "empty.jpg").write_bytes(b"")
    first = imp(lib, photos)
    again = imp(lib, photos)
    assert first.failed == 1 and first.exit_status == 3
    # Known and unchanged: named in the report, but not a new failure (a nightly cron job
    # does not mail every day about the same file).
    assert (again.failed, again.known_failed) == (0, 1)
    assert again.known_failures[0]["reason"] == "empty file (0 bytes)"
    assert again.exit_status == 0
    assert lib.stats()["failed"] == 1
    # Once fixed, it is imported and no longer counted as failed.
    make_photo(photos / "empty.jpg")
    fixed = imp(lib, photos)
    assert (fixed.added, fixed.failed, fixed.known_failed) == (1, 0, 0)
    assert lib.stats()["failed"] == 0


def test_a_failure_whose_cause_may_have_passed_is_retried(lib, photos, monkeypatch):
    """Permission denied, an I/O error, a time-out: fixed without touching the file (same
    size and mtime), it is read again on the next import."""
    locked = make_photo(photos / "locked.jpg", color=(7, 7, 7))
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if str(path).endswith("locked.jpg"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(os, "open", refusing_open)
        first = imp(lib, photos)
    assert first.failed == 1 and first.failures[0]["reason"] == "cannot read: permission denied"
    stat_before = locked.stat()
    again = imp(lib, photos)  # the permission is fixed; the file is as it was
    assert locked.stat().st_mtime == stat_before.st_mtime
    assert (again.added, again.failed, again.known_failed) == (1, 0, 0)
    assert lib.stats()["failed"] == 0


def test_unreadable_file_is_reported(lib, photos, monkeypatch):
    """Permission denied (simulated: the tests may run as root, who can read anything)."""
    make_photo(photos / "ok.jpg")
    make_photo(photos / "locked.jpg", color=(7, 7, 7))
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if str(path).endswith("locked.jpg"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)  # workers are forked: they inherit it
    report = imp(lib, photos)
    assert (report.added, report.failed) == (1, 1)
    assert report.failures[0]["reason"] == "cannot read: permission denied"


# -- the worker pool --------------------------------------------------------------------


def slow_or_crashing(path: str):
    if path.endswith("hang"):
        time.sleep(600)
    if path.endswith("crash"):
        os.kill(os.getpid(), signal.SIGSEGV)
    if path.endswith("memory"):
        raise MemoryError
    return path.upper()


def test_pool_survives_hangs_and_crashes():
    tasks = ["a", "hang", "b", "crash", "c", "memory", "d", "e"]
    started = time.monotonic()
    results = dict(Pool(slow_or_crashing, 2, lambda task: 1.0).run(tasks))
    assert time.monotonic() - started < 20
    assert {k: v for k, v in results.items() if not isinstance(v, Failed)} == {
        t: t.upper() for t in "abcde"
    }
    assert "timed out" in results["hang"].reason
    assert "crashed" in results["crash"].reason and "SIGSEGV" in results["crash"].reason
    assert "memory" in results["memory"].reason


# -- interruption and concurrency (real processes, as a user would run them) -------------


def make_tree(folder, count):
    for i in range(count):
        make_photo(
            folder / f"d{i % 10}" / f"IMG_{i:04d}.jpg", color=(i % 256, i // 256, 7), size=(32, 24)
        )


def luna_cmd(library, *args):
    return [sys.executable, "-m", "luna", "-L", str(library), *map(str, args)]


# The real CLI, with each file's reading slowed down (in the workers, which are forked
# from this process) so that a signal reliably lands in the middle of an import.
SLOW_LUNA = """
import sys, time
import luna.ingest.extract
read = luna.ingest.extract.read_file
def slow_read(path):
    time.sleep(0.01)
    return read(path)
luna.ingest.extract.read_file = slow_read
from luna.cli.app import main
sys.argv = ["luna"] + sys.argv[1:]
main()
"""


def slow_luna_cmd(library, *args):
    return [sys.executable, "-c", SLOW_LUNA, "-L", str(library), *map(str, args)]


def count_files(library) -> tuple[int, int]:
    if isinstance(library, Path):  # SQLite's own check of the file (a server has none)
        with sqlite3.connect(library) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    [(total, distinct)] = library_rows(library, "SELECT COUNT(*), COUNT(DISTINCT path) FROM file")
    return total, distinct


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_import_leaves_a_consistent_library(library_path, photos, sig):
    make_tree(photos, 600)
    library = library_path
    proc = subprocess.Popen(
        slow_luna_cmd(library, "import", photos, "--quiet"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_for_rows(library, minimum=1, timeout=60)
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130
    total, distinct = count_files(library)
    assert total == distinct
    assert total < 600  # it really was interrupted
    done = subprocess.run(
        luna_cmd(library, "import", photos, "--json"), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert count_files(library) == (600, 600)


def test_two_imports_at_once_both_complete(tmp_path, library_path):
    library = library_path
    tree_a, tree_b = tmp_path / "a", tmp_path / "b"
    make_tree(tree_a, 300)
    make_tree(tree_b, 300)
    make_photo(tree_b / "unique.jpg", color=(1, 2, 3))
    procs = [
        subprocess.Popen(luna_cmd(library, "import", tree, "--quiet"), stderr=subprocess.PIPE)
        for tree in (tree_a, tree_b, tree_a)  # the same tree twice, too
    ]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()
    assert count_files(library) == (601, 601)


def wait_for_rows(library, minimum, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if isinstance(library, Path):  # read only, so as not to make the file
                with sqlite3.connect(f"file:{library}?mode=ro", uri=True, timeout=1) as con:
                    if con.execute("SELECT COUNT(*) FROM file").fetchone()[0] >= minimum:
                        return
            elif library_rows(library, "SELECT COUNT(*) FROM file")[0][0] >= minimum:
                return
        except (sqlite3.Error, peewee.DatabaseError, LibraryError):  # no library (tables) yet
            pass
        time.sleep(0.02)
    raise AssertionError("the import never recorded anything")


def png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.sqlite_only  # SQLite's max_page_count stands for a full disk
def test_full_disk_stops_cleanly_and_a_rerun_finishes(lib, photos, library_path):
    make_tree(photos, 400)
    # SQLite's max_page_count makes the library "full" after a few pages, as a full disk
    # would: the write fails with SQLITE_FULL.
    pages = lib.db.execute_sql("PRAGMA page_count").fetchone()[0]
    lib.db.execute_sql(f"PRAGMA max_page_count = {pages + 8}")
    from luna.errors import LibraryError

    with pytest.raises(LibraryError, match="full"):
        imp(lib, photos)
    lib.db.execute_sql("PRAGMA max_page_count = 1073741823")
    report = imp(lib, photos)
    assert report.failed == 0
    assert count_files(library_path) == (400, 400)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MB filesystem (tmpfs), where the tests may mount one (root on Linux)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a small filesystem here")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


@pytest.mark.sqlite_only  # the disk under the library's file
def test_a_really_full_disk_through_the_cli(photos, tiny_disk):
    make_tree(photos, 1500)
    library = tiny_disk / "lib.db"
    done = subprocess.run(
        luna_cmd(library, "import", photos), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 4
    assert done.stdout == ""
    error_lines = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and "the disk is full" in error_lines[0]
    assert "Traceback" not in done.stderr
    recorded_before, _ = count_files(library)
    # Free space appears (here: the filesystem grows); the same import finishes the job.
    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_disk)], check=True)
    again = subprocess.run(
        luna_cmd(library, "import", photos, "--json"), capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["added"] == 1500 - recorded_before
    assert count_files(library) == (1500, 1500)


def test_a_file_gone_since_the_listing_is_skipped_not_failed(tmp_path):
    """Deleted (or moved away by another luna) between the walk and the read: nothing is
    wrong with it, there is just nothing left to import."""
    from luna.ingest.extract import Skipped, read_file

    result = read_file(str(tmp_path / "IMG_0001.JPG"))
    assert isinstance(result, Skipped) and "vanished" in result.reason
