"""`luna library copy SRC DEST`: a whole library into a new one, SQLite or PostgreSQL, either
way, checked row for row before it is kept.

Everything goes: files with their ids and hashes, tags, albums with their owners, editors and
viewers, events, relations, content history, perceptual hashes, import failures. The source
is read in one read transaction (one consistent moment, while others may go on writing it);
the destination is written in one write transaction, then read back inside it, and each
table's row count and SHA-256 (luna.store.copying.Digest) compared with the source's. Any
difference rolls the whole copy back: the destination keeps nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable

from luna.errors import LibraryError
from luna.store import copying


def copy_everything(
    source, destination, progress: Callable[[str, int], None] | None = None
) -> list[dict]:
    """Copy every row of library `source` into the empty library `destination` (both
    luna.library.Library); one {"table", "rows", "sha256"} per table, in copying order."""
    if not copying.is_empty(destination.db):
        raise LibraryError(
            f"{destination.path} already holds a library; luna copies only into a new, "
            "empty one (nothing was written)"
        )
    if source.store.transfers.has_pending():
        raise LibraryError(
            f"copies or moves into {source.path} are in flight (or a crash left some): let "
            "them finish, or run `luna doctor` on it, then copy it"
        )
    tables = []
    with source.db.atomic("DEFERRED"), destination.db.atomic("IMMEDIATE"):
        for table in copying.TABLES:
            tables.append(_copy_table(source.db, destination.db, table))
            if progress is not None:
                progress(table.name, tables[-1]["rows"])
    return tables


def _copy_table(source_db, destination_db, table: copying.Table) -> dict:
    read = copying.Digest(table)
    batch: list[tuple] = []
    for row in copying.read_rows(source_db, table):
        read.add(row)
        batch.append(row)
        if len(batch) >= copying.PAGE:
            copying.write_rows(destination_db, table, batch)
            batch = []
    if batch:
        copying.write_rows(destination_db, table, batch)
    copying.renumber_after_copy(destination_db, table)
    written = copying.digest(destination_db, table)
    if (written.rows, written.hexdigest()) != (read.rows, read.hexdigest()):
        raise LibraryError(
            f"the copy of table {table.name} does not match its source ({written.rows} rows "
            f"read back, {read.rows} copied): nothing was kept"
        )
    return {"table": table.name, "rows": read.rows, "sha256": read.hexdigest()}
