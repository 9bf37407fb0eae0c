"""`luna verify`: finding files whose content is no longer what the library recorded."""

from __future__ import annotations

import base64
import datetime as dt
import errno
import hashlib
import io
import json
import os
import shutil
import time
import types

import pytest
from conftest import library_exists, make_photo, run_cli, run_luna_as_owner

from luna.ingest.importer import ImportOptions
from luna.ops.verify import Interrupted, content_history, verify
from luna.values import duration


@pytest.fixture
def three(photos, lib):
    paths = [make_photo(photos / f"{n}.jpg", color=(i * 60, 10, 10)) for i, n in enumerate("abc")]
    assert lib.import_paths([photos]).added == 3
    return paths


def verify_json(*args):
    code, out, err = run_cli("verify", "--json", *args)
    assert out.strip(), f"no JSON on stdout (exit {code}): {err}"
    return code, json.loads(out), err


def row(lib, path) -> dict:
    cursor = lib.db.execute_sql(
        "SELECT id, content_sha, verified_at, missing_since FROM file WHERE path = ?",
        (str(path),),
    )
    return dict(zip(("id", "sha", "verified_at", "missing_since"), cursor.fetchone(), strict=True))


def set_verified_at(lib, path, when) -> None:
    from luna.store.rows import time_text

    value = time_text(when)
    lib.db.execute_sql("UPDATE file SET verified_at = ? WHERE path = ?", (value, str(path)))


def flip_a_byte(path) -> None:
    """Bit rot: one byte in the middle changes; size and modification time do not."""
    st = os.stat(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_clean_library_verifies_and_records_when(three, lib):
    for path in three:
        set_verified_at(lib, path, None)
    code, out, err = run_cli("verify")
    assert code == 0, err
    assert out == ""  # stdout carries data only
    assert err.startswith("Verified 3 files: 3 ok, 0 changed, 0 missing, 0 unreadable (")
    assert all(row(lib, p)["verified_at"] is not None for p in three)


def test_bit_rot_is_reported_and_the_file_is_left_alone(three, lib):
    path = three[1]
    flip_a_byte(path)
    damaged = path.read_bytes()
    mtime = os.stat(path).st_mtime_ns
    before = row(lib, path)
    code, out, err = run_cli("verify")
    assert code == 3 and out == ""
    assert f"changed: {path}: " in err and "possible bit rot" in err
    assert "1 changed" in err
    # luna reads, never writes: the bytes and the modification time are as they were.
    assert path.read_bytes() == damaged and os.stat(path).st_mtime_ns == mtime
    # The library still holds the good hash, and this file's last good check stays.
    assert row(lib, path)["sha"] == before["sha"]
    assert row(lib, path)["verified_at"] == before["verified_at"]
    code, report, _ = verify_json(str(path))
    assert code == 3
    [problem] = report["problems"]
    assert problem["problem"] == "changed"
    assert problem["expected_sha"] == before["sha"]
    assert problem["found_sha"] == sha256(path)
    assert "possible bit rot" in problem["detail"]
    assert problem["accepted"] is False


def test_an_edited_file_is_changed_without_the_bit_rot_hint(three, lib):
    path = three[0]
    make_photo(path, color=(1, 2, 3), taken="2020:01:01 00:00:00")
    os.utime(path, (time.time() + 10, time.time() + 10))
    code, report, err = verify_json()
    assert code == 3
    [problem] = report["problems"]
    assert (problem["problem"], problem["path"]) == ("changed", str(path))
    assert "bit rot" not in problem["detail"] and "edited" in problem["detail"]
    assert "bit rot" not in err


def test_accept_records_the_new_content_and_keeps_the_old_hash(three, lib, cli):
    path = three[2]
    old = row(lib, path)
    assert cli("tag", "add", "keeper", str(path))[0] == 0
    assert cli("album", "create", "Best")[0] == 0
    assert cli("album", "add", "Best", str(path))[0] == 0
    flip_a_byte(path)
    damaged = path.read_bytes()
    code, report, err = verify_json("--accept")
    assert code == 0, err  # an accepted change is no longer a problem
    assert (report["changed"], report["accepted"]) == (1, 1)
    assert report["problems"][0]["accepted"] is True
    assert report["problems"][0]["found_sha"] == sha256(path)
    assert path.read_bytes() == damaged  # accepting writes the library, not the file
    new = row(lib, path)
    assert new["id"] == old["id"] and new["sha"] == sha256(path) != old["sha"]
    [history] = content_history(lib, old["id"])
    assert history["content_sha"] == old["sha"] and history["reason"] == "verify --accept"
    rec = lib.serialize(lib.get_file(str(path)))
    assert rec["tags"] == ["keeper"] and [a["name"] for a in rec["albums"]] == ["Best"]
    assert cli("verify")[0] == 0
    assert content_history(lib, row(lib, three[0])["id"]) == []


def test_accept_keeps_the_files_owner(photos, lib):
    path = make_photo(photos / "a.jpg")
    lib.import_paths([photos], ImportOptions(owner="alice"))
    flip_a_byte(path)
    report = verify(lib, accept=True)
    assert (report.accepted, report.exit_status) == (1, 0)
    assert lib.serialize(lib.get_file(str(path)))["owner"] == "alice"


def test_accept_refuses_content_that_is_no_photo_any_more(three, lib):
    path = three[0]
    old = row(lib, path)
    path.write_bytes(b"\0" * 5000)  # zeroed out: no longer a JPEG
    report = verify(lib, accept=True)
    assert (report.changed, report.accepted, report.exit_status) == (1, 0, 3)
    assert "not accepted: damaged" in report.problems[0].detail
    assert row(lib, path)["sha"] == old["sha"]


def test_without_accept_a_change_is_reported_every_time(three, lib):
    flip_a_byte(three[0])
    assert verify(lib).changed == 1
    assert verify(lib).changed == 1
    assert content_history(lib, row(lib, three[0])["id"]) == []


def test_a_deleted_file_is_missing_and_found_again_when_back(three, lib, cli):
    path = three[0]
    content = path.read_bytes()
    path.unlink()
    code, out, err = run_cli("verify")
    assert code == 3 and out == ""
    assert f"missing: {path}" in err
    assert row(lib, path)["missing_since"] is not None
    code, listed, _ = cli("find", "--missing", "--paths")
    assert code == 0 and listed.split("\n")[:-1] == [str(path)]
    code, report, _ = verify_json()
    assert "missing since" in report["problems"][0]["detail"]
    path.write_bytes(content)  # restored from a backup
    assert cli("verify")[0] == 0
    assert row(lib, path)["missing_since"] is None


def test_a_file_that_cannot_be_read_is_unreadable(three, lib):
    path = three[0]
    path.chmod(0)
    try:
        done = run_luna_as_owner("verify", "--json")
    finally:
        path.chmod(0o644)
    report = json.loads(done.stdout)
    assert done.returncode == 3 and report["unreadable"] == 1
    assert report["problems"][0]["detail"] == "permission denied"
    assert f"unreadable: {path}: permission denied" in done.stderr


def test_permission_and_disk_errors_are_unreadable(three, lib, monkeypatch):
    """The same as chmod 000 and a failing disk, simulated so that root sees it too."""
    import luna.ops.verify as core

    real_open, real_fileio = os.open, io.FileIO
    denied, failing = str(three[0]), str(three[1])
    failing_inode = os.stat(failing).st_ino

    def fake_open(path, flags, *args):
        if path == denied:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args)

    class FailingDisk(real_fileio):
        def readinto(self, buffer):
            if os.fstat(self.fileno()).st_ino == failing_inode:
                raise OSError(errno.EIO, "Input/output error")
            return super().readinto(buffer)

    monkeypatch.setattr(core.os, "open", fake_open)
    monkeypatch.setattr(core, "io", types.SimpleNamespace(FileIO=FailingDisk))
    report = verify(lib)
    assert (report.ok, report.unreadable, report.exit_status) == (1, 2, 3)
    details = {p.path: p.detail for p in report.problems}
    assert details == {denied: "permission denied", failing: "read error: input/output error"}


