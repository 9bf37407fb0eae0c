"""Every row of a library, table by table, to copy it whole to another (`luna library copy`).

The tables are read in the order their references need (users and tags before the files,
files before their links) and by primary key, a page at a time, so memory stays bounded
whatever the library's size. Each row is also summed into a SHA-256 per table, written in
a form both databases give alike (a path as its bytes, JSON parsed and re-written with sorted
keys, a float as its exact hex): the copy is checked by reading it back and comparing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

from luna.fsnames import from_db, to_db
from luna.store.models import ALL_MODELS, JSONField, PathField

PAGE = 2000


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key's columns
    paths: frozenset[int]  # positions of file names (luna.fsnames)
    json: frozenset[int]  # positions of JSON documents
    counter: str | None  # the integer id a server numbers new rows with, if any


def _table(model) -> Table:
    meta = model._meta
    fields = meta.sorted_fields
    columns = tuple(f.column_name for f in fields)
    if meta.composite_key:
        key = tuple(meta.fields[name].column_name for name in meta.primary_key.field_names)
    else:
        key = (meta.primary_key.column_name,)
    numbered = len(key) == 1 and meta.primary_key.field_type == "AUTO"
    return Table(
        name=meta.table_name,
        columns=columns,
        key=key,
        paths=frozenset(i for i, f in enumerate(fields) if isinstance(f, PathField)),
        json=frozenset(i for i, f in enumerate(fields) if isinstance(f, JSONField)),
        counter=key[0] if numbered else None,
    )


TABLES = [_table(model) for model in ALL_MODELS]


def _quoted(names) -> str:
    return ", ".join(f'"{n}"' for n in names)


def read_rows(db, table: Table) -> Iterator[tuple]:
    """Every row of `table`, by primary key, a page at a time."""
    select = f'SELECT {_quoted(table.columns)} FROM "{table.name}"'
    order = f" ORDER BY {_quoted(table.key)} LIMIT {PAGE}"
    key_at = [table.columns.index(k) for k in table.key]
    after: tuple | None = None
    while True:
        if after is None:
            rows = db.execute_sql(select + order).fetchall()
        else:
            marks = ", ".join("?" for _ in after)
            rows = db.execute_sql(
                f"{select} WHERE ({_quoted(table.key)}) > ({marks}){order}", after
            ).fetchall()
        yield from rows
        if len(rows) < PAGE:
            return
        after = tuple(rows[-1][i] for i in key_at)


def write_rows(db, table: Table, rows: list[tuple]) -> None:
    """Insert `rows` (as read_rows gives them, from either database) into `table`."""
    marks = ", ".join("?" for _ in table.columns)
    db.cursor().executemany(
        f'INSERT INTO "{table.name}" ({_quoted(table.columns)}) VALUES ({marks})',
        [_for_writing(table, row) for row in rows],
    )


def _for_writing(table: Table, row: tuple) -> tuple:
    if not table.paths:
        return row
    return tuple(
        to_db(from_db(value)) if i in table.paths and value is not None else value
        for i, value in enumerate(row)
    )


def count(db, table: Table) -> int:
    return db.execute_sql(f'SELECT COUNT(*) FROM "{table.name}"').fetchone()[0]


def is_empty(db) -> bool:
    return all(count(db, table) == 0 for table in TABLES)


# -- the checksum ----------------------------------------------------------------------------


class Digest:
    """The SHA-256 of a table's rows in key order, each value in a form both databases
    give alike."""

    def __init__(self, table: Table):
        self.table = table
        self.rows = 0
        self._sha = hashlib.sha256()

    def add(self, row: tuple) -> None:
        self.rows += 1
        parts = [self._value(i, value) for i, value in enumerate(row)]
        self._sha.update(b"\x1e".join(parts) + b"\x1d")

    def _value(self, i: int, value) -> bytes:
        if value is None:
            return b"N"
        if i in self.table.paths:
            return b"p" + os.fsencode(from_db(value))
        if i in self.table.json:
            document = json.loads(value)
            return b"j" + json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        if isinstance(value, bool | int):
            return b"i%d" % value
        if isinstance(value, float):
            return b"f" + (value.hex() if math.isfinite(value) else repr(value)).encode()
        if isinstance(value, bytes | memoryview):
            return b"b" + bytes(value)
        return b"s" + str(value).encode("utf-8", "surrogateescape")

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def digest(db, table: Table) -> Digest:
    summed = Digest(table)
    for row in read_rows(db, table):
        summed.add(row)
    return summed


def renumber_after_copy(db, table: Table) -> None:
    """On a server, start the numbering of new rows after the highest id copied in (ids were
    given, so its sequence did not move). SQLite numbers from the highest id by itself."""
    if table.counter is None or getattr(db, "backend", "sqlite") != "postgresql":
        return
    db.execute_sql(
        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{table.counter}'), "
        f'COALESCE((SELECT MAX("{table.counter}") FROM "{table.name}"), 0) + 1, false)'
    )
