"""`luna verify`: are the files still what the library recorded?

Disks rot, copies go wrong and programs save over originals, silently. luna recorded each
file's SHA-256 when it imported it, so it can read the files again and compare: a damaged
file is then found while a good copy (a backup, the camera card) may still exist.

How, and why so:
- Only reading. Files are opened read-only, with O_NOATIME where allowed so that not even
  their access time changes. The library is the only thing written: each file's
  `verified_at` (when its content last matched) and `missing_since`. `accept=True` records a
  changed file's new content through the importer, the same code as `luna import`, which
  keeps the old hash in `content_history`.
- Threads, not the importer's worker processes: no parser runs, only SHA-256, which is
  I/O bound and releases the GIL on large buffers, so a few threads keep a disk busy.
  Each file is read in 1 MiB chunks, so memory stays bounded whatever the file size, and
  threads stop between two chunks when the run is interrupted.
- The disk, not the page cache: a file's clean cached pages are dropped before it is read
  (Linux), so bit rot on the disk is not hidden by a good copy in memory, and again after,
  so that a nightly run does not push the user's working set out of memory.
- Results are written in small transactions, so Ctrl-C or kill -9 keeps what was checked.
  `verified_at` is only set when the content matched: with `older_than`, files are taken
  oldest check first (never-checked first), so a nightly `--older-than 30d --limit N`
  spreads a full check over many nights, and a file with a problem comes back every night
  until it is fixed or accepted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import stat
import threading
import time
import uuid
from array import array
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from luna.errors import ExitStatus, Interrupted, NotFound
from luna.files.scan import os_reason
from luna.ingest.importer import NoProgress, Progress
from luna.mtimes import same_mtime
from luna.results import Result

CHUNK = 1024 * 1024  # bytes read (and hashed) at a time
THREADS = 4  # enough to keep a disk or two busy; hashing is not the bottleneck
BATCH_FILES = 500  # results written per transaction at most...
BATCH_SECONDS = 2.0  # ...and at least this often, so an interruption loses little
PAGE = 1000  # rows fetched from the library at a time
ACCEPT_CHUNK = 500  # changed files handed to one import at a time

OK, CHANGED, MISSING, UNREADABLE = "ok", "changed", "missing", "unreadable"
BIT_ROT = "content changed but size and modification time did not: possible bit rot"
EDITED = "size or modification time changed too: probably edited"


@dataclass
class Problem:
    """A file that is not what the library recorded."""

    id: str
    path: str
    problem: str  # changed, missing, unreadable
    expected_sha: str
    found_sha: str | None = None
    detail: str | None = None
    accepted: bool = False  # with accept=True: the new content is now recorded


@dataclass
class VerifyReport(Result):
    """What a check found; its problems are the files not as recorded."""

    checked: int = 0
    ok: int = 0
    changed: int = 0
    missing: int = 0
    unreadable: int = 0
    accepted: int = 0
    bytes_read: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def unresolved(self) -> int:
        """Problems still standing: accepted changes are resolved."""
        return self.changed - self.accepted + self.missing + self.unreadable

    @property
    def exit_status(self) -> ExitStatus:
        if self.interrupted:
            return ExitStatus.INTERRUPTED
        return ExitStatus.PARTIAL if self.unresolved else ExitStatus.OK

    def data(self) -> dict:
        return {
            "checked": self.checked,
            "ok": self.ok,
            "changed": self.changed,
            "missing": self.missing,
            "unreadable": self.unreadable,
            "accepted": self.accepted,
            "bytes_read": self.bytes_read,
            "problems": [asdict(p) for p in self.problems],
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
        }


# -- reading one file (in a thread) -------------------------------------------------------


@dataclass(slots=True)
class Reading:
    """What reading one file found: its hash, or why there is none."""

    outcome: str  # "read", MISSING, UNREADABLE, or "stopped" (interrupted)
    sha: str | None = None
    size: int | None = None
    mtime_ns: int | None = None
    reason: str | None = None


_buffers = threading.local()


def read_hash(path: str, stop: threading.Event | None = None) -> Reading:
    """SHA-256 of the file at `path`, read in chunks; never raises for the file's sake."""
    try:
        fd = _open_read_only(path)
    except (FileNotFoundError, NotADirectoryError):  # gone, or a folder on its path is
        from luna.files.presence import presence

        # ...unless its folder left an empty mount point behind: a disk not mounted.
        found = presence(path)
        return Reading(MISSING) if found.gone else Reading(UNREADABLE, reason=found.reason)
    except OSError as exc:
        return Reading(UNREADABLE, reason=os_reason(exc))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return Reading(UNREADABLE, reason="it is a folder now, not a file")
        if not stat.S_ISREG(st.st_mode):
            return Reading(UNREADABLE, reason="it is not a regular file any more")
        _drop_cached_pages(fd)
        buffer = getattr(_buffers, "buffer", None)
        if buffer is None:
            buffer = _buffers.buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        digest = hashlib.sha256()
        with io.FileIO(fd, "rb", closefd=False) as f:
            while n := f.readinto(buffer):
                digest.update(view[:n])
                if stop is not None and stop.is_set():
                    return Reading("stopped")
        _drop_cached_pages(fd)
        return Reading("read", digest.hexdigest(), st.st_size, st.st_mtime_ns)
    except OSError as exc:  # EIO from a failing disk lands here
        return Reading(UNREADABLE, reason=f"read error: {os_reason(exc)}")
    finally:
        os.close(fd)


