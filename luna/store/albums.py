"""The `album` table, its files (`album_file`), its editors and viewers, and `user`.

An album is found by its slug. `album_file` row ids keep the order in which files were
added. Who may do what is luna.ops.albums' business; this module only reads and writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from luna.fsnames import from_db
from luna.names import uuid_text
from luna.store.rows import time_value
from luna.store.sql import chunks, marks, now

# The two sharing roles and the table of each.
_SHARE_TABLES = {"viewer": "album_viewer", "editor": "album_editor"}


@dataclass
class AlbumRow:
    id: int
    name: str
    slug: str
    description: str
    owner_id: int | None
    owner: str | None  # the owner's user name
    created: dt.datetime | None


@dataclass
class AlbumFileRow:
    id: str  # 8-4-4-4-12
    path: str
    filename: str
    start: dt.datetime | None
    utc_offset: int | None
    kind: str
    added: dt.datetime | None


_ALBUM = "a.id, a.name, a.slug, a.description, a.owner_id, u.name, a.created"
_ALBUM_FROM = 'FROM album a LEFT JOIN "user" u ON u.id = a.owner_id'


def _album(row) -> AlbumRow:
    album_id, name, slug, description, owner_id, owner, created = row
    return AlbumRow(album_id, name, slug, description, owner_id, owner, time_value(created))


class Users:
    def __init__(self, db):
        self.db = db

    def id_of(self, name: str) -> int | None:
        row = self.db.execute_sql('SELECT id FROM "user" WHERE name = ?', (name,)).fetchone()
        return row[0] if row else None

    def ensure(self, name: str) -> int:
        """The id of user `name`, created if new."""
        self.db.execute_sql(
            'INSERT INTO "user" (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
            (name, now()),
        )
        found = self.id_of(name)
        assert found is not None  # inserted, or there already
        return found


class Albums:
    def __init__(self, db):
        self.db = db

    # -- albums ----------------------------------------------------------------------------
    def by_slug(self, slug: str) -> AlbumRow | None:
        row = self.db.execute_sql(
            f"SELECT {_ALBUM} {_ALBUM_FROM} WHERE a.slug = ?", (slug,)
        ).fetchone()
        return _album(row) if row else None

    def create(self, name: str, slug: str, description: str, owner_id: int) -> AlbumRow:
        stamp = now()
        self.db.execute_sql(
            "INSERT INTO album (name, slug, description, owner_id, created, modified) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (name, slug, description, owner_id, stamp, stamp),
        )
        created = self.by_slug(slug)
        assert created is not None
        return created

    def of_user(self, user_id: int) -> list[tuple[AlbumRow, int, bool]]:
        """(album, file count, whether the user edits it) for the albums the user owns,
        edits or views, by slug."""
        rows = self.db.execute_sql(
            f"SELECT {_ALBUM}, "
            "(SELECT COUNT(*) FROM album_file f WHERE f.album_id = a.id), "
            "EXISTS (SELECT 1 FROM album_editor e WHERE e.album_id = a.id AND e.user_id = ?) "
            f"{_ALBUM_FROM} WHERE a.owner_id = ? "
            "OR a.id IN (SELECT album_id FROM album_editor WHERE user_id = ?) "
            "OR a.id IN (SELECT album_id FROM album_viewer WHERE user_id = ?) "
            "ORDER BY a.slug",
            (user_id, user_id, user_id, user_id),
        ).fetchall()
        return [(_album(row[:7]), row[7], bool(row[8])) for row in rows]

    def rename(self, album_id: int, name: str, slug: str) -> None:
        self.db.execute_sql(
            "UPDATE album SET name = ?, slug = ?, modified = ? WHERE id = ?",
            (name, slug, now(), album_id),
        )

    def touch(self, album_id: int) -> None:
        self.db.execute_sql("UPDATE album SET modified = ? WHERE id = ?", (now(), album_id))

    def delete(self, album_id: int) -> None:
        """The album and its links to files and users (ON DELETE CASCADE); never a file."""
        self.db.execute_sql("DELETE FROM album WHERE id = ?", (album_id,))

    # -- sharing ---------------------------------------------------------------------------
    def shares(self, album_id: int, role: str) -> list[str]:
        """The names of the album's viewers or editors, sorted."""
        return [
            name
            for (name,) in self.db.execute_sql(
                f'SELECT u.name FROM {_SHARE_TABLES[role]} s JOIN "user" u ON u.id = s.user_id '
                "WHERE s.album_id = ? ORDER BY u.name",
                (album_id,),
            )
        ]

    def has_share(self, album_id: int, user_id: int, role: str) -> bool:
        return (
            self.db.execute_sql(
                f"SELECT 1 FROM {_SHARE_TABLES[role]} WHERE album_id = ? AND user_id = ?",
                (album_id, user_id),
            ).fetchone()
            is not None
        )

    def share(self, album_id: int, user_id: int, role: str) -> None:
        self.db.execute_sql(
            f"INSERT INTO {_SHARE_TABLES[role]} (album_id, user_id) VALUES (?, ?)",
            (album_id, user_id),
        )

    def unshare(self, album_id: int, user_id: int, role: str) -> bool:
        """Whether the user had that role."""
        cursor = self.db.execute_sql(
            f"DELETE FROM {_SHARE_TABLES[role]} WHERE album_id = ? AND user_id = ?",
            (album_id, user_id),
        )
        return cursor.rowcount > 0

    # -- files -----------------------------------------------------------------------------
    def file_count(self, album_id: int) -> int:
        return self.db.execute_sql(
            "SELECT COUNT(*) FROM album_file WHERE album_id = ?", (album_id,)
        ).fetchone()[0]

    def files(self, album_id: int, *, by_date: bool) -> list[AlbumFileRow]:
        """The album's files by date (undated last, same dates in the order added), or in
        the order they were added."""
        order = "f.start IS NULL, f.start, l.id" if by_date else "l.id"
        rows = self.db.execute_sql(
            "SELECT f.id, f.path, f.filename, f.start, f.utc_offset, f.kind, l.added "
            f"FROM album_file l JOIN file f ON f.id = l.file_id WHERE l.album_id = ? "
            f"ORDER BY {order}",
            (album_id,),
        ).fetchall()
        return [
            AlbumFileRow(
                uuid_text(file_id),
                from_db(path),
                from_db(filename),
                time_value(start),
                offset,
                kind,
                time_value(added),
            )  # fmt: skip
            for file_id, path, filename, start, offset, kind, added in rows
        ]

    def present(self, album_id: int, file_ids: list[str]) -> set[str]:
        """Which of these (hex) file ids are in the album."""
        found: set[str] = set()
        for chunk in chunks(file_ids):
            found.update(
                row[0]
                for row in self.db.execute_sql(
                    f"SELECT file_id FROM album_file WHERE album_id = ? "
                    f"AND file_id IN ({marks(chunk)})",
                    (album_id, *chunk),
                )
            )
        return found

    def add_files(self, album_id: int, file_ids: list[str]) -> None:
        """At the end of the album, in this order (ids not in it yet)."""
        stamp = now()
        self.db.cursor().executemany(
            "INSERT INTO album_file (album_id, file_id, added) VALUES (?, ?, ?)",
            [(album_id, file_id, stamp) for file_id in file_ids],
        )

    def remove_files(self, album_id: int, file_ids: list[str]) -> None:
        for chunk in chunks(file_ids):
            self.db.execute_sql(
                f"DELETE FROM album_file WHERE album_id = ? AND file_id IN ({marks(chunk)})",
                (album_id, *chunk),
            )
