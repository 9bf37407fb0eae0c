"""Opening the library file: pragmas, schema version, migrations with a backup first.

The schema version lives in SQLite's `user_version`. A new library gets the current schema
in one go, and appears under its name only once complete; an existing one is backed up, then
migrated step by step inside one transaction, so an interrupted migration leaves the old
schema intact. A file that is not a luna library this luna can use (empty, not SQLite,
someone else's, written by a newer luna) is refused before anything is written to it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

from luna.errors import CannotWrite, LibraryError, NeedsUpgrade
from luna.store import dialect, libfile
from luna.store.libfile import BUSY_TIMEOUT_S
from luna.store.models import ALL_MODELS
from luna.store.orm import peewee

PRAGMAS = {**dialect.CONNECTION_SETTINGS, "busy_timeout": BUSY_TIMEOUT_S * 1000}


def _migration_placeholder(db: peewee.SqliteDatabase) -> None:  # pragma: no cover
    raise AssertionError("version 1 is created from the models, never migrated to")


def _v1_to_v2(db: peewee.SqliteDatabase) -> None:
    """Schema 2: keeping the library true (luna verify, luna dupes --similar).
    Adds file.verified_at, the content history, the perceptual-hash cache, and the
    journal of copies and moves in flight (luna import --copy/--move, luna organize).

    Frozen as the SQL the models of schema 2 created: a migration never reads today's
    models, which may have moved on since."""
    for statement in _SCHEMA_2_ADDITIONS:
        db.execute_sql(statement)


_SCHEMA_2_ADDITIONS = [
    'ALTER TABLE "file" ADD COLUMN "verified_at" DATETIME',
    'CREATE INDEX "file_verified_at" ON "file" ("verified_at")',
    'CREATE TABLE "content_history" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"file_id" TEXT NOT NULL, "content_sha" VARCHAR(64) NOT NULL, "size_bytes" INTEGER, '
    '"replaced_at" DATETIME NOT NULL, "reason" VARCHAR(255) NOT NULL, '
    'FOREIGN KEY ("file_id") REFERENCES "file" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "content_history_file_id" ON "content_history" ("file_id")',
    'CREATE TABLE "perceptual_hash" ("content_sha" VARCHAR(64) NOT NULL, '
    '"method" VARCHAR(255) NOT NULL, "value" INTEGER, "error" TEXT, '
    'PRIMARY KEY ("content_sha", "method"))',
    'CREATE TABLE "transfer" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"operation" VARCHAR(255) NOT NULL, "source" TEXT NOT NULL, '
    '"destination" TEXT NOT NULL, "temporary" TEXT NOT NULL, '
    '"content_sha" VARCHAR(64) NOT NULL, "size_bytes" INTEGER NOT NULL, "file_id" TEXT, '
    '"state" VARCHAR(255) NOT NULL, "started" DATETIME NOT NULL, '
    'FOREIGN KEY ("file_id") REFERENCES "file" ("id") ON DELETE SET NULL)',
    'CREATE INDEX "transfer_file_id" ON "transfer" ("file_id")',
]


def _v2_to_v3(db: peewee.SqliteDatabase) -> None:
    """Schema 3: `dupes --similar` keeps the close pairs of perceptual hashes it found, so
    that a later run searches only around new photos. Frozen SQL, as for schema 2."""
    for statement in _SCHEMA_3_ADDITIONS:
        db.execute_sql(statement)


_SCHEMA_3_ADDITIONS = [
    'CREATE TABLE "similar_pair" ("method" VARCHAR(255) NOT NULL, "a" INTEGER NOT NULL, '
    '"b" INTEGER NOT NULL, "distance" INTEGER NOT NULL, PRIMARY KEY ("method", "a", "b"))',
    'CREATE TABLE "similar_searched" ("method" VARCHAR(255) NOT NULL, '
    '"value" INTEGER NOT NULL, "radius" INTEGER NOT NULL, PRIMARY KEY ("method", "value"))',
]


def _v3_to_v4(db: peewee.SqliteDatabase) -> None:
    """Schema 4: fewer and better indexes on `file`, for imports (each index is written for
    every row) and for the planner. file_missing_since keeps only the missing rows: all it
    serves is finding those, and an index holding every present row was what SQLite, with
    no statistics, chose for "missing_since IS NULL", reading the whole library to list
    one folder. file_end served no query (dates are compared as COALESCE("end", start))."""
    for statement in _SCHEMA_4_CHANGES:
        db.execute_sql(statement)


_SCHEMA_4_CHANGES = [
    'DROP INDEX IF EXISTS "file_end"',
    'DROP INDEX IF EXISTS "file_missing_since"',
    'CREATE INDEX "file_missing_since" ON "file" ("missing_since") '
    'WHERE ("missing_since" IS NOT NULL)',
]


def _v4_to_v5(db: peewee.SqliteDatabase) -> None:
    """Schema 5: mtimes in whole nanoseconds (file.mtime_ns, import_failure.mtime_ns) instead
    of a float of seconds, which holds them to about 240 ns only; file_tag indexed by
    (tag_id, file_id). The floats become the
    nanoseconds they stand for, and the file rows are listed in approximate_mtime so that
    the next import trusts them at their old precision, not reading every file again
    (luna.mtimes). Frozen SQL, as for schema 2, and luna.mtimes' frozen conversion."""
    from luna.mtimes import ns_from_seconds

    db.connection().create_function("luna_ns", 1, ns_from_seconds, deterministic=True)
    for statement in _SCHEMA_5_CHANGES:
        db.execute_sql(statement)


