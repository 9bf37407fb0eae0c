"""The library on a PostgreSQL server: connection, statements, schema and version.

luna.store's statements are written once, in the SQL both databases read, with SQLite's `?`
placeholders and the few spellings luna.store.dialect gives. Here they meet PostgreSQL:

- `translate` turns each statement (once; they are cached) into the driver's form: `%s`
  placeholders, and SQLite's planner hints (`INDEXED BY`, a unary `+`), `IS` between two
  values, the test for a JSON number (`json_type`) and the values at several keys
  (`json_extract` with more than one path) spelled as PostgreSQL has them.
- The schema adds the three SQLite functions luna's statements call (`instr`, `glob`,
  `json_extract`), for text and for file names, which are `bytea` here: their exact bytes,
  whatever the encoding (luna.fsnames). Dates stay ISO text, as in SQLite: they are local
  wall-clock times with no zone, and text keeps them, and their order, exactly.
- Values come back as SQLite gives them: ids as 32 hex digits, JSON as its text, sums as
  numbers. So every layer above reads rows alike from either database.

A write transaction (`atomic("IMMEDIATE")`, SQLite's way of taking the write lock at once)
takes a transaction-level advisory lock: luna's writers follow each other exactly as they do
on SQLite, whichever computer they run on, and a reader never waits.

The driver is psycopg2 (psycopg2-binary), imported only here, when a library is a
postgresql:// URL. psycopg 3 is the newer one, but it takes 4-5 times as long to import
(0.1-0.2 s against 25 ms here), which every `luna find` in a shell loop would pay.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import re
import sys
from collections.abc import Callable

from luna.errors import LibraryError, NewerSchema
from luna.fsnames import StoredName
from luna.locations import ServerAddress


def _import_driver():
    """psycopg2 and its extensions, imported without Python's ssl module. psycopg2's C part
    imports ssl only so that Python, not libpq, sets up OpenSSL's locking, which OpenSSL
    1.1 and later (Python 3.11 requires them; the binary wheel's libpq has its own) do by
    themselves; it carries on when ssl cannot be imported. ssl and the socket module it
    pulls in are a third of the driver's import time, which every `luna find` would pay.
    Hidden only during the import (as luna.store.orm hides the drivers from peewee)."""
    hide = "ssl" not in sys.modules
    if hide:
        sys.modules["ssl"] = None  # type: ignore[assignment]  # "import ssl" fails
    try:
        import psycopg2  # type: ignore[import-untyped]
        import psycopg2.errors  # type: ignore[import-untyped]
        import psycopg2.extensions  # type: ignore[import-untyped]
    finally:
        if hide:
            del sys.modules["ssl"]
    return psycopg2, psycopg2.extensions


psycopg2, pgx = _import_driver()

# Keys of the advisory locks luna takes (any two numbers of its own would do).
WRITE_LOCK = 0x6C756E61_0001  # "luna" 1: one writer at a time, as SQLite has it
TRANSFER_LOCK = 0x6C756E61_0002  # "luna" 2: copies and moves in flight (luna.ops.transfer)

# -- statements ----------------------------------------------------------------------------


def _json_array(column: str, keys: list[str]) -> str:
    """jsonb's spelling of SQLite's json_extract(column, '$.a', '$.b'): an array's text."""
    values = ", ".join(f"{column} -> '{key}'" for key in keys)
    return f"CAST(jsonb_build_array({values}) AS TEXT)"


_HINTS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r" INDEXED BY \w+"), ""),  # dialect.indexed_by
    (re.compile(r"(?<=[\s(])\+(?=[A-Za-z_\"])"), ""),  # dialect.unindexed
    (re.compile(r" IS NOT (?!NULL\b)"), " IS DISTINCT FROM "),  # dialect.not_same
    (re.compile(r" IS (?!NULL\b|NOT\b|DISTINCT\b)"), " IS NOT DISTINCT FROM "),  # dialect.same
    # dialect.json_values: the values at several keys as one JSON array, in its text
    (
        re.compile(r"json_extract\((\w+)((?:, '\$\.\w+'){2,})\)"),
        lambda m: _json_array(m.group(1), re.findall(r"'\$\.(\w+)'", m.group(2))),
    ),
    # dialect.json_number: SQLite's types of a JSON value, as jsonb_typeof names them
    (
        re.compile(r"json_type\((\w+), '\$\.(\w+)'\) IN \('integer', 'real'\)"),
        r"jsonb_typeof(\1 -> '\2') = 'number'",
    ),
]
_LITERAL_OR_MARK = re.compile(r"'(?:[^']|'')*'|\?|%")


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """A luna.store statement as psycopg2 runs it on PostgreSQL."""
    for pattern, replacement in _HINTS:
        sql = pattern.sub(replacement, sql)
    # Outside quoted literals, "?" is a placeholder; "%" is doubled everywhere, since psycopg2
    # reads the whole statement for its placeholders.
    return _LITERAL_OR_MARK.sub(_mark, sql)


def _mark(match: re.Match) -> str:
    text = match.group()
    if text == "?":
        return "%s"
    return text.replace("%", "%%")


