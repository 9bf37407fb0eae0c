"""File names a shell script must not trip on: spaces, quotes, newlines, and bytes that are
not UTF-8 (an old camera card, a Latin-1 NAS). Each runs the real `luna` process so that
stdout is checked byte for byte, as `xargs -0` or a CSV reader would receive it."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_photo

LATIN1_DIR = b"caf\xe9"  # "café" written by a Latin-1 system: not UTF-8
LATIN1_FILE = b"ph\xf6to 1.jpg"


def luna(library: Path, *args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "luna", "-L", str(library), *args],
        input=stdin,
        capture_output=True,
        timeout=120,
    )


def fs(name: bytes) -> str:
    """The str Python uses for a file name given as bytes."""
    return os.fsdecode(name)


@pytest.fixture
def odd_tree(photos: Path, library_path: Path) -> dict[str, bytes]:
    """A library of four photos with awkward names; returns label -> exact path bytes."""
    (photos / fs(LATIN1_DIR)).mkdir()
    names = {
        "latin1": photos / fs(LATIN1_DIR) / fs(LATIN1_FILE),
        "newline": photos / "two\nlines.jpg",
        "quotes": photos / "say \"cheese\", 'now'.jpg",
        "plain": photos / "plain.jpg",
    }
    for i, path in enumerate(names.values()):
        make_photo(path, gps=(43.7 + i / 1000, 7.26), color=(40 * i, 90, 200))
    done = luna(library_path, "import", str(photos))
    assert done.returncode == 0, done.stderr
    return {label: os.fsencode(path) for label, path in names.items()}


def test_import_records_names_that_are_not_utf8(odd_tree, library_path):
    done = luna(library_path, "find", "--count")
    assert done.stdout == b"4\n"
    failed = luna(library_path, "stats", "--json")
    assert json.loads(failed.stdout)["failed"] == 0


def test_print0_gives_each_name_byte_for_byte(odd_tree, library_path):
    done = luna(library_path, "find", "-0")
    assert done.returncode == 0
    printed = done.stdout.split(b"\0")
    assert printed[-1] == b""
    assert sorted(printed[:-1]) == sorted(odd_tree.values())
    assert all(os.path.isfile(p) for p in printed[:-1])


def test_paths_give_each_name_byte_for_byte(odd_tree, library_path):
    done = luna(library_path, "find", "--paths", "--sort", "name")
    # One per line; the name with a newline spans two, which is why -0 exists.
    assert done.stdout.count(b"\n") == 5
    for path in odd_tree.values():
        assert path + b"\n" in done.stdout


def test_json_gives_readable_text_and_the_exact_bytes(odd_tree, library_path):
    done = luna(library_path, "find", "--json")
    text = done.stdout.decode("utf-8")  # strict: the document is valid UTF-8
    files = json.loads(text)["files"]
    by_bytes = {
        base64.b64decode(f["path_b64"]) if "path_b64" in f else f["path"].encode(): f for f in files
    }
    assert set(by_bytes) == set(odd_tree.values())
    latin1 = by_bytes[odd_tree["latin1"]]
    assert latin1["path"].endswith("caf\\xe9/ph\\xf6to 1.jpg")
    assert base64.b64decode(latin1["filename_b64"]) == LATIN1_FILE
    newline = by_bytes[odd_tree["newline"]]
    assert newline["path"].endswith("two\nlines.jpg") and "path_b64" not in newline


def test_jsonl_and_geojson_carry_the_bytes_too(odd_tree, library_path):
    lines = luna(library_path, "find", "--jsonl").stdout.decode("utf-8").splitlines()
    assert len(lines) == 4
    b64 = [json.loads(line).get("path_b64") for line in lines]
    assert [base64.b64decode(b) for b in b64 if b] == [odd_tree["latin1"]]
    geo = json.loads(luna(library_path, "find", "--geojson").stdout.decode("utf-8"))
    props = [f["properties"] for f in geo["features"]]
    assert len(props) == 4
    assert [base64.b64decode(p["path_b64"]) for p in props if "path_b64" in p] == [
        odd_tree["latin1"]
    ]


def test_csv_quotes_and_keeps_the_exact_bytes(odd_tree, library_path):
    done = luna(library_path, "find", "--csv")
    # Read as the file system's names are read: bytes that are not UTF-8 survive.
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode("utf-8", "surrogateescape"))))
    assert sorted(os.fsencode(r["path"]) for r in rows) == sorted(odd_tree.values())
    assert b'"say ""cheese"", \'now\'.jpg"' in done.stdout  # RFC 4180 quoting


def test_format_template_writes_the_exact_bytes(odd_tree, library_path):
    done = luna(library_path, "find", "--format", "{path}\\0")
    assert sorted(done.stdout.split(b"\0")[:-1]) == sorted(odd_tree.values())


def test_a_find_pipeline_tags_every_odd_name(odd_tree, library_path):
    found = luna(library_path, "find", "-0").stdout
    tagged = luna(library_path, "tag", "add", "beach", "-z", "-", stdin=found)
    assert tagged.returncode == 0, tagged.stderr
    assert luna(library_path, "find", "--tag", "beach", "--count").stdout == b"4\n"
    # ... and a near-and-tag search feeds xargs -0 ls with every one of them.
    pipeline = subprocess.run(
        f"'{sys.executable}' -m luna -L '{library_path}' find --tag beach --near 43.7,7.26 "
        "--radius 20km -0 | xargs -0 ls -1 --quoting-style=escape | wc -l",
        shell=True,
        capture_output=True,
        timeout=120,
    )
    assert pipeline.stdout.strip() == b"4"


def test_show_and_tag_show_name_a_latin1_file(odd_tree, library_path):
    path = fs(odd_tree["latin1"])
    shown = json.loads(luna(library_path, "show", "--json", path).stdout.decode("utf-8"))
    shown = shown["files"][0]
    assert base64.b64decode(shown["path_b64"]) == odd_tree["latin1"]
    piped = luna(library_path, "show", path).stdout
    assert b"path\t" + odd_tree["latin1"] + b"\n" in piped  # for a program: the exact bytes
    luna(library_path, "tag", "add", "old", path)
    tags = json.loads(luna(library_path, "tag", "show", "--json", path).stdout.decode("utf-8"))
    assert base64.b64decode(tags["files"][0]["path_b64"]) == odd_tree["latin1"]


def test_path_filter_reaches_names_that_are_not_utf8(odd_tree, library_path, photos):
    inside = luna(library_path, "find", "--path", fs(os.fsencode(photos) + b"/" + LATIN1_DIR), "-0")
    assert inside.stdout == odd_tree["latin1"] + b"\0"
    # A UTF-8 folder holds names that are not: they are below it too.
    everything = luna(library_path, "find", "--path", str(photos), "--count")
    assert everything.stdout == b"4\n"


def test_a_moved_latin1_folder_keeps_its_tags(odd_tree, library_path, photos):
    luna(library_path, "tag", "add", "kept", fs(odd_tree["latin1"]))
    os.rename(os.fsencode(photos) + b"/" + LATIN1_DIR, os.fsencode(photos) + b"/moved")
    again = luna(library_path, "import", "--json", str(photos))
    report = json.loads(again.stdout)
    assert (report["moved"], report["missing"]) == (1, 0)
    found = luna(library_path, "find", "--tag", "kept", "-0").stdout
    assert found == os.fsencode(photos) + b"/moved/" + LATIN1_FILE + b"\0"


def test_a_vanished_latin1_file_is_marked_missing(odd_tree, library_path, photos):
    os.unlink(odd_tree["latin1"])
    report = json.loads(luna(library_path, "import", "--json", str(photos)).stdout)
    assert report["missing"] == 1
    assert luna(library_path, "find", "--missing", "-0").stdout == odd_tree["latin1"] + b"\0"


def test_name_glob_ignores_case_and_matches_names_on_their_bytes(odd_tree, library_path):
    every = luna(library_path, "find", "--name", "*.JPG", "-0").stdout.split(b"\0")[:-1]
    assert sorted(every) == sorted(odd_tree.values())  # the Latin-1 name too
    plain = luna(library_path, "find", "--name", "PLAIN.jpg", "-0").stdout
    assert plain == odd_tree["plain"] + b"\0"  # and nothing else
    latin1 = luna(library_path, "find", "--name", fs(b"PH\xf6TO*"), "-0").stdout
    assert latin1 == odd_tree["latin1"] + b"\0"
    assert luna(library_path, "find", "--name", "*.png", "--count").stdout == b"0\n"
