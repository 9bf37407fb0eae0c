"""Every listing command in every output mode, through the real `luna` process so stdout is
checked byte for byte: one CSV dialect (RFC 4180, CRLF), one versioned JSON envelope, JSON
lines that parse, NUL-terminated paths that are exactly the files' names, and piped or
terminal output that never cuts a value short.

The library is built once and only read: a name that is not UTF-8, a name with quotes and a
comma, a path longer than a terminal line, tags, an album, an event, a missing file and a
duplicate.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import as_a_login, make_photo

LONG_FOLDER = "a folder whose name alone is longer than half of an eighty column terminal"
LONG_TAG = "Places/France/Paris/Rive gauche, near the Luxembourg gardens and the Pantheon"
USER = "alice"


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUNA_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), NO_COLOR="1", LUNA_USER=USER)
    env["XDG_CONFIG_HOME"] = str(home / "config")
    return env


class Library:
    def __init__(self, root: Path, location: str | None = None):
        self.root = root
        self.path = location or root / "library.db"  # a file, or a URL on the test server
        self.env = _env(root / "home")
        self.files: dict[str, bytes] = {}  # label -> the exact bytes of the path

    def command(self, *args) -> tuple[list[str], dict]:
        """The command line and environment of `luna ARGS` on this library (on the server,
        connected as the login the test acts as: conftest.as_a_login)."""
        argv, env, location = [str(a) for a in args], dict(self.env), str(self.path)
        if "://" in location:
            argv, acting = as_a_login(argv, {**env, "LUNA_LIBRARY": location})
            location = (acting or {}).get("LUNA_LIBRARY", location)
        return [sys.executable, "-m", "luna", "-L", location, *argv], env

    def run(self, *args, stdin: bytes | None = None, check: bool = True):
        command, env = self.command(*args)
        done = subprocess.run(command, input=stdin, capture_output=True, env=env, timeout=120)
        if check:
            assert done.returncode == 0, (args, done.stderr.decode(errors="replace"))
        return done

    def paths(self, *labels) -> set[bytes]:
        return {self.files[label] for label in labels}


@pytest.fixture(scope="session")
def library(tmp_path_factory, _server_for_libraries) -> Library:
    server = _server_for_libraries
    lib = Library(tmp_path_factory.mktemp("output-modes"), server and server.new_library())
    photos = lib.root / "photos"
    (photos / LONG_FOLDER).mkdir(parents=True)
    names = {
        "latin1": photos / os.fsdecode(b"ph\xf6to 1.jpg"),
        "quotes": photos / "say \"cheese\", 'now'.jpg",
        "long": photos / LONG_FOLDER / "Canon_40D_with_a_long_camera_file_name_IMG_0001.jpg",
        "copy": photos / "copy of plain.jpg",
        "plain": photos / "plain.jpg",
        "gone": photos / "gone.jpg",
    }
    for i, (label, path) in enumerate(names.items()):
        colour = (40 * i, 90, 200) if label not in ("copy", "plain") else (1, 2, 3)
        make_photo(path, color=colour, gps=(43.7, 7.26))
        lib.files[label] = os.fsencode(path)
    lib.run("import", photos)
    os.unlink(names["gone"])
    lib.run("import", photos)  # marks it missing
    kept = [names[k] for k in ("latin1", "quotes", "long")]
    lib.run("tag", "add", LONG_TAG, *kept)
    lib.run("tag", "add", "beach", names["quotes"])
    lib.run("album", "create", "Summer, 2019")
    lib.run("album", "add", "Summer, 2019", *kept)
    lib.run("event", "create", "Trip", "--start", "2019-06-01")
    lib.run("event", "attach", "Trip")
    return lib


SHOWN = ("latin1", "quotes", "long")
PRESENT = {"latin1", "quotes", "long", "copy", "plain"}
# command, the files it lists (their labels), whether it lists files at all
LISTINGS = {
    "find": (["find"], PRESENT),
    "show": (["show", "{latin1}", "{quotes}", "{long}"], set(SHOWN)),
    "tag list": (["tag", "list"], None),
    "tag show": (["tag", "show", "{latin1}", "{quotes}", "{long}"], set(SHOWN)),
    "album list": (["album", "list"], None),
    "album show": (["album", "show", "Summer, 2019"], set(SHOWN)),
    "event list": (["event", "list"], None),
    "event show": (["event", "show", "Trip"], PRESENT | {"gone"}),
    "missing": (["missing"], {"gone"}),
    "dupes": (["dupes"], {"copy", "plain"}),
}
MODES = ["json", "jsonl", "csv", "format", "paths", "print0", "piped"]
CASES = [
    pytest.param(name, mode, id=f"{name}-{mode}")
    for name, (_, listed) in LISTINGS.items()
    for mode in MODES
    if listed is not None or mode not in ("paths", "print0")
]


def _args(library: Library, name: str) -> list:
    template, _ = LISTINGS[name]
    return [os.fsdecode(library.files[a[1:-1]]) if a.startswith("{") else a for a in template]


def _output(library: Library, name: str, mode: str) -> bytes:
    flags = [] if mode == "piped" else [f"--{mode}"]
    if mode == "format":  # a file's path, or a tag's, album's or event's name and count
        flags.append("{path}\\0" if LISTINGS[name][1] is not None else "{name}\\t{files}")
    return library.run(*_args(library, name), *flags).stdout


@pytest.mark.parametrize(("name", "mode"), CASES)
def test_every_listing_in_every_mode(library, name, mode):
    out = _output(library, name, mode)
    listed = LISTINGS[name][1]
    expected = library.paths(*listed) if listed is not None else None
    CHECKS[mode](library, name, out, expected)


def _check_json(library, name, out, expected):
    document = json.loads(out.decode("utf-8"))
    assert isinstance(document, dict), "a --json document is an object, not a bare array"
    assert next(iter(document)) == "version" and document["version"] == 1
    assert any(isinstance(value, list) for value in document.values()), "it holds a list"


def _check_jsonl(library, name, out, expected):
    lines = out.decode("utf-8").splitlines()
    assert lines
    assert all(isinstance(json.loads(line), dict) for line in lines)


def _check_csv(library, name, out, expected):
    assert out.endswith(b"\r\n")
    assert out.count(b"\n") == out.count(b"\r\n"), "every line ends in CRLF"
    rows = list(csv.reader(io.StringIO(out.decode("utf-8", "surrogateescape"), newline="")))
    assert len(rows) >= 2 and all(len(row) == len(rows[0]) for row in rows)
    if expected is not None:
        column = rows[0].index("path")
        assert {os.fsencode(row[column]) for row in rows[1:]} == expected


def _check_format(library, name, out, expected):
    if expected is not None:
        _check_print0(library, name, out, expected)
    else:
        lines = out.decode().splitlines()
        assert lines and all(re.fullmatch(r"[^\t]+\t\d+", line) for line in lines)


def _check_paths(library, name, out, expected):
    assert set(out.splitlines()) == expected


def _check_print0(library, name, out, expected):
    printed = out.split(b"\0")
    assert printed[-1] == b""
    assert set(printed[:-1]) == expected
    gone = library.files["gone"]  # missing: still listed, no longer on disk
    assert all(os.path.isfile(p) for p in printed[:-1] if p != gone)


def _check_piped(library, name, out, expected):
    assert b"\xe2\x80\xa6" not in out and b"..." not in out, "nothing cut short"
    for path in expected or ():
        assert path in out
    if name in ("tag list", "tag show"):
        assert LONG_TAG.encode() in out
    if name == "show":
        for sha in _shas(library, "latin1", "quotes", "long"):
            assert re.search(rb"\t" + sha.encode() + rb"\n", out), "the whole SHA on its line"
    if name == "dupes":
        keep, extra = sorted(line.split(b"\t")[1] for line in out.splitlines())
        assert (keep, extra) == (b"extra", b"keep")
        assert all(line.startswith(b"1\t") for line in out.splitlines())


CHECKS = {
    "json": _check_json,
    "jsonl": _check_jsonl,
    "csv": _check_csv,
    "format": _check_format,
    "paths": _check_paths,
    "print0": _check_print0,
    "piped": _check_piped,
}


def _shas(library, *labels) -> list[str]:
    paths = [os.fsdecode(library.files[label]) for label in labels]
    done = library.run("show", *paths, "--jsonl")
    return [json.loads(line)["content_sha"] for line in done.stdout.decode().splitlines()]


# -- on a terminal ----------------------------------------------------------------------------

_ANSI = re.compile(rb"\x1b\[[0-9;?]*[a-zA-Z]")


def _on_terminal(library: Library, *args, columns: int = 80) -> bytes:
    """What a person on an 80-column terminal sees: the output of `luna` run in a pty."""
    import pty

    main, secondary = pty.openpty()
    command, env = library.command(*args)
    env.update(COLUMNS=str(columns), LINES="50", TERM="xterm")
    try:
        child = subprocess.Popen(
            command,
            stdout=secondary,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        os.close(secondary)
        chunks = []
        while True:  # read while it writes: a full pty buffer would block it
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the other end is closed, all is read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main)
    assert child.wait(timeout=120) == 0
    return _ANSI.sub(b"", b"".join(chunks)).replace(b"\r\n", b"\n")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
@pytest.mark.parametrize("name", list(LISTINGS))
def test_tables_never_cut_values_on_an_80_column_terminal(library, name):
    seen = _on_terminal(library, *_args(library, name))
    assert seen.strip()
    assert b"\xe2\x80\xa6" not in seen and b"..." not in seen


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_show_keeps_the_sha_whole_on_a_narrow_terminal(library):
    seen = _on_terminal(library, *_args(library, "show"), columns=70)
    for sha in _shas(library, "latin1", "quotes", "long"):
        assert sha.encode() in seen, "grep finds the whole SHA-256"


# -- option names ------------------------------------------------------------------------------


def test_nul_input_is_z_and_the_old_spelling_still_works(library):
    names = b"".join(library.files[k] + b"\0" for k in ("latin1", "quotes"))
    shown = library.run("tag", "show", "-z", "-", "--paths", stdin=names).stdout
    assert set(shown.splitlines()) == library.paths("latin1", "quotes")
    for old in ("-0", "--null"):  # hidden, before -0 came to mean NUL output everywhere
        library.run("tag", "add", "nul-input", old, "-", "--dry-run", stdin=names)
    assert b"-0, --print0" in library.run("find", "--help").stdout
    helped = library.run("tag", "add", "--help").stdout
    assert b"--null-input" in helped and not re.search(rb"--null(?![-\w])", helped)


def test_act_as_and_owned_by_have_distinct_names(library):
    me = library.run("album", "list", "--as", USER, "--json").stdout
    assert json.loads(me)["count"] == 1
    nobody = library.run("album", "list", "--as", "nobody", "--json").stdout
    assert json.loads(nobody)["count"] == 0
    assert library.run("album", "list", "-u", "nobody", "--json").stdout == nobody  # old, hidden
    owner = json.loads(library.run("show", _args(library, "show")[1], "--json").stdout)
    owned = library.run("find", "--owner", owner["files"][0]["owner"], "--paths").stdout
    assert set(owned.splitlines()) == library.paths(*PRESENT)
    assert library.run("find", "--owner", "nobody", "--paths").stdout == b""
    assert b"--user" not in library.run("album", "list", "--help").stdout
