"""Putting a file somewhere else without ever losing it: copy, verify, rename, journal.

Photo tools have lost whole libraries while moving them (a resumed import, a network disk
that reported a copy done before it was). Every copy or move luna makes follows the same
steps, each of which leaves the file safe if the process dies right after it:

1. A journal row (table `transfer`) records source, destination and the content hash, and
   is committed before any file is touched.
2. The data is copied by the kernel (copy_file_range) to a temporary name in the
   destination folder, flushed to the disk (fsync), then read back and hashed. The hash
   must equal the one the library knows (taken when luna read the source), or the copy is
   removed and the file reported. On the same file system a move needs no copy: a hard
   link gives the file its second name.
3. The temporary name is renamed into place without replacing anything (link, or
   renameat2(RENAME_NOREPLACE)): an existing file is never overwritten. The folder is
   flushed too, so the new name survives a power cut.
4. The library row is written (or, for organize, updated) in the same transaction that
   advances the journal.
5. Only for a move, and only now: the source is deleted. Then the journal row goes.

Whatever a crash leaves in the journal is finished or rolled back by `recover()`, which
the next luna command that writes to the library runs first. A journal row of a luna that
is still running is not a leftover: every process that copies or moves holds a shared lock
on a file beside the library, and recovery runs only when it can take that lock alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import signal
import uuid
from dataclasses import dataclass

from luna.fsnames import for_humans

CHUNK = 1 << 20  # 1 MB reads: bounded memory for any file size
TEMP_PREFIX = ".luna-partial-"  # hidden, so an import of the folder never picks one up

# For the crash tests: `LUNA_CRASH_AT=placed luna import ...` kills the process with
# SIGKILL right after that step, as a power cut would. Steps: copied, placed, recorded, and
# batch (an in-place import's batch of rows committed). `LUNA_CRASH_AT=placed:INT` sends
# SIGINT instead, as Ctrl-C would, once; `placed:TERM` sends SIGTERM, as systemd would.
CRASH_ENV = "LUNA_CRASH_AT"
_STOP_SIGNALS = {"INT": signal.SIGINT, "TERM": signal.SIGTERM}


class TransferFailed(Exception):
    """This one file could not be put in place; it is where it was, untouched."""


class NoSpace(TransferFailed):
    """The destination's disk is full: the files after this one need not be tried."""


def failure(exc: OSError, where: str) -> TransferFailed:
    """The TransferFailed for an OSError at `where` (a folder, or a destination)."""
    cls = NoSpace if exc.errno == errno.ENOSPC else TransferFailed
    return cls(_os_reason(exc, where))