def test_a_path_that_became_a_folder_is_unreadable(three, lib):
    path = three[0]
    path.unlink()
    path.mkdir()
    code, report, err = verify_json()
    assert code == 3
    assert (report["unreadable"], report["missing"], report["ok"]) == (1, 0, 2)
    assert report["problems"][0]["detail"] == "it is a folder now, not a file"
    assert f"unreadable: {path}: it is a folder now, not a file" in err


def test_older_than_checks_only_files_not_verified_for_that_long(three, lib):
    a, b, c = three
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    set_verified_at(lib, a, now - dt.timedelta(days=40))
    set_verified_at(lib, b, None)  # never checked (a library from before verify)
    code, report, _ = verify_json("--older-than", "30d")
    assert code == 0 and report["checked"] == 2
    assert row(lib, a)["verified_at"] > str(now - dt.timedelta(minutes=1))
    code, report, err = verify_json("--older-than", "30d")
    assert report["checked"] == 0 and "Verified 0 files (none unverified for 30d)" in err


def test_limit_takes_the_oldest_checks_first(three, lib):
    a, b, c = three
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    set_verified_at(lib, a, now - dt.timedelta(days=60))
    set_verified_at(lib, b, now - dt.timedelta(days=90))
    set_verified_at(lib, c, None)
    flip_a_byte(a)
    flip_a_byte(b)
    flip_a_byte(c)
    order = [verify(lib, older_than=dt.timedelta(days=30), limit=1).problems[0].path]
    code, report, _ = verify_json("--older-than", "2w", "--limit", "2")
    assert code == 3 and report["checked"] == 2
    order += [p["path"] for p in report["problems"]]
    # Never checked, then the longest unchecked; changed files stay due until fixed.
    assert order == [str(c), str(c), str(b)]


