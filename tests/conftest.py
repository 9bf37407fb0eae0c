"""Shared fixtures: every test gets its own home, data dir and library under tmp_path,
and generates its own photos with Pillow + piexif (no real library is ever touched)."""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


# The whole suite runs on either database: SQLite (the default), or, with
# LUNA_TEST_BACKEND=postgresql, a throwaway PostgreSQL server (tests/pgserver.py), each test
# with a library of its own (a schema of its own in one database). Tests about the SQLite
# file itself are marked `sqlite_only` and skipped there, saying so.
BACKEND = os.environ.get("LUNA_TEST_BACKEND", "sqlite")
ON_SERVER = BACKEND == "postgresql"


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: about the SQLite library file itself")
    config.addinivalue_line("markers", "postgres_only: about a library on a server")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if ON_SERVER and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="about the SQLite library file"))
        if not ON_SERVER and item.get_closest_marker("postgres_only"):
            item.add_marker(pytest.mark.skip(reason="LUNA_TEST_BACKEND=postgresql runs it"))


def pytest_terminal_summary(terminalreporter):
    """Print how often luna agreed with ExifTool on the corpus, per field (issue 15 asks for
    the figures, not only a pass)."""
    module = sys.modules.get("test_corpus_agreement")
    figures = getattr(module, "FIGURES", None)
    if not figures:
        return
    terminalreporter.section("agreement with ExifTool on ../shared/corpus")
    for field, (matched, total) in figures.items():
        target = module.TARGETS[field]
        terminalreporter.write_line(
            f"{field:<11} {matched:>4}/{total:<4} {matched / total:7.1%}   target {target:.0%}"
        )


