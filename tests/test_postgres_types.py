"""The PostgreSQL driver luna uses (psycopg 3) keeps exactly what a library stores.

A shared library must give every computer the same rows: an mtime that comes back a
nanosecond off makes a re-import read every file again, and a file name that is not UTF-8
must come back byte for byte. These run against a throwaway server (tests/pgserver.py)."""

from __future__ import annotations

import math
import os
import uuid

import pytest

psycopg = pytest.importorskip("psycopg", reason="no psycopg (pip install '.[postgres]')")


@pytest.fixture
def connection(postgres_server):
    with psycopg.connect(postgres_server.url, autocommit=True) as con:
        yield con


def test_mtimes_places_names_json_and_ids_come_back_exactly(connection):
    con = connection
    con.execute(
        "CREATE TEMPORARY TABLE kept (mtime double precision, latitude double precision, "
        "path bytea, metadata jsonb, id uuid)"
    )
    mtimes = [1795887788.8968728, 1.5e9 + 1e-6, math.nextafter(1.7e9, 2e9), 0.1 + 0.2]
    name = os.fsencode("/photos/caf\udce9/IMG_1.jpg")  # Latin-1 "é": not UTF-8
    ident = uuid.uuid4()
    for mtime in mtimes:
        con.execute(
            "INSERT INTO kept VALUES (%s, %s, %s, %s, %s)",
            (mtime, 48.858370123456789, name, psycopg.types.json.Jsonb({"iso": 100}), ident),
        )
    rows = con.execute("SELECT mtime, latitude, path, metadata, id FROM kept").fetchall()
    assert [r[0] for r in rows] == mtimes  # bit for bit: == on floats, no rounding
    assert {r[1] for r in rows} == {48.858370123456789}
    assert {bytes(r[2]) for r in rows} == {name}
    assert rows[0][3] == {"iso": 100} and rows[0][4] == ident
    # Found by its bytes, as `find --path` must find it.
    assert con.execute("SELECT count(*) FROM kept WHERE path = %s", (name,)).fetchone()[0] == 4