# -- values --------------------------------------------------------------------------------
# Bound values: a file name as its bytes (bytea), whatever it is (luna.fsnames); dates and
# times as the text SQLite stores ("2019-06-01 12:34:56"), their type left for the server to
# infer from the column; True and False as SQLite's 1 and 0. psycopg2 keeps these for the
# process: only luna uses the driver here, and only for these types of its own or of Python.
pgx.register_adapter(StoredName, lambda name: psycopg2.Binary(os.fsencode(name)))
pgx.register_adapter(dt.datetime, lambda when: pgx.QuotedString(str(when)))
pgx.register_adapter(dt.date, lambda day: pgx.QuotedString(str(day)))
pgx.register_adapter(bool, lambda truth: pgx.AsIs("1" if truth else "0"))


def _hex_uuid(value, cursor):
    """A uuid as the 32 hex digits SQLite stores (luna.names.uuid_text adds the dashes)."""
    return None if value is None else value.replace("-", "")


def _json_text(value, cursor):
    """JSON as its text, as SQLite gives it: the layers above parse it themselves."""
    return value


def _number(value, cursor):
    """numeric (what SUM of integers gives here) as int, or float: never a Decimal."""
    if value is None:
        return None
    return float(value) if any(c in value for c in ".eEN") else int(value)


def _bytes(value, cursor):
    """bytea as bytes, as SQLite gives a BLOB (psycopg2 would give a memoryview)."""
    found = psycopg2.BINARY(value, cursor)
    return None if found is None else bytes(found)


# The server's fixed type ids (pg_type.oid) of the types read back differently.
_READ_AS = [
    pgx.new_type((2950,), "LUNA_UUID", _hex_uuid),
    pgx.new_type((114, 3802), "LUNA_JSON", _json_text),
    pgx.new_type((1700,), "LUNA_NUMBER", _number),
    pgx.new_type((17,), "LUNA_BYTES", _bytes),
]


def _adapt(conn) -> None:
    for kind in _READ_AS:
        pgx.register_type(kind, conn)


# -- errors --------------------------------------------------------------------------------


@contextlib.contextmanager
def _as_dbapi_errors(sql: str | None = None):
    """psycopg2's errors as peewee's classes of the same DB-API name, which luna.store.libfile
    and the layers above already tell apart (IntegrityError, OperationalError, ...). The
    statement goes with it as a note, which only a traceback (LUNA_DEBUG=1) shows."""
    try:
        yield
    except psycopg2.errors.InsufficientPrivilege as exc:
        from luna.errors import PermissionDenied

        # The server keeps album roles and members' rights itself (SCHEMA): its refusal is
        # luna's, whatever luna checked first.
        raise PermissionDenied(f"the server refused: {_first_line(exc)}") from exc
    except psycopg2.Error as exc:
        from luna.store.orm import peewee

        wrapper = next(
            (
                found
                for cls in type(exc).__mro__
                if isinstance(found := getattr(peewee, cls.__name__, None), type)
                and issubclass(found, peewee.DatabaseError)
            ),
            peewee.DatabaseError,
        )
        error = wrapper(_first_line(exc))
        if sql is not None:
            error.add_note(f"statement: {sql}")
        raise error from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- the connection ------------------------------------------------------------------------


class Cursor:
    """A psycopg2 cursor that reads luna.store's statements (translate)."""

    def __init__(self, raw):
        self._raw = raw

    def execute(self, sql: str, params=()) -> Cursor:
        with _as_dbapi_errors(sql):
            self._raw.execute(translate(sql), tuple(params))
        return self

    def executemany(self, sql: str, seq) -> Cursor:
        """Many rows in few round trips (psycopg2's executemany makes one per row)."""
        from psycopg2.extras import execute_batch  # type: ignore[import-untyped]

        with _as_dbapi_errors(sql):
            execute_batch(self._raw, translate(sql), seq, page_size=500)
        return self

    def fetchone(self):
        with _as_dbapi_errors():
            return self._raw.fetchone() if self._raw.description else None

    def fetchall(self):
        with _as_dbapi_errors():
            return self._raw.fetchall() if self._raw.description else []

    def fetchmany(self, size: int):
        with _as_dbapi_errors():
            return self._raw.fetchmany(size) if self._raw.description else []

    def __iter__(self):
        return iter(self.fetchall()) if self._raw.description else iter(())

    @property
    def rowcount(self) -> int:
        return self._raw.rowcount

    @property
    def description(self):
        return self._raw.description

    def close(self) -> None:
        self._raw.close()


# The tables whose rows the server guards itself (SCHEMA: album roles).
_SECURED = ("user", "album", "album_file", "album_editor", "album_viewer")

# SQLite's kinds of transaction, here. DEFERRED, a transaction that reads, sees one moment
# throughout, as SQLite's do (luna library copy reads a whole library in one).
_BEGIN = {"DEFERRED": "BEGIN ISOLATION LEVEL REPEATABLE READ"}


