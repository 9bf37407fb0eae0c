"""The journal of copies and moves in flight: the `transfer` table (luna.ops.transfer says
what each step means and how a crash is recovered)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from luna.files.place import temporary_name
from luna.fsnames import from_db, to_db
from luna.store.sql import now


@dataclass
class Entry:
    id: int
    operation: str
    source: str
    destination: str
    temporary: str
    content_sha: str
    size_bytes: int
    file_id: str | None
    state: str


class Journal:
    """The `transfer` table: one row per file on its way, committed at each step."""

    def __init__(self, db):
        self.db = db

    def begin(self, operation, source, destination, content_sha, size, file_id=None) -> Entry:
        return self.begin_many([(operation, source, destination, content_sha, size, file_id)])[0]

    def begin_many(self, transfers: list[tuple]) -> list[Entry]:
        """Journal rows for (operation, source, destination, content_sha, size, file_id),
        committed together before any of those files is touched."""
        entries = []
        with self.db.atomic("IMMEDIATE"):
            for operation, source, destination, content_sha, size, file_id in transfers:
                temporary = temporary_name(destination)
                cursor = self.db.execute_sql(
                    "INSERT INTO transfer (operation, source, destination, temporary, "
                    "content_sha, size_bytes, file_id, state, started) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 'copying', ?) RETURNING id",
                    (operation, to_db(source), to_db(destination), to_db(temporary),
                     content_sha, size, file_id, now()),
                )  # fmt: skip
                entries.append(
                    Entry(cursor.fetchone()[0], operation, source, destination, temporary,
                          content_sha, size, file_id, "copying")
                )  # fmt: skip
        return entries

    def advance(self, entry: Entry, state: str) -> None:
        """Outside a transaction: commits at once. Inside one: lands with it."""
        self.db.execute_sql("UPDATE transfer SET state = ? WHERE id = ?", (state, entry.id))
        entry.state = state

    def finish(self, entry: Entry) -> None:
        self.db.execute_sql("DELETE FROM transfer WHERE id = ?", (entry.id,))

    # -- on a server: who is transferring now (luna.ops.transfer.alone, transferring) --
    # Session advisory locks, which the server drops with the connection of a process that
    # dies. The key is luna.store.postgres.TRANSFER_LOCK.
    @contextlib.contextmanager
    def lock_shared(self):
        from luna.store.postgres import TRANSFER_LOCK

        self.db.execute_sql("SELECT pg_advisory_lock_shared(?)", (TRANSFER_LOCK,))
        try:
            yield
        finally:
            self.db.execute_sql("SELECT pg_advisory_unlock_shared(?)", (TRANSFER_LOCK,))

    @contextlib.contextmanager
    def lock_alone(self):
        from luna.store.postgres import TRANSFER_LOCK

        (free,) = self.db.execute_sql("SELECT pg_try_advisory_lock(?)", (TRANSFER_LOCK,)).fetchone()
        try:
            yield free
        finally:
            if free:
                self.db.execute_sql("SELECT pg_advisory_unlock(?)", (TRANSFER_LOCK,))

    def has_pending(self) -> bool:
        return self.db.execute_sql("SELECT EXISTS (SELECT 1 FROM transfer)").fetchone()[0] == 1

    def pending(self) -> list[Entry]:
        rows = self.db.execute_sql(
            "SELECT id, operation, source, destination, temporary, content_sha, size_bytes, "
            "file_id, state FROM transfer ORDER BY id"
        ).fetchall()
        return [
            Entry(r[0], r[1], from_db(r[2]), from_db(r[3]), from_db(r[4]), *r[5:]) for r in rows
        ]
