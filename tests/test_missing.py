"""Missing and moved files: `luna missing`, `luna relink`, `luna prune`.

What a person notices after years: a disk that moved keeps its tags, albums and events once
relinked; files that are really gone leave the library only when asked, after being shown
what goes with them; and none of it touches a single file on disk."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import library_exists, make_photo

MISSING_KEYS = {
    "id",
    "path",
    "filename",
    "kind",
    "size_bytes",
    "content_sha",
    "missing_since",
    "tags",
    "albums",
    "events",
}
RELINK_KEYS = {
    "version",
    "old",
    "new",
    "verify",
    "dry_run",
    "matched",
    "relinked",
    "merged",
    "not_relinked",
    "problems",
}
NAMES = ("2019/a.jpg", "2019/b.jpg", "2020/c.jpg")


@pytest.fixture
def disk(tmp_path, cli) -> Path:
    """An imported folder of three photos, as on an external disk; a.jpg is tagged "beach",
    in the album "Holidays" and the event "Paris trip"."""
    root = tmp_path / "disk-a" / "Photos"
    for i, name in enumerate(NAMES):
        make_photo(root / name, color=(60 * i, 100, 200 - 40 * i))
    assert cli("import", root)[0] == 0
    a = root / "2019" / "a.jpg"
    assert cli("tag", "add", "beach", a)[0] == 0
    assert cli("album", "create", "Holidays")[0] == 0
    assert cli("album", "add", "Holidays", a)[0] == 0
    assert cli("event", "create", "Paris trip", "--start", "2019-06-01")[0] == 0
    assert cli("event", "add", "Paris trip", a)[0] == 0
    return root


def records(cli) -> dict[str, dict]:
    """Every library file's record (luna show --json), by id."""
    code, out, err = cli("find", "--json", "--missing")
    missing = json.loads(out)["files"] if code == 0 else []
    code, out, err = cli("find", "--json")
    assert code == 0, err
    ids = [f["id"] for f in json.loads(out)["files"] + missing]
    if not ids:
        return {}
    code, out, err = cli("show", "--json", *ids)
    assert code == 0, err
    return {r["id"]: r for r in json.loads(out)["files"]}


def by_name(cli) -> dict[str, dict]:
    return {r["filename"]: r for r in records(cli).values()}


