"""Small pieces every table module uses: placeholders, chunks, LIKE patterns.

SQLite binds at most 32,766 values per statement (999 before 3.32), so long lists of ids
go in chunks of a few hundred."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence


def marks(values: Sequence) -> str:
    """One "?" per value, comma-separated, for an IN (...) list."""
    return ", ".join("?" for _ in values)


def chunks(values: Sequence, size: int = 400) -> Iterator[Sequence]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def like_prefix(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') for "starts with `text`", whatever `text` holds."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def now() -> str:
    """This moment as row timestamps are stored: naive UTC, "2026-11-28 13:15:04.314137"
    (what peewee's DateTimeField writes, so rows written either way read alike)."""
    return str(dt.datetime.now(dt.UTC).replace(tzinfo=None))


def write_transaction(lib, fn, *, then: str, dry_run: bool = False):
    """Run `fn` in one write transaction (a read one for a dry run): nothing of it lands if
    it fails. A write SQLite refuses (a full disk, a read-only library, another luna holding
    the library past the busy timeout) becomes one line saying why, then `then` (what to
    do: what earlier transactions wrote stays)."""
    from luna.store.libfile import cannot_write
    from luna.store.orm import peewee

    if dry_run:
        with lib.db.atomic():
            return fn()
    try:
        with lib.db.atomic("IMMEDIATE"):
            return fn()
    except peewee.OperationalError as exc:
        raise cannot_write(lib.path, exc, then) from None