class ServerDatabase:
    """What luna.store asks of its database (peewee's `execute_sql`, `cursor`, `atomic`,
    `connection`, `close`), on one psycopg2 connection to a library on a server."""

    backend = "postgresql"

    def __init__(self, address: ServerAddress, *, readonly: bool = False):
        self.address = address
        self.readonly = readonly
        self._conn = None  # a psycopg2 connection
        self._depth = 0  # nested atomic() blocks: the outermost is the transaction

    # -- connecting --
    def connect(self, reuse_if_open: bool = False) -> None:
        if self._conn is not None:
            if reuse_if_open:
                return
            raise LibraryError(f"the library {self.address} is already open")
        try:
            conn = psycopg2.connect(self.address.url)
            conn.autocommit = True  # transactions are luna's own BEGIN and COMMIT (atomic)
            if self.readonly:  # the server refuses every write, whatever a statement says
                conn.cursor().execute("SET default_transaction_read_only = on")
        except psycopg2.Error as exc:
            raise LibraryError(
                f"cannot open the library {self.address}: {_connect_reason(exc)}"
            ) from None
        _adapt(conn)
        self._conn = conn

    def is_closed(self) -> bool:
        return self._conn is None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def connection(self) -> ServerDatabase:
        """The DB-API side (`execute`) that luna.store.organization and search take."""
        return self

    @property
    def raw(self):
        if self._conn is None:
            self.connect()
        assert self._conn is not None
        return self._conn

    # -- statements --
    def cursor(self) -> Cursor:
        return Cursor(self.raw.cursor())

    def execute_sql(self, sql: str, params=()) -> Cursor:
        return self.cursor().execute(sql, params)

    execute = execute_sql

    def run_ddl(self, statement: str) -> None:
        """A statement of the schema, as written (no placeholders to translate)."""
        with _as_dbapi_errors():
            self.raw.cursor().execute(statement)

    # -- transactions --
    @contextlib.contextmanager
    def atomic(self, lock_type: str | None = None):
        """A transaction (a savepoint inside one). With "IMMEDIATE" or "EXCLUSIVE", as on
        SQLite, it is a write transaction: it waits for, then shuts out, luna's other writers
        (WRITE_LOCK, held until it ends)."""
        cur = self.raw.cursor()
        depth = self._depth
        savepoint = f"luna_{depth}"
        with _as_dbapi_errors():
            cur.execute(f"SAVEPOINT {savepoint}" if depth else _BEGIN.get(lock_type or "", "BEGIN"))
            if lock_type in ("IMMEDIATE", "EXCLUSIVE") and not self.readonly:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        self._depth += 1
        try:
            yield self
        except BaseException:
            self._depth -= 1
            with contextlib.suppress(psycopg2.Error):
                cur.execute(f"ROLLBACK TO SAVEPOINT {savepoint}" if depth else "ROLLBACK")
            raise
        self._depth -= 1
        with _as_dbapi_errors():
            cur.execute(f"RELEASE SAVEPOINT {savepoint}" if depth else "COMMIT")

    def integrity(self) -> str:
        """ "ok", or what is wrong with the library's tables and the rules that keep album
        roles (the server looks after its own storage: that is not luna's to check)."""
        problems = []
        for table in _SECURED:
            row = self.execute_sql(
                "SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass(?)", (f'"{table}"',)
            ).fetchone()
            if row is None:
                problems.append(f"table {table} is missing")
            elif not row[0]:
                problems.append(f"row-level security is off on table {table}")
        return "; ".join(problems) or "ok"

    def login(self) -> str:
        """Who this connection acts as: the database login (album roles follow it)."""
        return self.execute_sql("SELECT session_user").fetchone()[0]

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0


def _connect_reason(exc: Exception) -> str:  # a psycopg2.Error
    text = _first_line(exc)
    # libpq's lines start "connection failed: ..." or 'connection to server ... failed: '
    reason = re.sub(r"^connection (to server .*? )?failed: ", "", text)
    where = re.match(r'^connection to server (on socket "[^"]*"|at "[^"]*".*?, port \d+)', text)
    if where and reason in ("No such file or directory", "Connection refused"):
        # Alone, "No such file or directory" reads like a missing photo.
        return f"no PostgreSQL server is listening {where.group(1)} ({reason})"
    return reason


# -- the schema ----------------------------------------------------------------------------

