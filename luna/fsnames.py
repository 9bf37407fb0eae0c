"""File names as the file system has them: any bytes, not only UTF-8.

Linux names are bytes. Python hands them over as `str`, with each byte that is not valid
UTF-8 turned into a lone surrogate (U+DC80..U+DCFF, "surrogateescape"), and turns them back
into the same bytes when it opens the file. SQLite's TEXT holds UTF-8 only, so luna stores a
path as TEXT when it is valid UTF-8 (nearly always) and as a BLOB of its exact bytes when it
is not. Nothing is lost either way, and `from_db` gives back the `str` that opens the file.

Two things follow for SQL. A value and its column must be bound in the same form, which
`to_db` guarantees. And SQLite sorts every TEXT before every BLOB, so "every path under this
folder" is two ranges, one for each form: `under()` builds them.
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


def to_db(path: str) -> str | bytes:
    """The value to store or look up for `path`: itself, or its bytes when not UTF-8."""
    return path if is_utf8(path) else os.fsencode(path)


def from_db(value: str | bytes) -> str:
    """The path as Python opens it, from a value `to_db` made."""
    return value if type(value) is str else os.fsdecode(value)


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
    base = folder.rstrip("/") or ""
    ranges = []
    params: list = []
    if is_utf8(folder):
        # "/" + 1 is "0": every path starting with "base/" sorts in [base/, base0).
        ranges.append(f"({column} >= ? AND {column} < ?)")
        params += [base + "/", base + "0"]
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
