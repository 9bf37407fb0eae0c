"""`luna library copy`: a whole library from SQLite to PostgreSQL and back, every kind of row
intact, checked, and never into a library that already holds something."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import library_rows, make_photo, run_cli
from test_similar import scene

from luna.store.copying import TABLES


def luna(location, *args, input=None):
    code, out, err = run_cli("-L", location, *args, input=input)
    assert code == 0, err
    return out


def _xmp_with_keywords(*words: str) -> str:
    items = "".join(f"<rdf:li>{w}</rdf:li>" for w in words)
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


@pytest.fixture
def full_library(tmp_path):
    """An SQLite library with rows in every table but the journal of transfers in flight."""
    photos = tmp_path / "photos"
    for i in range(4):
        make_photo(photos / f"p{i}.jpg", gps=(48.85 + i / 100, 2.35), keywords=["trip"],
                   taken=f"2019:06:0{i + 1} 12:00:00", color=(40 * i, 90, 90))  # fmt: skip
    scene(7).save(photos / "scene.jpg", quality=90)  # two versions of one picture
    scene(7).resize((320, 240)).save(photos / "scene-small.jpg", quality=60)
    (photos / "p1.jpg.xmp").write_text(_xmp_with_keywords("from-sidecar"))
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    odd = os.fsencode(str(photos)) + b"/caf\xe9.jpg"  # a Latin-1 name: not UTF-8
    make_photo(photos / "tmp.jpg", color=(5, 5, 5)).rename(os.fsdecode(odd))
    library = str(tmp_path / "source.db")
    code, _, err = run_cli("-L", library, "import", photos)
    assert code == 3, err  # the broken file is reported, the rest imported
    luna(library, "tag", "add", "Places/France/Paris", photos / "p0.jpg", photos / "p1.jpg")
    for args in (
        ("album", "create", "Holidays", "--as", "alice"),
        ("album", "add", "Holidays", photos / "p0.jpg", photos / "p2.jpg", "--as", "alice"),
        ("album", "share", "Holidays", "bob", "--role", "viewer", "--as", "alice"),
        ("album", "share", "Holidays", "carol", "--role", "editor", "--as", "alice"),
        ("event", "create", "Paris", "--start", "2019-06-01", "--end", "2019-06-03"),
        ("event", "add", "Paris", photos / "p1.jpg"),
        ("dupes", "--similar"),
    ):
        run_cli("-L", library, *args)
    edited = photos / "p3.jpg"
    make_photo(edited, color=(9, 9, 9))
    os.utime(edited, (time.time() + 10, time.time() + 10))
    run_cli("-L", library, "verify", "--accept")
    with sqlite3.connect(library) as con:  # a row as an upgrade from schema 4 leaves it
        con.execute(
            "INSERT INTO approximate_mtime SELECT id FROM file WHERE path = ?",
            (str(photos / "p0.jpg"),),
        )
    counts = _counts_sqlite(library)
    empty = [name for name, n in counts.items() if n == 0 and name != "transfer"]
    assert not empty, f"the fixture should fill every table: {empty} are empty"
    return library, photos


def _counts_sqlite(path) -> dict:
    con = sqlite3.connect(path)
    try:
        return {
            t.name: con.execute(f'SELECT COUNT(*) FROM "{t.name}"').fetchone()[0] for t in TABLES
        }
    finally:
        con.close()


def _what_users_see(library, photos) -> list:
    """Every listing a user could compare, as JSON documents."""
    views = [
        ("find", "--json"),
        ("find", "--near", "48.85,2.35", "--radius", "3km", "--json"),
        ("find", "--tag", "Places/France", "--json"),
        ("find", "--name", "caf*", "--json"),
        ("tag", "list", "--json"),
        ("event", "list", "--json"),
        ("show", photos / "p3.jpg", "--json"),
        ("show", photos / "p1.jpg", "--json"),
        ("stats", "--json"),
    ]
    documents = []
    for view in views:
        document = json.loads(luna(library, *view))
        document.pop("library", None)
        if "files" in document and view[0] == "find":
            # The one place the databases differ: SQLite lists names that are not UTF-8 after
            # all others, PostgreSQL among them by their bytes (README, "A shared library").
            document["files"].sort(key=lambda f: f.get("path_b64", "") + f["path"])
        documents.append(document)
    # Albums as their people see them: on a server one acts as one's login (not --as), so
    # they are compared as stored.
    documents.append(library_rows(library, ALBUMS_AND_ROLES))
    return documents


ALBUMS_AND_ROLES = (
    "SELECT a.name, o.name, 'editor', e.name FROM album a JOIN \"user\" o ON o.id = a.owner_id "
    'JOIN album_editor s ON s.album_id = a.id JOIN "user" e ON e.id = s.user_id '
    "UNION ALL SELECT a.name, o.name, 'viewer', v.name FROM album a "
    'JOIN "user" o ON o.id = a.owner_id JOIN album_viewer s ON s.album_id = a.id '
    'JOIN "user" v ON v.id = s.user_id ORDER BY 1, 3, 4'
)


def test_sqlite_to_postgresql_and_back_keeps_every_row(full_library, postgres_server, tmp_path):
    source, photos = full_library
    server_library = postgres_server.new_library()
    code, out, err = run_cli("library", "copy", source, server_library, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [t["table"] for t in report["tables"]] == [t.name for t in TABLES]
    counts = _counts_sqlite(source)
    assert {t["table"]: t["rows"] for t in report["tables"]} == counts
    assert "every table's count and SHA-256 match" in err

    back = str(tmp_path / "back.db")
    code, out, err = run_cli("library", "copy", server_library, back, "--json")
    assert code == 0, err
    returned = json.loads(out)
    # The same content, by the same checksum, from either database.
    assert [(t["rows"], t["sha256"]) for t in returned["tables"]] == [
        (t["rows"], t["sha256"]) for t in report["tables"]
    ]
    assert _counts_sqlite(back) == counts
    seen = _what_users_see(source, photos)
    assert seen[-1] == [("Holidays", "alice", "editor", "carol"),
                        ("Holidays", "alice", "viewer", "bob")]  # fmt: skip
    assert _what_users_see(server_library, photos) == seen
    assert _what_users_see(back, photos) == seen


def test_the_odd_name_goes_both_ways_byte_for_byte(full_library, postgres_server, tmp_path):
    source, photos = full_library
    server_library = postgres_server.new_library()
    assert run_cli("library", "copy", source, server_library)[0] == 0
    done = subprocess.run([sys.executable, "-m", "luna", "-L", server_library, "find",
                           "--name", "caf*", "-0"], capture_output=True, timeout=60)  # fmt: skip
    assert done.stdout == os.fsencode(str(photos)) + b"/caf\xe9.jpg\0"
    back = tmp_path / "back.db"
    assert run_cli("library", "copy", server_library, back)[0] == 0
    assert sqlite3.connect(back).execute(
        "SELECT path FROM file WHERE filename = ?", (b"caf\xe9.jpg",)
    ).fetchone() == (os.fsencode(str(photos)) + b"/caf\xe9.jpg",)


def test_new_rows_after_a_copy_get_new_ids(full_library, postgres_server):
    source, photos = full_library
    server_library = postgres_server.new_library()
    assert run_cli("library", "copy", source, server_library)[0] == 0
    luna(server_library, "album", "create", "Later")  # on a server: as the login
    albums = library_rows(server_library, "SELECT name FROM album ORDER BY id")
    assert albums == [("Holidays",), ("Later",)]


def test_a_library_that_holds_something_is_never_copied_into(full_library, tmp_path):
    source, photos = full_library
    other = str(tmp_path / "other.db")
    make_photo(tmp_path / "other" / "x.jpg")
    luna(other, "import", tmp_path / "other")
    before = _counts_sqlite(other)
    code, out, err = run_cli("library", "copy", source, other)
    assert code != 0 and out == ""
    assert "already holds a library" in err and "nothing was written" in err
    assert _counts_sqlite(other) == before
    assert (tmp_path / "other.db").exists()


def test_a_copy_onto_itself_is_refused(full_library):
    source, _ = full_library
    code, _, err = run_cli("library", "copy", source, source)
    assert code != 0 and "both the source and the destination" in err
    assert _counts_sqlite(source)["file"] > 0


def test_a_failed_copy_leaves_no_new_file(tmp_path):
    code, _, err = run_cli("library", "copy", tmp_path / "absent.db", tmp_path / "new.db")
    assert code != 0 and "no library at" in err
    assert not (tmp_path / "new.db").exists()