# The schema of version 4, the first a library on a server has: luna.store.models's tables
# with PostgreSQL's types. Text is compared and sorted by its bytes (COLLATE "C"), as SQLite
# does, whatever the database's locale: the same library lists in the same order.
# Statements are separated by lines holding only ";".
SCHEMA_SCRIPT = r"""
CREATE TABLE luna_schema (version INTEGER NOT NULL)
;
-- The SQLite functions luna's statements use, for text and for file names (bytea).
CREATE FUNCTION instr(haystack text, needle text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT strpos(haystack, needle) $$
;
CREATE FUNCTION instr(haystack bytea, needle bytea) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT position(needle IN haystack) $$
;
-- GLOB: * any run, ? one character, [...] a set; case as given.
CREATE FUNCTION glob(pattern text, subject text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT subject ~ ('^' || replace(replace(
        regexp_replace(pattern, '([.+(){}|$\\])', '\\\1', 'g'), '*', '.*'), '?', '.') || '$')
    $$
;
-- A name that is not UTF-8 is matched on its bytes, those past ASCII as \ooo escapes.
CREATE FUNCTION glob(pattern bytea, subject bytea) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT glob(encode(pattern, 'escape'), encode(subject, 'escape')) $$
;
CREATE FUNCTION lower(name bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT convert_to(lower(encode(name, 'escape')), 'UTF8') $$
;
CREATE FUNCTION json_extract(doc jsonb, path text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT doc #>> string_to_array(substr(path, 3), '.') $$
;
CREATE TABLE "user" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "name" TEXT COLLATE "C" NOT NULL,
    "created" TEXT COLLATE "C" NOT NULL
)
;
CREATE UNIQUE INDEX "user_name" ON "user" ("name")
;
CREATE TABLE "album" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "name" TEXT COLLATE "C" NOT NULL,
    "slug" TEXT COLLATE "C" NOT NULL,
    "description" TEXT COLLATE "C" NOT NULL,
    "owner_id" BIGINT,
    "created" TEXT COLLATE "C" NOT NULL,
    "modified" TEXT COLLATE "C" NOT NULL,
    FOREIGN KEY ("owner_id") REFERENCES "user" ("id") ON DELETE SET NULL
)
;
CREATE UNIQUE INDEX "album_slug" ON "album" ("slug")
;
CREATE INDEX "album_owner_id" ON "album" ("owner_id")
;
CREATE TABLE "album_editor" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "album_id" BIGINT NOT NULL,
    "user_id" BIGINT NOT NULL,
    FOREIGN KEY ("album_id") REFERENCES "album" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE
)
;
CREATE INDEX "album_editor_album_id" ON "album_editor" ("album_id")
;
CREATE INDEX "album_editor_user_id" ON "album_editor" ("user_id")
;
CREATE UNIQUE INDEX "album_editor_album_id_user_id" ON "album_editor" ("album_id", "user_id")
;
CREATE TABLE "file" (
    "id" UUID NOT NULL PRIMARY KEY,
    "path" BYTEA NOT NULL,
    "filename" BYTEA NOT NULL,
    "kind" TEXT COLLATE "C" NOT NULL,
    "mime_type" TEXT COLLATE "C" NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "mtime" DOUBLE PRECISION NOT NULL,
    "content_sha" TEXT COLLATE "C" NOT NULL,
    "start" TEXT COLLATE "C",
    "end" TEXT COLLATE "C",
    "utc_offset" BIGINT,
    "latitude" DOUBLE PRECISION,
    "longitude" DOUBLE PRECISION,
    "altitude" DOUBLE PRECISION,
    "width" BIGINT,
    "height" BIGINT,
    "metadata" JSONB,
    "processor_metadata" JSONB,
    "owner_id" BIGINT,
    "missing_since" TEXT COLLATE "C",
    "verified_at" TEXT COLLATE "C",
    "created" TEXT COLLATE "C" NOT NULL,
    "modified" TEXT COLLATE "C" NOT NULL,
    FOREIGN KEY ("owner_id") REFERENCES "user" ("id") ON DELETE SET NULL
)
;
CREATE UNIQUE INDEX "file_path" ON "file" ("path")
;
CREATE INDEX "file_filename" ON "file" ("filename")
;
CREATE INDEX "file_kind" ON "file" ("kind")
;
CREATE INDEX "file_size_bytes" ON "file" ("size_bytes")
;
CREATE INDEX "file_content_sha" ON "file" ("content_sha")
;
CREATE INDEX "file_start" ON "file" ("start")
;
CREATE INDEX "file_owner_id" ON "file" ("owner_id")
;
CREATE INDEX "file_verified_at" ON "file" ("verified_at")
;
CREATE INDEX "file_latitude_longitude" ON "file" ("latitude", "longitude")
;
CREATE INDEX "file_path_size_bytes_mtime_missing_since"
    ON "file" ("path", "size_bytes", "mtime", "missing_since")
;
CREATE INDEX "file_missing_since" ON "file" ("missing_since") WHERE ("missing_since" IS NOT NULL)
;
CREATE INDEX "file_find" ON "file" ("id", "start", "end", "missing_since", "path")
;
CREATE TABLE "album_file" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "album_id" BIGINT NOT NULL,
    "file_id" UUID NOT NULL,
    "added" TEXT COLLATE "C" NOT NULL,
    FOREIGN KEY ("album_id") REFERENCES "album" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("file_id") REFERENCES "file" ("id") ON DELETE CASCADE
)
;
CREATE INDEX "album_file_album_id" ON "album_file" ("album_id")
;
CREATE INDEX "album_file_file_id" ON "album_file" ("file_id")
;
CREATE UNIQUE INDEX "album_file_album_id_file_id" ON "album_file" ("album_id", "file_id")
;
CREATE TABLE "album_viewer" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "album_id" BIGINT NOT NULL,
    "user_id" BIGINT NOT NULL,
    FOREIGN KEY ("album_id") REFERENCES "album" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE
)
;
CREATE INDEX "album_viewer_album_id" ON "album_viewer" ("album_id")
;
CREATE INDEX "album_viewer_user_id" ON "album_viewer" ("user_id")
;
CREATE UNIQUE INDEX "album_viewer_album_id_user_id" ON "album_viewer" ("album_id", "user_id")
;
CREATE TABLE "content_history" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "file_id" UUID NOT NULL,
    "content_sha" TEXT COLLATE "C" NOT NULL,
    "size_bytes" BIGINT,
    "replaced_at" TEXT COLLATE "C" NOT NULL,
    "reason" TEXT COLLATE "C" NOT NULL,
    FOREIGN KEY ("file_id") REFERENCES "file" ("id") ON DELETE CASCADE
)
;
CREATE INDEX "content_history_file_id" ON "content_history" ("file_id")
;
CREATE TABLE "event" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "name" TEXT COLLATE "C" NOT NULL,
    "slug" TEXT COLLATE "C" NOT NULL,
    "start" TEXT COLLATE "C" NOT NULL,
    "end" TEXT COLLATE "C",
    "utc_offset" BIGINT,
    "description" TEXT COLLATE "C" NOT NULL,
    "created" TEXT COLLATE "C" NOT NULL
)
;
CREATE UNIQUE INDEX "event_slug" ON "event" ("slug")
;
CREATE INDEX "event_start" ON "event" ("start")
;
CREATE INDEX "event_end" ON "event" ("end")
;
CREATE TABLE "event_file" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "event_id" BIGINT NOT NULL,
    "file_id" UUID NOT NULL,
    FOREIGN KEY ("event_id") REFERENCES "event" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("file_id") REFERENCES "file" ("id") ON DELETE CASCADE
)
;
CREATE INDEX "event_file_event_id" ON "event_file" ("event_id")
;
CREATE INDEX "event_file_file_id" ON "event_file" ("file_id")
;
CREATE UNIQUE INDEX "event_file_event_id_file_id" ON "event_file" ("event_id", "file_id")
;
CREATE TABLE "file_relation" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "from_file_id" UUID NOT NULL,
    "to_file_id" UUID NOT NULL,
    "kind" TEXT COLLATE "C" NOT NULL,
    FOREIGN KEY ("from_file_id") REFERENCES "file" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("to_file_id") REFERENCES "file" ("id") ON DELETE CASCADE
)
;
CREATE INDEX "file_relation_from_file_id" ON "file_relation" ("from_file_id")
;
CREATE INDEX "file_relation_to_file_id" ON "file_relation" ("to_file_id")
;
CREATE UNIQUE INDEX "file_relation_from_file_id_to_file_id_kind"
    ON "file_relation" ("from_file_id", "to_file_id", "kind")
;
CREATE TABLE "tag" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "name" TEXT COLLATE "C" NOT NULL,
    "key" TEXT COLLATE "C" NOT NULL,
    "created" TEXT COLLATE "C" NOT NULL
)
;
CREATE UNIQUE INDEX "tag_key" ON "tag" ("key")
;
CREATE TABLE "file_tag" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "file_id" UUID NOT NULL,
    "tag_id" BIGINT NOT NULL,
    "source" TEXT COLLATE "C" NOT NULL,
    FOREIGN KEY ("file_id") REFERENCES "file" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("tag_id") REFERENCES "tag" ("id") ON DELETE CASCADE
)
;
CREATE INDEX "file_tag_file_id" ON "file_tag" ("file_id")
;
CREATE INDEX "file_tag_tag_id" ON "file_tag" ("tag_id")
;
CREATE UNIQUE INDEX "file_tag_file_id_tag_id" ON "file_tag" ("file_id", "tag_id")
;
CREATE TABLE "import_failure" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "path" BYTEA NOT NULL,
    "size_bytes" BIGINT,
    "mtime" DOUBLE PRECISION,
    "reason" TEXT COLLATE "C" NOT NULL,
    "failed_at" TEXT COLLATE "C" NOT NULL
)
;
CREATE UNIQUE INDEX "import_failure_path" ON "import_failure" ("path")
;
CREATE TABLE "perceptual_hash" (
    "content_sha" TEXT COLLATE "C" NOT NULL,
    "method" TEXT COLLATE "C" NOT NULL,
    "value" BIGINT,
    "error" TEXT COLLATE "C",
    PRIMARY KEY ("content_sha",
    "method")
)
;
CREATE TABLE "similar_pair" (
    "method" TEXT COLLATE "C" NOT NULL,
    "a" BIGINT NOT NULL,
    "b" BIGINT NOT NULL,
    "distance" BIGINT NOT NULL,
    PRIMARY KEY ("method",
    "a",
    "b")
)
;
CREATE TABLE "similar_searched" (
    "method" TEXT COLLATE "C" NOT NULL,
    "value" BIGINT NOT NULL,
    "radius" BIGINT NOT NULL,
    PRIMARY KEY ("method",
    "value")
)
;
CREATE TABLE "transfer" (
    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "operation" TEXT COLLATE "C" NOT NULL,
    "source" BYTEA NOT NULL,
    "destination" BYTEA NOT NULL,
    "temporary" BYTEA NOT NULL,
    "content_sha" TEXT COLLATE "C" NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "file_id" UUID,
    "state" TEXT COLLATE "C" NOT NULL,
    "started" TEXT COLLATE "C" NOT NULL,
    FOREIGN KEY ("file_id") REFERENCES "file" ("id") ON DELETE SET NULL
)
;
CREATE INDEX "transfer_file_id" ON "transfer" ("file_id")
;
-- verify walks the library by an integer, as SQLite's rowid.
ALTER TABLE "file" ADD COLUMN "rowid" BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE
;
CREATE INDEX file_content_identifier ON file (json_extract(metadata, '$.content_identifier'))
    WHERE json_extract(metadata, '$.content_identifier') IS NOT NULL
;
-- Album roles, kept by the server itself (row-level security): whoever connects, with luna
-- or with psql, acts as their login. The library's owner (who created it) and superusers
-- are not bound by these rules; every other member is (README, "A shared library").
CREATE FUNCTION luna_me() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path FROM CURRENT AS $$ SELECT id FROM "user" WHERE name = session_user $$
;
CREATE FUNCTION luna_owns_album(wanted bigint) RETURNS boolean LANGUAGE sql STABLE
    SECURITY DEFINER SET search_path FROM CURRENT AS
    $$ SELECT EXISTS (SELECT 1 FROM album a WHERE a.id = $1 AND a.owner_id = luna_me()) $$
;
CREATE FUNCTION luna_may_change_album(wanted bigint) RETURNS boolean LANGUAGE sql STABLE
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT luna_owns_album($1) OR EXISTS (
        SELECT 1 FROM album_editor e WHERE e.album_id = $1 AND e.user_id = luna_me())
    $$
;
-- An album changes hands only at its owner's word (an editor may rename it, not take it).
CREATE FUNCTION luna_keep_album_owner() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
        IF NEW.owner_id IS DISTINCT FROM OLD.owner_id AND NOT luna_owns_album(OLD.id)
           AND session_user <> (SELECT tableowner FROM pg_tables
                                WHERE tablename = 'album' AND schemaname = current_schema()) THEN
            RAISE EXCEPTION 'only the owner of album % may give it away', OLD.name
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END $$
;
CREATE TRIGGER album_keeps_its_owner BEFORE UPDATE ON album
    FOR EACH ROW EXECUTE FUNCTION luna_keep_album_owner()
;
ALTER TABLE "user" ENABLE ROW LEVEL SECURITY
;
CREATE POLICY everyone_reads ON "user" FOR SELECT USING (true)
;
CREATE POLICY anyone_is_named ON "user" FOR INSERT WITH CHECK (true)
;
ALTER TABLE album ENABLE ROW LEVEL SECURITY
;
CREATE POLICY everyone_reads ON album FOR SELECT USING (true)
;
CREATE POLICY owner_creates ON album FOR INSERT WITH CHECK (owner_id = luna_me())
;
CREATE POLICY owner_and_editors_change ON album FOR UPDATE
    USING (luna_may_change_album(id)) WITH CHECK (luna_may_change_album(id))
;
CREATE POLICY owner_deletes ON album FOR DELETE USING (luna_owns_album(id))
;
ALTER TABLE album_file ENABLE ROW LEVEL SECURITY
;
CREATE POLICY everyone_reads ON album_file FOR SELECT USING (true)
;
CREATE POLICY owner_and_editors_add ON album_file FOR INSERT
    WITH CHECK (luna_may_change_album(album_id))
;
CREATE POLICY owner_and_editors_remove ON album_file FOR DELETE
    USING (luna_may_change_album(album_id))
;
ALTER TABLE album_editor ENABLE ROW LEVEL SECURITY
;
CREATE POLICY everyone_reads ON album_editor FOR SELECT USING (true)
;
CREATE POLICY owner_shares ON album_editor FOR INSERT WITH CHECK (luna_owns_album(album_id))
;
CREATE POLICY owner_unshares ON album_editor FOR DELETE USING (luna_owns_album(album_id))
;
ALTER TABLE album_viewer ENABLE ROW LEVEL SECURITY
;
CREATE POLICY everyone_reads ON album_viewer FOR SELECT USING (true)
;
CREATE POLICY owner_shares ON album_viewer FOR INSERT WITH CHECK (luna_owns_album(album_id))
;
CREATE POLICY owner_unshares ON album_viewer FOR DELETE USING (luna_owns_album(album_id))
"""
SCHEMA = [part.strip() for part in SCHEMA_SCRIPT.split("\n;\n") if part.strip()]

