"""File names as the file system has them: any bytes, not only UTF-8.

Linux names are bytes. Python hands them over as `str`, with each byte that is not valid
UTF-8 turned into a lone surrogate (U+DC80..U+DCFF, "surrogateescape"), and turns them back
into the same bytes when it opens the file. SQLite's TEXT holds UTF-8 only, so luna stores a
path as TEXT when it is valid UTF-8 (nearly always) and as a BLOB of its exact bytes when it
is not. Nothing is lost either way, and `from_db` gives back the `str` that opens the file.

Two things follow for SQL. A value and its column must be bound in the same form, which
`to_db` guarantees. And SQLite sorts every TEXT before every BLOB, so "every path under this
folder" is two ranges, one for each form: `under()` builds them.

On PostgreSQL a name is always `bytea`, its exact bytes: `to_db` marks the text it returns as
a name (StoredName, a `str` to SQLite), and luna.store.postgres binds it as its bytes.

Roots let several computers share one library: a path below a root named in the config file
(`[roots] photos = "/mnt/photos"`) is stored as `photos:/2019/a.jpg`, and each computer maps
the name to where it mounts that disk. Paths below no root are stored as they are. A stored
path whose root this computer does not map comes back below UNMAPPED, where nothing is:
luna.files.presence calls such files unavailable, never missing.
"""

from __future__ import annotations

import base64
import os


def is_utf8(path: str) -> bool:
    if path.isascii():
        return True
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class StoredName(str):
    """A file name or path bound to a statement: TEXT to SQLite, `bytea` to PostgreSQL."""

    __slots__ = ()


# -- roots -----------------------------------------------------------------------------------

UNMAPPED = "/.luna-unmapped-root"  # where the files of a root this computer lacks appear
_roots: dict[str, str] = {}  # name -> its folder on this computer, without a trailing "/"
_by_folder: list[tuple[str, str]] = []  # (folder + "/", name), the deepest folder first


def use_roots(roots: dict[str, str]) -> None:
    """Store paths below these folders relative to their names (from the config file)."""
    _roots.clear()
    _roots.update({name: folder.rstrip("/") or "/" for name, folder in roots.items()})
    _by_folder[:] = sorted(
        ((folder.rstrip("/") + "/", name) for name, folder in _roots.items()),
        key=lambda pair: len(pair[0]),
        reverse=True,
    )


def stored_form(path: str) -> str:
    """`path` as the library stores it: `name:/rest` below a root, else itself."""
    if _by_folder and path[:1] == "/":
        for folder, name in _by_folder:
            if path.startswith(folder) or path == folder[:-1]:
                return f"{name}:/{path[len(folder) :]}".rstrip("/") or f"{name}:"
    return path


def _from_stored(text: str) -> str:
    name, sep, rest = text.partition(":")
    if not sep or "/" in name or rest[:1] != "/":
        return text  # a file name, not a path below a root
    folder = _roots.get(name)
    if folder is None:
        return f"{UNMAPPED}/{name}{rest}"
    return folder.rstrip("/") + rest


def root_of(path: str) -> tuple[str, str] | None:
    """(name, folder here) of the root `path` is below, or (name, "") for a root this
    computer does not map; None below no root."""
    if path.startswith(UNMAPPED + "/"):
        return path[len(UNMAPPED) + 1 :].partition("/")[0], ""
    for folder, name in _by_folder:
        if path.startswith(folder):
            return name, _roots[name]
    return None


def to_db(path: str) -> str | bytes:
    """The value to store or look up for `path`: itself (relative to its root, if any), or
    its bytes when not UTF-8."""
    if _by_folder:
        path = stored_form(path)
    return StoredName(path) if is_utf8(path) else os.fsencode(path)


def from_db(value: str | bytes) -> str:
    """The path as Python opens it, from a value `to_db` made."""
    text = value if type(value) is str else os.fsdecode(value)
    if text[:1] == "/" or not text:
        return text
    return _from_stored(text)


def raw(path: str) -> bytes:
    """The exact bytes of the name, for `-0`, path lists and CSV."""
    return os.fsencode(path)


def for_humans(path: str) -> str:
    """The path to show a person, valid text: bytes that are not UTF-8 appear as `\\xNN`."""
    if is_utf8(path):
        return path
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def under(column: str, folder: str) -> tuple[str, list]:
    """SQL (and its parameters) for "`column` is `folder` or a path below it"."""
    base = stored_form(folder.rstrip("/") or "/").rstrip("/") if _by_folder else folder
    base = base.rstrip("/") or ""
    ranges = []
    params: list = []
    if is_utf8(folder):
        # "/" + 1 is "0": every path starting with "base/" sorts in [base/, base0).
        ranges.append(f"({column} >= ? AND {column} < ?)")
        params += [StoredName(base + "/"), StoredName(base + "0")]
    bbase = os.fsencode(base)
    ranges.append(f"({column} >= ? AND {column} < ?)")
    params += [bbase + b"/", bbase + b"0"]
    return f"({column} = ? OR {' OR '.join(ranges)})", [to_db(folder), *params]


def json_ready(data):
    """`data` with every name that is not UTF-8 made valid JSON text: the value shows the
    bad bytes as `\\xNN` (for_humans), and a `<key>_b64` beside it holds the exact bytes in
    base64. Everything else is returned as it was."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if isinstance(value, str) and not is_utf8(value):
                out[key] = for_humans(value)
                out[f"{key}_b64"] = base64.b64encode(raw(value)).decode("ascii")
            else:
                out[key] = json_ready(value)
        return out
    if isinstance(data, list | tuple):
        return [json_ready(item) for item in data]
    if isinstance(data, str) and not is_utf8(data):
        return for_humans(data)
    return data
