"""The library file as it lies on the disk, looked at without changing it.

Before any connection that could write, luna checks on a read-only one that the file is a
luna library it may use. A writing connection changes a file as soon as it opens it (it
switches it to WAL mode), so an empty file, a file that is not SQLite, someone else's
database or a newer luna's library is refused here and left byte for byte as it was, with
no -wal or -shm file beside it.

This module also says whether luna may write the library and why not, how a command that
only reads opens it when nobody may write it, and what a refused write means in plain words.
Standard library only: `luna find` runs it on every call without loading the ORM.
"""

from __future__ import annotations

import errno
import os
import sqlite3

from luna.errors import CannotWrite, LibraryError, NewerSchema
from luna.store.dialect import READ_SCHEMA_VERSION

BUSY_TIMEOUT_S = 60  # a second luna process waits this long for the other one's write
SQLITE_MAGIC = b"SQLite format 3\x00"  # how every SQLite database file begins
# SQLite reports some writes that fail on a full disk as "disk I/O error" (growing the -shm
# file, say): below this much free space, that error means the disk is full.
NEARLY_FULL_BYTES = 1_000_000


# -- what the file is ----------------------------------------------------------------------


def identify(path, known: int) -> int:
    """The schema version of the luna library at `path`, where `known` is the newest this
    luna reads. Refuses (LibraryError), writing nothing, a file that is empty, not SQLite,
    damaged where SQLite first looks, someone else's database or a newer luna's library."""
    _check_header(path)
    try:
        con = sqlite3.connect(_identity_uri(path), uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            version = con.execute(READ_SCHEMA_VERSION).fetchone()[0]
            tables = con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise unusable(path, exc) from None
    if version == 0:
        raise LibraryError(_not_luna(path, has_tables=bool(tables)))
    check_version(path, version, known)
    return version


def check_version(path, version: int, known: int) -> None:
    """Refuse a library whose schema version this luna cannot use."""
    if version > known:
        raise NewerSchema(
            f"library {path} was written by a newer luna (schema {version}; this luna knows "
            f"up to {known}); upgrade luna to use it"
        )
    if version == 0:
        raise LibraryError(_not_luna(path, has_tables=True))


def _check_header(path) -> None:
    try:
        with open(path, "rb") as fp:
            header = fp.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise LibraryError(f"cannot read the library {path}: {_os_reason(exc)}") from None
    if not header:
        raise LibraryError(
            f"the library {path} is empty (0 bytes): a crash or an incomplete copy cut it "
            "short, and luna leaves it as it is; restore it from a backup (or delete it to "
            "start a new library)"
        )
    if header != SQLITE_MAGIC:
        raise LibraryError(f"{path} is not a luna library: it is not an SQLite database")


def _not_luna(path, *, has_tables: bool) -> str:
    if has_tables:
        return f"{path} is an SQLite database but not a luna library"
    return (
        f"{path} is an empty SQLite database, not a luna library; restore the library from "
        "a backup (or delete it to start a new library)"
    )


def is_about_the_file(exc: BaseException | None) -> bool:
    """Whether `exc` is an SQLite error about the library file (full, read-only, damaged,
    locked) rather than a mistake in luna's own SQL (a broken constraint, a bad statement).
    sqlite3's errors and peewee's wrappings of them bear the same DB-API class names."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "DatabaseError" in names and not names & {"IntegrityError", "ProgrammingError"}


def unusable(path, exc: BaseException) -> LibraryError:
    """An SQLite error met while using the library, as one line that says what it means."""
    text = str(root_cause(exc))
    if "malformed" in text or "not a database" in text:
        return LibraryError(
            f"the library {path} is damaged (SQLite says: {text}); restore it from a backup"
        )
    if _is_refused_write(text, path):
        return cannot_write(path, exc)
    return LibraryError(f"cannot use the library {path}: {plain_cause(exc, path)}")


# -- reading without writing ---------------------------------------------------------------


def reading_uri(path) -> str:
    """How a command that only reads opens the library: read-only, and so that it works
    even when neither the file nor its folder may be written."""
    folder = _folder(path)
    if os.access(folder, os.W_OK):
        # SQLite's own locking keeps reading safe while another luna writes. A reader of a
        # WAL-mode library needs the -wal and -shm files beside it, so SQLite creates them if
        # missing (empty; the next luna that writes removes them).
        return _uri(path)
    if _main_file_is_whole(path):
        # A read-only folder: no -shm can be made there, and no writer can work there either
        # (it would need to create its -wal), so immutable=1 reads the file with no lock and
        # no -shm. Someone who may write the folder when we may not is not guarded against.
        return _uri(path, immutable=True)
    if os.path.exists(_beside(path, "-shm")):
        # Committed changes wait in the -wal: SQLite reads it through the existing -shm, even
        # where both are read-only (SQLite 3.22+).
        return _uri(path)
    # immutable=1 would ignore the -wal and show the library without its latest changes.
    raise LibraryError(
        f"cannot read the library {path}: its latest changes are in {_beside(path, '-wal')}, "
        f"which SQLite can read only by creating {_beside(path, '-shm')}, and the folder "
        f"{folder} is read-only; make the folder writable, or copy the library with its "
        "-wal file to one that is"
    )


def connect_for_reading(path) -> sqlite3.Connection:
    """A read-only sqlite3 connection to a library `identify` accepted (see reading_uri)."""
    try:
        return sqlite3.connect(reading_uri(path), uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise unusable(path, exc) from None


def _identity_uri(path) -> str:
    if _main_file_is_whole(path):
        # immutable=1 reads the file as it is and creates no -wal or -shm beside it (SQLite
        # creates both for any connection to a WAL-mode file, read-only or not), so a
        # refusal leaves nothing behind. It takes no lock: a writer starting at this moment
        # would have to fill and checkpoint a whole WAL during these few reads to disturb them.
        return _uri(path, immutable=True)
    return reading_uri(path)  # SQLite must read the -wal or roll back the -journal


def _main_file_is_whole(path) -> bool:
    """No -wal or -journal file with anything in it beside the library: every committed
    change is in the library file itself."""
    return not any(_size(_beside(path, suffix)) for suffix in ("-wal", "-journal"))


def _uri(path, *, immutable: bool = False) -> str:
    # In a URI, "%", "?" and "#" would start an escape, the parameters and a fragment.
    quoted = os.fspath(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    return f"file:{quoted}?mode=ro" + ("&immutable=1" if immutable else "")


# -- writing -------------------------------------------------------------------------------


def check_writable(path) -> None:
    """Refuse (CannotWrite) a library luna may not write, before anything is done to it."""
    reason = readonly_reason(path)
    if reason:
        raise CannotWrite(f"cannot write to the library {path}: {reason}")


def readonly_reason(path) -> str | None:
    """Why luna may not write the library at `path`, in plain words; None when it may."""
    folder = _folder(path)
    if _on_read_only_file_system(folder):
        return "it is on a read-only file system"
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return "it is read-only (file permissions)"
    if not os.access(folder, os.W_OK | os.X_OK):
        # SQLite keeps its -wal and -shm files beside the library, and luna its backups.
        return f"the folder {folder} is read-only"
    for suffix in ("-wal", "-shm"):
        companion = _beside(path, suffix)
        if os.path.exists(companion) and not os.access(companion, os.W_OK):
            return f"{companion} is read-only (file permissions)"
    return None


def cannot_write(path, exc: BaseException, then: str = "") -> CannotWrite:
    """The error for a write SQLite refused: why, in plain words, then `then` (what now)."""
    return CannotWrite(f"cannot write to the library {path}: {plain_cause(exc, path)}{then}")


def plain_cause(exc: BaseException, path) -> str:
    """What an SQLite error (sqlite3's, or peewee's wrapping of it) or an OSError means for
    the user."""
    if isinstance(exc, OSError):
        return "the disk is full" if exc.errno == errno.ENOSPC else _os_reason(exc)
    text = str(root_cause(exc))
    if "disk is full" in text or ("disk I/O error" in text and disk_is_full(path)):
        return "the disk is full"
    if "readonly database" in text or "unable to open database file" in text:
        return readonly_reason(path) or "it is read-only"
    if "database is locked" in text:
        return f"another program kept it locked for more than {BUSY_TIMEOUT_S} s"
    if "disk I/O error" in text:
        return "the disk failed to read or write it (disk I/O error)"
    return text


def _is_refused_write(text: str, path) -> bool:
    return (
        "disk is full" in text
        or "readonly database" in text
        or ("disk I/O error" in text and disk_is_full(path))
    )


def root_cause(exc: BaseException) -> BaseException:
    """SQLite rolls back by itself on SQLITE_FULL; peewee's own rollback then fails with
    "no transaction is active", hiding the real cause in the exception's context."""
    while "no transaction is active" in str(exc) and exc.__context__ is not None:
        exc = exc.__context__
    return exc


def disk_is_full(path) -> bool:
    """Whether the disk holding the library has (almost) no room left."""
    try:
        st = os.statvfs(_folder(path))
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < NEARLY_FULL_BYTES


# -- small helpers -------------------------------------------------------------------------


def _folder(path) -> str:
    return os.path.dirname(os.path.abspath(path))


def _beside(path, suffix: str) -> str:
    return os.fspath(path) + suffix


def _size(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def _on_read_only_file_system(folder: str) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return False


def _os_reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)