def snapshot(folder: Path) -> dict:
    """Every file below `folder`: size, mtime and content, to show nothing was touched."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            st = path.stat()
            out[str(path.relative_to(folder))] = (
                st.st_size,
                st.st_mtime_ns,
                hashlib.sha256(path.read_bytes()).hexdigest(),
            )
    return out


def one_error_line(err: str) -> bool:
    return err.startswith("Error: ") and err.count("\n") == 1


# -- luna missing ----------------------------------------------------------------------------


def test_a_vanished_file_is_listed_as_paths_nul_json_jsonl_and_csv(disk, cli):
    b = disk / "2019" / "b.jpg"
    b.unlink()
    assert cli("import", disk)[0] == 0
    code, out, err = cli("missing")  # stdout is not a terminal: paths
    assert (code, out) == (0, f"{b}\n")
    assert cli("missing", "--paths")[1] == f"{b}\n"
    assert cli("missing", "-0")[1] == f"{b}\0"
    code, out, _ = cli("missing", "--json")
    doc = json.loads(out)
    assert (doc["version"], doc["count"]) == (1, 1)
    (record,) = doc["files"]
    assert set(record) == MISSING_KEYS
    assert record["path"] == str(b) and record["filename"] == "b.jpg"
    assert record["missing_since"].endswith("Z") and record["tags"] == []
    lines = cli("missing", "--jsonl")[1].splitlines()
    assert [json.loads(line)["path"] for line in lines] == [str(b)]
    csv_lines = cli("missing", "--csv")[1].splitlines()
    assert csv_lines[0].startswith("id,path,filename,kind,size_bytes,content_sha,missing_since")
    assert str(b) in csv_lines[1] and len(csv_lines) == 2


def test_missing_shows_what_a_missing_file_carries_and_filters_by_folder(disk, cli):
    a = disk / "2019" / "a.jpg"
    c = disk / "2020" / "c.jpg"
    a.unlink()
    c.unlink()
    cli("import", disk)
    files = json.loads(cli("missing", "--json")[1])["files"]
    assert [f["path"] for f in files] == [str(a), str(c)]  # ordered by path
    assert (files[0]["tags"], files[0]["albums"], files[0]["events"]) == (
        ["beach"],
        ["Holidays"],
        ["Paris trip"],
    )
    assert cli("missing", "--under", disk / "2020")[1] == f"{c}\n"
    assert cli("missing", "--under", str(disk / "2020") + "/")[1] == f"{c}\n"
    assert cli("missing", "--under", disk / "20")[1] == ""  # a folder, not a text prefix


def test_nothing_missing_is_not_an_error(disk, cli):
    assert cli("missing") == (0, "", "")
    code, out, _ = cli("missing", "--json")
    assert code == 0 and json.loads(out) == {"version": 1, "count": 0, "files": []}


# -- luna relink -------------------------------------------------------------------------------


def test_relink_a_moved_disk_keeps_ids_tags_albums_and_events(disk, tmp_path, cli):
    before = records(cli)
    new = tmp_path / "mnt" / "photos"
    new.parent.mkdir()
    os.rename(disk, new)
    # Every file under the folder vanished at once: luna takes it for a disk not mounted
    # and marks nothing, until told they are really gone.
    code, _, err = cli("import", disk.parent)
    assert code == 3 and "is the disk mounted?" in err
    assert cli("missing")[1] == ""
    assert cli("import", disk.parent, "--accept-vanished")[0] == 0
    assert len(cli("missing")[1].splitlines()) == 3
    on_disk = snapshot(tmp_path / "mnt")

    code, out, err = cli("relink", str(disk) + "/", str(new) + "/")  # trailing "/" is fine
    assert (code, out) == (0, "")
    assert err.strip() == "Relinked 3 files"

    after = records(cli)
    assert set(after) == set(before)  # the same ids: scripts holding them still work
    for file_id, record in after.items():
        old_path = before[file_id]["path"]
        assert record["path"] == str(new / Path(old_path).relative_to(disk))
        assert record["missing_since"] is None
        for key in ("tags", "albums", "events", "content_sha", "start"):
            assert record[key] == before[file_id][key], key
    a = by_name(cli)["a.jpg"]
    assert (a["tags"], [x["name"] for x in a["albums"]], [e["name"] for e in a["events"]]) == (
        ["beach"],
        ["Holidays"],
        ["Paris trip"],
    )
    assert cli("find", "--tag", "beach")[1] == f"{new / '2019' / 'a.jpg'}\n"
    assert cli("missing")[1] == ""
    assert snapshot(tmp_path / "mnt") == on_disk  # no file was touched
    # The next import of the new place finds every file unchanged: nothing to read.
    report = json.loads(cli("import", "--json", new)[1])
    assert (report["unchanged"], report["added"], report["files_read"]) == (3, 0, 0)


def test_relink_works_before_any_import_noticed_the_move(disk, tmp_path, cli):
    new = tmp_path / "new-computer"
    os.rename(disk, new)  # a remount: the library still thinks the files are there
    code, _, err = cli("relink", disk, new)
    assert code == 0, err
    assert sorted(r["path"] for r in records(cli).values()) == [str(new / n) for n in NAMES]


def test_verify_catches_same_size_other_content(disk, tmp_path, cli):
    new = tmp_path / "new"
    os.rename(disk, new)
    c = new / "2020" / "c.jpg"
    data = bytearray(c.read_bytes())
    data[-10] ^= 0xFF  # bit rot, or another photo of exactly the same size
    c.write_bytes(bytes(data))
    code, out, err = cli("relink", "--verify", "--json", disk, new)
    assert code == 3, err
    report = json.loads(out)
    assert set(report) == RELINK_KEYS
    assert (report["matched"], report["relinked"], report["not_relinked"]) == (3, 2, 1)
    (problem,) = report["problems"]
    assert set(problem) == {"id", "path", "new_path", "reason", "detail"}
    assert problem["reason"] == "content differs" and problem["new_path"] == str(c)
    assert f"not relinked: {c}: content differs" in err
    assert "Relinked 2 files; 1 content differs" in err
    paths = {r["filename"]: r["path"] for r in records(cli).values()}
    assert paths["c.jpg"] == str(disk / "2020" / "c.jpg")  # its row is left as it was
    assert paths["a.jpg"] == str(new / "2019" / "a.jpg")


def test_verify_marks_the_files_it_read_as_verified(disk, tmp_path, cli, lib):
    from luna.ops import missing

    new = tmp_path / "new"
    os.rename(disk, new)
    lib.db.execute_sql("UPDATE file SET verified_at = NULL")
    report = missing.relink(lib, str(disk), str(new), verify=True)
    assert (report.relinked, report.problems) == (3, [])
    unverified = lib.db.execute_sql("SELECT COUNT(*) FROM file WHERE verified_at IS NULL")
    assert unverified.fetchone()[0] == 0


def test_files_missing_or_changed_at_the_new_place_are_reported(disk, tmp_path, cli):
    new = tmp_path / "new"
    shutil.copytree(disk, new)
    (new / "2019" / "b.jpg").unlink()
    with open(new / "2020" / "c.jpg", "ab") as f:
        f.write(b"more")
    code, out, err = cli("relink", disk, new)
    assert (code, out) == (3, "")
    assert f"not relinked: {new / '2019' / 'b.jpg'}: not found" in err
    assert f"not relinked: {new / '2020' / 'c.jpg'}: size differs" in err
    assert f"Relinked 1 file; 1 not found under {new}; 1 size differs" in err
    paths = sorted(r["path"] for r in records(cli).values())
    assert paths == [
        str(disk / "2019" / "b.jpg"),
        str(disk / "2020" / "c.jpg"),
        str(new / NAMES[0]),
    ]
    # Once the files are in place, running the same command finishes the job.
    shutil.copy2(disk / "2019" / "b.jpg", new / "2019" / "b.jpg")
    shutil.copy2(disk / "2020" / "c.jpg", new / "2020" / "c.jpg")
    code, _, err = cli("relink", disk, new)
    assert code == 0 and err.strip() == "Relinked 2 files"
    code, _, err = cli("relink", disk, new)
    assert code == 1 and one_error_line(err) and "no library files under" in err


def test_a_copy_without_kept_mtimes_is_read_again_by_the_next_import(disk, tmp_path, cli):
    new = tmp_path / "new"
    shutil.copytree(disk, new, copy_function=shutil.copyfile)  # new mtimes
    for path in new.rglob("*.jpg"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    assert cli("relink", disk, new)[0] == 0
    # Only the size was checked, so the import reads each file once to be sure.
    report = json.loads(cli("import", "--json", new)[1])
    assert (report["files_read"], report["updated"], report["added"]) == (3, 3, 0)
    assert by_name(cli)["a.jpg"]["tags"] == ["beach"]


def test_a_new_place_imported_first_is_merged_into_the_old_records(disk, tmp_path, cli):
    before = records(cli)
    new = tmp_path / "copy"
    shutil.copytree(disk, new)  # the old disk is still there, so these are new records
    assert json.loads(cli("import", "--json", new)[1])["added"] == 3
    assert cli("tag", "add", "fresh", new / "2019" / "a.jpg", new / "2020" / "c.jpg")[0] == 0
    assert cli("album", "create", "Later")[0] == 0
    assert cli("album", "add", "Later", new / "2020" / "c.jpg")[0] == 0
    assert len(records(cli)) == 6

    code, out, err = cli("relink", disk, new)
    assert (code, out) == (0, "")
    assert err.strip() == "Relinked 3 files (3 merged with records already at the new place)"
    after = records(cli)
    assert set(after) == set(before)  # one record per file: the older one, same id
    files = {r["filename"]: r for r in after.values()}
    assert files["a.jpg"]["tags"] == ["beach", "fresh"]
    assert [x["name"] for x in files["a.jpg"]["albums"]] == ["Holidays"]
    assert [e["name"] for e in files["a.jpg"]["events"]] == ["Paris trip"]
    assert files["c.jpg"]["tags"] == ["fresh"]
    assert [x["name"] for x in files["c.jpg"]["albums"]] == ["Later"]
    assert all(r["path"].startswith(str(new) + "/") for r in after.values())


def test_a_different_file_already_recorded_at_the_new_path_is_a_conflict(disk, tmp_path, cli):
    new = tmp_path / "new"
    shutil.copytree(disk, new)
    b = new / "2019" / "b.jpg"
    data = bytearray(b.read_bytes())
    data[-10] ^= 0xFF  # another file of the same size: only the records tell them apart
    b.write_bytes(bytes(data))
    assert json.loads(cli("import", "--json", b)[1])["added"] == 1
    count = len(records(cli))
    code, _, err = cli("relink", disk, new)
    assert code == 3
    assert f"not relinked: {b}: already in the library" in err
    assert "Relinked 2 files; 1 already in the library" in err
    assert len(records(cli)) == count  # both records stay
    paths = {r["path"] for r in records(cli).values()}
    assert {str(disk / "2019" / "b.jpg"), str(b)} <= paths


def test_dry_run_changes_nothing(disk, tmp_path, cli):
    new = tmp_path / "new"
    os.rename(disk, new)
    before = records(cli)
    code, out, err = cli("relink", "--dry-run", "--json", disk, new)
    assert code == 0 and err.strip() == "Would relink 3 files"
    assert json.loads(out)["dry_run"] is True and json.loads(out)["relinked"] == 3
    assert records(cli) == before


@pytest.mark.parametrize(
    "old, new",
    [
        ("{disk}", "{disk}"),
        ("{disk}", "{disk}/2019"),
        ("{disk}/2019", "{disk}"),
        ("{disk}", "{disk}/../Photos/"),
    ],
)
def test_nested_or_equal_folders_are_refused(disk, cli, old, new):
    before = records(cli)
    code, out, err = cli("relink", old.format(disk=disk), new.format(disk=disk))
    assert (code, out) == (1, "")
    assert one_error_line(err), err
    assert "same folder" in err or "inside one another" in err
    assert records(cli) == before


def test_bad_relink_arguments_are_one_line_errors(disk, tmp_path, cli):
    code, _, err = cli("relink", disk, tmp_path / "nowhere")
    assert code == 1 and one_error_line(err) and "no such folder" in err
    (tmp_path / "a-file").write_bytes(b"x")
    code, _, err = cli("relink", disk, tmp_path / "a-file")
    assert code == 1 and one_error_line(err) and "not a folder" in err
    (tmp_path / "empty").mkdir()
    code, _, err = cli("relink", tmp_path / "elsewhere", tmp_path / "empty")
    assert code == 1 and one_error_line(err) and "no library files under" in err
    assert cli("relink", disk)[0] == 2  # NEW_PREFIX is required


def test_missing_without_a_library_says_so(cli, library_path):
    # Not "nothing missing": a mistyped --library must not look like a healthy library.
    code, out, err = cli("missing")
    assert code == 1 and out == "" and one_error_line(err) and "no library at" in err
    assert not library_exists(library_path)


def test_relink_needs_an_existing_library(tmp_path, cli, library_path):
    code, _, err = cli("relink", tmp_path / "a", tmp_path)
    assert code == 1 and one_error_line(err) and "no library" in err
    assert not library_exists(library_path)


# -- luna prune --------------------------------------------------------------------------------


def test_prune_asks_and_needs_yes_when_stdin_is_not_a_terminal(disk, cli):
    (disk / "2019" / "a.jpg").unlink()
    cli("import", disk)
    code, out, err = cli("prune")
    assert (code, out) == (1, "")
    assert "Will remove 1 missing file from the library, 1 with tags, albums or events:" in err
    assert f"{disk / '2019' / 'a.jpg'}: tag beach; album Holidays; event Paris trip" in err
    assert err.splitlines()[-1].startswith("Error: refusing to delete") and "--yes" in err
    assert len(records(cli)) == 3  # nothing removed


def test_prune_removes_only_missing_files_and_says_what_they_carried(disk, cli):
    on_disk = snapshot(disk)
    (disk / "2019" / "a.jpg").unlink()
    (disk / "2020" / "c.jpg").unlink()
    cli("import", disk)
    code, out, err = cli("prune", "--yes", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert set(report) == {"version", "dry_run", "removed", "files", "reappeared", "not_missing",
                           "unavailable"}  # fmt: skip
    assert (report["version"], report["removed"], report["dry_run"]) == (1, 2, False)
    a, c = report["files"]
    assert set(a) == MISSING_KEYS
    assert (a["filename"], a["tags"], a["albums"], a["events"]) == (
        "a.jpg",
        ["beach"],
        ["Holidays"],
        ["Paris trip"],
    )
    assert (c["filename"], c["tags"]) == ("c.jpg", [])
    assert "Removed 2 missing files from the library" in err
    assert [r["filename"] for r in records(cli).values()] == ["b.jpg"]
    assert cli("missing")[1] == ""
    # The album, the event and the tag stay (empty now); b.jpg was never touched.
    albums = json.loads(cli("album", "list", "--json")[1])["albums"]
    assert [(x["name"], x["files"]) for x in albums] == [("Holidays", 0)]
    events = json.loads(cli("event", "list", "--json")[1])["events"]
    assert [(e["name"], e["files"]) for e in events] == [("Paris trip", 0)]
    assert json.loads(cli("tag", "list", "--json")[1])["tags"][0]["name"] == "beach"
    assert snapshot(disk) == {"2019/b.jpg": on_disk["2019/b.jpg"]}


def test_prune_dry_run_removes_nothing(disk, cli):
    (disk / "2020" / "c.jpg").unlink()
    cli("import", disk)
    code, out, err = cli("prune", "--dry-run", "--json")
    assert code == 0 and "Would remove 1 missing file from the library." in err
    assert json.loads(out)["files"][0]["filename"] == "c.jpg"
    assert len(records(cli)) == 3


def test_prune_with_nothing_missing_asks_nothing(disk, cli):
    code, out, err = cli("prune")
    assert (code, out) == (0, "") and "nothing to prune" in err


def test_a_file_that_came_back_is_not_pruned(disk, cli):
    a = disk / "2019" / "a.jpg"
    data = a.read_bytes()
    a.unlink()
    cli("import", disk)
    assert cli("missing")[1] == f"{a}\n"
    a.write_bytes(data)  # the disk was mounted again, say
    code, out, err = cli("prune", "--yes", "--json")
    assert code == 0
    assert json.loads(out)["removed"] == 0
    assert f"kept {a}: it is there again" in err
    assert by_name(cli)["a.jpg"]["tags"] == ["beach"]


def test_prune_named_files_only_and_never_a_present_one(disk, cli):
    a, b, c = (disk / n for n in NAMES)
    a.unlink()
    c.unlink()
    cli("import", disk)
    code, out, err = cli("prune", "--yes", "--json", c, b)
    assert code == 0, err
    report = json.loads(out)
    assert [f["filename"] for f in report["files"]] == ["c.jpg"]
    assert [x["path"] for x in report["not_missing"]] == [str(b)]
    assert "1 named file is not missing" in err
    assert sorted(r["filename"] for r in records(cli).values()) == ["a.jpg", "b.jpg"]
    # A folder names every library file in it, missing or not: only missing ones go.
    code, _, err = cli("prune", "--yes", disk / "2019")
    assert code == 0 and "Removed 1 missing file" in err
    assert [r["filename"] for r in records(cli).values()] == ["b.jpg"]
    code, _, err = cli("prune", "--yes", disk / "nope.jpg")
    assert code == 1 and one_error_line(err) and "not in the library" in err


# -- from Python -------------------------------------------------------------------------------


def test_the_python_api(disk, tmp_path, lib):
    from luna.ops import missing

    new = tmp_path / "new"
    os.rename(disk, new)
    assert missing.missing_files(lib) == []  # nobody noticed yet
    report = missing.relink(lib, str(disk), str(new))
    assert (report.matched, report.relinked, report.exit_status) == (3, 3, 0)
    (new / "2019" / "b.jpg").unlink()
    lib.import_paths([new])
    (gone,) = missing.missing_files(lib, str(new / "2019"))
    assert gone["path"] == str(new / "2019" / "b.jpg")
    assert missing.prune(lib, dry_run=True).removed == 1
    done = missing.prune(lib)
    assert [f["id"] for f in done.files] == [gone["id"]]
    assert missing.missing_files(lib) == []


# -- names that are not UTF-8 --------------------------------------------------------------------

RUN_LUNA = "from luna.cli.app import main; main()"
LATIN1 = b"caf\xe9"


def luna(library: Path, *args) -> subprocess.CompletedProcess:
    """The real luna process (these commands registered), so stdout is checked byte for byte."""
    return subprocess.run(
        [sys.executable, "-c", RUN_LUNA, "-L", str(library), *args],
        capture_output=True,
        timeout=120,
    )


def test_names_that_are_not_utf8_survive_missing_and_relink(tmp_path, library_path):
    old = os.fsencode(tmp_path) + b"/old/" + LATIN1
    photo = old + b"/ph\xf6to.jpg"
    make_photo(Path(os.fsdecode(photo)))
    assert luna(library_path, "import", tmp_path / "old").returncode == 0
    assert luna(library_path, "tag", "add", "kept", os.fsdecode(photo)).returncode == 0
    new_parent = os.fsencode(tmp_path) + b"/new"
    os.mkdir(new_parent)
    os.rename(old, new_parent + b"/" + LATIN1)
    assert luna(library_path, "import", tmp_path / "old", "--accept-vanished").returncode == 0

    listed = luna(library_path, "missing", "-0")
    assert listed.stdout == photo + b"\0"
    doc = json.loads(luna(library_path, "missing", "--json").stdout.decode("utf-8"))
    assert (
        doc["files"][0]["path"].endswith("caf\\xe9/ph\\xf6to.jpg") and doc["files"][0]["path_b64"]
    )

    # Relinking a folder whose own name is not UTF-8, given as bytes on the command line.
    done = luna(library_path, "relink", old, new_parent + b"/" + LATIN1)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b"Relinked 1 file\n"
    moved = new_parent + b"/" + LATIN1 + b"/ph\xf6to.jpg"
    assert luna(library_path, "find", "--tag", "kept", "-0").stdout == moved + b"\0"
    assert luna(library_path, "missing", "-0").stdout == b""
