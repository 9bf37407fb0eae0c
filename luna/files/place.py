"""Putting one file in place without ever losing it: a verified copy under a temporary name
in the destination folder, a rename that never replaces an existing file, a folder flushed
so the new name survives a power cut, and a source removed only when a second copy
certainly exists under another name.

These are single-file steps; luna.ops.transfer adds the journal that lets a whole copy or
move survive a crash, and luna.store.db uses the rename to put a new library in place.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import os
import uuid

from luna.fsnames import for_humans

CHUNK = 1 << 20  # 1 MB reads: bounded memory for any file size
TEMP_PREFIX = ".luna-partial-"  # hidden, so an import of the folder never picks one up


class TransferFailed(Exception):
    """This one file could not be put in place; it is where it was, untouched."""


class NoSpace(TransferFailed):
    """The destination's disk is full: the files after this one need not be tried."""


def failure(exc: OSError, where: str) -> TransferFailed:
    """The TransferFailed for an OSError at `where` (a folder, or a destination)."""
    cls = NoSpace if exc.errno == errno.ENOSPC else TransferFailed
    return cls(os_reason(exc, where))


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
    source: str, temporary: str, expected_sha: str, known: tuple[int, int] | None = None
) -> None:
    """Copy `source` to `temporary` (which must not exist), on disk and proven equal to
    the content the library knows (`expected_sha`). `known`: the (size, mtime_ns) the source
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
            if known is not None and (st.st_size, st.st_mtime_ns) != known:
                raise TransferFailed("the file changed since it was read; import it again")
            raise TransferFailed("the copy reads back different from the source (disk error?)")
    except BaseException as exc:
        remove_quietly(temporary)
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
    then removed: it has no other use). One atomic rename that refuses to replace
    (renameat2 RENAME_NOREPLACE) where the file system has it; else a hard link, then the
    temporary name removed."""
    try:
        renamed = _renamed_no_replace(temporary, destination)
        if not renamed:
            _link_into_place(temporary, destination)
    except FileExistsError:
        remove_quietly(temporary)
        raise
    fsync_folder(os.path.dirname(destination))


# What renameat2 says where the file system (or the kernel) cannot refuse to replace.
_NO_NOREPLACE = (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP)


def _renamed_no_replace(source: str, destination: str) -> bool:
    """renameat2 with RENAME_NOREPLACE: True when done; False where there is none (not
    Linux, or a file system without it); FileExistsError when `destination` exists."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(destination), _RENAME_NOREPLACE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_NOREPLACE:
        return False
    raise OSError(code, os.strerror(code), destination)


@functools.cache
def _renameat2():
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # pragma: no cover - not Linux/glibc
        return None


def _link_into_place(temporary: str, destination: str) -> None:
    """A hard link under the new name, then the temporary one removed; where there are no
    hard links (FAT, some NAS), a plain rename after a look (not atomic, the last resort)."""
    try:
        os.link(temporary, destination)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(destination):
            raise FileExistsError(errno.EEXIST, "file exists", destination) from None
        os.rename(temporary, destination)
        return
    os.unlink(temporary)


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
    from luna.files import presence

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


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def os_reason(exc: OSError, where: str) -> str:
    """An OSError at `where` (a folder or a file) as one line a user understands."""
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
        device = self._device(os.path.dirname(destination)) if self._full else None
        return None if device is None else self._full.get(device)

    def mark_full(self, destination: str) -> None:
        folder = os.path.dirname(destination)
        device = self._device(folder)
        if device is not None:  # a folder that cannot be looked at is tried file by file
            self._full.setdefault(device, folder)

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
