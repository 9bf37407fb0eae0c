"""A file's modification time as luna keeps it: whole nanoseconds (`st_mtime_ns`), exactly.

An import reads again a file whose size or mtime changed since it was recorded, and trusts
the others; so the recorded mtime must be the file system's, to the nanosecond. A float of
seconds (`st_mtime`) is not: near 2025 one holds the time to about 240 ns, so two states of a
file a few hundred nanoseconds apart would look alike.

Libraries before schema 5 kept that float. Upgrading one converts each float to the
nanoseconds it stands for (`ns_from_seconds`) and remembers that those rows are only that
precise (table `approximate_mtime`): for them alone, a file whose `st_mtime` float is the
recorded one is unchanged (`same_mtime`), and the import that finds it so records its exact
mtime. Without this, the first import after an upgrade would read every file again.
"""

from __future__ import annotations

import math

NS_PER_S = 1_000_000_000


def ns_from_seconds(seconds: float) -> int:
    """The nearest whole nanosecond to a float of seconds (as `st_mtime` or a schema 4
    library gives them). Whole seconds and the fraction are taken apart first, so no
    product near 1e18 is rounded to a float; the SQL of the PostgreSQL upgrade
    (luna.store.postgres.MIGRATIONS) computes the same with the same operations."""
    whole = math.floor(seconds)
    return whole * NS_PER_S + round((seconds - whole) * 1e9)


def seconds_from_ns(ns: int) -> float:
    """The float Python's `os.stat` gives as `st_mtime` for this `st_mtime_ns` (it computes
    `sec + nsec * 1e-9` in C doubles; `ns / 1e9` can differ from it in the last bit)."""
    whole, fraction = divmod(ns, NS_PER_S)
    return float(whole) + float(fraction) * 1e-9


def same_mtime(recorded_ns: int, found_ns: int, approximate: bool = False) -> bool:
    """Whether a file's mtime (`found_ns`) is the one recorded; for a row recorded before
    schema 5 (`approximate`), whether it is at the precision that row was recorded with."""
    if recorded_ns == found_ns:
        return True
    return approximate and ns_from_seconds(seconds_from_ns(found_ns)) == recorded_ns