# A new table gets the privileges the keeper granted on "file" (README: A shared library).
_GRANT_AS_ON_FILE = """DO $$
DECLARE given record;
BEGIN
    FOR given IN
        SELECT DISTINCT a.privilege_type, a.grantee
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = '"file"'::regclass AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('GRANT %s ON "{table}" TO %s', given.privilege_type,
            CASE WHEN given.grantee = 0 THEN 'PUBLIC'
                 ELSE quote_ident(pg_get_userbyid(given.grantee)) END);
    END LOOP;
END $$"""

# Statements that upgrade a library on a server from version n to n + 1, as for SQLite
# (luna.store.db.MIGRATIONS), frozen. Schema 4 is the first a server library has; a new
# library is made as schema 4 and upgraded by these, so new and upgraded ones are alike.
FIRST_VERSION = 4
MIGRATIONS: dict[int, list[str]] = {
    # Schema 5: mtimes in whole nanoseconds, the floats converted as luna.mtimes.
    # ns_from_seconds does (the same double operations; round() on a double rounds half to
    # even, as Python's), the rows so converted listed in approximate_mtime.
    4: [
        'ALTER TABLE "file" ADD COLUMN "mtime_ns" BIGINT',
        'UPDATE "file" SET "mtime_ns" = floor("mtime")::bigint * 1000000000 '
        '+ round(("mtime" - floor("mtime")) * 1e9::float8)::bigint',
        'ALTER TABLE "file" ALTER COLUMN "mtime_ns" SET NOT NULL',
        'DROP INDEX "file_path_size_bytes_mtime_missing_since"',
        'ALTER TABLE "file" DROP COLUMN "mtime"',
        'CREATE INDEX "file_path_size_bytes_mtime_ns_missing_since" '
        'ON "file" ("path", "size_bytes", "mtime_ns", "missing_since")',
        'ALTER TABLE "import_failure" ADD COLUMN "mtime_ns" BIGINT',
        'UPDATE "import_failure" SET "mtime_ns" = floor("mtime")::bigint * 1000000000 '
        '+ round(("mtime" - floor("mtime")) * 1e9::float8)::bigint',
        'ALTER TABLE "import_failure" DROP COLUMN "mtime"',
        'CREATE TABLE "approximate_mtime" ("file_id" UUID NOT NULL PRIMARY KEY, '
        'FOREIGN KEY ("file_id") REFERENCES "file" ("id") ON DELETE CASCADE)',
        'INSERT INTO "approximate_mtime" ("file_id") SELECT "id" FROM "file"',
        # Whoever may change the files may change this table too, as the keeper granted.
        _GRANT_AS_ON_FILE.format(table="approximate_mtime"),
        # A tag's files straight from an index (find --tag on 1,000,000 files: ~80 ms less).
        'DROP INDEX "file_tag_tag_id"',
        'CREATE INDEX "file_tag_tag_id_file_id" ON "file_tag" ("tag_id", "file_id")',
    ],
    # Schema 6: what people say of a file in luna (luna.store.db's schema 6).
    5: [
        'ALTER TABLE "file" ADD COLUMN "rating" INTEGER',
        'ALTER TABLE "file" ADD COLUMN "label" VARCHAR(255)',
        'ALTER TABLE "file" ADD COLUMN "flag" INTEGER',
        'ALTER TABLE "file" ADD COLUMN "title" TEXT',
        'ALTER TABLE "file" ADD COLUMN "description" TEXT',
    ],
    # Schema 7: positions luna gave files without one (luna.store.db's schema 7).
    6: [
        'ALTER TABLE "file" ADD COLUMN "set_latitude" DOUBLE PRECISION',
        'ALTER TABLE "file" ADD COLUMN "set_longitude" DOUBLE PRECISION',
        'ALTER TABLE "file" ADD COLUMN "set_altitude" DOUBLE PRECISION',
        'ALTER TABLE "file" ADD COLUMN "location_source" VARCHAR(255)',
    ],
    # Schema 8: places in words (luna.store.db's schema 8).
    7: [
        'ALTER TABLE "file" ADD COLUMN "city" VARCHAR(255)',
        'ALTER TABLE "file" ADD COLUMN "region" VARCHAR(255)',
        'ALTER TABLE "file" ADD COLUMN "country" VARCHAR(255)',
        'ALTER TABLE "file" ADD COLUMN "country_code" VARCHAR(255)',
        'ALTER TABLE "file" ADD COLUMN "place_source" VARCHAR(255)',
        'CREATE INDEX "file_country_code_country_region_city" '
        'ON "file" ("country_code", "country", "region", "city")',
        'CREATE INDEX "file_place_pending" ON "file" ("id") WHERE ("place_source" IS NULL)',
    ],
    # Schema 9: a date luna gave a file without one (luna.store.db's schema 9).
    8: [
        'ALTER TABLE "file" ADD COLUMN "set_start" TEXT COLLATE "C"',  # as "start"
        'ALTER TABLE "file" ADD COLUMN "set_utc_offset" INTEGER',
        'ALTER TABLE "file" ADD COLUMN "set_date_source" VARCHAR(255)',
        'ALTER TABLE "file" ADD COLUMN "set_offset_source" VARCHAR(255)',
    ],
}


