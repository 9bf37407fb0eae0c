"""`luna find` without Typer (luna.cli.quick_find): the same command lines give the same
bytes on stdout and stderr and the same exit status as when Typer reads them, and what
the quick reader does not know is left to Typer."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from luna.cli import quick_find

# `luna` as installed (luna.cli.entry: the quick reader first), and luna through Typer only.
QUICK = [sys.executable, "-m", "luna"]
TYPER = [sys.executable, "-c", "from luna.cli.app import main; main()"]


@pytest.fixture(scope="module")
def odd_library(tmp_path_factory, _server_for_libraries):
    """A library of a few files with names that test an encoder (quotes, a newline, a
    control character, accents, bytes that are not UTF-8), places, zones and tags."""
    from luna.library import Library
    from luna.locations import library_location
    from luna.store.bulk import bulk_insert_files

    folder = tmp_path_factory.mktemp("quick")
    names = ["plain.jpg", "é café.jpg", 'quo"te\\back.jpg', "new\nline.jpg", "tab\there.jpg",
             os.fsdecode(b"bad\xff.jpg"), "ctl\x01.jpg", "emoji😀.jpg"]  # fmt: skip
    rows = [
        {
            "path": f"/odd/{i}/{name}",
            "size_bytes": i * 1000,
            "mtime": 0.0,
            "content_sha": f"{i:064x}",
            "mime_type": "image/jpeg",
            "start": dt.datetime(2020, 1, i + 1, 12, 0, 0, i * 1000),
            "utc_offset": [None, 120, -330, 0][i % 4],
            "latitude": 48.85 + i / 1000 if i % 2 else None,
            "longitude": 2.35 + i / 7 if i % 2 else None,
            "width": 100 if i % 3 else None,
            "height": 80 if i % 3 else None,
            "owner": "alice",
            "tags": ["x", 'q"t', "ünï"][: i % 4],
            "metadata": {
                "make": "Canon",
                "model": f"EOS {i}D",
                "iso": 100 * (i + 1),
                "exposure_time": 1 / (i + 1),
                "f_number": 1.4 * (i + 1),
                "focal_length": 10.0 * i,
                "lens": f"ünï\t{i}",
                "title": 'quo"te' if i % 2 else None,
                "rating": i % 6,
            }
            if i % 3
            else {},
            "processor_metadata": {"date_source": ["exif:DateTimeOriginal", "filename"][i % 2]},
        }
        for i, name in enumerate(names)
    ]
    rows.append({"path": "/odd/clip.mp4", "kind": "video", "size_bytes": 5, "mtime": 0.0,
                 "content_sha": "f" * 64, "mime_type": "video/mp4", "utc_offset": 60,
                 "start": dt.datetime(2021, 5, 1, 10), "end": dt.datetime(2021, 5, 1, 10, 5),
                 "owner": "alice", "tags": [], "processor_metadata": {},
                 "metadata": {"duration_s": 300.5, "frame_rate": 25, "video_codec": "AVC"}},
                )  # fmt: skip
    server = _server_for_libraries  # a file, or a library on the test server
    library = folder / "library.db" if server is None else library_location(server.new_library())
    with Library.open(library) as lib:
        bulk_insert_files(lib, rows, batch=100)
    return library


def _env(tmp_path_factory_dir, library) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUNA_")}
    env |= {"HOME": str(tmp_path_factory_dir), "XDG_CONFIG_HOME": str(tmp_path_factory_dir),
            "LUNA_LIBRARY": str(library), "LUNA_USER": "alice", "COLUMNS": "100"}  # fmt: skip
    return env


SAME_ANSWER = [
    # what scripts type
    ["find", "--json"],
    ["find"],
    ["find", "--paths"],
    ["find", "-0"],
    ["find", "--print0", "--sort", "-size"],
    ["find", "--csv"],
    ["find", "--jsonl"],
    ["find", "--geojson"],
    ["find", "--format", "{path}\\t{start:%Y}|{tags}|{size}"],
    ["find", "--count"],
    ["find", "--count", "--json"],
    ["search", "--json", "--sort", "-name"],
    ["find", "--near", "48.85,2.35", "--radius", "100km", "--sort", "distance", "--json"],
    ["find", "--near=48.85,2.35", "--radius=100km", "--paths", "--limit", "1", "--offset", "1"],
    ["find", "--tag", "x", '--tag=q"t', "--json"],
    ["find", "--any-tag", "ünï", "--not-tag", 'q"t', "--paths"],
    ["find", "--untagged", "--paths"],
    ["find", "--no-location", "--paths"],
    ["find", "--has-location", "--no-location", "--paths"],  # the last one given wins
    ["find", "--limit", "5", "--limit", "2", "--paths"],
    ["find", "--kind", "video", "--kind", "photo", "--paths"],
    ["find", "--after", "2020-01-03", "--before", "2021", "--paths"],
    ["find", "--on", "2021-05-01", "--json"],
    ["find", "--bbox", "48,2,49,3", "--camera", "x", "--name", "*.JPG", "--paths"],
    ["find", "--path", "/odd/1", "--min-size", "1k", "--max-size", "1MB", "--paths"],
    ["find", "--sha", "000", "--owner", "alice", "--missing", "--duplicates", "--paths"],
    ["find", "--user", "alice", "--mime", "image/", "--paths"],  # the old, hidden --user
    ["find", "--lens", "ÜNÏ", "--iso", "200-", "--focal", "-60mm", "--aperture=2-8", "--json"],
    ["find", "--rating", "1-4", "--date-source", "guessed", "--text", "QUO", "--paths"],
    ["find", "--duration", "1m-10m", "--date-source=none", "--csv"],
    ["find", "--fields", "date,camera,lens,iso,exposure,aperture,focal_length,duration,path"],
    ["find", "--format", "{camera}|{exposure}|{aperture}|{focal_length}|{duration}|{rating}"],
    ["find", "--iso", "x"],
    ["find", "--fields", "nope"],
    ["find", "--fields", "path", "--csv"],
    # mistakes the command reports (the quick reader runs them)
    ["find", "--limit", "x"],
    ["find", "--near", "91,0"],
    ["find", "--radius", "5km"],
    ["find", "--json", "--csv"],
    ["find", "--count", "--paths"],
    ["find", "--format", ""],
    ["find", "--format", "{nope}"],
    ["find", "--album", "none"],
    ["find", "--event", "none"],
    ["find", "--tag", "--json"],  # --tag takes "--json" as its value, as Click does
    ["find", "--after", "2019-13"],
    ["find", "--sort", "distance"],
    ["find", "--sha", "xyz"],
    ["find", "--tag", ""],
    # left to Typer
    ["find", "--help"],
    ["find", "-h"],
    ["search", "--help"],
    ["find", "--bogus"],
    ["find", "--jso"],
    ["find", "--json=1"],
    ["find", "--tag"],
    ["find", "extra"],
    ["find", "--", "x"],
    ["find", "-0x"],
    ["--help", "find"],
]


def _both(argv, env):
    quick = subprocess.run([*QUICK, *argv], capture_output=True, env=env, timeout=60)
    typer = subprocess.run([*TYPER, *argv], capture_output=True, env=env, timeout=60)
    return quick, typer


def test_the_same_command_line_gives_the_same_answer_either_way(odd_library, tmp_path):
    env = _env(tmp_path, odd_library)
    lib = str(odd_library)
    command_lines = [
        *SAME_ANSWER,
        *(["-L", lib, *argv] for argv in SAME_ANSWER[:3]),
        ["--library", lib, "-L", lib, "find", "--json"],
        [f"--library={lib}", "find", "--paths"],
        ["-L", str(tmp_path / "none.db"), "find"],
        ["-L", str(tmp_path), "find"],
        ["-L", "", "find"],
        ["-L"],
        ["-L", lib],
    ]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda argv: _both(argv, env), command_lines))
    for argv, (quick, typer) in zip(command_lines, answers, strict=True):
        assert (quick.returncode, quick.stdout, quick.stderr) == (
            typer.returncode,
            typer.stdout,
            typer.stderr,
        ), argv
    outputs = {tuple(argv): quick for argv, (quick, _) in zip(command_lines, answers, strict=True)}
    assert outputs[("find", "--json")].returncode == 0
    assert b'"count": 9' in outputs[("find", "--json")].stdout
    assert b"bad\xff.jpg\n" in outputs[("find", "--paths")].stdout  # the exact bytes


def test_a_search_loads_neither_typer_nor_rich_nor_peewee(odd_library, tmp_path):
    """What the quick reader is for: a search in a shell loop does not pay for them (nor
    for dataclasses, which loads inspect, ast and dis)."""
    script = (
        "import sys\n"
        "from luna.cli.entry import main\n"
        "main()\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in "
        "('typer', 'click', 'rich', 'peewee', 'dataclasses', 'inspect')]\n"
        "sys.stderr.write(' '.join(sorted(loaded)) or '-')\n"
    )
    for argv in (["find", "--json"], ["find", "--near", "48.85,2.35", "--paths"], ["find"]):
        done = subprocess.run([sys.executable, "-c", script, "-L", str(odd_library), *argv],
                              capture_output=True, timeout=60)  # fmt: skip
        assert done.returncode == 0
        assert done.stderr == b"-", argv


@pytest.mark.parametrize(
    "argv",
    [
        ["find", "--help"],
        ["find", "--bogus"],
        ["find", "--json=1"],
        ["find", "--tag"],
        ["find", "x"],
        ["-Lx.db", "find"],
        ["--version"],
        ["show", "--json"],
        ["-L", "x.db"],
        [],
    ],
)
def test_what_the_quick_reader_does_not_know_is_left_to_typer(argv):
    assert quick_find.read_command_line(argv) is None


def test_the_quick_reader_reads_as_typer_does():
    library, options, output = quick_find.read_command_line(
        ["-L", "a.db", "search", "--tag", "x", "--tag=y", "--no-location", "-0", "--sort", "name"]
    )
    assert str(library) == "a.db"
    assert options == {
        **quick_find.DEFAULTS,
        "tag": ["x", "y"],
        "has_location": False,
        "sort": "name",
    }
    assert output == {"print0": True}


def test_the_quick_readers_options_are_finds():
    """Every option luna.cli.find declares for Typer, and no other, with what it takes and
    its default: a new option of find must be added to luna.cli.quick_find too."""
    from typer.main import get_command

    from luna.cli.app import app, load_commands

    load_commands(["find"])
    command = get_command(app).commands["find"]  # type: ignore[attr-defined]
    declared = {}
    for param in command.params:
        takes = "flag" if param.is_flag else "repeated" if param.multiple else "value"
        name = param.name.removeprefix("output_")
        for spelling in param.opts:
            declared[spelling] = (name, takes)
        for spelling in param.secondary_opts:
            declared[spelling] = (name, takes)
            assert quick_find.FLAG_VALUES[spelling] is False
        if not param.name.startswith("output_"):
            assert quick_find.DEFAULTS[param.name] == param.default, param.name
    assert declared == {**quick_find.OPTIONS, **quick_find.OUTPUT_OPTIONS}