class NetworkUsed(AssertionError):
    """luna opened a network socket: it must work with no network at all (issue 17)."""


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Every test runs luna with Internet sockets refused, so that any command reaching for
    the network fails its test (besides the commands run inside `unshare -n`). Unix
    sockets stay: the test PostgreSQL server is reached through one (and libpq's own
    sockets are C's, not Python's)."""
    import socket

    real_socket = socket.socket

    class LocalOnly(real_socket):
        def __init__(self, family=-1, *args, **kwargs):
            if family in (socket.AF_INET, socket.AF_INET6) or family == -1:
                raise NetworkUsed(f"a network socket was opened (family {family})")
            super().__init__(family, *args, **kwargs)

    def no_lookup(*args, **kwargs):
        raise NetworkUsed(f"a network name was looked up: {args[:2]}")

    monkeypatch.setattr(socket, "socket", LocalOnly)
    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    monkeypatch.setattr(socket, "create_connection", no_lookup)


@pytest.fixture(scope="session")
def _server_for_libraries(request):
    """The server the libraries of a LUNA_TEST_BACKEND=postgresql run live on."""
    return request.getfixturevalue("postgres_server") if ON_SERVER else None


def _library_location(tmp_path: Path, server) -> str:
    if server is None:
        return str(tmp_path / "library.db")
    return server.new_library()


def library_rows(library, sql: str, params=()) -> list[tuple]:
    """Rows of `sql` (SQLite's spelling, `?` placeholders), run on the library at `library`
    (a file, or a URL) behind luna's back, in the form SQLite gives them: a name that is UTF-8
    as text, one that is not as bytes (luna.fsnames), ids as 32 hex digits, JSON as text."""
    from luna.locations import ServerAddress, library_location

    location = library_location(str(library) if not isinstance(library, ServerAddress) else library)
    if isinstance(location, ServerAddress):
        from luna.fsnames import to_db
        from luna.store.postgres import ServerDatabase

        db = ServerDatabase(location)
        try:
            rows = db.execute_sql(sql, params).fetchall()
        finally:
            db.close()
        return [
            tuple(to_db(os.fsdecode(v)) if isinstance(v, bytes) else v for v in row) for row in rows
        ]
    import sqlite3

    con = sqlite3.connect(location)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def library_execute(library, sql: str, params=()) -> int:
    """Run one statement that writes (SQLite's spelling, `?` placeholders) on the library at
    `library` behind luna's back, committed at once: to simulate damage or a crash. A file
    name is best given as `luna.fsnames.to_db(path)` (bytes on the server). Returns the number
    of rows it changed."""
    from luna.locations import ServerAddress, library_location

    location = library_location(str(library) if not isinstance(library, ServerAddress) else library)
    if isinstance(location, ServerAddress):
        from luna.store.postgres import ServerDatabase

        db = ServerDatabase(location)
        try:
            return db.execute_sql(sql, params).rowcount
        finally:
            db.close()
    import sqlite3

    con = sqlite3.connect(location)
    try:
        with con:
            return con.execute(sql, params).rowcount
    finally:
        con.close()


def library_exists(library) -> bool:
    """Whether a library was made at `library`: its file (SQLite), or any table in its
    schema on the server."""
    from luna.locations import ServerAddress, library_location

    location = library_location(str(library) if not isinstance(library, ServerAddress) else library)
    if not isinstance(location, ServerAddress):
        return location.exists()
    query = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
    return library_rows(location, query)[0][0] > 0


def library_snapshot(library):
    """What to compare to tell whether anything wrote to the library at `library`: its file's
    time and bytes (SQLite), or every row of every table in its schema (a server)."""
    from luna.locations import ServerAddress, library_location

    location = library_location(str(library) if not isinstance(library, ServerAddress) else library)
    if not isinstance(location, ServerAddress):
        return location.stat().st_mtime_ns, location.read_bytes()
    query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    tables = sorted(name for (name,) in library_rows(location, query))
    return {t: library_rows(location, f'SELECT r::text FROM "{t}" r ORDER BY 1') for t in tables}


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch, _server_for_libraries):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))  # thumbnails
    monkeypatch.delenv("LUNA_CONFIG", raising=False)
    monkeypatch.delenv("LUNA_USER", raising=False)
    monkeypatch.setenv("LUNA_LIBRARY", _library_location(tmp_path, _server_for_libraries))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("LUNA_DEBUG", raising=False)
    return home


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the whole run (tests/pgserver.py); the tests that
    use it are skipped, saying why, where none can be started."""
    import pgserver

    try:
        server = pgserver.start()
    except pgserver.Unavailable as exc:
        if ON_SERVER and os.environ.get("CI"):  # CI must test what it was asked to
            pytest.exit(f"LUNA_TEST_BACKEND=postgresql, but no server: {exc}", returncode=3)
        pytest.skip(f"no PostgreSQL server: {exc}")
    yield server
    server.stop()


@pytest.fixture
def library_path(tmp_path, isolated_home):
    """The test's library: its file (SQLite), or its address on the test server."""
    from luna.locations import library_location

    return library_location(os.environ["LUNA_LIBRARY"])


@pytest.fixture
def lib(library_path):
    from luna.library import Library

    with Library.open(library_path) as library:
        yield library


@pytest.fixture
def photos(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    return folder


def _rational(value: float, denominator: int = 1_000_000) -> tuple[int, int]:
    return (round(value * denominator), denominator)


def _dms(value: float):
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return ((degrees, 1), (minutes, 1), _rational(seconds, 10_000))


def _iptc_segment(keywords: list[str], date: str | None = None, time: str | None = None) -> bytes:
    """An APP13 Photoshop IRB segment holding IPTC 2:25 keywords (UTF-8), and 2:55/2:60
    Date Created ("20061029") / Time Created ("062751-0500")."""
    records = b"\x1c\x01\x5a\x00\x03\x1b\x25\x47"  # 1:90 coded character set = UTF-8
    fields = [(25, kw) for kw in keywords] + [(55, date), (60, time)]
    for dataset, text in fields:
        if text is None:
            continue
        data = text.encode("utf-8")
        records += b"\x1c\x02" + bytes([dataset]) + struct.pack(">H", len(data)) + data
    if len(records) % 2:
        records += b"\x00"
    irb = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(records))
    payload = b"Photoshop 3.0\x00" + irb + records
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def make_photo(
    path: Path,
    *,
    taken: str | None = "2019:06:01 12:34:56",
    offset: str | None = None,
    digitized: str | None = None,
    modified: str | None = None,
    gps: tuple[float, float] | None = None,
    gps_utc: str | None = None,
    altitude: float | None = None,
    make: str | None = "Canon",
    model: str | None = "Canon EOS 5D",
    orientation: int | None = None,
    size: tuple[int, int] = (64, 48),
    keywords: list[str] | None = None,
    iptc_date: tuple[str, str | None] | None = None,
    color=(200, 120, 40),
    fmt: str = "JPEG",
) -> Path:
    """Write a small real photo with the given EXIF (and IPTC keywords) to `path`."""
    import piexif
    from PIL import Image

    zeroth, exif, gps_ifd = {}, {}, {}
    if make:
        zeroth[piexif.ImageIFD.Make] = make.encode()
    if model:
        zeroth[piexif.ImageIFD.Model] = model.encode()
    if orientation:
        zeroth[piexif.ImageIFD.Orientation] = orientation
    if taken:
        exif[piexif.ExifIFD.DateTimeOriginal] = taken.encode()
    if offset:
        exif[piexif.ExifIFD.OffsetTimeOriginal] = offset.encode()
    if digitized:
        exif[piexif.ExifIFD.DateTimeDigitized] = digitized.encode()
    if modified:
        zeroth[piexif.ImageIFD.DateTime] = modified.encode()
    if gps_utc:  # "2019:06:01 12:00:00"
        day, clock = gps_utc.split(" ")
        h, m, sec = (int(x) for x in clock.split(":"))
        gps_ifd[piexif.GPSIFD.GPSDateStamp] = day.encode()
        gps_ifd[piexif.GPSIFD.GPSTimeStamp] = ((h, 1), (m, 1), (sec, 1))
    if gps:
        lat, lon = gps
        gps_ifd[piexif.GPSIFD.GPSLatitudeRef] = b"N" if lat >= 0 else b"S"
        gps_ifd[piexif.GPSIFD.GPSLatitude] = _dms(lat)
        gps_ifd[piexif.GPSIFD.GPSLongitudeRef] = b"E" if lon >= 0 else b"W"
        gps_ifd[piexif.GPSIFD.GPSLongitude] = _dms(lon)
    if altitude is not None:
        gps_ifd[piexif.GPSIFD.GPSAltitudeRef] = 1 if altitude < 0 else 0
        gps_ifd[piexif.GPSIFD.GPSAltitude] = _rational(abs(altitude), 100)
    exif_bytes = piexif.dump({"0th": zeroth, "Exif": exif, "GPS": gps_ifd})
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt, exif=exif_bytes)
    data = buffer.getvalue()
    if (keywords or iptc_date) and fmt == "JPEG":
        date, time = iptc_date or (None, None)
        data = data[:2] + _iptc_segment(keywords or [], date, time) + data[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def photo_factory():
    return make_photo


def run_cli(*args: str, env=None, input=None):
    """Run luna's CLI in-process; returns (exit code, stdout, stderr). `input` is stdin."""
    from typer.testing import CliRunner

    from luna.cli.app import app, load_commands
    from luna.cli.argv import global_flags_first

    load_commands()
    argv = global_flags_first([str(a) for a in args])  # as luna.cli.app's main does
    if ON_SERVER:
        argv, env = as_a_login(argv, env)
    result = CliRunner().invoke(app, argv, env=env, input=input)
    return result.exit_code, result.stdout, result.stderr


def as_a_login(argv: list[str], env: dict | None) -> tuple[list[str], dict | None]:
    """On a server one acts as one's database login, not as `--as NAME` or $LUNA_USER says
    (README, "A shared library"). So a test that acts as alice there connects as the login
    alice: what it checks (alice's albums, bob refused as a viewer) holds on both. Command
    lines about a library file (`-L FILE`) are left as they are."""
    env = dict(env or {})
    given = next((argv[i + 1] for i, w in enumerate(argv[:-1]) if w in ("-L", "--library")), None)
    library = given or env.get("LUNA_LIBRARY") or os.environ.get("LUNA_LIBRARY", "")
    if "://" not in library:
        return argv, env or None
    name = env.pop("LUNA_USER", None) or os.environ.get("LUNA_USER")
    kept = []
    words = iter(argv)
    for word in words:
        if word in ("--as", "-u", "--user"):
            name = next(words, None)
        elif word.startswith(("--as=", "--user=")):
            name = word.partition("=")[2]
        else:
            kept.append(word)
    if not name:
        return argv, env or None
    login = server_login(library, name)
    if given:
        kept = [login if word == given else word for word in kept]
    else:
        env["LUNA_LIBRARY"] = login
    return kept, env


def server_login(url: str, name: str) -> str:
    """`url` (the test's library, as the superuser) as the login `name`, made a member of
    the library as the README says (created if new; its rights given again, since tables
    may have been made since)."""
    import re

    import pgserver

    from luna.config import SCHEMA_VERSION
    from luna.locations import ServerAddress
    from luna.store import postgres

    schema = re.search(r"search_path%3D(\w+)", url).group(1)  # type: ignore[union-attr]
    role = f'"{name}"'
    # The keeper (here the superuser) makes the library, if no command has yet.
    postgres.open_library(
        ServerAddress(url), create=True, readonly=False, known=SCHEMA_VERSION
    ).close()  # type: ignore[union-attr]
    pgserver.Server.run_sql(
        url,
        f"DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; "
        f"END $$; GRANT USAGE ON SCHEMA {schema} TO {role}; "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}; "
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    )
    return url.replace("postgresql://postgres@", f"postgresql://{name}@", 1)


def run_json(*args: str):
    code, out, err = run_cli(*args, "--json")
    assert out.strip(), f"no JSON on stdout (exit {code}): {err}"
    return code, json.loads(out), err


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def cli_json():
    return run_json


def requires_corpus():
    return pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@functools.cache
def _without_override_prefix() -> tuple[str, ...] | None:
    """How to run a program that file permissions apply to, or None if it can't be done here.

    Root may read and write anything, so a test of "permission denied" would pass for the wrong
    reason. In a new user namespace with no uid mapping, root keeps its own uid, so it can still
    read its Python and packages (which may live under a private /root), but it loses the power
    to override permissions on files outside the namespace: exactly an ordinary owner's rights.
    """
    if not is_root():
        return ()
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    # The probe must import luna's packages and be refused a folder that only root could write.
    probe = "import os, sys, typer; sys.exit(1 if os.access(sys.argv[1], os.W_OK) else 0)"
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o555)
        try:
            done = subprocess.run([unshare, "--user", sys.executable, "-c", probe, folder],
                                  capture_output=True, timeout=30)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return None
        finally:
            os.chmod(folder, 0o755)
    return (unshare, "--user") if done.returncode == 0 else None


