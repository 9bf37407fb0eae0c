"""SQLite's own spellings, in one place.

The statements of luna.store are written in the SQL that SQLite and PostgreSQL read alike
(`INSERT ... ON CONFLICT DO NOTHING`, `COALESCE`, `LIKE ... ESCAPE`). Where SQLite needs
words of its own (a field of a JSON column, a substring test, a glob, planner hints,
pragmas), the statement asks this module for them. On PostgreSQL, luna.store.postgres
gives the same functions (its schema defines `json_extract`, `instr` and `glob`) and reads
the rest (`IS` between two values, the planner hints) in its own way.

Plain functions and constants, no import beyond the standard library: `luna find` builds
its query with them without loading the ORM.
"""

from __future__ import annotations

NAME = "sqlite"

# Per-connection settings of a library opened for writing (luna.store.db).
CONNECTION_SETTINGS = {
    "journal_mode": "wal",  # readers never block the writer; survives kill -9
    "synchronous": "normal",  # with WAL: consistent after a crash, fsync at checkpoints
    "foreign_keys": 1,
    "cache_size": -16_000,  # 16 MB page cache: bounded memory whatever the library size
}
# Those that also apply to a read-only connection (luna.store.db adds busy_timeout to both).
READ_SETTINGS = ("foreign_keys", "cache_size")


# -- inside statements ---------------------------------------------------------------------


def json_field(column: str, key: str) -> str:
    """The text or number at `key` of the JSON object in `column` (NULL when absent)."""
    return f"json_extract({column}, '$.{key}')"


def json_values(column: str, keys) -> str:
    """A JSON array of the values at `keys` of the JSON object in `column`, in that order
    (null where absent): one reading of the document, however many keys."""
    paths = ", ".join(f"'$.{key}'" for key in keys)
    return f"json_extract({column}, {paths})"


def json_number(column: str, key: str) -> str:
    """The number at `key` of the JSON object in `column`, as a double; NULL when absent or
    not a number (a text or a list a damaged file left there is no number to compare)."""
    return (
        f"(CASE WHEN json_type({column}, '$.{key}') IN ('integer', 'real') "
        f"THEN CAST({json_field(column, key)} AS DOUBLE PRECISION) END)"
    )


def year_of(column: str) -> str:
    """The year of a date column (ISO text on both databases), as four digits of text."""
    return f"substr({column}, 1, 4)"


def position(part: str, text: str) -> str:
    """Where `part` starts in `text`, from 1; 0 when it is not there."""
    return f"instr({text}, {part})"


def glob(text: str, pattern: str) -> str:
    """`text` matches the shell pattern `pattern` (* ? [...]), case as given."""
    return f"glob({pattern}, {text})"  # SQLite's function form of `text GLOB pattern`


def same(a: str, b: str) -> str:
    """Equal, with NULL equal to NULL."""
    return f"{a} IS {b}"


def not_same(a: str, b: str) -> str:
    return f"{a} IS NOT {b}"


def unindexed(column: str) -> str:
    """`column`, but keep the planner from answering the condition through its index: one
    on a column where almost every row has the same value (missing_since IS NULL), which
    SQLite, without statistics, would otherwise prefer to a selective one."""
    return f"+{column}"


def indexed_by(table: str, index: str) -> str:
    """`table`, read through `index`: where the planner, without statistics, picks worse."""
    return f"{table} INDEXED BY {index}"


# -- about the database itself -------------------------------------------------------------

READ_SCHEMA_VERSION = "PRAGMA user_version"
INTEGRITY_CHECK = "PRAGMA quick_check"
READ_CACHE_SIZE = "PRAGMA cache_size"


def set_schema_version(version: int) -> str:
    return f"PRAGMA user_version = {int(version)}"


def set_cache_size(size: int) -> str:
    """Pages, or with a negative number, KiB."""
    return f"PRAGMA cache_size = {int(size)}"
