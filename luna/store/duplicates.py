"""What `luna dupes` reads and writes: files sharing content, the perceptual-hash cache
(`perceptual_hash`), and the links a kept copy takes over from its extras."""

from __future__ import annotations

from collections.abc import Iterator

from luna.fsnames import from_db
from luna.store.dialect import unindexed
from luna.store.sql import chunks, marks, now

# A copy row: (id, path, content_sha, size_bytes, mtime_ns, width, height).
_COPY = "f.id, f.path, f.content_sha, f.size_bytes, f.mtime_ns, f.width, f.height"
# Files that can be duplicates: present, not sidecars, hashed.
_CANDIDATES = "f.missing_since IS NULL AND f.kind != 'sidecar' AND f.content_sha != ''"
# Formats Pillow (with pillow-heif) decodes. RAW files are left out: their pictures are
# the camera's, and a RAW beside its JPEG is a pair (luna show lists it), not a copy.
_DECODABLE = (
    "'image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/heif', 'image/avif', "
    "'image/tiff', 'image/gif', 'image/bmp', 'image/jxl'"
)
_PHOTOS = f"{_CANDIDATES} AND f.kind = 'photo' AND f.mime_type IN ({_DECODABLE})"


def _copy(row) -> tuple:
    file_id, path, sha, size, mtime, width, height = row
    return (file_id, from_db(path), sha, size, mtime, width, height)


class Duplicates:
    def __init__(self, db):
        self.db = db

    def exact_copies(self) -> list[tuple]:
        """Copy rows of every content held by more than one file."""
        shas = [
            sha
            for (sha,) in self.db.execute_sql(
                f"SELECT f.content_sha FROM file f WHERE {_CANDIDATES} "
                "GROUP BY f.content_sha HAVING COUNT(*) > 1"
            )
        ]
        rows = []
        for chunk in chunks(shas):
            rows += self.db.execute_sql(
                f"SELECT {_COPY} FROM file f WHERE {_CANDIDATES} "
                f"AND f.content_sha IN ({marks(chunk)})",
                chunk,
            ).fetchall()
        return [_copy(row) for row in rows]

    def hashed_photos(self, method: str) -> Iterator[tuple[tuple, int]]:
        """(copy row, stored hash) of the photos whose content has a perceptual hash."""
        for row in self.db.execute_sql(
            f"SELECT {_COPY}, p.value FROM file f JOIN perceptual_hash p "
            "ON p.content_sha = f.content_sha AND p.method = ? "
            f"WHERE {_PHOTOS} AND p.value IS NOT NULL",
            (method,),
        ):
            yield _copy(row[:-1]), row[-1]

    def photos_to_hash(self, method: str) -> Iterator[tuple[str, str, bool]]:
        """(content_sha, path, whether its hash is cached) of every photo `dupes --similar`
        compares."""
        for sha, path, cached in self.db.execute_sql(
            "SELECT f.content_sha, f.path, p.content_sha IS NOT NULL FROM file f "
            "LEFT JOIN perceptual_hash p ON p.content_sha = f.content_sha AND p.method = ? "
            f"WHERE {_PHOTOS}",
            (method,),
        ):
            yield sha, from_db(path), bool(cached)

    def store_hashes(self, rows: list[tuple]) -> None:
        """(content_sha, method, value or None, error or None) rows, replacing older ones."""
        self.db.cursor().executemany(
            "INSERT INTO perceptual_hash (content_sha, method, value, error) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (content_sha, method) DO UPDATE SET value = excluded.value, "
            "error = excluded.error",
            rows,
        )

    # -- close pairs of hashes, kept between runs (luna.ops.dupes.similar_groups) -----------
    def searched(self, method: str) -> dict[int, int]:
        """Stored hash value -> the radius its close pairs are known up to."""
        # Read straight through the table: through its key's index (method, value) SQLite
        # would look each row's radius up in the table, three times slower for 200,000.
        return dict(
            self.db.execute_sql(
                f"SELECT value, radius FROM similar_searched WHERE {unindexed('method')} = ?",
                (method,),
            ).fetchall()
        )

    def close_pairs(self, method: str, threshold: int) -> list[tuple[int, int]]:
        """(a, b) stored values of the known pairs at most `threshold` bits apart."""
        return self.db.execute_sql(
            f"SELECT a, b FROM similar_pair WHERE {unindexed('method')} = ? AND distance <= ?",
            (method, threshold),
        ).fetchall()

    def record_searched(
        self, method: str, values: list[int], radius: int, pairs: list[tuple[int, int, int]]
    ) -> None:
        """These values' close pairs (a < b, distance), complete up to `radius`."""
        cursor = self.db.cursor()
        cursor.executemany(
            "INSERT INTO similar_pair (method, a, b, distance) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(method, a, b, d) for a, b, d in pairs],
        )
        cursor.executemany(
            "INSERT INTO similar_searched (method, value, radius) VALUES (?, ?, ?) "
            "ON CONFLICT (method, value) DO UPDATE SET radius = excluded.radius",
            [(method, value, radius) for value in values],
        )

    def forget_searched(self, method: str, values: list[int]) -> None:
        """Values no longer in the library: their pairs go, and so does the note that they
        were searched (were one to come back, it is searched again)."""
        for chunk in chunks(values, 300):
            self.db.execute_sql(
                f"DELETE FROM similar_searched WHERE method = ? AND value IN ({marks(chunk)})",
                (method, *chunk),
            )
            self.db.execute_sql(
                f"DELETE FROM similar_pair WHERE method = ? AND (a IN ({marks(chunk)}) "
                f"OR b IN ({marks(chunk)}))",
                (method, *chunk, *chunk),
            )

    def give_kept(
        self, kept_id: str, extra_ids: list[str], *, tags: bool, albums: list[str], events: bool
    ) -> None:
        """The kept file takes the extras' tags (as the user's), the named albums, and
        their events; links it has already stay as they are."""
        extras = marks(extra_ids)
        # The kept id is read from its row (`kept`), not bound in the SELECT list: there a
        # bare value has no type PostgreSQL could give the uuid column.
        if tags:
            self.db.execute_sql(
                "INSERT INTO file_tag (file_id, tag_id, source) "
                "SELECT DISTINCT kept.id, l.tag_id, 'user' FROM file_tag l "
                f"JOIN file kept ON kept.id = ? WHERE l.file_id IN ({extras}) "
                "ON CONFLICT (file_id, tag_id) DO NOTHING",
                (kept_id, *extra_ids),
            )
        if albums:
            self.db.execute_sql(
                "INSERT INTO album_file (album_id, file_id, added) "
                "SELECT DISTINCT af.album_id, kept.id, ? FROM album_file af "
                "JOIN album a ON a.id = af.album_id JOIN file kept ON kept.id = ? "
                f"WHERE af.file_id IN ({extras}) AND a.name IN ({marks(albums)}) "
                "ON CONFLICT (album_id, file_id) DO NOTHING",
                (now(), kept_id, *extra_ids, *albums),
            )
        if events:
            self.db.execute_sql(
                "INSERT INTO event_file (event_id, file_id) "
                "SELECT DISTINCT l.event_id, kept.id FROM event_file l "
                f"JOIN file kept ON kept.id = ? WHERE l.file_id IN ({extras}) "
                "ON CONFLICT (event_id, file_id) DO NOTHING",
                (kept_id, *extra_ids),
            )
