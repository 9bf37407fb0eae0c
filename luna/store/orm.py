"""peewee, imported without the PostgreSQL drivers it would load.

When a PostgreSQL driver is installed (psycopg2 with luna-photos[postgres], or psycopg 3),
`import peewee` imports it too, which takes 25 to 200 ms, on every command, for a driver
peewee never uses here: luna talks to PostgreSQL through luna.store.postgres itself, and
uses peewee for SQLite only. So peewee is imported here with the drivers hidden from it;
luna.store.postgres imports psycopg2 itself when a library is a postgresql:// URL. Every
module of luna.store imports peewee from here.
"""

from __future__ import annotations

import sys

_DRIVERS = ("psycopg", "psycopg2", "psycopg2cffi")


def _import_peewee_alone():
    if "peewee" in sys.modules:
        return sys.modules["peewee"]
    hidden = [name for name in _DRIVERS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # "import psycopg2" fails
    try:
        import peewee
    finally:
        for name in hidden:
            del sys.modules[name]
    return peewee


peewee = _import_peewee_alone()