_SCHEMA_5_CHANGES = [
    'ALTER TABLE "file" ADD COLUMN "mtime_ns" INTEGER NOT NULL DEFAULT 0',
    'UPDATE "file" SET "mtime_ns" = luna_ns("mtime")',
    'DROP INDEX "file_path_size_bytes_mtime_missing_since"',
    'ALTER TABLE "file" DROP COLUMN "mtime"',
    'CREATE INDEX "file_path_size_bytes_mtime_ns_missing_since" '
    'ON "file" ("path", "size_bytes", "mtime_ns", "missing_since")',
    'ALTER TABLE "import_failure" ADD COLUMN "mtime_ns" INTEGER',
    'UPDATE "import_failure" SET "mtime_ns" = luna_ns("mtime") WHERE "mtime" IS NOT NULL',
    'ALTER TABLE "import_failure" DROP COLUMN "mtime"',
    'CREATE TABLE "approximate_mtime" ("file_id" TEXT NOT NULL PRIMARY KEY, '
    'FOREIGN KEY ("file_id") REFERENCES "file" ("id") ON DELETE CASCADE)',
    'INSERT INTO "approximate_mtime" ("file_id") SELECT "id" FROM "file"',
    # A tag's files straight from an index (find --tag on 1,000,000 files: ~60 ms less).
    'DROP INDEX "file_tag_tag_id"',
    'CREATE INDEX "file_tag_tag_id_file_id" ON "file_tag" ("tag_id", "file_id")',
]


def _v5_to_v6(db: peewee.SqliteDatabase) -> None:
    """Schema 6: what people say of a file in luna (stars, colour label, pick or reject,
    title, description), kept beside what the file says. Frozen SQL."""
    for statement in _SCHEMA_6_ADDITIONS:
        db.execute_sql(statement)


_SCHEMA_6_ADDITIONS = [
    'ALTER TABLE "file" ADD COLUMN "rating" INTEGER',
    'ALTER TABLE "file" ADD COLUMN "label" VARCHAR(255)',
    'ALTER TABLE "file" ADD COLUMN "flag" INTEGER',
    'ALTER TABLE "file" ADD COLUMN "title" TEXT',
    'ALTER TABLE "file" ADD COLUMN "description" TEXT',
]


def _v6_to_v7(db: peewee.SqliteDatabase) -> None:
    """Schema 7: positions luna gave files without one (luna geotag), with their source.
    Frozen SQL."""
    for statement in _SCHEMA_7_ADDITIONS:
        db.execute_sql(statement)


_SCHEMA_7_ADDITIONS = [
    'ALTER TABLE "file" ADD COLUMN "set_latitude" REAL',
    'ALTER TABLE "file" ADD COLUMN "set_longitude" REAL',
    'ALTER TABLE "file" ADD COLUMN "set_altitude" REAL',
    'ALTER TABLE "file" ADD COLUMN "location_source" VARCHAR(255)',
]


def _v7_to_v8(db: peewee.SqliteDatabase) -> None:
    """Schema 8: where each file was taken, in words (city, region, country), and whose
    words they are. Every file starts "not worked out yet": the next import, geotag or
    `luna places update` works them out. Frozen SQL."""
    for statement in _SCHEMA_8_ADDITIONS:
        db.execute_sql(statement)


