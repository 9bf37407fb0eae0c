"""A library on a PostgreSQL server shared by several people and computers: album roles kept
by the server itself, roots mapped per computer, several luna at work at once."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest
from conftest import library_execute, library_rows, make_photo


@pytest.fixture
def family(postgres_server):
    """A database made by `keeper`, who lets alice and bob in as members (README, "A shared
    library"): URLs for each of them, by login."""
    tag = uuid.uuid4().hex[:8]
    keeper, alice, bob = (f"{who}_{tag}" for who in ("keeper", "alice", "bob"))
    database = f"family_{tag}"
    with psql(postgres_server.url) as server:
        for role in (keeper, alice, bob):
            server.execute(f"CREATE ROLE {role} LOGIN")
        server.execute(f"CREATE DATABASE {database} OWNER {keeper}")

    def url(login: str) -> str:
        return f"postgresql://{login}@/{database}?host={postgres_server.folder}"

    return {"keeper": url(keeper), "alice": url(alice), "bob": url(bob),
            "names": (keeper, alice, bob)}  # fmt: skip


@contextlib.contextmanager
def psql(url: str):
    """A cursor straight on the server, as psql gives one: autocommit, no luna."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        yield conn.cursor()
    finally:
        conn.close()


def rows_changed(cursor, sql: str, params=()) -> int:
    cursor.execute(sql, params)
    return cursor.rowcount


def luna(library: str, *args, env=None, config: Path | None = None):
    environment = {**os.environ, **(env or {})}
    environment.pop("LUNA_USER", None)
    if config is not None:
        environment["LUNA_CONFIG"] = str(config)
    return subprocess.run([sys.executable, "-m", "luna", "-L", library, *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=environment)  # fmt: skip


def ok(library: str, *args, **kw) -> str:
    done = luna(library, *args, **kw)
    assert done.returncode == 0, done.stderr
    return done.stdout


def let_members_in(keeper_url: str, *members: str) -> None:
    """What the README tells the keeper to run for each member."""
    with psql(keeper_url) as conn:
        for member in members:
            conn.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {member}"
            )
            conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {member}")


@pytest.fixture
def shared_album(family, photos):
    """alice's album Holidays, with one photo, shared with bob as a viewer."""
    keeper, alice, bob = family["names"]
    for i in range(3):
        make_photo(photos / f"p{i}.jpg", color=(i, 50, 50))
    ok(family["keeper"], "import", photos)
    let_members_in(family["keeper"], alice, bob)
    ok(family["alice"], "album", "create", "Holidays")
    ok(family["alice"], "album", "add", "Holidays", photos / "p0.jpg")
    ok(family["alice"], "album", "share", "Holidays", bob, "--role", "viewer")
    return family


def _album_files(url: str) -> list:
    return library_rows(url, "SELECT album_id, file_id FROM album_file ORDER BY id")


def test_on_a_server_the_login_is_who_acts(shared_album):
    keeper, alice, bob = shared_album["names"]
    listed = json.loads(ok(shared_album["bob"], "album", "list", "--json"))["albums"]
    assert [(a["name"], a["role"], a["owner"]) for a in listed] == [("Holidays", "viewer", alice)]
    # Saying otherwise changes nothing: neither --as nor $LUNA_USER makes bob alice.
    done = luna(shared_album["bob"], "album", "list", "--as", alice)
    assert done.returncode == 5 and "you act as your database login" in done.stderr
    listed = json.loads(ok(shared_album["bob"], "album", "list", "--json",
                           env={"LUNA_USER": alice}))["albums"]  # fmt: skip
    assert [a["role"] for a in listed] == ["viewer"]


def test_a_viewer_is_refused_by_luna_and_by_the_server(shared_album, photos):
    keeper, alice, bob = shared_album["names"]
    before = _album_files(shared_album["keeper"])
    for args in (
        ("album", "add", "Holidays", photos / "p1.jpg"),
        ("album", "remove", "Holidays", photos / "p0.jpg"),
        ("album", "rename", "Holidays", "Mine"),
        ("album", "share", "Holidays", keeper, "--role", "editor"),
        ("album", "delete", "Holidays", "--yes"),
    ):
        done = luna(shared_album["bob"], *args)
        assert done.returncode == 5, (args, done.stderr)
        assert "viewer" in done.stderr
    # Straight to the server, as with psql: what a viewer may not do does not happen.
    with psql(shared_album["bob"]) as conn:
        album_id, file_id = before[0]
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO album_file (album_id, file_id, added) "
                         "SELECT %s, id, 'now' FROM file", (album_id,))  # fmt: skip
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            conn.execute(
                'INSERT INTO album_viewer (album_id, user_id) SELECT %s, id FROM "user" '
                "WHERE name = %s",
                (album_id, alice),
            )
        assert rows_changed(conn, "DELETE FROM album_file") == 0
        assert rows_changed(conn, "UPDATE album SET name = 'Mine', owner_id = NULL") == 0
        assert rows_changed(conn, "DELETE FROM album") == 0
    assert _album_files(shared_album["keeper"]) == before
    shown = json.loads(ok(shared_album["alice"], "album", "show", "Holidays", "--json"))
    assert (shown["name"], shown["owner"], len(shown["files"])) == ("Holidays", alice, 1)


