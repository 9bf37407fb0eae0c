"""The Python API as the README shows it: its three scripts run as written, against a
library of generated photos, and do what they say (and nothing else); and the results of
`Library` calls share one base with the CLI's JSON."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_photo, run_json

from luna.errors import ExitStatus
from luna.results import JSON_VERSION, Result

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_scripts() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


SCRIPTS = _readme_scripts()


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=os.environ
    )


@pytest.fixture
def library(tmp_path):
    """Two cameras, two years; imported into $LUNA_LIBRARY (set by conftest)."""
    from luna import Library

    photos = tmp_path / "photos"
    photos.mkdir()
    shots = [
        ("fuji_2019.jpg", "FUJIFILM", "X100V", "2019:06:01 10:00:00", (48.8566, 2.3522)),
        ("fuji_2020.jpg", "FUJIFILM", "X100V", "2020:02:03 11:00:00", None),
        ("canon_2019.jpg", "Canon", "Canon EOS 5D", "2019:12:31 23:00:00", None),
        ("canon_2018.jpg", "Canon", "Canon EOS 5D", "2018:07:14 09:00:00", None),
    ]
    for name, make, model, taken, gps in shots:
        make_photo(photos / name, make=make, model=model, taken=taken, gps=gps)
    with Library.open() as lib:
        assert lib.import_paths([str(photos)]).added == 4
        lib.tags.add("summer", [str(photos / "fuji_2019.jpg")])
    return photos


def test_the_readme_shows_three_scripts():
    assert len(SCRIPTS) == 3


def test_tagging_every_photo_from_one_camera(library):
    done = _run(SCRIPTS[0])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "tagged 2 of 2 photos\n"
    code, doc, _ = run_json("find", "--tag", "fujifilm")
    assert sorted(Path(f["path"]).name for f in doc["files"]) == ["fuji_2019.jpg", "fuji_2020.jpg"]
    # The Canon photos are left alone.
    code, doc, _ = run_json("find", "--camera", "canon", "--tag", "fujifilm")
    assert doc["files"] == []


def test_exporting_a_year_as_csv(library):
    done = _run(SCRIPTS[1])
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["taken", "path", "latitude", "longitude", "tags"]
    names = [Path(row[1]).name for row in rows[1:]]
    assert names == ["fuji_2019.jpg", "canon_2019.jpg"]  # by date; 2018 and 2020 stay out
    paris = rows[1]
    assert paris[0].startswith("2019-06-01T10:00:00")
    assert float(paris[2]) == pytest.approx(48.8566, abs=1e-4)
    assert paris[4] == "summer"


def test_relinking_after_a_move(library, tmp_path):
    moved = tmp_path / "new-disk" / "photos"
    moved.parent.mkdir()
    shutil.move(library, moved)
    done = _run(SCRIPTS[2], str(library), str(moved))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "relinked 4 of 4 files\n"
    code, doc, _ = run_json("find", "--tag", "summer")
    assert [f["path"] for f in doc["files"]] == [str(moved / "fuji_2019.jpg")]
    assert all(p.exists() for p in moved.iterdir())  # relink never touches the files


def test_relinking_reports_a_changed_file_and_exits_3(library, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(library, moved)
    (moved / "canon_2018.jpg").write_bytes(b"not the same photo")
    done = _run(SCRIPTS[2], str(library), str(moved))
    assert done.returncode == ExitStatus.PARTIAL
    assert "not relinked:" in done.stderr and "canon_2018.jpg" in done.stderr
    assert done.stdout == "relinked 3 of 4 files\n"
    assert (library / "canon_2018.jpg").exists()


def test_results_share_one_base_and_the_cli_json_envelope(library):
    from luna import Library, Query

    with Library.open() as lib:
        results = {
            "verify": lib.verify(),
            "dupes": lib.dupes(),
            "tags": lib.tags.list(),
            "find": lib.find(Query(tags=["summer"])),
            "stats": lib.stats(),
            "missing": lib.missing(),
        }
    for command, result in results.items():
        assert isinstance(result, Result), command
        document = result.to_json()
        assert next(iter(document)) == "version" and document["version"] == JSON_VERSION
        assert result.exit_status == ExitStatus.OK, command
        code, printed, _ = run_json(command) if command not in ("tags", "find") else (0, None, "")
        if printed is not None:
            # The CLI prints the same document (timings aside).
            printed.pop("seconds", None)
            document.pop("seconds", None)
            assert printed == document, command
    assert [Path(h.path).name for h in results["find"]] == ["fuji_2019.jpg"]


def test_a_file_that_is_not_in_the_library_is_refused_by_name(library, tmp_path):
    from luna import Library
    from luna.errors import NotFound

    with Library.open() as lib:
        with pytest.raises(NotFound, match="nothing was changed"):
            lib.tags.add("x", [str(library / "fuji_2019.jpg"), str(tmp_path / "nope.jpg")])
        change = lib.tags.add("x", [str(tmp_path / "nope.jpg")], skip_missing=True)
        assert change.skipped == [str(tmp_path / "nope.jpg")] and change.changed == 0
        assert lib.tags.of(library / "fuji_2019.jpg").rows[0]["tags"] == [
            {"name": "summer", "source": "user"}
        ]


def test_failures_lists_the_broken_file_and_only_it(library):
    from luna import Library

    (library / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a whole JPEG")
    with Library.open() as lib:
        report = lib.import_paths([str(library)])
        failed = lib.failures()
    assert report.exit_status == ExitStatus.PARTIAL
    assert [row["path"] for row in report.problems] == [str(library / "broken.jpg")]
    assert [Path(row["path"]).name for row in failed] == ["broken.jpg"]
    assert failed.to_json()["count"] == 1 and failed.rows[0]["reason"]
