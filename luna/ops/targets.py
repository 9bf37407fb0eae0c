"""Which library files a command's FILE... arguments name.

A FILE is a path (a folder means every library file below it), a file id, or a unique
prefix of one; "-" reads more of them from stdin, one per line, or NUL-separated (so that
`luna find ... -0 | luna tag add beach -0 -` works with any file name). Every bad argument
is reported at once, and nothing is resolved (so nothing is changed) unless the caller
asked to skip them.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from typing import TextIO

from luna.errors import Ambiguous, EmptyPath, NotFound
from luna.fsnames import for_humans

_HEX = re.compile(r"^[0-9a-fA-F-]{4,36}$")


@dataclass
class Resolved:
    ids: list[str] = field(default_factory=list)  # hex ids, in the order named, no repeats
    missing: list[str] = field(default_factory=list)  # arguments that named nothing


def expand_stdin(refs: list[str], *, null: bool, stdin: TextIO | None = None) -> list[str]:
    """Replace "-" by the names read from stdin."""
    if "-" not in refs:
        return list(refs)
    # Bytes, decoded as the file system does, so a name that is not UTF-8 still names its
    # file; split on "\n" alone, as find prints, not on every Unicode line break.
    text = stdin.read() if stdin is not None else os.fsdecode(sys.stdin.buffer.read())
    names = text.split("\0") if null else text.split("\n")
    read = [n.removesuffix("\r") if not null else n for n in names if n.strip()]
    out = []
    for ref in refs:
        out.extend(read if ref == "-" else [ref])
    return out


def resolve(lib, refs: list[str], *, skip_missing: bool = False) -> Resolved:
    """Library file ids for FILE arguments (after expand_stdin)."""
    if "" in refs:  # as a path it would name every file below the current folder
        raise EmptyPath()
    result, seen = Resolved(), set()
    problems: list[str] = []
    files = lib.store.files
    # Most FILEs name a library file by the path it is recorded at: found in one batch of
    # queries, without resolving links (`realpath` costs a system call per component).
    absolute = [_absolute(ref) for ref in refs]
    exact = files.ids_at(absolute)
    for ref, path in zip(refs, absolute, strict=True):
        try:
            at = exact.get(path)
            ids = [at] if at else _ids_for(files, ref)
        except Ambiguous as exc:
            problems.append(str(exc))
            continue
        if not ids:
            result.missing.append(ref)
            continue
        for file_id in ids:
            if file_id not in seen:
                seen.add(file_id)
                result.ids.append(file_id)
    if problems or (result.missing and not skip_missing):
        problems += [f"not in the library: {for_humans(ref)}" for ref in result.missing]
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise NotFound("; ".join(problems[:5]) + more + "; nothing was changed")
    return result


def _ids_for(files, ref: str) -> list[str]:
    by_path = _ids_by_path(files, ref)
    if by_path:
        return by_path
    if _HEX.match(ref):
        prefix = ref.replace("-", "").lower()
        ids = files.ids_starting(prefix)
        if len(ids) > 1:
            raise Ambiguous(f"id prefix {ref!r} matches several files")
        return ids
    return []


def _absolute(ref: str) -> str:
    return os.path.abspath(os.path.expanduser(ref))


def _ids_by_path(files, ref: str) -> list[str]:
    """The file at this path, or every file below it when it is a folder (on disk or in
    the library: a folder whose files are all missing can still be named)."""
    expanded = os.path.expanduser(ref)
    candidates = dict.fromkeys([os.path.abspath(expanded), os.path.realpath(expanded)])
    for path in candidates:
        file_id = files.id_at(path)
        if file_id:
            return [file_id]
    for path in candidates:
        ids = files.ids_below(path)
        if ids:
            return ids
    return []