_SCHEMA_8_ADDITIONS = [
    'ALTER TABLE "file" ADD COLUMN "city" VARCHAR(255)',
    'ALTER TABLE "file" ADD COLUMN "region" VARCHAR(255)',
    'ALTER TABLE "file" ADD COLUMN "country" VARCHAR(255)',
    'ALTER TABLE "file" ADD COLUMN "country_code" VARCHAR(255)',
    'ALTER TABLE "file" ADD COLUMN "place_source" VARCHAR(255)',
    'CREATE INDEX "file_country_code_country_region_city" '
    'ON "file" ("country_code", "country", "region", "city")',
    'CREATE INDEX "file_place_pending" ON "file" ("id") WHERE ("place_source" IS NULL)',
]


def _v8_to_v9(db: peewee.SqliteDatabase) -> None:
    """Schema 9: a date luna gave a file without one of its own (a Google Takeout JSON's),
    kept apart so that reading the file again keeps it. Frozen SQL."""
    for statement in _SCHEMA_9_ADDITIONS:
        db.execute_sql(statement)


_SCHEMA_9_ADDITIONS = [
    'ALTER TABLE "file" ADD COLUMN "set_start" DATETIME',
    'ALTER TABLE "file" ADD COLUMN "set_utc_offset" INTEGER',
    'ALTER TABLE "file" ADD COLUMN "set_date_source" VARCHAR(255)',
    'ALTER TABLE "file" ADD COLUMN "set_offset_source" VARCHAR(255)',
]


# MIGRATIONS[n] upgrades a library from version n to n + 1. Version 1 is the first release,
# built from the models directly, so the list starts with its placeholder at index 0.
# A fresh library is built from the models, so each step must leave an upgraded library
# with the same tables and indexes the models create (tests/test_migrations.py checks it).
MIGRATIONS: list[Callable[[peewee.SqliteDatabase], None]] = [
    _migration_placeholder,
    _v1_to_v2,
    _v2_to_v3,
    _v3_to_v4,
    _v4_to_v5,
    _v5_to_v6,
    _v6_to_v7,
    _v7_to_v8,
    _v8_to_v9,
]


def current_version() -> int:
    return len(MIGRATIONS)


def connect(path: Path, *, readonly: bool = False) -> tuple[peewee.SqliteDatabase, Path | None]:
    """Open the existing library at `path` and bring its schema up to date (readonly: check
    that it is up to date, and never write).

    Nothing is written before the file is known to be a luna library this luna may use and
    may write (libfile.identify, libfile.check_writable). Returns the database and the path
    of the backup made before a migration, if any."""
    libfile.identify(path, current_version())
    backup = None
    if readonly:
        db = peewee.SqliteDatabase(
            libfile.reading_uri(path), uri=True, timeout=BUSY_TIMEOUT_S, pragmas=_ro_pragmas()
        )
    else:
        libfile.check_writable(path)
        db = peewee.SqliteDatabase(str(path), timeout=BUSY_TIMEOUT_S, pragmas=PRAGMAS)
    try:
        _connect_patiently(db)
        if readonly:
            _check_version(db, path, allow_older=False)
        else:
            backup = _upgrade(db, path)
    except Exception as exc:
        db.close()
        if libfile.is_about_the_file(exc):
            raise libfile.unusable(path, exc) from None
        raise
    return db, backup


def upgrade_to_read(path: Path) -> None:
    """Upgrade an older luna's library (after a backup) so that a reading command can read
    it; one that cannot be written says so."""
    try:
        db, _ = connect(path)
    except CannotWrite as exc:
        raise CannotWrite(
            f"{exc}; it was written by an older luna, and must be upgraded before this "
            "luna can read it"
        ) from None
    db.close()


def create(path: Path) -> None:
    """Make a new, empty library at `path`, where there is no file.

    It is built under a temporary name beside `path` and given that name only once complete,
    without replacing anything. So a file at a library's path is always a whole library: an
    empty one can only be damage, which luna refuses rather than fills. When two luna create
    the same library at once, the first one's is kept and the other's discarded."""
    from luna.files import place  # only when creating a library: not on every command's path

    _make_folder(path.parent)
    temporary = path.with_name(f".{path.name}.new-{uuid.uuid4().hex[:12]}")
    try:
        _build_fresh(temporary)
        place.place_no_replace(str(temporary), str(path))
    except FileExistsError:
        pass  # another luna created it meanwhile (and ours is gone): that one is used
    except (OSError, sqlite3.Error, peewee.DatabaseError) as exc:
        _remove_quietly(temporary)
        reason = libfile.readonly_reason(path) or libfile.plain_cause(exc, path)
        raise CannotWrite(f"cannot create the library {path}: {reason}") from None


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror.lower() if exc.strerror else str(exc)
        raise LibraryError(f"cannot create the library folder {folder}: {reason}") from None


