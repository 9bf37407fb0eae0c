"""Unreadable is not missing: files luna cannot look at (no permission, an I/O error, a
disk not mounted) keep their rows as they are, are never marked missing, and are never
offered to `luna prune`, so their tags and albums are there when the disk comes back."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import library_execute, library_rows, make_photo, run_luna_as_owner

from luna.files import presence


def _photos(folder: Path, *names: str) -> list[Path]:
    return [make_photo(folder / n, color=(20 * i, 99, 9)) for i, n in enumerate(names)]


def _missing_count(library: Path) -> int:
    return library_rows(library, "SELECT COUNT(*) FROM file WHERE missing_since IS NOT NULL")[0][0]


@pytest.fixture
def disk(tmp_path):
    """A small disk mounted at tmp/mnt (tmpfs); unmount() leaves the empty mount point."""
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("cannot mount a file system here")

    class Disk:
        path = mount_point

        @staticmethod
        def unmount():
            subprocess.run(["umount", str(mount_point)], check=True)

    yield Disk
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


# -- permissions -------------------------------------------------------------------------------


def test_an_unreadable_folder_is_not_marked_missing_nor_offered_to_prune(tmp_path, library_path):
    root = tmp_path / "photos"
    _photos(root / "locked", "a.jpg", "b.jpg")
    _photos(root / "open", "c.jpg")
    done = run_luna_as_owner("-L", library_path, "import", root)
    assert done.returncode == 0, done.stderr
    (root / "locked").chmod(0o000)
    try:
        again = run_luna_as_owner("-L", library_path, "import", root, "--json")
        report = json.loads(again.stdout)
        assert again.returncode == 3  # a folder that cannot be listed is reported
        assert (report["missing"], report["unavailable"]) == (0, 2)
        assert all(f["reason"].startswith("permission denied") for f in report["unavailable_files"])
        assert _missing_count(library_path) == 0
        verify = run_luna_as_owner("-L", library_path, "verify", "--json")
        problems = {p["path"]: p["problem"] for p in json.loads(verify.stdout)["problems"]}
        assert set(problems.values()) == {"unreadable"} and len(problems) == 2
        prune = run_luna_as_owner("-L", library_path, "prune", "--dry-run", "--json")
        assert json.loads(prune.stdout)["files"] == []
        assert _missing_count(library_path) == 0
    finally:
        (root / "locked").chmod(0o755)
    assert len(list((root / "locked").iterdir())) == 2


def test_a_copy_elsewhere_does_not_take_the_row_of_an_unreadable_original(tmp_path, library_path):
    original = _photos(tmp_path / "photos" / "locked", "a.jpg")[0]
    assert run_luna_as_owner("-L", library_path, "import", tmp_path / "photos").returncode == 0
    assert run_luna_as_owner("-L", library_path, "tag", "add", "kept", original).returncode == 0
    copy = tmp_path / "elsewhere" / "a-copy.jpg"
    copy.parent.mkdir()
    copy.write_bytes(original.read_bytes())
    original.parent.chmod(0o000)
    try:
        done = run_luna_as_owner("-L", library_path, "import", copy.parent, "--json")
        assert json.loads(done.stdout)["moved"] == 0, done.stderr
    finally:
        original.parent.chmod(0o755)
    paths = {p for (p,) in library_rows(library_path, "SELECT path FROM file")}
    assert paths == {str(original), str(copy)}


# -- a disk that is not mounted ----------------------------------------------------------------


def test_an_unmounted_disk_marks_nothing_missing_until_accepted(disk, library_path, cli, cli_json):
    _photos(disk.path / "2019", "a.jpg", "b.jpg")
    _photos(disk.path, "top.jpg")
    assert cli("import", disk.path)[0] == 0
    assert cli("tag", "add", "trip", disk.path)[0] == 0
    disk.unmount()
    code, report, err = cli_json("import", disk.path)
    assert code == 3
    assert "is the disk mounted?" in err
    assert report["missing"] == 0 and report["vanished_roots"] == [
        {"path": str(disk.path), "files": 1}
    ]
    assert report["unavailable"] == 2  # 2019/ vanished, leaving an empty folder
    assert _missing_count(library_path) == 0
    code, out, _ = cli("find", "--tag", "trip", "--count")
    assert out.strip() == "3"
    # Asked to, luna believes it.
    code, report, err = cli_json("import", disk.path, "--accept-vanished")
    assert code == 0, err
    assert report["missing"] == 3 and _missing_count(library_path) == 3


def test_verify_and_prune_keep_the_files_of_an_unmounted_disk(disk, library_path, cli, cli_json):
    _photos(disk.path / "DCIM", "a.jpg", "b.jpg")
    assert cli("import", disk.path)[0] == 0
    disk.unmount()
    code, report, _ = cli_json("verify")
    assert (report["missing"], report["unreadable"]) == (0, 2)
    assert all("is the disk mounted?" in p["detail"] for p in report["problems"])
    # Marked missing by an older luna: prune still keeps them while the disk is away.
    library_execute(library_path, "UPDATE file SET missing_since = '2026-01-01 00:00:00'")
    code, plan, err = cli_json("prune", "--dry-run")
    assert plan["files"] == [] and len(plan["unavailable"]) == 2
    assert "unavailable, not gone" in err
    code, _, _ = cli("prune", "--yes")
    assert _missing_count(library_path) == 2


def test_a_folder_really_deleted_is_still_marked_missing(tmp_path, library_path, cli, cli_json):
    root = tmp_path / "photos"
    _photos(root / "keep", "a.jpg")
    _photos(root / "trash", "b.jpg", "c.jpg")
    assert cli("import", root)[0] == 0
    for photo in (root / "trash").iterdir():
        photo.unlink()
    (root / "trash").rmdir()
    code, report, err = cli_json("import", root)
    assert code == 0, err
    assert report["missing"] == 2 and report["unavailable"] == 0


# -- the judgement itself -----------------------------------------------------------------------


def test_presence_tells_gone_from_out_of_reach(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "other.jpg").write_bytes(b"x")
    assert presence.presence(str(folder / "other.jpg")).state == presence.PRESENT
    assert presence.presence(str(folder / "deleted.jpg")).gone
    empty = tmp_path / "mountpoint"
    empty.mkdir()
    unmounted = presence.presence(str(empty / "DCIM" / "a.jpg"))
    assert unmounted.state == presence.UNAVAILABLE and "is empty" in unmounted.reason
    deeper = presence.presence(str(empty / "DCIM" / "100CANON" / "a.jpg"))
    assert deeper.state == presence.UNAVAILABLE and "is empty" in deeper.reason
    trusting = presence.Lookout(trust_empty_folders=True)
    assert trusting.presence(str(empty / "DCIM" / "a.jpg")).gone
    # A folder deleted from a folder that holds other things is gone.
    assert presence.presence(str(folder / "deleted-folder" / "a.jpg")).gone
    assert presence.presence(str(folder / "deleted-folder" / "2019" / "a.jpg")).gone
