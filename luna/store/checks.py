"""What `luna verify` reads and writes: which files to check, in which order, and what it
found (luna.ops.verify says what that means)."""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterator

from luna.fsnames import from_db, to_db
from luna.store.rows import time_text
from luna.store.sql import chunks, marks, now


class Checks:
    def __init__(self, db):
        self.db = db

    def to_check(
        self, file_ids: list[str] | None, checked_before: dt.datetime | None, limit: int | None
    ) -> tuple[array, int]:
        """The rowids of the files to check, in the order to check them, and their bytes:
        every file (or these hex ids), or those not checked since `checked_before`, never
        checked first, then the longest unchecked (the order a nightly job needs)."""
        cond, params = "TRUE", []
        if checked_before is not None:
            cond, params = "(verified_at IS NULL OR verified_at < ?)", [time_text(checked_before)]
        if file_ids is None:
            # NULLS FIRST: never checked first, as SQLite has it (PostgreSQL's NULLs are last).
            order = "verified_at NULLS FIRST, path" if checked_before is not None else "path"
            sql = f"SELECT rowid, size_bytes FROM file WHERE {cond} ORDER BY {order}"
            if limit is not None:
                sql += f" LIMIT {int(limit)}"
            rows = self.db.execute_sql(sql, params).fetchall()
        else:
            found = []
            for chunk in chunks(file_ids, 500):
                found += self.db.execute_sql(
                    "SELECT rowid, size_bytes, verified_at, path FROM file "
                    f"WHERE id IN ({marks(chunk)}) AND {cond}",
                    [*chunk, *params],
                ).fetchall()
            if checked_before is not None:
                found.sort(key=lambda r: (r[2] is not None, r[2] or "", from_db(r[3])))
            else:
                found.sort(key=lambda r: from_db(r[3]))
            rows = [(r[0], r[1]) for r in found[:limit]]
        return array("q", (r[0] for r in rows)), sum(r[1] or 0 for r in rows)

    def rows(self, rowids: list[int]) -> Iterator[tuple]:
        """(id, path, content_sha, size, mtime_ns, approximate, missing_since) of these rows,
        in this order, `approximate` telling an mtime from before schema 5 (luna.mtimes);
        a row deleted meanwhile is left out."""
        by_rowid = {
            r[0]: r
            for r in self.db.execute_sql(
                "SELECT rowid, id, path, content_sha, size_bytes, mtime_ns, "
                "id IN (SELECT file_id FROM approximate_mtime), missing_since "
                f"FROM file WHERE rowid IN ({marks(rowids)})",
                rowids,
            )
        }
        for rowid in rowids:
            r = by_rowid.get(rowid)
            if r is not None:
                yield r[1], from_db(r[2]), r[3], r[4], r[5], bool(r[6]), r[7]

    def record(
        self,
        verified: list[tuple[str, str]],
        missing: list[tuple[str, str]],
        present: list[tuple[str, str]],
    ) -> None:
        """What a check found: (id, sha) read and matching, (id, path) vanished, (id, path)
        there again. The conditions keep a concurrent import's newer record intact: only
        the content that was checked is marked verified, only the path that vanished
        missing."""
        stamp = now()
        cursor = self.db.cursor()
        cursor.executemany(
            "UPDATE file SET verified_at = ?, missing_since = NULL "
            "WHERE id = ? AND content_sha = ?",
            [(stamp, i, sha) for i, sha in verified],
        )
        cursor.executemany(
            "UPDATE file SET missing_since = ? WHERE id = ? AND path = ? AND missing_since IS NULL",
            [(stamp, i, to_db(p)) for i, p in missing],
        )
        cursor.executemany(
            "UPDATE file SET missing_since = NULL WHERE id = ? AND path = ?",
            [(i, to_db(p)) for i, p in present],
        )

    def owners(self, file_ids: list[str]) -> dict[str, str | None]:
        """id -> the name of its owner (None: none recorded)."""
        names: dict[str, str | None] = {}
        for chunk in chunks(file_ids, 500):
            names.update(
                self.db.execute_sql(
                    'SELECT f.id, u.name FROM file f LEFT JOIN "user" u ON u.id = f.owner_id '
                    f"WHERE f.id IN ({marks(chunk)})",
                    chunk,
                ).fetchall()
            )
        return names

    def content_shas(self, file_ids: list[str]) -> dict[str, str]:
        """id -> the content hash the library holds now."""
        current: dict[str, str] = {}
        for chunk in chunks(file_ids, 500):
            current.update(
                self.db.execute_sql(
                    f"SELECT id, content_sha FROM file WHERE id IN ({marks(chunk)})", chunk
                ).fetchall()
            )
        return current