def test_an_editor_may_change_the_album_but_not_take_it(shared_album, photos):
    keeper, alice, bob = shared_album["names"]
    ok(shared_album["alice"], "album", "share", "Holidays", bob, "--role", "editor")
    ok(shared_album["bob"], "album", "add", "Holidays", photos / "p1.jpg")
    assert len(_album_files(shared_album["keeper"])) == 2
    with psql(shared_album["bob"]) as conn:
        conn.execute('SELECT id FROM "user" WHERE name = %s', (bob,))
        (bob_id,) = conn.fetchone()
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            conn.execute("UPDATE album SET owner_id = %s", (bob_id,))
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            conn.execute('INSERT INTO album_viewer (album_id, user_id) SELECT id, %s FROM album',
                         (bob_id,))  # fmt: skip
    done = luna(shared_album["bob"], "album", "delete", "Holidays", "--yes")
    assert done.returncode == 5 and "editor" in done.stderr


# -- several computers at once ---------------------------------------------------------------


def _computer(tmp_path: Path, name: str, photos_here: Path) -> Path:
    """A config file mapping the root `photos` to where this 'computer' mounts the share."""
    config = tmp_path / f"{name}.toml"
    config.write_text(f'[roots]\nphotos = "{photos_here}"\n')
    return config


def _second_mount(tmp_path: Path, share: Path) -> tuple[Path, bool]:
    """The share mounted a second time, elsewhere: a bind mount where this machine allows it
    (then True), else a symbolic link (which luna follows to the first: a weaker stand-in)."""
    mac = tmp_path / "Volumes" / "Photos"
    mac.mkdir(parents=True)
    done = subprocess.run(["mount", "--bind", str(share), str(mac)], capture_output=True)
    if done.returncode == 0:
        return mac, True
    mac.rmdir()
    mac.symlink_to(share)
    return mac, False


def test_two_computers_with_their_own_roots_share_one_set_of_rows(postgres_server, tmp_path):
    share = tmp_path / "nas" / "photos"
    for year in (2018, 2019):
        for i in range(12):
            make_photo(share / str(year) / f"IMG_{i}.jpg", color=(i, year % 100, 9))
    mac, mounted = _second_mount(tmp_path, share)  # where the other computer mounts it
    try:
        _import_from_two_computers_at_once(postgres_server, tmp_path, share, mac)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mac)], capture_output=True)


def _import_from_two_computers_at_once(postgres_server, tmp_path, share, mac):
    linux_config = _computer(tmp_path, "linux", share)
    mac_config = _computer(tmp_path, "mac", mac)
    library = postgres_server.new_library()
    ok(library, "import", share / "2018", config=linux_config)  # makes the library

    # Both computers import the whole share, tag and search at the same time.
    jobs = [
        ("import", share, linux_config),
        ("import", mac, mac_config),
        ("tag", share / "2018", linux_config),  # files the first import recorded
        ("import", mac / "2019", mac_config),
    ]
    running = []
    for what, folder, config in jobs:
        args = ("import", folder) if what == "import" else ("tag", "add", "y2018", folder)
        env = {**os.environ, "LUNA_CONFIG": str(config)}
        command = [sys.executable, "-m", "luna", "-L", library, *map(str, args)]
        running.append(subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env))  # fmt: skip
    for process in running:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert "lock" not in err.lower()

    stored = [p for (p,) in library_rows(library, "SELECT path FROM file ORDER BY path")]
    assert len(stored) == len(set(stored)) == 24  # each file once
    assert all(p.startswith("photos:/20") for p in stored)  # relative to the root
    # Each computer sees every file at its own mount point.
    on_linux = ok(library, "find", config=linux_config).split("\n")[:-1]
    on_mac = ok(library, "find", config=mac_config).split("\n")[:-1]
    assert on_linux == [str(share) + p[len("photos:") :] for p in stored]
    seen_from_mac = os.path.realpath(mac)  # itself when mounted; the share through a link
    assert on_mac == [seen_from_mac + p[len("photos:") :] for p in stored]
    tagged = ok(library, "find", "--tag", "y2018", config=mac_config).split("\n")[:-1]
    assert len(tagged) == 12 and all(p.startswith(f"{seen_from_mac}/2018/") for p in tagged)


