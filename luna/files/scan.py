"""Walking the user's folders: which files an import looks at.

Only metadata is touched here (names and `lstat`), never file contents, so a re-import of
an unchanged tree costs little more than the walk itself. This loop runs once per file of
the user's library on every import: it stays lean on purpose.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from luna.errors import LunaError, NotFound
from luna.fsnames import for_humans

S_ISDIR, S_ISREG = stat.S_ISDIR, stat.S_ISREG


@dataclass(frozen=True, slots=True)
class Candidate:
    """A regular file found by the walk, with what `stat` said about it."""

    path: str
    size: int
    mtime_ns: int
    uid: int

    @classmethod
    def from_stat(cls, path: str, st: os.stat_result) -> Candidate:
        return cls(path, st.st_size, st.st_mtime_ns, st.st_uid)


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """A file or folder the walk could not look into."""

    path: str
    reason: str


@dataclass(frozen=True)
class ScanOptions:
    exclude: tuple[str, ...] = ()
    follow_symlinks: bool = False


def is_excluded(path: str, name: str, patterns: Iterable[str]) -> bool:
    """A pattern matches the base name (`*.tmp`, `@eaDir`) or the whole path (`*/cache/*`)."""
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(path, p) for p in patterns)


def require_root(path: str, given: str) -> None:
    """Raise a LunaError saying why `path` (as the user wrote it: `given`) cannot be walked:
    no such file, a symbolic link to nothing, a symbolic link loop, or no permission to
    look. (os.path.exists says False to all of these alike.)"""
    try:
        os.stat(path)
    except OSError as exc:
        shown = for_humans(given)
        if exc.errno == errno.ELOOP:
            raise LunaError(f"symbolic link loop: {shown}") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise LunaError(f"permission denied: {shown}") from None
        if os.path.islink(path):
            raise NotFound(
                f"no such file or directory: {shown} (a symbolic link to nothing)"
            ) from None
        raise NotFound(f"no such file or directory: {shown}") from None


def walk(
    roots: Iterable[str], options: ScanOptions
) -> Iterator[tuple[str, os.stat_result] | ScanProblem]:
    """Yield (path, stat) for every regular file under `roots` (absolute paths), and a
    ScanProblem for each folder or file that cannot be read. Folders are visited in name
    order; files within a folder come in directory order (the importer sorts its work).

    Roots the user named are taken as given even when hidden or symlinked; below them,
    hidden entries (".name") and excluded patterns are skipped, and symlinks are only
    followed with `follow_symlinks`. With it, each folder is entered once (by device and
    inode), so a symlink loop or two links to one folder cannot make the walk run forever.
    """
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    for root in roots:
        try:
            st = os.stat(root)
        except OSError as exc:
            yield ScanProblem(root, os_reason(exc))
            continue
        if S_ISDIR(st.st_mode):
            seen_dirs.add((st.st_dev, st.st_ino))
            yield from _walk_dir(root, options, seen_dirs, seen_files)
        elif S_ISREG(st.st_mode):
            if _first_visit(seen_files, st):
                yield root, st
        else:
            yield ScanProblem(root, "not a regular file or folder")


def _walk_dir(root, options, seen_dirs, seen_files):
    follow = options.follow_symlinks
    patterns = options.exclude
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            yield ScanProblem(folder, os_reason(exc))
            continue
        subfolders = []
        for entry in entries:
            name = entry.name
            if name[0] == "." or (patterns and is_excluded(entry.path, name, patterns)):
                continue
            try:
                if entry.is_symlink():
                    if not follow:
                        continue
                    try:
                        st = entry.stat()
                    except FileNotFoundError:
                        continue  # a dangling link is not a file of the user's
                    if S_ISDIR(st.st_mode):
                        if _first_visit(seen_dirs, st):
                            subfolders.append(entry.path)
                        continue
                elif entry.is_dir(follow_symlinks=False):
                    if not follow or _first_visit(seen_dirs, entry.stat(follow_symlinks=False)):
                        subfolders.append(entry.path)
                    continue
                else:
                    st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                yield ScanProblem(entry.path, os_reason(exc))
                continue
            # Sockets, fifos and devices are never photos, and reading a fifo would block.
            # Without symlinks each file is reached once; with them, a file linked twice
            # is recorded under the first path that reaches it.
            if S_ISREG(st.st_mode) and (not follow or _first_visit(seen_files, st)):
                yield entry.path, st
        # Popped from the end: reverse name order here means folders are visited in order.
        subfolders.sort(reverse=True)
        stack.extend(subfolders)


def _first_visit(seen: set[tuple[int, int]], st: os.stat_result) -> bool:
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return False
    seen.add(key)
    return True


def os_reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)