def _build_fresh(path: Path) -> None:
    db = peewee.SqliteDatabase(str(path), pragmas=PRAGMAS)
    db.connect()
    try:
        with db.atomic():
            _create_fresh(db)
    finally:
        db.close()  # the last connection checkpoints the WAL into the file and removes it


def _remove_quietly(path: Path) -> None:
    for leftover in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)


def _needs_upgrade(path: Path) -> NeedsUpgrade:
    return NeedsUpgrade(
        f"library {path} needs an upgrade to schema {current_version()}; run a luna command "
        "that writes (such as `luna import`) first"
    )


def _connect_patiently(db: peewee.SqliteDatabase) -> None:
    """Connect, waiting for another luna as long as a busy write would be waited for.

    Switching a library to WAL when a second process is creating or opening it at the same
    moment can answer "database is locked" at once: SQLite does not call its busy handler
    there (tests/test_gather.py starts two imports of a new library together)."""
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.01
    while True:
        try:
            db.connect(reuse_if_open=True)
            return
        except peewee.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        if not db.is_closed():
            db.close()
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def open_memory() -> peewee.SqliteDatabase:
    """An empty library in memory, for dry runs against a library that does not exist yet."""
    db = peewee.SqliteDatabase(":memory:", pragmas={"foreign_keys": 1})
    db.connect()
    _create_fresh(db)
    return db


def _ro_pragmas() -> dict:
    return {k: v for k, v in PRAGMAS.items() if k in (*dialect.READ_SETTINGS, "busy_timeout")}


def _schema_version(db: peewee.SqliteDatabase) -> int:
    return db.execute_sql(dialect.READ_SCHEMA_VERSION).fetchone()[0]


def _check_version(db: peewee.SqliteDatabase, path: Path, *, allow_older: bool) -> int:
    version = _schema_version(db)
    libfile.check_version(path, version, current_version())
    if not allow_older and version < current_version():
        raise _needs_upgrade(path)
    return version


def _upgrade(db: peewee.SqliteDatabase, path: Path) -> Path | None:
    # Cheap check first so every command does not take the write lock.
    if _check_version(db, path, allow_older=True) == current_version():
        return None
    # BEGIN IMMEDIATE: of two luna processes opening an old library, one upgrades it.
    with db.atomic("IMMEDIATE"):
        version = _check_version(db, path, allow_older=True)
        if version == current_version():
            return None
    backup = backup_library(db, path, version)
    try:
        with db.atomic("IMMEDIATE"):
            version = _check_version(db, path, allow_older=True)
            for step in range(version, current_version()):
                MIGRATIONS[step](db)
            db.execute_sql(dialect.set_schema_version(current_version()))
    except LibraryError:
        raise
    except Exception as exc:  # noqa: BLE001 - the transaction rolled back: say so plainly
        raise LibraryError(
            f"upgrading {path} to schema {current_version()} failed ({exc}); it was left "
            f"as it was, and a copy is at {backup}"
        ) from exc
    return backup


IDENTIFIER = dialect.json_field("metadata", "content_identifier")


def _create_fresh(db: peewee.SqliteDatabase) -> None:
    # The models describe the tables; bound to this database only while they create them.
    with db.bind_ctx(ALL_MODELS):
        db.create_tables(ALL_MODELS)
    # Live Photos are paired by Apple's ContentIdentifier, kept in the metadata JSON; this
    # partial expression index makes that lookup cheap without a column of its own.
    db.execute_sql(
        "CREATE INDEX file_content_identifier ON file "
        f"({IDENTIFIER}) WHERE {IDENTIFIER} IS NOT NULL"
    )
    db.execute_sql(dialect.set_schema_version(current_version()))


def backup_library(db: peewee.SqliteDatabase, path: Path, version: int) -> Path:
    """Copy the library, consistently even while others write, before a migration."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.schema{version}-{stamp}.bak")
    dest = sqlite3.connect(str(target))
    try:
        db.connection().backup(dest)
    except sqlite3.Error as exc:
        dest.close()
        target.unlink(missing_ok=True)
        raise LibraryError(f"cannot back up {path} before upgrading it: {exc}") from None
    dest.close()
    return target


def integrity(db) -> str:
    """SQLite's own check of the file's structure: "ok", or what is damaged. (On a server:
    luna.store.postgres's check of the library's tables and rules.)"""
    if getattr(db, "backend", "sqlite") == "postgresql":
        return db.integrity()
    return "; ".join(row[0] for row in db.execute_sql(dialect.INTEGRITY_CHECK).fetchall())