def test_a_root_not_mounted_leaves_its_files_unavailable_never_missing(postgres_server, tmp_path):
    share = tmp_path / "nas"
    make_photo(share / "a.jpg")
    make_photo(share / "b.jpg", color=(1, 2, 3))
    config = _computer(tmp_path, "here", share)
    library = postgres_server.new_library()
    ok(library, "import", share, config=config)
    hidden = tmp_path / "elsewhere"
    share.rename(hidden)
    share.mkdir()  # the mount point, empty: the share is not mounted
    for check in (("missing", "--json"), ("prune", "--dry-run", "--json")):
        report = json.loads(ok(library, *check, config=config))
        assert report["count"] == 0 if "count" in report else not report.get("files"), report
    done = luna(library, "import", share, config=config)
    assert done.returncode == 3 and "they were not marked missing" in done.stderr
    assert "the root 'photos'" in done.stderr and "is empty: is it mounted?" in done.stderr
    assert library_rows(library, "SELECT COUNT(*) FROM file WHERE missing_since IS NULL") == [(2,)]
    # A computer that does not map the root at all does not take the files for gone either.
    other = tmp_path / "other.toml"
    other.write_text("")
    report = json.loads(ok(library, "missing", "--json", config=other))
    assert report["count"] == 0
    share.rmdir()
    hidden.rename(share)
    assert len(ok(library, "find", config=config).splitlines()) == 2


# -- schema versions -------------------------------------------------------------------------


def test_an_upgrade_dumps_the_library_first_and_a_newer_one_is_refused(
    postgres_server, monkeypatch, isolated_home
):
    """A luna with a newer schema dumps a server library with pg_dump before it migrates it,
    in one transaction; a library written by a newer luna is refused and left as it was."""
    import shutil

    from luna.config import SCHEMA_VERSION
    from luna.errors import LibraryError, NewerSchema
    from luna.locations import ServerAddress
    from luna.store import postgres

    if shutil.which("pg_dump") is None:
        pytest.skip("no pg_dump (Debian: postgresql-client)")
    url = postgres_server.new_library()
    address = ServerAddress(url)
    postgres.open_library(address, create=True, readonly=False, known=4).close()
    real = postgres.MIGRATIONS

    # A step that fails leaves schema 4 as it was, with its dump beside it.
    monkeypatch.setattr(postgres, "MIGRATIONS", {4: [*real[4], "NOT SQL"]})
    with pytest.raises(LibraryError, match="left as it was, and a dump is at"):
        postgres.open_library(address, create=False, readonly=False, known=5)
    assert library_rows(url, "SELECT version FROM luna_schema") == [(4,)]
    assert library_rows(url, "SELECT to_regclass('approximate_mtime') IS NULL") == [(True,)]

    monkeypatch.setattr(postgres, "MIGRATIONS", real)
    postgres.open_library(address, create=False, readonly=False, known=5).close()
    assert library_rows(url, "SELECT version FROM luna_schema") == [(5,)]
    dumps = sorted((isolated_home / ".local" / "share" / "luna" / "backups").glob("schema4-*"))
    assert len(dumps) == 2 and all(d.stat().st_size > 0 for d in dumps)
    listed = subprocess.run(["pg_restore", "--list", str(dumps[-1])], capture_output=True,
                            text=True)  # fmt: skip
    assert "TABLE DATA" in listed.stdout and " file " in listed.stdout  # the files are in it

    # A newer luna's schema (here, a step made up for the test, after this luna's last)...
    newer = SCHEMA_VERSION + 1
    monkeypatch.setattr(
        postgres, "MIGRATIONS", {**real, SCHEMA_VERSION: ["CREATE TABLE extra (x int)"]}
    )
    postgres.open_library(address, create=False, readonly=False, known=newer).close()
    # ... meets this luna: refused, nothing written.
    with pytest.raises(NewerSchema, match="written by a newer luna"):
        postgres.open_library(address, create=False, readonly=False, known=SCHEMA_VERSION)
    done = luna(url, "find")
    assert done.returncode == 4 and "newer luna" in done.stderr
    assert library_rows(url, "SELECT version FROM luna_schema") == [(newer,)]


