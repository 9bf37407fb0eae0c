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
   advances the journal (to "recorded" for a move; a copy's row is done and goes).
5. Only for a move, and only now: the source is deleted. Then the journal row goes.

Whatever a crash leaves in the journal is finished or rolled back by `recover()`, which
the next luna command that writes to the library runs first. A journal row of a luna that
is still running is not a leftover: every process that copies or moves holds a shared lock
on a file beside the library, and recovery runs only when it can take that lock alone.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

from luna.files import place
from luna.files.place import (
    TransferFailed,
    remove_quietly,
    remove_source,
    same_file,
    sha256_of,
)
from luna.fsnames import for_humans
from luna.interrupts import crash_point
from luna.store.transfers import Entry, Journal

# -- one file's transfer: steps 2 to 5 -----------------------------------------------------
# import --copy/--move (luna.ops.gather) and organize (luna.ops.organize) both begin a journal
# entry (step 1), then call put_in_place and complete; recovery (below) ends what a crash
# interrupted between them.


def put_in_place(entry: Entry, *, may_link: bool, known: tuple[int, int] | None = None):
    """Steps 2 and 3: the file at its destination, verified. A hard link where allowed
    (a move within one file system: the same data under a second name), else a copy to
    the temporary name, flushed, read back and compared, then renamed without replacing.

    `known` is the source's (size, mtime_ns) when it was read: a file changed since is refused.
    Raises FileExistsError when another file took the name meanwhile, TransferFailed
    (NoSpace for a full disk) or OSError; the source is untouched then, and the journal
    entry is the caller's to close."""
    linked = may_link and place.link_no_replace(entry.source, entry.destination)
    if not linked:
        place.copy_verified(entry.source, entry.temporary, entry.content_sha, known)
        crash_point("copied")
        place.place_no_replace(entry.temporary, entry.destination)


def complete(journal: Journal, entry: Entry, record, in_transaction, folders=None) -> None:
    """Steps 4 and 5, once the file is in place: `record()` writes the library in the
    same transaction (`in_transaction`) that advances the journal; then, for a move, the
    source is removed after one more check that the library's copy is another file with
    this content (luna.files.place.remove_source). The entry is closed in every case.

    Raises TransferFailed when the source could not be removed: the file is in place and
    recorded, and the source is still there."""
    failed = complete_many(journal, [entry], lambda _: record(), in_transaction, folders)
    if failed:
        raise TransferFailed(failed[entry.id])


def complete_many(journal: Journal, entries: list[Entry], record, in_transaction, folders=None):
    """complete() for many files in place at once: `record(entries)` writes them all in
    one transaction. Returns {entry id: why its source could not be removed} (a move's
    file is then in place and recorded, and its source still there)."""
    # The journal still says "copying": recovery looks at the destination itself, and a
    # commit of its own for the step would cost a third of a small file's copy.
    crash_point("placed")

    def record_and_advance():
        record(entries)
        for entry in entries:
            if entry.operation in MOVING:
                journal.advance(entry, "recorded")
            else:
                journal.finish(entry)

    in_transaction(record_and_advance)
    crash_point("recorded")
    failed = {}
    for entry in entries:
        if entry.operation not in MOVING:
            continue
        try:
            remove_source(entry.source, entry.content_sha, entry.destination, folders)
        except (TransferFailed, OSError) as exc:
            reason = str(exc) if isinstance(exc, TransferFailed) else exc.strerror
            failed[entry.id] = (
                f"now at {for_humans(entry.destination)}, but the source could not be "
                f"removed: {reason}"
            )
        finally:
            journal.finish(entry)
    return failed


MOVING = ("move", "organize")  # operations that remove the source once the file is in place


# -- who is transferring now -----------------------------------------------------------------
# A process killed with -9 loses its locks with it, so "nobody holds the lock" means
# "every journal row is a crash's leftover". The lock must last the whole run, across many
# short transactions: for an SQLite library, flock on a file beside it; for one on a server,
# a session advisory lock there, which the server drops with the connection of a process
# that dies, on whichever computer it ran. So recovery on one computer never takes another
# computer's copies in flight for a crash's leftovers.


def _open_lock(library_path) -> int | None:
    try:
        return os.open(f"{library_path}-transfers.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
    except OSError:
        return None  # a read-only folder: nothing can be transferring into this library


@contextlib.contextmanager
def transferring(library, *, dry_run: bool = False):
    """Held (shared: several luna at once) while this process copies or moves files. Waits
    while a recovery runs, which takes moments. A dry run moves nothing and takes nothing."""
    if dry_run:
        yield
        return
    if library.on_server:
        with library.store.transfers.lock_shared():
            yield
        return
    import fcntl

    fd = _open_lock(library.path)
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        if fd is not None:
            os.close(fd)


@contextlib.contextmanager
def alone(library):
    """Yields True, holding the lock alone, when no other luna is copying or moving files
    for this library; False, at once, when one is (its journal rows and partial copies are
    its own, not leftovers)."""
    if library.on_server:
        with library.store.transfers.lock_alone() as free:
            yield free
        return
    import fcntl

    fd = _open_lock(library.path)
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
    remove_quietly(entry.temporary)
    if not holds(entry.destination, entry):
        journal.finish(entry)
        return Recovered(entry, "rolled back", f"{for_humans(entry.source)} stays where it was")
    try:
        _record_destination(library, entry)
        moving = entry.operation in MOVING and os.path.lexists(entry.source)
        if moving and (same_file(entry.source, entry.destination) or holds(entry.source, entry)):
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

    db = library.db
    files = library.store.files
    if entry.file_id is not None:
        with db.atomic("IMMEDIATE"):
            # organize moves content the row has: its mtime is the destination's
            organized = entry.operation == "organize"
            files.follow(entry.file_id, entry.destination, new_mtime=organized)
    if files.id_at(entry.destination) is None or entry.operation == "move":
        # A move's row is brought up to date by an import of the one file: unchanged
        # content is not read again, changed content is recorded with its history.
        from luna.ingest.importer import Importer, ImportOptions

        report = Importer(library, ImportOptions()).run([entry.destination])
        if report.failed:
            raise TransferFailed(report.failures[0]["reason"])
