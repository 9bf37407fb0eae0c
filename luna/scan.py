"""Walking the user's folders: which files an import looks at.

Only metadata is touched here (names and `lstat`), never file contents, so a re-import of
an unchanged tree costs little more than the walk itself.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """A regular file found by the walk, with what `stat` said about it."""

    path: str
    size: int
    mtime: float
    uid: int


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """A file or folder the walk could not look into."""

    path: str
    reason: str


@dataclass(frozen=True)
class ScanOptions:
    exclude: tuple[str, ...] = ()
    follow_symlinks: bool = False


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def is_excluded(path: str, name: str, patterns: Iterable[str]) -> bool:
    """A pattern matches the base name (`*.tmp`, `@eaDir`) or the whole path (`*/cache/*`)."""
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(path, p) for p in patterns)


def walk(roots: Iterable[str], options: ScanOptions) -> Iterator[Candidate | ScanProblem]:
    """Yield every regular file under `roots` (absolute paths), depth first, sorted by name.

    Roots the user named are taken as given even when hidden or symlinked; below them,
    hidden entries and excluded patterns are skipped, and symlinks are only followed with
    `follow_symlinks`. Each folder is entered once (by device and inode), so a symlink loop
    or two links to the same folder cannot make the walk run forever.
    """
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    for root in roots:
        try:
            st = os.stat(root)
        except OSError as exc:
            yield ScanProblem(root, _os_reason(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(root, st, options, seen_dirs, seen_files)
        elif stat.S_ISREG(st.st_mode):
            if _first_visit(seen_files, st):
                yield Candidate(root, st.st_size, st.st_mtime, st.st_uid)
        else:
            yield ScanProblem(root, "not a regular file or folder")


def _walk_dir(root, root_stat, options, seen_dirs, seen_files):
    _first_visit(seen_dirs, root_stat)
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield ScanProblem(folder, _os_reason(exc))
            continue
        subfolders = []
        for entry in entries:
            if is_hidden(entry.name) or is_excluded(entry.path, entry.name, options.exclude):
                continue
            found = _classify(entry, options.follow_symlinks)
            if isinstance(found, ScanProblem):
                yield found
                continue
            if found is None:
                continue
            kind, st = found
            if kind == "dir":
                if _first_visit(seen_dirs, st):
                    subfolders.append(entry.path)
            # Without symlinks each file is reached once; with them, a file linked twice
            # is recorded under the first path that reaches it.
            elif not options.follow_symlinks or _first_visit(seen_files, st):
                yield Candidate(entry.path, st.st_size, st.st_mtime, st.st_uid)
        # Reversed so popping from the stack visits subfolders in name order.
        stack.extend(reversed(subfolders))


def _classify(entry: os.DirEntry, follow_symlinks: bool):
    """("dir" | "file", stat) for an entry worth visiting, None to ignore it silently."""
    try:
        if entry.is_symlink():
            if not follow_symlinks:
                return None
            try:
                st = entry.stat(follow_symlinks=True)
            except FileNotFoundError:
                return None  # a dangling link is not a file of the user's
        else:
            st = entry.stat(follow_symlinks=False)
    except OSError as exc:
        return ScanProblem(entry.path, _os_reason(exc))
    if stat.S_ISDIR(st.st_mode):
        return "dir", st
    if stat.S_ISREG(st.st_mode):
        return "file", st
    return None  # sockets, fifos, devices: never photos, and reading a fifo would block


def _first_visit(seen: set[tuple[int, int]], st: os.stat_result) -> bool:
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return False
    seen.add(key)
    return True


def _os_reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)
