"""`luna import --takeout` (issue 19): a synthetic Google Photos Takeout in two zip parts,
with every naming case, comes in whole and right; the same from the extracted folders;
again, nothing new; killed mid-way, a re-run finishes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli, run_json
from takeout_maker import make_takeout


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("takeout-zips")
    expected = make_takeout(folder, zipped=True)
    return sorted(str(p) for p in folder.iterdir()), expected


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    folder = tmp_path_factory.mktemp("takeout-folders")
    expected = make_takeout(folder, zipped=False)
    return [str(folder)], expected


def imported(parts, into: Path, *extra) -> dict:
    code, report, err = run_json("import", "--takeout", *parts, "--into", str(into), *extra)
    assert code == 0, err
    return report


def library_files() -> dict[str, dict]:
    code, found, err = run_json("find")
    assert code == 0, err
    records = {}
    for record in found["files"]:
        assert record["filename"] not in records, f"{record['filename']} twice"
        records[record["filename"]] = record
    return records


def album_members(title: str) -> set[str]:
    code, out, err = run_cli("find", "--album", title, "--format", "{filename}")
    assert code == 0, err
    return set(out.split())


def check_library(expected, into: Path) -> None:
    files = library_files()
    assert set(files) == set(expected.photos)  # every photo and video once
    for name, (start, source, place) in expected.photos.items():
        record = files[name]
        assert record["start"].startswith(start), (name, record["start"])
        assert record["date_source"].split(":")[0] == source, (name, record["date_source"])
        got = (record["latitude"], record["longitude"])
        assert got == (place if place else (None, None)), name
        assert record["path"].startswith(str(into) + os.sep)
        assert record["tags"] == sorted(expected.tags.get(name, ())), name
        assert (record["flag"] == "pick") == (name in expected.picked), name
        assert record["description"] == expected.descriptions.get(name), name
    for title, members in expected.albums.items():
        assert album_members(title) == members
    code, albums, _ = run_json("album", "list")
    assert {a["name"] for a in albums["albums"]} == set(expected.albums)  # no year folder


def check_report(report: dict, expected) -> None:
    assert report["imported"] == len(expected.photos)
    assert report["media"] == 19  # each path once: the file in both parts once
    assert report["matched_json"] == 18
    assert _takeout_paths(report["without_json"]) == expected.without_json
    assert _takeout_paths(report["json_without_media"]) == expected.json_without_media
    assert sorted(report["albums"]) == sorted(expected.albums)
    assert report["failed"] == []


def _takeout_paths(reported: list[str]) -> set[str]:
    """The paths inside the Takeout of what the report names ("takeout-001.zip: Takeout/..."
    from a zip, "/tmp/.../Takeout/..." from a folder)."""
    return {"Takeout/" + path.replace(os.sep, "/").split("Takeout/", 1)[1] for path in reported}


def test_a_takeout_in_zip_parts_comes_in_whole_and_right(zips, tmp_path, library_path):
    parts, expected = zips
    into = tmp_path / "Photos"
    report = imported(parts, into)
    check_report(report, expected)
    assert report["repeated_in_parts"] == 1
    check_library(expected, into)
    assert not (into / ".luna-takeout").exists()  # the staging folder is gone
    for part in parts:
        assert os.path.getsize(part) > 0  # the parts are read, never changed

    again = imported(parts, into)  # idempotent
    assert again["imported"] == 0
    assert again["duplicates_collapsed"] == again["media"] - len(again["failed"])
    check_library(expected, into)


def test_the_extracted_folders_give_the_same_library(folders, tmp_path, library_path):
    parts, expected = folders
    into = tmp_path / "Photos"
    report = imported(parts, into)
    check_report(report, expected)
    check_library(expected, into)


def test_a_dry_run_writes_nothing(zips, tmp_path, library_path):
    parts, expected = zips
    into = tmp_path / "Photos"
    run_cli("import", str(tmp_path / "nothing-yet"))  # the library exists, empty
    code, out, err = run_cli("import", "--takeout", *parts, "--into", str(into), "--dry-run",
                             "--json")  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["dry_run"] and report["imported"] == len(expected.photos)
    assert not into.exists()
    assert run_json("find")[1]["count"] == 0


def test_the_report_names_what_could_not_be_matched(zips, tmp_path, library_path):
    parts, _ = zips
    code, out, err = run_cli("import", "--takeout", *parts, "--into", str(tmp_path / "P"))
    assert code == 0
    assert (
        "no JSON for: takeout-001.zip: Takeout/Google Photos/Photos from 2019/IMG_0011.jpg" in err
    )
    assert (
        "no photo for: takeout-001.zip: Takeout/Google Photos/Photos from 2019/IMG_0012.jpg.json"
        in err
    )
    assert "Imported 16 new files" in err


@pytest.mark.parametrize(
    ("crash", "status"), [("placed", -9), ("recorded", -9), ("placed:INT", 130)]
)
def test_killed_mid_way_a_rerun_finishes(zips, tmp_path, library_path, crash, status):
    """kill -9 after a file is put in place, or after it is recorded; Ctrl-C (exit 130)."""
    parts, expected = zips
    into = tmp_path / "Photos"
    command = [sys.executable, "-m", "luna", "-L", str(library_path), "import", "--takeout",
               *parts, "--into", str(into)]  # fmt: skip
    killed = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "LUNA_CRASH_AT": crash})  # fmt: skip
    assert killed.returncode == status, killed.stderr
    again = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    check_library(expected, into)
    assert not list(into.rglob(".luna-partial-*"))


def test_bad_parts_are_one_clear_line(tmp_path, library_path):
    bad = tmp_path / "takeout-001.zip"
    bad.write_bytes(b"not a zip")
    code, out, err = run_cli("import", "--takeout", str(bad), "--into", str(tmp_path / "P"))
    assert code != 0 and out == ""
    assert err.strip().count("\n") == 0 and "not a readable zip" in err
    code, _, err = run_cli("import", "--takeout", "--move", str(bad), "--into", str(tmp_path))
    assert code != 0 and "--takeout" in err


def test_a_staging_folder_luna_did_not_make_is_left_alone(zips, tmp_path, library_path):
    parts, _ = zips
    into = tmp_path / "Photos"
    mine = into / ".luna-takeout" / "notes.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("mine")
    code, _, err = run_cli("import", "--takeout", *parts, "--into", str(into))
    assert code != 0 and "was not made by luna" in err
    assert mine.read_text() == "mine"


def test_what_the_json_gave_survives_the_file_being_read_again(zips, tmp_path, library_path):
    parts, _ = zips
    into = tmp_path / "Photos"
    imported(parts, into)
    code, shown, _ = run_json("show", str(next(into.rglob("IMG_0003.jpg"))))
    assert shown["files"][0]["location"]["source"] == "takeout:geoData"
    photo = next(into.rglob("IMG_0003.jpg"))
    with photo.open("ab") as changed:  # another program rewrites the file (no GPS in it)
        changed.write(b"\0")
    assert run_cli("import", str(into))[0] == 0
    record = library_files()["IMG_0003.jpg"]
    assert (record["latitude"], record["longitude"]) == (48.8566, 2.3522)
    # and the date its JSON gave, not the file's mtime
    assert record["start"] == "2019-06-01T12:00:00+02:00", record["start"]
    assert record["date_source"] == "takeout:photoTakenTime"


def test_the_file_s_own_date_wins_over_the_json_s_once_it_has_one(zips, tmp_path, library_path):
    from conftest import make_photo

    parts, _ = zips
    into = tmp_path / "Photos"
    imported(parts, into)
    photo = next(into.rglob("IMG_0004.jpg"))
    make_photo(photo, taken="2020:02:02 20:20:20", color=(100, 0, 0))  # given a date since
    assert run_cli("import", str(into))[0] == 0
    record = library_files()["IMG_0004.jpg"]
    assert record["start"].startswith("2020-02-02T20:20:20"), record["start"]
    assert record["date_source"] == "exif:DateTimeOriginal"


def test_a_full_disk_stops_the_import_in_one_line_and_a_rerun_finishes(
    zips, tmp_path, library_path, monkeypatch
):
    import errno

    from luna.ops import takeout

    parts, expected = zips
    into = tmp_path / "Photos"
    real_copy_out, copied = takeout._copy_out, []

    def filling_up(parts_, member, path):
        if len(copied) >= 3:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        copied.append(path)
        return real_copy_out(parts_, member, path)

    with monkeypatch.context() as patched:  # only these two: the fixtures' own stay
        patched.setattr(takeout, "_copy_out", filling_up)
        patched.setattr(takeout, "STAGING_THREADS", 1)
        code, out, err = run_cli("import", "--takeout", *parts, "--into", str(into))
    assert code == 1 and out == "", err
    assert err.startswith("Error: no space left on the disk of") and err.count("\n") == 1
    assert not (into / ".luna-takeout").exists()  # its partial copies are gone
    for part in parts:
        assert os.path.getsize(part) > 0
    imported(parts, into)  # room again: the same command finishes
    check_library(expected, into)