def _open_read_only(path: str) -> int:
    # O_NONBLOCK: a FIFO now at this path must not hang the run (no effect on files).
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    if noatime:
        try:
            return os.open(path, flags | noatime)
        except PermissionError:  # O_NOATIME is refused on files we do not own
            pass
    return os.open(path, flags)


def _drop_cached_pages(fd: int) -> None:
    if hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


# -- which files ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    id: str  # hex, as stored
    path: str
    sha: str
    size: int
    mtime_ns: int
    approximate: bool  # its mtime_ns is from before schema 5 (luna.mtimes)
    missing_since: object


def _select(lib, file_ids, older_than, limit, now) -> tuple[array, int]:
    """The rowids of the files to check, in the order to check them, and their bytes.

    Only rowids are kept (8 bytes a file), whatever the library's size; each row is read
    again when its turn comes. Were rowids renumbered meanwhile (VACUUM), the run would
    check other rows, each against its own record: coverage changes, correctness not."""
    ids = None if file_ids is None else [uuid.UUID(str(x)).hex for x in file_ids]
    checked_before = None if older_than is None else now - older_than
    return lib.store.checks.to_check(ids, checked_before, limit)


def _rows(lib, rowids: array) -> Iterator[_Row]:
    for i in range(0, len(rowids), PAGE):
        yield from (_Row(*row) for row in lib.store.checks.rows(rowids[i : i + PAGE].tolist()))


def _read_in_threads(rows, threads: int, stop: threading.Event):
    """(row, Reading) in the rows' order; at most a few files read ahead."""
    pool = ThreadPoolExecutor(threads, thread_name_prefix="luna-verify")
    window: deque = deque()
    try:
        for row in rows:
            window.append((row, pool.submit(read_hash, row.path, stop)))
            if len(window) >= threads * 4:
                row, future = window.popleft()
                yield row, future.result()
        while window:
            row, future = window.popleft()
            yield row, future.result()
    finally:
        stop.set()  # threads stop between two chunks: Ctrl-C is not kept waiting
        pool.shutdown(wait=True, cancel_futures=True)


# -- writing --------------------------------------------------------------------------------


class _Writes:
    """Library updates, written in batches; each batch is one transaction."""

    def __init__(self, lib):
        self.lib = lib
        self.verified: list[tuple] = []  # (id, sha): content matched now
        self.missing: list[tuple] = []  # (id, path): the path has vanished
        self.present: list[tuple] = []  # (id, path): a file marked missing is back
        self.last = time.monotonic()

    def pending(self) -> int:
        return len(self.verified) + len(self.missing) + len(self.present)

    def maybe_flush(self) -> None:
        if self.pending() >= BATCH_FILES or time.monotonic() - self.last > BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.last = time.monotonic()
        if not self.pending():
            return

        def write():
            self.lib.store.checks.record(self.verified, self.missing, self.present)

        _write(self.lib, write)
        # Cleared only once written: if the transaction failed, a later flush retries.
        self.verified, self.missing, self.present = [], [], []


def _write(lib, fn) -> None:
    from luna.store.sql import write_transaction

    write_transaction(lib, fn, then="; what was recorded before stays")


def _utcnow() -> dt.datetime:
    from luna.store.models import utcnow

    return utcnow()


# -- the whole run --------------------------------------------------------------------------


def verify(
    lib,
    file_ids=None,
    *,
    older_than: dt.timedelta | None = None,
    accept: bool = False,
    limit: int | None = None,
    progress: Progress | None = None,
    threads: int = THREADS,
) -> VerifyReport:
    """Read files again and compare their SHA-256 with the library's.

    file_ids: the files to check (ids as `luna.ops.targets.resolve` gives them); None for all.
    older_than: only files whose content was not confirmed for that long (or never).
    limit: at most this many files (the oldest checks first with older_than).
    accept: record the new content of changed files (their old hash goes to the history).

    Raises Interrupted (with the report so far) on Ctrl-C; what was checked is recorded.
    """
    started = time.monotonic()
    progress = progress or NoProgress()
    report = VerifyReport()
    writes = _Writes(lib)
    stop = threading.Event()
    changed: list[tuple[_Row, Problem]] = []
    try:
        rowids, total_bytes = _select(lib, file_ids, older_than, limit, _utcnow())
        progress.reading(len(rowids), total_bytes)
        readings = _read_in_threads(_rows(lib, rowids), max(1, threads), stop)
        try:
            for row, reading in readings:
                problem = _judge(row, reading, report, writes)
                if problem is not None:
                    report.problems.append(problem)
                    if problem.problem == CHANGED:
                        changed.append((row, problem))
                progress.advance(row.size or 0)
                writes.maybe_flush()
        finally:
            readings.close()  # stops and joins the threads, whatever happened
        writes.flush()
        if accept and changed:
            _accept(lib, changed, report)
    except KeyboardInterrupt:
        report.interrupted = True
        writes.flush()  # keep what was checked
        raise Interrupted("interrupted; what was checked is recorded", report) from None
    finally:
        progress.finished()
        report.seconds = time.monotonic() - started
    return report