def run_luna_as_owner(*args, env=None, input=None) -> subprocess.CompletedProcess:
    """Run `python -m luna ARGS` as a process that permissions apply to (see above); skips the
    test where this machine can't make one. Returns the finished process (text output)."""
    prefix = _without_override_prefix()
    if prefix is None:
        pytest.skip("as root, with no user namespace to give up overriding permissions")
    command = [*prefix, sys.executable, "-m", "luna", *(str(a) for a in args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, input=input,
                          env=env if env is not None else os.environ.copy())  # fmt: skip


def _run_quietly(*command) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def bind_mount(tmp_path):
    """bind_mount(folder) -> a second path to `folder` (a bind mount), unmounted after the
    test; skips where mounting is not permitted."""
    mounted = []

    def make(folder: Path) -> Path:
        alias = tmp_path / f"alias{len(mounted)}"
        alias.mkdir()
        if not _run_quietly("mount", "--bind", str(folder), str(alias)):
            pytest.skip("bind mounts are not permitted here")
        mounted.append(alias)
        return alias

    yield make
    for alias in mounted:
        _run_quietly("umount", "-l", str(alias))


@pytest.fixture
def exfat_card(tmp_path):
    """A case-insensitive camera card: an exFAT image mounted with FUSE, as Linux mounts a
    real card. Skips where the tools (exfatprogs, exfat-fuse) or loop devices are missing."""
    image, mount_point = tmp_path / "card.img", tmp_path / "card"
    mount_point.mkdir()
    with open(image, "wb") as fp:
        fp.truncate(32 << 20)
    if not _run_quietly("mkfs.exfat", str(image)):
        pytest.skip("mkfs.exfat (exfatprogs) is not available")
    found = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True,
                           text=True)  # fmt: skip
    if found.returncode != 0:
        pytest.skip("no loop device here")
    device = found.stdout.strip()
    if not _run_quietly("mount.exfat-fuse", device, str(mount_point)):
        _run_quietly("losetup", "-d", device)
        pytest.skip("cannot mount an exFAT card with FUSE here")
    yield mount_point
    _run_quietly("umount", str(mount_point)) or _run_quietly("umount", "-l", str(mount_point))
    _run_quietly("losetup", "-d", device)