@contextlib.contextmanager
def interrupts_deferred():
    """Ctrl-C and SIGTERM wait until the block is done: a file between "in place" and
    "recorded" is finished rather than left for the next command's recovery. (A kill -9
    cannot wait; that is what the journal is for.) Then the signal is delivered as it would
    have been (KeyboardInterrupt, luna.interrupts.Terminated), also when the block failed:
    the stop asked for is never lost. Only the main thread receives signals."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []

    def hold(signum, frame) -> None:
        caught.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in _STOP_SIGNALS.values()}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            signal.raise_signal(caught[0])


def crash_point(step: str) -> None:
    wanted = os.environ.get(CRASH_ENV)
    if wanted == step:
        os.kill(os.getpid(), signal.SIGKILL)
    elif wanted and wanted.startswith(f"{step}:"):
        os.environ.pop(CRASH_ENV, None)
        os.kill(os.getpid(), _STOP_SIGNALS[wanted.partition(":")[2]])


# -- the file operations ---------------------------------------------------------------------


def temporary_name(destination: str) -> str:
    folder, name = os.path.split(destination)
    # Short: the destination's own name may already be near the 255-byte limit.
    return os.path.join(folder, f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}")


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        while chunk := fp.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_verified(
    source: str, temporary: str, expected_sha: str, known: tuple[int, float] | None = None
) -> None:
    """Copy `source` to `temporary` (which must not exist), on disk and proven equal to
    the content the library knows (`expected_sha`). `known`: the (size, mtime) the source
    had when it was hashed, to tell a file edited since from a bad copy."""
    try:
        # Unbuffered: the kernel moves the data, and file offsets stay the kernel's.
        with open(source, "rb", buffering=0) as src, open(temporary, "xb", buffering=0) as dst:
            st = os.fstat(src.fileno())
            _copy_data(src, dst, st.st_size)
            os.fsync(dst.fileno())
        os.utime(temporary, ns=(st.st_atime_ns, st.st_mtime_ns))  # as cp -p: dates stay
        # Reading the copy back proves it holds exactly the content that was hashed when
        # the file was read: a source edited since, or a bad write, both show here.
        if sha256_of(temporary) != expected_sha:
            if known is not None and (st.st_size, st.st_mtime) != known:
                raise TransferFailed("the file changed since it was read; import it again")
            raise TransferFailed("the copy reads back different from the source (disk error?)")
    except BaseException as exc:
        _remove_quietly(temporary)
        if isinstance(exc, OSError):
            # The folder, not the hidden temporary name: that one was removed.
            raise failure(exc, os.path.dirname(temporary)) from None
        raise


def _copy_data(src, dst, size: int) -> None:
    """The kernel copies (copy_file_range, which may also share blocks on btrfs or XFS);
    a plain read/write loop where it cannot (another file system, an old kernel)."""
    copied = 0
    try:
        while copied < size:
            n = os.copy_file_range(src.fileno(), dst.fileno(), size - copied)
            if n == 0:
                break
            copied += n
    except (AttributeError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno not in _NO_KERNEL_COPY:
            raise
        src.seek(copied)
        dst.seek(copied)
    while chunk := src.read(CHUNK):  # the rest, also a file that grew meanwhile
        view = memoryview(chunk)
        while view:  # a raw write may take only part of the chunk
            view = view[dst.write(view) :]


_NO_KERNEL_COPY = (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL)


def place_no_replace(temporary: str, destination: str) -> None:
    """Give `temporary` the name `destination`, failing if that name exists (the copy is
    then removed: it has no other use)."""
    try:
        os.link(temporary, destination)
    except FileExistsError:
        _remove_quietly(temporary)
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        try:
            _rename_no_replace(temporary, destination)  # no hard links here (FAT, some NAS)
        except FileExistsError:
            _remove_quietly(temporary)
            raise
    else:
        os.unlink(temporary)
    fsync_folder(os.path.dirname(destination))


def link_no_replace(source: str, destination: str) -> bool:
    """A second name for `source` on the same file system; False when links are not
    possible there (the caller copies instead)."""
    try:
        os.link(source, destination)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            return False
        raise
    fsync_folder(os.path.dirname(destination))
    return True


_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _rename_no_replace(source: str, destination: str) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # pragma: no cover - not Linux/glibc
        if os.path.lexists(destination):
            raise FileExistsError(errno.EEXIST, "file exists", destination) from None
        os.rename(source, destination)
        return
    result = renameat2(
        _AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(destination), _RENAME_NOREPLACE
    )
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), destination)


def fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # pragma: no cover - some file systems refuse; the data is synced
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def make_folders(folder: str) -> None:
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise failure(exc, folder) from None


def remove_source(
    source: str, expected_sha: str, destination: str, folders: dict | None = None
) -> None:
    """Delete the source of a move (or a duplicate), once `destination` is proven to hold its
    content under a name of its own. A source already gone (another luna moving the same
    files) is what was wanted. `folders`: a cache for presence.same_entry, for a run."""
    if check_second_copy(source, expected_sha, destination, folders):
        unlink_source(source)


def check_second_copy(
    source: str, expected_sha: str, destination: str, folders: dict | None = None
) -> bool:
    """Whether `source` may be deleted because `destination` keeps its content: False when
    it is gone already; raises TransferFailed when it must be kept."""
    from luna import presence

    try:
        st = os.lstat(source)
    except FileNotFoundError:
        return False
    try:
        one_entry = presence.same_entry(source, destination, folders)
    except presence.CannotTell as exc:
        raise TransferFailed(
            f"cannot tell whether {for_humans(source)} is {for_humans(destination)} reached "
            f"by another path ({exc}); the source was kept"
        ) from None
    if one_entry:
        # A symbolic link, a bind mount or a case-insensitive card: deleting this name
        # would delete the only copy.
        raise TransferFailed(
            f"{for_humans(source)} is {for_humans(destination)} itself, reached by another "
            "path; it was kept"
        )
    # Two hard links need no content check: the data stays under the destination's name.
    if not _hard_links(st, destination) and not _holds_content(destination, expected_sha):
        raise TransferFailed(f"{for_humans(destination)} no longer matches; the source was kept")
    return True


def unlink_source(source: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(source)
    fsync_folder(os.path.dirname(source))


def _hard_links(source_stat: os.stat_result, other: str) -> bool:
    """Whether `other` is another name of the file `source_stat` describes."""
    try:
        st = os.stat(other)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (source_stat.st_dev, source_stat.st_ino)


def _holds_content(path: str, sha: str) -> bool:
    try:
        return sha256_of(path) == sha
    except OSError:
        return False


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _os_reason(exc: OSError, where: str) -> str:
    if exc.errno == errno.ENOSPC:
        return f"no space left on the disk of {for_humans(where)}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied: {for_humans(exc.filename or where)}"
    if exc.errno == errno.EROFS:
        return f"read-only file system: {for_humans(where)}"
    return f"{exc.strerror or exc}: {for_humans(exc.filename or where)}"


class FullDisks:
    """Destination disks found full in this run. The rest of their files are not tried:
    each would fill the disk to the brim again and fail, one line each, for nothing."""

    def __init__(self):
        self._full: dict[int, str] = {}  # device -> the folder that reported it full
        self._devices: dict[str, int | None] = {}

    def full_folder(self, destination: str) -> str | None:
        """The folder reported full on `destination`'s disk, if that disk is full."""
        if not self._full:
            return None
        return self._full.get(self._device(os.path.dirname(destination)))

    def mark_full(self, destination: str) -> None:
        folder = os.path.dirname(destination)
        self._full.setdefault(self._device(folder), folder)

    def _device(self, folder: str) -> int | None:
        if folder not in self._devices:
            probe = folder
            while True:  # the nearest folder that exists: the rest is still to be made
                try:
                    self._devices[folder] = os.stat(probe).st_dev
                    break
                except OSError:
                    parent = os.path.dirname(probe)
                    if parent == probe:
                        self._devices[folder] = None
                        break
                    probe = parent
        return self._devices[folder]