def test_the_upgrade_to_nanoseconds_reads_no_file_again_and_members_keep_their_rights(
    family, photos, isolated_home
):
    """A server library of schema 4 kept mtimes as floats: the upgrade turns each into the
    nanoseconds Python's luna.mtimes makes of it (so the import's comparison agrees), the
    next import (by a member, whose rights on the new table follow those on `file`) reads
    no file again and records the exact mtime."""
    import math
    import shutil

    from luna.config import SCHEMA_VERSION
    from luna.fsnames import to_db
    from luna.locations import ServerAddress
    from luna.mtimes import ns_from_seconds
    from luna.store import postgres

    if shutil.which("pg_dump") is None:
        pytest.skip("no pg_dump (Debian: postgresql-client)")
    keeper_url = family["keeper"]
    postgres.open_library(ServerAddress(keeper_url), create=True, readonly=False,
                          known=4).close()  # fmt: skip
    let_members_in(keeper_url, *family["names"][1:])
    photo = make_photo(photos / "a.jpg")
    exact = 1_700_000_000_123_456_789
    os.utime(photo, ns=(exact, exact))
    st = os.stat(photo)
    floats = [st.st_mtime, 1795887788.8968728, math.nextafter(1.7e9, 2e9), -1.5, 0.1 + 0.2]
    for i, seconds in enumerate(floats):  # rows as luna of schema 4 wrote them
        path = str(photo) if i == 0 else f"/elsewhere/{i}.jpg"
        library_execute(
            keeper_url,
            "INSERT INTO file (id, path, filename, kind, mime_type, size_bytes, mtime, "
            "content_sha, created, modified) VALUES (?, ?, ?, 'photo', 'image/jpeg', ?, ?, "
            "'', '2024-01-01 00:00:00', '2024-01-01 00:00:00')",
            (uuid.uuid4().hex, to_db(path), to_db(os.path.basename(path)), st.st_size, seconds),
        )
    postgres.open_library(ServerAddress(keeper_url), create=False, readonly=False,
                          known=SCHEMA_VERSION).close()  # the keeper upgrades  # fmt: skip

    stored = library_rows(keeper_url, "SELECT mtime_ns FROM file ORDER BY rowid")
    assert [ns for (ns,) in stored] == [ns_from_seconds(s) for s in floats]
    assert library_rows(keeper_url, "SELECT COUNT(*) FROM approximate_mtime") == [(5,)]
    report = json.loads(ok(family["alice"], "import", photos, "--json"))
    assert (report["unchanged"], report["files_read"]) == (1, 0)
    found = library_rows(
        keeper_url, "SELECT mtime_ns FROM file WHERE path = ?", (to_db(str(photo)),)
    )
    assert found == [(exact,)]
    assert library_rows(keeper_url, "SELECT COUNT(*) FROM approximate_mtime") == [(4,)]


def test_a_server_not_running_is_one_clear_line(tmp_path):
    done = luna(f"postgresql://nobody@/photos?host={tmp_path}", "find")
    assert done.returncode == 4 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f'no PostgreSQL server is listening on socket "{tmp_path}/.s.PGSQL.5432"' in done.stderr


def test_a_library_made_between_two_looks_is_found_not_refused(postgres_server, monkeypatch):
    """Whether a database holds a library takes two looks (luna's table, then any table);
    another luna making the library can commit between them. A database that looks like
    someone else's is looked at again once the writers' lock (which the maker holds until
    its commit) is free."""
    from luna.locations import ServerAddress
    from luna.store import postgres

    url = postgres_server.new_library()
    postgres.open_library(ServerAddress(url), create=True, readonly=False, known=5).close()
    looks = []
    real_look = postgres._look_for_library

    def first_look_straddles_a_commit(db):
        looks.append(1)
        return postgres._OTHER_TABLES if len(looks) == 1 else real_look(db)

    monkeypatch.setattr(postgres, "_look_for_library", first_look_straddles_a_commit)
    db = postgres.ServerDatabase(ServerAddress(url))
    db.connect()
    try:
        assert postgres.schema_version(db) == 5 and len(looks) == 2
    finally:
        db.close()