def open_library(
    address: ServerAddress, *, create: bool, readonly: bool, known: int
) -> ServerDatabase | None:
    """Connect to the library at `address` and bring its schema up to date (readonly: check
    that it is up to date, and never write). An empty database becomes a new library (unless
    create=False: NotFound); None when it would be created but readonly was asked. A database
    holding other tables, or a newer luna's library, is refused and left as it was."""
    from luna.errors import NeedsUpgrade, NotFound

    db = ServerDatabase(address, readonly=readonly)
    db.connect()
    try:
        version = schema_version(db)
        if version is None:
            if not create:
                raise NotFound(f"no library at {address} (run `luna import PATH` to create it)")
            if readonly:
                db.close()
                return None
            version = _create(db, known)
        check_version(address, version, known)
        if version < known:
            if readonly:
                raise NeedsUpgrade(
                    f"library {address} needs an upgrade to schema {known}; run a luna "
                    "command that writes (such as `luna import`) first"
                )
            _upgrade(db, known)
    except BaseException:
        db.close()
        raise
    return db


def schema_version(db: ServerDatabase) -> int | None:
    """The library's schema version; None for an empty database. Refuses one that holds
    other tables but no luna library."""
    version = _look_for_library(db)
    if version == _OTHER_TABLES and not db.in_transaction:
        # The two looks can straddle the commit of another luna making the library right
        # now; it holds the writers' lock until then: look again once it is free.
        with db.atomic():
            db.execute_sql("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
            version = _look_for_library(db)
    if version == _OTHER_TABLES:
        raise LibraryError(f"{db.address} is a PostgreSQL database but not a luna library")
    return version


_OTHER_TABLES = -1


def _look_for_library(db: ServerDatabase) -> int | None:
    """The schema version; None when the schema has no table; _OTHER_TABLES when it has
    tables but no luna library."""
    (exists,) = db.execute_sql("SELECT to_regclass('luna_schema') IS NOT NULL").fetchone()
    if exists:
        row = db.execute_sql("SELECT version FROM luna_schema").fetchone()
        return row[0] if row else 0
    (tables,) = db.execute_sql(
        "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
    ).fetchone()
    return _OTHER_TABLES if tables else None


def check_version(address: ServerAddress, version: int, known: int) -> None:
    if version > known:
        raise NewerSchema(
            f"library {address} was written by a newer luna (schema {version}; this luna "
            f"knows up to {known}); upgrade luna to use it"
        )
    if version < FIRST_VERSION:
        raise LibraryError(f"{address} holds a damaged luna library (schema {version})")


def _create(db: ServerDatabase, known: int) -> int:
    """Make the tables in an empty database; of two luna doing it at once, one does."""
    with db.atomic("IMMEDIATE"):
        version = schema_version(db)
        if version is not None:
            return version
        for statement in SCHEMA:
            db.run_ddl(statement)
        _migrate(db, FIRST_VERSION, known)
        db.execute_sql("INSERT INTO luna_schema (version) VALUES (?)", (known,))
    return known


def _migrate(db: ServerDatabase, version: int, known: int) -> None:
    for step in range(version, known):
        for statement in MIGRATIONS[step]:
            db.run_ddl(statement)


def _upgrade(db: ServerDatabase, known: int) -> None:
    with db.atomic("IMMEDIATE"):
        version = schema_version(db) or known
        if version == known:
            return
        (schema,) = db.execute_sql("SELECT current_schema()").fetchone()
        backup = backup_library(db.address, version, schema)
        try:
            _migrate(db, version, known)
            db.execute_sql("UPDATE luna_schema SET version = ?", (known,))
        except Exception as exc:
            raise LibraryError(
                f"upgrading {db.address} to schema {known} failed ({exc}); it was left "
                f"as it was, and a dump is at {backup}"
            ) from exc


def backup_library(address: ServerAddress, version: int, schema: str):
    """Dump the library (pg_dump, custom format) before a migration, into luna's data
    folder; a migration does not start without one. Only the library's schema: a database
    may hold other things (other libraries in schemas of their own, the tests' way), which
    are not the library's to back up, and which their owners may be changing meanwhile."""
    import datetime as dt
    import shutil
    import subprocess

    from luna.settings import data_folder

    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise LibraryError(
            f"library {address} needs an upgrade, and luna backs it up with pg_dump first, "
            "which is not installed (Debian: postgresql-client); install it and try again"
        )
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = data_folder() / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"schema{version}-{stamp}.dump"
    number = 1
    while target.exists():  # never over an earlier dump
        number += 1
        target = folder / f"schema{version}-{stamp}-{number}.dump"
    done = subprocess.run(
        # In double quotes, the name is matched as written, not as a pattern.
        [pg_dump, "--format=custom", f"--file={target}", _schema_pattern(schema), address.url],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        reason = (done.stderr.strip().splitlines() or ["pg_dump failed"])[-1]
        raise LibraryError(f"cannot back up {address} before upgrading it: {reason}")
    return target


def _schema_pattern(schema: str) -> str:
    return '--schema="' + schema.replace('"', '""') + '"'
