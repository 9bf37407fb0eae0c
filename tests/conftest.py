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


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("LUNA_CONFIG", raising=False)
    monkeypatch.delenv("LUNA_USER", raising=False)
    monkeypatch.setenv("LUNA_LIBRARY", str(tmp_path / "library.db"))
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
        pytest.skip(f"no PostgreSQL server: {exc}")
    yield server
    server.stop()


@pytest.fixture
def library_path(tmp_path) -> Path:
    return tmp_path / "library.db"


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

    load_commands()
    result = CliRunner().invoke(app, [str(a) for a in args], env=env, input=input)
    return result.exit_code, result.stdout, result.stderr


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