def free_bytes(folder: str) -> int | None:
    while folder:
        try:
            st = os.statvfs(folder)
            return st.f_bavail * st.f_frsize
        except OSError:
            parent = os.path.dirname(folder)
            if parent == folder:
                return None
            folder = parent
    return None


# -- the journal -----------------------------------------------------------------------------


@dataclass
class Entry:
    id: int
    operation: str
    source: str
    destination: str
    temporary: str
    content_sha: str
    size_bytes: int
    file_id: str | None
    state: str


class Journal:
    """The `transfer` table: one row per file on its way, committed at each step."""

    def __init__(self, db):
        self.db = db

    def begin(self, operation, source, destination, content_sha, size, file_id=None) -> Entry:
        from luna.fsnames import to_db
        from luna.models import File, utcnow

        temporary = temporary_name(destination)
        with self.db.atomic("IMMEDIATE"):
            cursor = self.db.execute_sql(
                "INSERT INTO transfer (operation, source, destination, temporary, content_sha, "
                "size_bytes, file_id, state, started) VALUES (?, ?, ?, ?, ?, ?, ?, 'copying', ?)",
                (
                    operation,
                    to_db(source),
                    to_db(destination),
                    to_db(temporary),
                    content_sha,
                    size,
                    file_id,
                    File.created.db_value(utcnow()),
                ),
            )
        return Entry(
            cursor.lastrowid, operation, source, destination, temporary, content_sha, size,
            file_id, "copying",
        )  # fmt: skip

    def advance(self, entry: Entry, state: str) -> None:
        """Outside a transaction: commits at once. Inside one: lands with it."""
        self.db.execute_sql("UPDATE transfer SET state = ? WHERE id = ?", (state, entry.id))
        entry.state = state

    def finish(self, entry: Entry) -> None:
        self.db.execute_sql("DELETE FROM transfer WHERE id = ?", (entry.id,))

    def pending(self) -> list[Entry]:
        from luna.fsnames import from_db

        rows = self.db.execute_sql(
            "SELECT id, operation, source, destination, temporary, content_sha, size_bytes, "
            "file_id, state FROM transfer ORDER BY id"
        ).fetchall()
        return [
            Entry(r[0], r[1], from_db(r[2]), from_db(r[3]), from_db(r[4]), *r[5:]) for r in rows
        ]