def test_file_arguments_restrict_the_check(three, lib, photos):
    a, b, c = three
    other = make_photo(photos / "more" / "d.jpg")
    lib.import_paths([other])
    flip_a_byte(a)
    code, report, _ = verify_json(str(b), str(photos / "more"))
    assert code == 0 and report["checked"] == 2
    code, report, _ = run_cli("verify", "--json", "--null-input", "-", input=f"{a}\0{c}\0")
    assert code == 3 and json.loads(report)["checked"] == 2
    code, out, err = run_cli("verify", str(photos / "nope.jpg"))
    assert code == 1 and out == "" and err.startswith("Error: not in the library")


def test_json_report_keys_are_pinned(three):
    flip_a_byte(three[0])
    _, report, _ = verify_json()
    assert list(report) == [
        "version",
        "checked",
        "ok",
        "changed",
        "missing",
        "unreadable",
        "accepted",
        "bytes_read",
        "problems",
        "seconds",
        "interrupted",
    ]
    assert report["version"] == 1 and report["interrupted"] is False
    assert report["bytes_read"] == sum(p.stat().st_size for p in three)
    assert list(report["problems"][0]) == [
        "id",
        "path",
        "problem",
        "expected_sha",
        "found_sha",
        "detail",
        "accepted",
    ]


@pytest.mark.parametrize("bad", ["30", "3x", "-1d", "d", "99999999999w"])
def test_a_bad_older_than_is_one_line_and_exit_2(three, bad):
    code, out, err = run_cli("verify", "--older-than", bad)
    assert code == 2 and out == ""
    assert err.startswith("Error: --older-than: ") and err.count("\n") == 1


def test_durations():
    assert duration("90m", "--older-than") == dt.timedelta(minutes=90)
    assert duration("12h", "--older-than") == dt.timedelta(hours=12)
    assert duration("30D", "--older-than") == dt.timedelta(days=30)
    assert duration("2w", "--older-than") == dt.timedelta(days=14)


def test_a_bad_limit_is_a_usage_error(three):
    code, out, _ = run_cli("verify", "--limit", "0")
    assert code == 2 and out == ""


def test_a_name_that_is_not_utf8_verifies(photos, lib):
    path = os.path.join(str(photos), os.fsdecode(b"caf\xe9.jpg"))
    shutil.copy(make_photo(photos / "x.jpg"), path)
    os.unlink(photos / "x.jpg")
    lib.import_paths([photos])
    code, out, err = run_cli("verify")
    assert code == 0 and out == "", err
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.seek(st.st_size // 2)
        byte = f.read(1)
        f.seek(st.st_size // 2)
        f.write(bytes([byte[0] ^ 1]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    code, report, err = verify_json()
    assert code == 3
    problem = report["problems"][0]
    assert problem["path"].endswith("caf\\xe9.jpg")
    assert base64.b64decode(problem["path_b64"]) == os.fsencode(path)
    assert "caf\\xe9.jpg: content changed" in err


def test_quiet_says_nothing_when_all_is_well(three):
    assert run_cli("verify", "--quiet") == (0, "", "")
    three[0].unlink()
    code, out, err = run_cli("verify", "--quiet")
    assert code == 3 and out == ""
    assert f"missing: {three[0]}" in err and "1 missing" in err


def test_an_interrupted_run_keeps_what_it_checked(three, lib):
    for path in three:
        set_verified_at(lib, path, None)

    class StopAfterTwo:
        done = 0

        def reading(self, files, total_bytes):
            assert files == 3

        def advance(self, nbytes):
            self.done += 1
            if self.done == 2:
                raise KeyboardInterrupt

        def finished(self):
            pass

    with pytest.raises(Interrupted) as caught:
        verify(lib, progress=StopAfterTwo())
    report = caught.value.report
    assert report.interrupted and report.exit_status == 130 and report.checked == 2
    verified = [row(lib, p)["verified_at"] is not None for p in three]
    assert verified == [True, True, False]


def test_ctrl_c_exits_130_with_the_report(three, monkeypatch):
    import luna.cli.progress

    class CtrlC:
        def reading(self, files, total_bytes):
            pass

        def advance(self, nbytes):
            raise KeyboardInterrupt

        def finished(self):
            pass

    monkeypatch.setattr(luna.cli.progress, "make_progress", lambda enabled: CtrlC())
    code, out, err = run_cli("verify", "--json")
    assert code == 130
    assert json.loads(out)["interrupted"] is True and json.loads(out)["checked"] == 1
    assert "Interrupted after verifying 1 file: 1 ok" in err


def test_sidecars_are_verified_too(photos, lib):
    make_photo(photos / "a.jpg")
    sidecar = photos / "a.jpg.xmp"
    sidecar.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'
    )
    lib.import_paths([photos])
    assert verify(lib).checked == 2
    sidecar.write_text("edited")
    report = verify(lib)
    assert [(p.problem, p.path) for p in report.problems] == [("changed", str(sidecar))]


def test_no_library_is_an_error_and_none_is_created(library_path):
    code, out, err = run_cli("verify")
    assert code == 1 and out == "" and err.startswith("Error: no library at")
    assert not library_exists(library_path)