def _judge(row: _Row, reading: Reading, report: VerifyReport, writes: _Writes):
    """Count one file; the Problem it has, if any."""
    report.checked += 1
    if reading.outcome == "read":
        report.bytes_read += reading.size or 0
        if reading.sha == row.sha:
            report.ok += 1
            writes.verified.append((row.id, row.sha))
            return None
        report.changed += 1
        if row.missing_since is not None:  # the path is there again, if not as it was
            writes.present.append((row.id, row.path))
        unchanged = reading.size == row.size and same_mtime(
            row.mtime_ns, reading.mtime_ns or 0, row.approximate
        )
        return _problem(row, CHANGED, reading.sha, BIT_ROT if unchanged else EDITED)
    if reading.outcome == MISSING:
        report.missing += 1
        if row.missing_since is None:
            writes.missing.append((row.id, row.path))
            return _problem(row, MISSING, None, "no file at this path")
        since = _as_iso_utc(row.missing_since)
        return _problem(row, MISSING, None, f"no file at this path (missing since {since})")
    report.unreadable += 1
    return _problem(row, UNREADABLE, None, reading.reason)


def _as_iso_utc(stored) -> str:
    """A row timestamp as raw SQL returns it (text), as luna prints timestamps."""
    from luna.timefmt import iso_utc

    try:
        return iso_utc(dt.datetime.fromisoformat(str(stored))) or str(stored)
    except ValueError:
        return str(stored)


def _problem(row: _Row, kind: str, found: str | None, detail: str | None) -> Problem:
    return Problem(str(uuid.UUID(row.id)), row.path, kind, row.sha, found, detail)


# -- accepting changes ----------------------------------------------------------------------


def _accept(lib, changed: list[tuple[_Row, Problem]], report: VerifyReport) -> None:
    """Record the new content of changed files with the importer (`reread`: bit rot keeps
    size and mtime, which would otherwise make it skip them), which keeps the old hash in
    content_history, updates what the file says (dates, keywords) and keeps user tags,
    albums and events. Each file keeps its owner."""
    from luna.ingest.importer import ImportOptions
    from luna.ingest.importer import Interrupted as ImportInterrupted
    from luna.ingest.workers import default_jobs

    owners = _owner_names(lib, [row.id for row, _ in changed])
    groups: dict[str | None, list[str]] = {}
    for row, problem in changed:
        # The importer records a file under its real path; one reached through a symbolic
        # link (imported with --follow-symlinks) would become a second record.
        if os.path.realpath(row.path) != row.path:
            problem.detail = (
                f"{problem.detail or 'changed'}; not accepted: its path goes through a "
                "symbolic link"
            )
            continue
        groups.setdefault(owners.get(row.id), []).append(row.path)
    failures: dict[str, str] = {}
    try:
        for owner, paths in groups.items():
            for i in range(0, len(paths), ACCEPT_CHUNK):
                # Gone since it was read: the import would refuse the whole chunk.
                chunk = [p for p in paths[i : i + ACCEPT_CHUNK] if os.path.lexists(p)]
                if not chunk:
                    continue
                options = ImportOptions(
                    reread=True,
                    change_reason="verify --accept",
                    owner=owner,
                    jobs=min(len(chunk), default_jobs()),
                )
                try:
                    imported = lib.import_paths(chunk, options)
                except NotFound:  # vanished in between: the next verify reports it
                    continue
                failures.update((f["path"], f["reason"]) for f in imported.failures)
    except ImportInterrupted:
        raise KeyboardInterrupt from None
    finally:
        _tally_accepted(lib, changed, failures, report)


def _owner_names(lib, ids: list[str]) -> dict[str, str | None]:
    """id -> the name of its owner (None: none recorded)."""
    return lib.store.checks.owners(ids)


def _tally_accepted(lib, changed, failures: dict[str, str], report: VerifyReport) -> None:
    """A change is accepted when the library no longer holds the old hash for the file."""
    current = lib.store.checks.content_shas([row.id for row, _ in changed])
    for row, problem in changed:
        sha = current.get(row.id)
        if sha is not None and sha != row.sha:
            problem.accepted = True
            problem.found_sha = sha
            report.accepted += 1
        elif row.path in failures:
            problem.detail += f"; not accepted: {failures[row.path]}"
        elif "not accepted" not in problem.detail:
            problem.detail += "; not accepted: the import did not record it"


# -- history --------------------------------------------------------------------------------


def content_history(lib, file_id) -> list[dict]:
    """The hashes a file had before its current one, most recent first, and why each was
    replaced ("verify --accept", "import")."""
    from luna.timefmt import iso_utc

    return [
        {"content_sha": sha, "size_bytes": size, "replaced_at": iso_utc(at), "reason": reason}
        for sha, size, at, reason in lib.store.files.content_history(file_id)
    ]
