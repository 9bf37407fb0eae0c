"""luna's connection to PostgreSQL (luna.store.postgres) keeps exactly what a library stores,
and gives it back as SQLite does.

A shared library must give every computer the same rows: an mtime that comes back a bit off
makes a re-import read every file again (or miss a change), and a file name that is not
UTF-8 must come back byte for byte. These run against a throwaway server (tests/pgserver.py)."""

from __future__ import annotations

import os
import uuid

import pytest

pytest.importorskip("psycopg2", reason="no psycopg2 (pip install '.[postgres]')")


@pytest.fixture
def db(postgres_server):
    from luna.locations import ServerAddress
    from luna.store.postgres import ServerDatabase

    database = ServerDatabase(ServerAddress(postgres_server.url))
    yield database
    database.close()


def test_mtimes_places_names_json_and_ids_come_back_exactly(db):
    from luna.fsnames import from_db, to_db

    db.execute_sql(
        "CREATE TEMPORARY TABLE kept (mtime_ns bigint, latitude double precision, "
        "path bytea, metadata jsonb, id uuid)"
    )
    mtimes = [1_700_000_000_123_456_789, 2**63 - 1, -(2**63), -1_500_000_001]
    odd = os.fsdecode(b"/photos/caf\xe9/IMG_1.jpg")  # Latin-1 "e acute": not UTF-8
    plain = "/photos/été/back\\slash.jpg"  # UTF-8, with a backslash bytea input would eat
    ident = uuid.uuid4().hex
    for mtime, path in zip(mtimes, [odd, plain, odd, plain], strict=True):
        db.execute_sql(
            "INSERT INTO kept VALUES (?, ?, ?, ?, ?)",
            (mtime, 48.858370123456789, to_db(path), '{"iso": 100}', ident),
        )
    rows = db.execute_sql("SELECT mtime_ns, latitude, path, metadata, id FROM kept").fetchall()
    assert [r[0] for r in rows] == mtimes  # to the nanosecond, as ints
    assert {r[1] for r in rows} == {48.858370123456789}
    assert [from_db(r[2]) for r in rows] == [odd, plain, odd, plain]
    assert type(rows[0][2]) is bytes and rows[0][2] == b"/photos/caf\xe9/IMG_1.jpg"
    assert rows[0][3] == '{"iso": 100}'  # JSON as its text, as SQLite gives it
    assert rows[0][4] == ident  # 32 hex digits, as SQLite stores ids
    # Found by its bytes, as `find --path` must find it.
    found = db.execute_sql("SELECT COUNT(*) FROM kept WHERE path = ?", (to_db(odd),))
    assert found.fetchone()[0] == 2


def test_sums_are_numbers_and_percent_signs_are_text(db):
    db.execute_sql("CREATE TEMPORARY TABLE sizes (n bigint, label text)")
    db.execute_sql("INSERT INTO sizes VALUES (?, ?), (?, ?)", (2**40, "100%", 3, "a%b"))
    total, labels = db.execute_sql(
        "SELECT SUM(n), string_agg(label, ',' ORDER BY label) FROM sizes WHERE label LIKE '%%'"
    ).fetchone()
    assert (total, type(total), labels) == (2**40 + 3, int, "100%,a%b")
    ends_with_percent = db.execute_sql("SELECT COUNT(*) FROM sizes WHERE label LIKE ?", ("%\\%",))
    assert ends_with_percent.fetchone() == (1,)


def test_a_write_transaction_waits_for_another(postgres_server):
    """Two luna writers follow each other, as SQLite's do: the second's transaction starts
    only when the first's ends (the advisory lock), so it sees what the first wrote."""
    import threading
    import time

    from luna.locations import ServerAddress
    from luna.store.postgres import ServerDatabase

    first, second = (ServerDatabase(ServerAddress(postgres_server.url)) for _ in range(2))
    first.execute_sql("CREATE TABLE IF NOT EXISTS turns (who text)")
    first.execute_sql("DELETE FROM turns")
    order = []

    def later():
        with second.atomic("IMMEDIATE"):
            seen = second.execute_sql("SELECT COUNT(*) FROM turns").fetchone()[0]
            order.append(("second", seen))

    with first.atomic("IMMEDIATE"):
        first.execute_sql("INSERT INTO turns VALUES ('first')")
        waiting = threading.Thread(target=later)
        waiting.start()
        time.sleep(0.3)
        order.append(("first", None))
    waiting.join(10)
    assert order == [("first", None), ("second", 1)]
    first.close()
    second.close()


def test_the_driver_is_imported_without_ssl_and_works(postgres_server):
    """luna.store.postgres imports psycopg2 with Python's ssl module hidden (a third of the
    driver's import time, for nothing here): the driver still connects, and ssl is left
    importable by whatever needs it later."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from luna.locations import ServerAddress\n"
        "from luna.store.postgres import ServerDatabase\n"
        "assert 'ssl' not in sys.modules, 'ssl was imported'\n"
        "db = ServerDatabase(ServerAddress(sys.argv[1]))\n"
        "assert db.execute_sql('SELECT 1 + 1').fetchone() == (2,)\n"
        "import ssl\n"
        "print(ssl.OPENSSL_VERSION_INFO >= (1, 1))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, postgres_server.url], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "True\n", "")
