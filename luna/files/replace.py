"""Replacing a small file luna writes beside a photo (an XMP sidecar) without losing it, and
without overwriting what another program wrote to it meanwhile.

The new content goes to a hidden temporary file in the same folder, flushed to disk, and is
renamed over the old one: at every moment the file is either wholly old or wholly new, even
after a power cut. Right before the rename the file is looked at once more: if it is no
longer as luna last read or wrote it (darktable saved an edit, the user deleted it, another
luna wrote it), luna raises ChangedSinceRead and leaves it alone. What remains is the short
moment between that look and the rename, which no portable call closes.

A file that must not exist yet (expected=None) is put in place by a rename that never
replaces (luna.files.place.place_no_replace), so a file that appears meanwhile is kept.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass

from luna.errors import ChangedSinceRead, NoSpaceToWrite, WriteFailed
from luna.files.place import (
    fsync_folder,
    os_reason,
    place_no_replace,
    remove_quietly,
    temporary_name,
)
from luna.fsnames import for_humans


@dataclass(frozen=True, slots=True)
class FileState:
    """What a file was like when luna last read or wrote it. `ino` and `ctime_ns` are
    compared only when known: a state remembered from the library has only the size and the
    mtime, a state taken just now (read_with_state, replace_file) has all four. The inode
    changes whenever a program saves by renaming a new file into place, and the ctime
    whenever the file is written, even by one that puts its mtime back."""

    size: int
    mtime_ns: int
    ino: int | None = None
    ctime_ns: int | None = None

    @classmethod
    def of(cls, st: os.stat_result) -> FileState:
        return cls(st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)

    def matches(self, st: os.stat_result) -> bool:
        return (
            (self.size, self.mtime_ns) == (st.st_size, st.st_mtime_ns)
            and self.ino in (None, st.st_ino)
            and self.ctime_ns in (None, st.st_ctime_ns)
        )


def file_state(path: str) -> FileState | None:
    """The file's state now; None when there is no such file."""
    try:
        return FileState.of(os.stat(path))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteFailed(os_reason(exc, path)) from None


def read_with_state(path: str, limit: int | None = None) -> tuple[bytes, FileState] | None:
    """The file's content and its state as read, for a later replace_file; None when there
    is no such file. With `limit`, at most limit + 1 bytes are read: enough to tell a file
    too large to use from one that is not."""
    try:
        with open(path, "rb") as fp:
            data = fp.read() if limit is None else fp.read(limit + 1)
            return data, FileState.of(os.fstat(fp.fileno()))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteFailed(f"cannot read {os_reason(exc, path)}") from None


def replace_file(path: str, data: bytes, *, expected: FileState | None) -> FileState:
    """Write `data` as the file at `path`, which must still be as `expected` says (None: it
    must not exist). Returns the new file's state, for the next replace_file.

    The old file's permission bits (and owner, where the user may set it) are kept. A
    symbolic link is followed: the file it points to is replaced and the link stays. Raises
    ChangedSinceRead when the file is not as expected, NoSpaceToWrite when the disk is full,
    WriteFailed for any other failure (a read-only folder or disk...); in every case the
    file is as it was and no temporary file remains.
    """
    target = os.path.realpath(path) if os.path.islink(path) else path
    folder = os.path.dirname(target) or "."
    current = _check(target, expected)
    temporary = temporary_name(target)
    try:
        _write(temporary, data, current)
        if expected is None:
            try:
                place_no_replace(temporary, target)
            except FileExistsError:
                raise ChangedSinceRead(_appeared(path)) from None
        else:
            _check(target, expected)  # once more, right before the rename
            os.replace(temporary, target)
            fsync_folder(folder)
        return FileState.of(os.stat(target))
    except BaseException as exc:  # Ctrl-C included: the temporary file never remains
        remove_quietly(temporary)
        if isinstance(exc, OSError):
            cls = NoSpaceToWrite if exc.errno == errno.ENOSPC else WriteFailed
            # The folder, not the hidden temporary name: that one was removed.
            where = target if exc.filename == target else folder
            reason = os_reason(OSError(exc.errno, exc.strerror), where)
            raise cls(f"cannot write {for_humans(path)}: {reason}") from None
        raise


def _check(target: str, expected: FileState | None) -> os.stat_result | None:
    """The target's stat now, if it is as expected; else ChangedSinceRead."""
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise WriteFailed(f"cannot write {for_humans(target)}: {os_reason(exc, target)}") from None
    if expected is None and st is not None:
        raise ChangedSinceRead(_appeared(target))
    if expected is not None and st is None:
        raise ChangedSinceRead(
            f"{for_humans(target)} was removed by another program since luna read it; "
            "it was not written again"
        )
    if expected is not None and st is not None and not expected.matches(st):
        raise ChangedSinceRead(
            f"{for_humans(target)} was changed by another program since luna read it; "
            "it was left as it is"
        )
    return st


def _appeared(path: str) -> str:
    return (
        f"{for_humans(path)} was created by another program since luna looked; it was left as it is"
    )


def _write(temporary: str, data: bytes, old: os.stat_result | None) -> None:
    # A new file gets the usual permissions (0666 less the umask), a replacement the old
    # file's own: created private, then opened up to them once written.
    mode = 0o666 if old is None else 0o600
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        view = memoryview(data)
        while view:  # a write may take only part of the data
            view = view[os.write(fd, view) :]
        if old is not None:
            new = os.fstat(fd)
            if (new.st_uid, new.st_gid) != (old.st_uid, old.st_gid):
                with contextlib.suppress(OSError):  # only root (or a member of the group) may
                    os.fchown(fd, old.st_uid, old.st_gid)
            os.fchmod(fd, stat.S_IMODE(old.st_mode))
        os.fsync(fd)
    finally:
        os.close(fd)