def has_pending(db) -> bool:
    return db.execute_sql("SELECT EXISTS (SELECT 1 FROM transfer)").fetchone()[0] == 1


# -- who is transferring now -----------------------------------------------------------------
# A process killed with -9 loses its locks with it, so "nobody holds the lock" means
# "every journal row is a crash's leftover". flock, not SQLite: the lock must last the
# whole run, across many short transactions.


def _open_lock(library_path) -> int | None:
    try:
        return os.open(f"{library_path}-transfers.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
    except OSError:
        return None  # a read-only folder: nothing can be transferring into this library


@contextlib.contextmanager
def transferring(library_path, *, dry_run: bool = False):
    """Held (shared: several luna at once) while this process copies or moves files. Waits
    while a recovery runs, which takes moments. A dry run moves nothing and takes nothing."""
    import fcntl

    fd = None if dry_run else _open_lock(library_path)
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        if fd is not None:
            os.close(fd)


@contextlib.contextmanager
def alone(library_path):
    """Yields True, holding the lock alone, when no other luna is copying or moving files
    for this library; False, at once, when one is (its journal rows and partial copies are
    its own, not leftovers)."""
    import fcntl

    fd = _open_lock(library_path)
    free = True
    if fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            free = False
    try:
        yield free
    finally:
        if fd is not None:
            os.close(fd)


# -- after a crash ---------------------------------------------------------------------------


@dataclass
class Recovered:
    entry: Entry
    outcome: str  # "finished", "rolled back", "needs attention"
    detail: str


def recover(library) -> list[Recovered]:
    """Finish or roll back every copy and move a crash left in the journal.

    A transfer whose destination holds the whole, verified content is finished (recorded
    in the library, and for a move the source deleted after one more check); any other is
    rolled back: the partial copy is removed and the source, never touched before that
    point, is where it was."""
    journal = Journal(library.db)
    done = []
    for entry in journal.pending():
        done.append(_recover_one(library, journal, entry))
    return done


def _recover_one(library, journal: Journal, entry: Entry) -> Recovered:
    _remove_quietly(entry.temporary)
    if not holds(entry.destination, entry):
        journal.finish(entry)
        return Recovered(entry, "rolled back", f"{for_humans(entry.source)} stays where it was")
    try:
        _record_destination(library, entry)
        moving = entry.operation in ("move", "organize") and os.path.lexists(entry.source)
        if moving and (_same_file(entry.source, entry.destination) or holds(entry.source, entry)):
            remove_source(entry.source, entry.content_sha, entry.destination)
    except (TransferFailed, OSError) as exc:
        return Recovered(entry, "needs attention", str(exc))
    journal.finish(entry)
    return Recovered(
        entry, "finished", f"{for_humans(entry.source)} -> {for_humans(entry.destination)}"
    )


def holds(path: str, entry: Entry) -> bool:
    """Whether `path` is a file with exactly the transfer's content."""
    try:
        if not os.path.isfile(path) or os.path.getsize(path) != entry.size_bytes:
            return False
        return sha256_of(path) == entry.content_sha
    except OSError:
        return False


def _record_destination(library, entry: Entry) -> None:
    """Make the library say what the disk says: the row at the destination. A transfer of
    a recorded file (organize, or a move of a file imported in place) moves its row."""
    from luna.fsnames import to_db

    db = library.db
    if entry.file_id is not None:
        with db.atomic("IMMEDIATE"):
            db.execute_sql(
                "UPDATE file SET path = ?, filename = ?, missing_since = NULL WHERE id = ?",
                (to_db(entry.destination), to_db(os.path.basename(entry.destination)),
                 entry.file_id),
            )  # fmt: skip
            if entry.operation == "organize":  # organize moves content the row has
                db.execute_sql(
                    "UPDATE file SET mtime = ? WHERE id = ?",
                    (os.stat(entry.destination).st_mtime, entry.file_id),
                )
    row = db.execute_sql(
        "SELECT 1 FROM file WHERE path = ?", (to_db(entry.destination),)
    ).fetchone()
    if row is None or entry.operation == "move":
        # A move's row is brought up to date by an import of the one file: unchanged
        # content is not read again, changed content is recorded with its history.
        from luna.importer import Importer, ImportOptions

        report = Importer(library, ImportOptions()).run([entry.destination])
        if report.failed:
            raise TransferFailed(report.failures[0]["reason"])
