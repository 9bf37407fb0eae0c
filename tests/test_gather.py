"""`luna import --copy/--move` and `luna organize`: photos gathered into the library folder
by a template, with every source file always either where it was or verified at its
destination, and the library agreeing with the disk, whatever goes wrong."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import library_exists, library_rows, make_photo, run_luna_as_owner


def _snapshot(folder: Path) -> dict:
    return {
        os.fsencode(p): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def _json(cli, *args):
    code, out, err = cli(*args, "--json")
    assert out.strip(), f"exit {code}: {err}"
    return code, json.loads(out), err


def _library_paths(library: Path) -> set[str]:
    return {
        os.fsdecode(p) if isinstance(p, bytes) else p
        for (p,) in library_rows(library, "SELECT path FROM file WHERE missing_since IS NULL")
    }


def _files_under(folder: Path) -> set[str]:
    return {str(p) for p in folder.rglob("*") if p.is_file()}


def _agrees(library: Path, folder: Path) -> None:
    """Every library row in the folder is a file there, and every file there is a row."""
    inside = {p for p in _library_paths(library) if p.startswith(str(folder) + "/")}
    assert inside == _files_under(folder)


@pytest.fixture
def card(tmp_path: Path) -> Path:
    """A camera card: two dated photos (one with a sidecar), a Live Photo pair, and a
    screenshot with no date."""
    card = tmp_path / "card" / "DCIM" / "100CANON"
    card.mkdir(parents=True)
    make_photo(card / "IMG_0001.JPG", taken="2019:06:01 12:00:00", color=(200, 10, 10))
    make_photo(card / "IMG_0002.JPG", taken="2019:06:02 08:30:00", color=(10, 200, 10))
    (card / "IMG_0002.JPG.xmp").write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description><dc:subject><rdf:Bag>'
        "<rdf:li>beach</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF>"
        "</x:xmpmeta>"
    )
    make_photo(card / "IMG_0003.JPG", taken="2020:01:01 00:00:05", color=(10, 10, 200))
    (card / "IMG_0003.MOV").write_bytes(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " * 8)
    make_photo(card / "screenshot.png", taken=None, make=None, model=None, fmt="PNG")
    return tmp_path / "card"


@pytest.fixture
def into(tmp_path: Path) -> Path:
    return tmp_path / "Library"


def test_copy_puts_files_under_the_template_and_leaves_the_card_alone(
    card, into, cli, library_path
):
    before = _snapshot(card)
    code, report, err = _json(cli, "import", card, "--copy", "--into", into)
    assert code == 0, err
    assert report["copied"] == 6 and report["failed"] == 0
    assert _snapshot(card) == before
    day = into / "2019" / "06" / "01"
    assert (day / "IMG_0001.JPG").read_bytes() == before[
        os.fsencode(card / "DCIM" / "100CANON" / "IMG_0001.JPG")
    ][0]
    # The sidecar travels with its photo; the Live Photo video with its still.
    assert (into / "2019" / "06" / "02" / "IMG_0002.JPG.xmp").is_file()
    assert (into / "2020" / "01" / "01" / "IMG_0003.MOV").is_file()
    assert (into / "undated" / "screenshot.png").is_file()
    _agrees(library_path, into)
    # The library knows them where they now are, with what their sidecar said.
    code, found, _ = _json(cli, "find", "--tag", "beach")
    assert [f["path"] for f in found["files"]] == [str(into / "2019/06/02/IMG_0002.JPG")]


def test_copying_the_same_card_again_copies_nothing(card, into, cli):
    cli("import", card, "--copy", "--into", into)
    code, report, _ = _json(cli, "import", card, "--copy", "--into", into)
    assert (code, report["copied"], report["duplicates"]) == (0, 0, 6)


def test_move_deletes_each_source_only_once_it_is_in_place(card, into, cli, library_path):
    before = _snapshot(card)
    code, report, err = _json(cli, "import", card, "--move", "--into", into)
    assert code == 0, err
    assert report["moved"] == 6
    assert _files_under(card) == set()
    after = {p.read_bytes() for p in into.rglob("*") if p.is_file()}
    assert after == {data for data, _ in before.values()}
    _agrees(library_path, into)


def test_a_source_that_cannot_be_removed_stays_and_fails_only_its_own_file(
    card, into, lib, library_path, monkeypatch
):
    # Moves are recorded together; one source that cannot be deleted (a card locked
    # meanwhile) fails that file alone: it stays on the card, its copy is in place and
    # recorded, and the other files of the batch are moved as usual.
    from luna.files.place import TransferFailed
    from luna.ops import transfer
    from luna.ops.gather import GatherOptions

    real = transfer.remove_source

    def refusing(source, *args, **kwargs):
        if source.endswith("IMG_0001.JPG"):
            raise TransferFailed("the card is locked")
        return real(source, *args, **kwargs)

    monkeypatch.setattr(transfer, "remove_source", refusing)
    report = lib.gather([str(card)], GatherOptions(mode="move", into=str(into)))
    failed = [step for step in report.steps if step.action == "failed"]
    assert [Path(step.source).name for step in failed] == ["IMG_0001.JPG"]
    assert "but the source could not be removed: the card is locked" in failed[0].detail
    source = card / "DCIM" / "100CANON" / "IMG_0001.JPG"
    assert report.moved == 5 and _files_under(card) == {str(source)}
    kept = Path(failed[0].destination)
    assert kept.read_bytes() == source.read_bytes()
    assert str(kept) in _library_paths(library_path)


def test_move_leaves_duplicates_unless_asked(card, into, cli, tmp_path):
    cli("import", card, "--copy", "--into", into)
    code, report, _ = _json(cli, "import", card, "--move", "--into", into)
    assert report["duplicates"] == 6 and len(_files_under(card)) == 6
    code, report, _ = _json(cli, "import", card, "--move", "--into", into, "--remove-duplicates")
    assert report["removed_duplicates"] == 6 and _files_under(card) == set()
    assert len(_files_under(into)) == 6


def test_a_name_taken_by_other_content_gets_a_number_and_nothing_is_overwritten(card, into, cli):
    taken = into / "2019" / "06" / "02"
    taken.mkdir(parents=True)
    (taken / "IMG_0002.JPG").write_bytes(b"someone else's photo")
    code, report, err = _json(cli, "import", card, "--copy", "--into", into)
    assert code == 0, err
    assert (taken / "IMG_0002.JPG").read_bytes() == b"someone else's photo"
    assert (taken / "IMG_0002 (1).JPG").is_file()
    assert (taken / "IMG_0002 (1).JPG.xmp").is_file()  # the sidecar keeps matching it


def test_a_long_named_family_stays_within_the_name_limit_when_numbered(tmp_path, into, cli):
    """The photo's name is at the 255-byte limit: numbered, it is cut, and its sidecar's
    name (longer still) is cut the same way rather than fail for a name too long."""
    card = tmp_path / "card"
    stem = "é" * 124  # 248 bytes; with .jpg 252, with .jpg.xmp 256: over the limit already
    make_photo(card / f"{stem}.jpg", taken="2019:06:02 08:30:00", color=(9, 99, 9))
    (card / f"{stem[:-1]}.jpg.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    make_photo(card / f"{stem[:-1]}.jpg", taken="2019:06:02 08:30:00", color=(99, 9, 9))
    day = into / "2019" / "06" / "02"
    day.mkdir(parents=True)
    (day / f"{stem[:-1]}.jpg").write_bytes(b"someone else's photo")
    code, report, err = _json(cli, "import", card, "--copy", "--into", into, "--template",
                              "{year}/{month}/{day}/{filename}")  # fmt: skip
    assert code == 0 and report["failed"] == 0, err
    assert (day / f"{stem[:-1]}.jpg").read_bytes() == b"someone else's photo"
    names = sorted(p.name for p in day.iterdir())
    assert all(len(n.encode()) <= 255 for n in names)
    numbered = [n for n in names if "(1)" in n]
    assert len(numbered) == 2 and any(n.endswith(".xmp") for n in numbered), names
    photo = next(n for n in numbered if n.endswith(".jpg"))
    sidecar = next(n for n in numbered if n.endswith(".xmp"))
    assert sidecar.startswith(photo.removesuffix(".jpg"))  # it still matches its photo


def test_the_same_content_already_at_the_destination_is_a_duplicate(card, into, cli):
    day = into / "2019" / "06" / "01"
    day.mkdir(parents=True)
    shutil.copy(card / "DCIM" / "100CANON" / "IMG_0001.JPG", day / "IMG_0001.JPG")
    code, report, _ = _json(cli, "import", card, "--copy", "--into", into)
    assert report["duplicates"] == 1 and report["copied"] == 5
    assert not (day / "IMG_0001 (1).JPG").exists()


def test_dry_run_prints_the_plan_and_writes_nothing(card, into, cli, library_path):
    before = _snapshot(card)
    code, out, err = cli("import", card, "--move", "--into", into, "--dry-run")
    assert code == 0, err
    assert "IMG_0001.JPG" in out and "move" in out
    code, report, _ = _json(cli, "import", card, "--move", "--into", into, "--dry-run")
    steps = {Path(s["source"]).name: s for s in report["steps"]}
    assert steps["IMG_0001.JPG"]["destination"] == str(into / "2019/06/01/IMG_0001.JPG")
    assert _snapshot(card) == before
    assert not into.exists() and not library_exists(library_path)


def test_hostile_metadata_cannot_escape_the_library_folder(tmp_path, into, cli):
    src = tmp_path / "src"
    make_photo(src / "a.jpg", make="../../../etc", model="/x/../../passwd\x01")
    code, report, err = _json(
        cli, "import", src, "--copy", "--into", into, "--template", "{camera}/{filename}"
    )
    assert code == 0, err
    (step,) = report["steps"]
    dest = Path(step["destination"])
    assert dest.is_file() and into in dest.parents
    assert os.path.realpath(dest).startswith(str(into) + "/")


def test_copy_needs_a_library_folder(card, cli):
    code, _, err = cli("import", card, "--copy")
    assert code == 1 and "library folder" in err and err.count("\n") == 1


def test_a_source_inside_the_library_folder_is_refused(into, cli):
    (into / "x").mkdir(parents=True)
    code, _, err = cli("import", into / "x", "--copy", "--into", into)
    assert code == 1 and "luna organize" in err


def test_a_library_folder_inside_the_source_is_not_copied_into_itself(card, cli):
    into = card / "Library"
    code, report, err = _json(cli, "import", card, "--copy", "--into", into)
    assert code == 0, err
    code, again, _ = _json(cli, "import", card, "--copy", "--into", into)
    assert again["copied"] == 0 and again["duplicates"] == report["copied"]


def test_names_that_are_not_utf8_are_copied_exactly(tmp_path, into, cli, library_path):
    src = tmp_path / "src"
    name = os.fsdecode(b"f\xeate.jpg")
    make_photo(src / name)
    code, report, err = _json(cli, "import", src, "--copy", "--into", into)
    assert code == 0, err
    assert os.path.isfile(into / "2019" / "06" / "01" / name)
    _agrees(library_path, into)


# -- organize --------------------------------------------------------------------------------


def test_organize_moves_files_to_a_new_layout_keeping_their_tags(card, into, cli, library_path):
    cli("import", card, "--copy", "--into", into)
    first = into / "2019" / "06" / "01" / "IMG_0001.JPG"
    cli("tag", "add", "red", first)
    code, shown, _ = _json(cli, "show", first)
    file_id = shown["files"][0]["id"]
    code, report, err = _json(
        cli, "organize", "--into", into, "--template", "{year}/{camera|unknown}/{filename}"
    )
    assert code == 0, err
    moved = into / "2019" / "Canon EOS 5D" / "IMG_0001.JPG"
    assert moved.is_file() and not first.exists()
    code, shown, _ = _json(cli, "show", file_id)
    [shown] = shown["files"]
    assert shown["path"] == str(moved) and shown["tags"] == ["red"]
    assert (into / "2019" / "Canon EOS 5D" / "IMG_0002.JPG.xmp").is_file()
    assert not (into / "2019" / "06").exists()  # emptied folders go
    _agrees(library_path, into)
    code, again, _ = _json(
        cli, "organize", "--into", into, "--template", "{year}/{camera|unknown}/{filename}"
    )
    assert again["moved"] == 0 and again["unchanged"] == 6


def test_organize_leaves_files_outside_the_library_folder_unless_asked(
    tmp_path, into, cli, library_path
):
    outside = tmp_path / "elsewhere"
    make_photo(outside / "a.jpg")
    cli("import", outside)
    into.mkdir()  # organize never creates the library folder: a typo must not start one
    code, report, _ = _json(cli, "organize", "--into", into, outside)
    assert report["moved"] == 0 and report["outside"] == 1
    assert (outside / "a.jpg").is_file()
    code, report, _ = _json(cli, "organize", "--into", into, outside, "--include-outside")
    assert report["moved"] == 1 and not (outside / "a.jpg").exists()
    assert (into / "2019" / "06" / "01" / "a.jpg").is_file()
    _agrees(library_path, into)


# -- when things go wrong --------------------------------------------------------------------


def _luna(library: Path, *args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "luna", "-L", str(library), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def _every_source_is_safe(before: dict, card: Path, into: Path) -> None:
    """Each file of the card is at its origin, or byte for byte in the library folder."""
    placed = {p.read_bytes() for p in into.rglob("*") if p.is_file()} if into.exists() else set()
    for path, (data, _mtime) in before.items():
        assert os.path.exists(path) or data in placed, os.fsdecode(path)


@pytest.mark.parametrize(
    ("mode", "step"),
    [("copy", "copied"), ("copy", "placed"), ("move", "placed"), ("move", "recorded")],
)
def test_a_transfer_killed_at_any_step_is_finished_or_rolled_back(
    card, into, library_path, mode, step
):
    before = _snapshot(card)
    killed = _luna(library_path, "import", card, f"--{mode}", "--into", into, "-j", "1",
                   env={"LUNA_CRASH_AT": step})  # fmt: skip
    assert killed.returncode == -9
    _every_source_is_safe(before, card, into)
    # The next luna command finishes or rolls back what the crash interrupted.
    doctor = _luna(library_path, "doctor", "--into", into, "--json")
    assert doctor.returncode == 0, doctor.stderr
    assert json.loads(doctor.stdout)["recovered"]
    assert "an interrupted" in doctor.stderr
    _every_source_is_safe(before, card, into)
    assert not list(into.rglob(".luna-partial-*"))
    _agrees(library_path, into)
    # And the same command then does the rest.
    again = _luna(library_path, "import", card, f"--{mode}", "--into", into, "--json")
    assert again.returncode == 0, again.stderr
    assert _files_under(card) == (set() if mode == "move" else {os.fsdecode(p) for p in before})
    placed = sorted(p.read_bytes() for p in into.rglob("*") if p.is_file())
    assert placed == sorted(d for d, _ in before.values())
    _agrees(library_path, into)


@pytest.mark.parametrize(
    ("mode", "step"),
    [("copy", "copied"), ("copy", "placed"), ("move", "placed"), ("move", "recorded")],
)
def test_ctrl_c_at_any_step_leaves_nothing_half_done(card, into, library_path, mode, step):
    """Ctrl-C is not a crash: every file begun is finished or undone before luna exits, so
    the next command has nothing to recover."""
    before = _snapshot(card)
    stopped = _luna(library_path, "import", card, f"--{mode}", "--into", into, "-j", "1",
                    env={"LUNA_CRASH_AT": f"{step}:INT"})  # fmt: skip
    assert stopped.returncode == 130, stopped.stderr
    assert "Run the same import again to finish it" in stopped.stderr
    _every_source_is_safe(before, card, into)
    assert not list(into.rglob(".luna-partial-*"))
    _agrees(library_path, into)
    assert library_rows(library_path, "SELECT COUNT(*) FROM transfer") == [(0,)]
    again = _luna(library_path, "import", card, f"--{mode}", "--into", into, "--json")
    assert again.returncode == 0, again.stderr
    assert "interrupted" not in again.stderr
    placed = sorted(p.read_bytes() for p in into.rglob("*") if p.is_file())
    assert placed == sorted(d for d, _ in before.values())
    _agrees(library_path, into)


@pytest.mark.parametrize("crash", ["placed", "recorded", "placed:INT", "recorded:INT"])
def test_organize_stopped_at_any_step_keeps_library_and_disk_in_agreement(
    card, into, library_path, crash
):
    assert _luna(library_path, "import", card, "--copy", "--into", into).returncode == 0
    before = sorted(p.read_bytes() for p in into.rglob("*") if p.is_file())
    stopped = _luna(library_path, "organize", "--into", into, "--template", "new/{filename}",
                    env={"LUNA_CRASH_AT": crash})  # fmt: skip
    assert stopped.returncode == (130 if crash.endswith(":INT") else -9), stopped.stderr
    if crash.endswith(":INT"):  # Ctrl-C: the file in hand was finished before luna stopped
        assert library_rows(library_path, "SELECT COUNT(*) FROM transfer") == [(0,)]
    else:
        _luna(library_path, "doctor", "--into", into)  # recovery runs on opening
    _agrees(library_path, into)
    done = _luna(library_path, "organize", "--into", into, "--template", "new/{filename}")
    assert done.returncode == 0, done.stderr
    assert sorted(p.read_bytes() for p in into.rglob("*") if p.is_file()) == before
    assert {p.parent.name for p in into.rglob("*") if p.is_file()} == {"new"}
    _agrees(library_path, into)


def test_a_move_across_file_systems_killed_after_the_copy_loses_nothing(
    tmp_path, small_disk, library_path
):
    src = tmp_path / "src"
    _big_photos(src, 2)
    before = _snapshot(src)
    into = small_disk / "Library"
    killed = _luna(library_path, "import", src, "--move", "--into", into, "-j", "1",
                   env={"LUNA_CRASH_AT": "copied"})  # fmt: skip
    assert killed.returncode == -9
    _every_source_is_safe(before, src, into)
    assert _snapshot(src) == before  # a copy in progress never touches its source
    _luna(library_path, "doctor", "--into", into)
    assert not list(into.rglob(".luna-partial-*"))
    _agrees(library_path, into)


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a small filesystem here")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def _big_photos(folder: Path, count: int) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = Image.effect_noise((160, 160), 60 + i).convert("RGB")
        image.save(folder / f"IMG_{i:04d}.jpg", quality=95)


def test_a_full_disk_fails_files_one_by_one_and_loses_none(tmp_path, small_disk, library_path):
    src = tmp_path / "src"
    _big_photos(src, 12)  # about 30 kB each: the 160 kB disk takes some, not all
    before = _snapshot(src)
    into = small_disk / "Library"
    done = _luna(library_path, "import", src, "--move", "--into", into, "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 3 and report["failed"] > 0 and report["moved"] > 0
    assert all("no space left" in s["detail"] for s in report["steps"] if s["action"] == "failed")
    # One line for the whole disk, naming a folder of the library and what did not fit;
    # never the hidden temporary names, never a line per file.
    [full] = report["disk_full"]
    assert full["files"] == report["failed"] and full["bytes"] > 0
    assert full["folder"].startswith(str(into))
    lines = [line for line in done.stderr.splitlines() if "no space left" in line]
    assert len(lines) == 1 and f"{full['files']} files" in lines[0], done.stderr
    assert ".luna-partial" not in done.stderr + done.stdout
    _every_source_is_safe(before, src, into)
    assert not list(into.rglob(".luna-partial-*"))
    _agrees(library_path, into)
    # More room; the same command finishes the job.
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    done = _luna(library_path, "import", src, "--move", "--into", into, "--json")
    assert done.returncode == 0, done.stderr
    assert _files_under(src) == set() and len(_files_under(into)) == 12
    _agrees(library_path, into)


def test_a_read_only_destination_fails_cleanly(tmp_path, small_disk, library_path):
    src = tmp_path / "src"
    _big_photos(src, 2)
    before = _snapshot(src)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    done = _luna(library_path, "import", src, "--move", "--into", small_disk, "--json")
    assert done.returncode in (1, 3), done.stderr
    assert "Traceback" not in done.stderr
    assert _snapshot(src) == before


def test_a_move_across_file_systems_copies_verifies_then_deletes(
    tmp_path, small_disk, library_path
):
    src = tmp_path / "src"
    _big_photos(src, 3)
    before = _snapshot(src)
    into = small_disk / "Library"
    done = _luna(library_path, "import", src, "--move", "--into", into, "--json")
    assert done.returncode == 0, done.stderr
    assert _files_under(src) == set()
    assert {p.read_bytes() for p in into.rglob("*") if p.is_file()} == {
        d for d, _ in before.values()
    }
    _agrees(library_path, into)


def test_the_config_file_gives_the_library_folder_and_template(card, into, cli, isolated_home):
    config = isolated_home / ".config" / "luna" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'library_folder = "{into}"\ntemplate = "{{year}}/{{camera}}/{{filename}}"\n')
    code, report, err = _json(cli, "import", card, "--copy")
    assert code == 0, err
    assert (into / "2019" / "Canon EOS 5D" / "IMG_0001.JPG").is_file()
    # The command line wins over the file.
    code, report, _ = _json(
        cli, "organize", "--template", "{camera}/{year}/{filename}", "--dry-run"
    )
    destinations = {s["destination"] for s in report["steps"]}
    assert str(into / "Canon EOS 5D" / "2019" / "IMG_0001.JPG") in destinations


def test_a_bad_template_is_one_line_and_exit_2(card, into, cli):
    code, _, err = cli("import", card, "--copy", "--into", into, "--template", "{year}/{nope}")
    assert code == 2 and err.startswith("Error:") and err.count("\n") == 1
    assert not into.exists()


def test_permission_denied_at_the_destination_fails_cleanly(tmp_path, library_path):
    """A destination folder luna may not write to. Root may write anywhere, so as root the run
    is made without the power to override permissions (see run_luna_as_owner)."""
    src = tmp_path / "src"
    _big_photos(src, 2)
    into = tmp_path / "Library"
    (into / "2019").mkdir(parents=True)
    for locked in (into / "2019", into / "undated"):  # wherever the photos' dates send them
        locked.mkdir(exist_ok=True)
        locked.chmod(0o555)
    before = _snapshot(src)
    try:
        done = run_luna_as_owner(
            "-L", library_path, "import", src, "--move", "--into", into, "--json"
        )
    finally:
        for locked in (into / "2019", into / "undated"):
            locked.chmod(0o755)
    assert done.returncode == 3, done.stderr
    report = json.loads(done.stdout)
    assert report["failed"] == 2 and report["moved"] == 0
    assert all("permission denied" in s["detail"] for s in report["steps"])
    assert _snapshot(src) == before
    assert _files_under(into) == set()


def test_organize_takes_find_filters(card, into, cli):
    cli("import", card, "--copy", "--into", into)
    cli("tag", "add", "trip", into / "2019" / "06" / "02" / "IMG_0002.JPG")
    code, report, err = _json(
        cli, "organize", "--into", into, "--tag", "trip", "--template", "trips/{year}/{filename}"
    )
    assert code == 0, err
    moved = sorted(Path(s["destination"]).name for s in report["steps"] if s["action"] == "move")
    assert moved == ["IMG_0002.JPG", "IMG_0002.JPG.xmp"]  # the sidecar travels with it
    assert (into / "trips" / "2019" / "IMG_0002.JPG").is_file()
    code, report, _ = _json(cli, "organize", "--into", into, "--after", "2020", "--dry-run",
                            "--template", "{year}/new/{filename}")  # fmt: skip
    planned = {Path(s["destination"]).name for s in report["steps"] if s["action"] == "move"}
    # The screenshot's only date is its file's (now); a sidecar chosen by its own date
    # stays with its photo, which was not chosen.
    assert planned == {"IMG_0003.JPG", "IMG_0003.MOV", "screenshot.png"}
    stays = [s for s in report["steps"] if s["action"] == "stays"]
    assert [Path(s["source"]).name for s in stays] == ["IMG_0002.JPG.xmp"]
    code, _, err = cli("organize", "--into", into, "--after", "2019-13")
    assert code == 2 and "--after" in err


def _exported_live_photo(folder: Path) -> None:
    """An export that renamed a Live Photo's parts (Beach.jpg, clip.mov), each dated
    differently: only Apple's ContentIdentifier says they belong together."""
    import datetime as dt

    import piexif
    from test_related import apple_maker_note
    from test_video import movie

    folder.mkdir(parents=True, exist_ok=True)
    still = make_photo(folder / "Beach.jpg", taken="2021:07:14 18:00:00", make="Apple",
                       model="iPhone 12", color=(30, 90, 200))  # fmt: skip
    exif = piexif.load(str(still))
    exif["Exif"][piexif.ExifIFD.MakerNote] = apple_maker_note("6F1A-LIVE")
    piexif.insert(piexif.dump(exif), str(still))
    # The video's own date is a day off (UTC near midnight): alone it would go elsewhere.
    movie(folder / "clip.mov", created=dt.datetime(2021, 7, 15, 1, 0, tzinfo=dt.UTC),
          keys={"com.apple.quicktime.content.identifier": "6F1A-LIVE"})  # fmt: skip
    movie(folder / "other.mov", created=dt.datetime(2021, 7, 15, 1, 0, tzinfo=dt.UTC),
          keys={"com.apple.quicktime.content.identifier": "ANOTHER"})  # fmt: skip


def test_a_live_photo_renamed_by_an_export_travels_by_its_identifier(tmp_path, into, cli):
    src = tmp_path / "export"
    _exported_live_photo(src)
    code, report, err = _json(cli, "import", src, "--copy", "--into", into,
                              "--template", "{year}/{month}/{day}/{filename}")  # fmt: skip
    assert code == 0, err
    placed = {Path(s["source"]).name: Path(s["destination"]) for s in report["steps"]}
    assert placed["clip.mov"].parent == placed["Beach.jpg"].parent == into / "2021/07/14"
    assert placed["other.mov"].parent == into / "2021/07/15"  # no still of its own: its date


def test_organize_moves_a_renamed_live_photo_as_one(tmp_path, into, cli, library_path):
    src = tmp_path / "export"
    _exported_live_photo(src)
    assert cli("import", src, "--copy", "--into", into)[0] == 0
    code, report, err = _json(cli, "organize", "--into", into, "--kind", "photo",
                              "--template", "trips/{filename}")  # fmt: skip
    assert code == 0, err
    moved = {Path(s["source"]).name: Path(s["destination"]) for s in report["steps"]
             if s["action"] == "move"}  # fmt: skip
    assert moved == {"Beach.jpg": into / "trips/Beach.jpg", "clip.mov": into / "trips/clip.mov"}
    _agrees(library_path, into)


# -- two luna at once ------------------------------------------------------------------------


def test_a_running_luna_is_not_taken_for_a_crash(card, into, library_path):
    """Journal rows and partial copies of a luna still at work are left alone by another
    luna's recovery and by doctor --clean; once it is gone, they are a crash's leftovers."""
    from luna.library import Library
    from luna.ops.transfer import transferring

    killed = _luna(library_path, "import", card, "--copy", "--into", into, "-j", "1",
                   env={"LUNA_CRASH_AT": "copied"})  # fmt: skip
    assert killed.returncode == -9
    partials = sorted(into.rglob(".luna-partial-*"))  # one per copy thread at most
    assert partials
    holder = Library.open_for_reading(library_path)  # opening to write would recover
    with holder, transferring(holder):  # as if the killed luna were still copying
        busy = _luna(library_path, "doctor", "--into", into, "--clean", "--json")
        report = json.loads(busy.stdout)
        assert busy.returncode == 0, busy.stderr
        assert report["others_transferring"] and len(report["in_progress"]) >= len(partials)
        assert report["recovered"] == [] and report["removed_partials"] == []
        assert "another luna is copying or moving" in busy.stderr
        wrote = _luna(library_path, "album", "create", "Trip")  # any command that writes
        assert wrote.returncode == 0, wrote.stderr
        assert "interrupted" not in wrote.stderr
        assert sorted(into.rglob(".luna-partial-*")) == partials
    done = _luna(library_path, "doctor", "--into", into, "--json")
    report = json.loads(done.stdout)
    assert {r["outcome"] for r in report["recovered"]} == {"rolled back"}
    assert not list(into.rglob(".luna-partial-*"))
    _agrees(library_path, into)


def test_a_file_put_in_place_meanwhile_by_another_luna_is_a_duplicate(card, into, cli, monkeypatch):
    """Two imports of the same card at once: whichever places a file second finds its very
    content there, and reports a duplicate rather than a failure, leaving no partial copy."""
    import shutil as sh

    from luna.files import place

    real_copy = place.copy_verified
    beaten = []

    def copy_then_lose_the_race(source, temporary, expected_sha, known=None):
        real_copy(source, temporary, expected_sha, known)
        if Path(source).name == "IMG_0001.JPG":  # the other luna's rename lands first
            destination = next(p for p in planned if Path(p).name == "IMG_0001.JPG")
            sh.copyfile(source, destination)
            beaten.append(destination)

    _, plan, _ = _json(cli, "import", card, "--copy", "--into", into, "--dry-run")
    planned = [s["destination"] for s in plan["steps"]]
    monkeypatch.setattr(place, "copy_verified", copy_then_lose_the_race)
    code, report, err = _json(cli, "import", card, "--copy", "--into", into)
    assert code == 0, err
    assert report["failed"] == 0 and report["duplicates"] == 1
    (step,) = [s for s in report["steps"] if s["action"] == "duplicate"]
    assert step["destination"] == beaten[0] and "meanwhile" in step["detail"]
    assert not list(into.rglob(".luna-partial-*"))


def _two_at_once(library_path: Path, *commands: list) -> list[dict]:
    """Start the imports together; their JSON reports once both are done (each exit 0)."""
    runs = [subprocess.Popen([sys.executable, "-m", "luna", "-L", str(library_path), "import",
                              *map(str, args), "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for args in commands]  # fmt: skip
    reports = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        reports.append(json.loads(out))
    return reports


def test_two_imports_of_one_card_at_once_copy_each_file_once(tmp_path, into, library_path):
    src = tmp_path / "src"
    _big_photos(src, 40)
    args = [src, "--copy", "--into", into]
    reports = _two_at_once(library_path, args, args)
    assert [r["failed"] for r in reports] == [0, 0]
    assert sum(r["copied"] for r in reports) == 40
    assert len(_files_under(into)) == 40  # no copy twice, no partial copy left
    _agrees(library_path, into)


def test_a_library_folder_another_luna_creates_meanwhile_is_used(tmp_path, monkeypatch):
    from luna.ops.gather import make_library_folder

    into = tmp_path / "Library"
    real_mkdir = os.mkdir

    def other_luna_was_first(path, *args):
        real_mkdir(path, *args)
        raise FileExistsError(17, "File exists", str(path))

    monkeypatch.setattr(os, "mkdir", other_luna_was_first)
    make_library_folder(str(into), dry_run=False)  # no "cannot create the library folder"
    assert into.is_dir()


def test_a_file_where_the_library_folder_goes_is_refused(tmp_path):
    from luna.errors import LunaError
    from luna.ops.gather import make_library_folder

    (tmp_path / "Library").write_bytes(b"not a folder")
    with pytest.raises(LunaError, match="a file is in the way"):
        make_library_folder(str(tmp_path / "Library"), dry_run=False)
    assert (tmp_path / "Library").read_bytes() == b"not a folder"


def test_two_moves_of_one_card_at_once_lose_nothing_and_fail_nothing(tmp_path, into, library_path):
    src = tmp_path / "src"
    _big_photos(src, 40)
    before = _snapshot(src)
    reports = _two_at_once(library_path, [src, "--move", "--into", into],
                           [src, "--move", "--remove-duplicates", "--into", into])  # fmt: skip
    # A file the other luna moved away first is gone, not failed.
    assert [r["failed"] for r in reports] == [0, 0]
    assert _files_under(src) == set()
    placed = sorted(p.read_bytes() for p in into.rglob("*") if p.is_file())
    assert placed == sorted(d for d, _ in before.values())
    _agrees(library_path, into)


# -- files the library already records in place ------------------------------------------------


def _rows(library: Path) -> list[tuple]:
    return sorted(library_rows(library, "SELECT id, path, missing_since FROM file"))


def test_moving_files_imported_in_place_keeps_their_rows_tags_and_albums(
    tmp_path, into, cli, cli_json, library_path
):
    photos = tmp_path / "photos"
    for i in range(3):
        make_photo(photos / f"IMG_{i}.jpg", color=(70 * i, 5, 5))
    assert cli("import", photos)[0] == 0
    assert cli("tag", "add", "precious", photos)[0] == 0
    assert cli("album", "create", "Fam")[0] == 0
    assert cli("album", "add", "Fam", photos)[0] == 0
    ids_before = {row[0] for row in _rows(library_path)}

    code, report, err = cli_json("import", photos, "--move", "--into", into)
    assert code == 0, err
    assert report["moved"] == 3 and report["duplicates"] == 0
    rows = _rows(library_path)
    assert len(rows) == 3  # not six: each row followed its file
    assert {row[0] for row in rows} == ids_before
    assert all(row[1].startswith(str(into)) and row[2] is None for row in rows)
    assert cli("find", "--tag", "precious", "--count")[1].strip() == "3"
    assert cli("find", "--album", "Fam", "--count")[1].strip() == "3"
    assert cli("find", "--missing", "--count")[1].strip() == "0"
    _agrees(library_path, into)


def test_copying_files_imported_in_place_is_a_duplicate(tmp_path, into, cli, cli_json):
    photos = tmp_path / "photos"
    make_photo(photos / "IMG_1.jpg")
    assert cli("import", photos)[0] == 0
    code, report, _ = cli_json("import", photos, "--copy", "--into", into)
    assert code == 0 and (report["copied"], report["duplicates"]) == (0, 1)
    assert not into.exists() or _files_under(into) == set()


def test_removing_a_duplicate_imported_in_place_moves_its_tags_to_the_kept_copy(
    tmp_path, into, cli, cli_json, library_path
):
    card = tmp_path / "card"
    make_photo(card / "IMG_1.jpg")
    kept = tmp_path / "backup" / "IMG_1.jpg"
    kept.parent.mkdir()
    kept.write_bytes((card / "IMG_1.jpg").read_bytes())
    assert cli("import", card, kept.parent)[0] == 0
    assert cli("tag", "add", "from-card", card / "IMG_1.jpg")[0] == 0
    assert cli("album", "create", "Trip")[0] == 0
    assert cli("album", "add", "Trip", card / "IMG_1.jpg")[0] == 0
    code, report, err = cli_json("import", card, "--move", "--remove-duplicates", "--into", into)
    assert code == 0, err
    assert report["removed_duplicates"] == 1
    assert not (card / "IMG_1.jpg").exists() and kept.exists()
    code, out, _ = cli("find", "--tag", "from-card", "--album", "Trip")
    assert out.strip() == str(kept)
    assert len(_rows(library_path)) == 1


@pytest.mark.parametrize("step", ["copied", "placed", "recorded"])
def test_a_move_of_files_imported_in_place_killed_at_any_step_keeps_their_rows(
    tmp_path, into, library_path, step
):
    photos = tmp_path / "photos"
    for i in range(2):
        make_photo(photos / f"IMG_{i}.jpg", color=(90 * i, 5, 5))
    assert _luna(library_path, "import", photos).returncode == 0
    assert _luna(library_path, "tag", "add", "precious", photos).returncode == 0
    ids_before = {row[0] for row in _rows(library_path)}
    # "copied" only happens across file systems; here a move links, so it never stops there.
    killed = _luna(library_path, "import", photos, "--move", "--into", into, "-j", "1",
                   env={"LUNA_CRASH_AT": step})  # fmt: skip
    assert killed.returncode in (-9, 0)
    assert _luna(library_path, "doctor", "--into", into).returncode == 0
    again = _luna(library_path, "import", photos, "--move", "--into", into)
    assert again.returncode == 0, again.stderr
    rows = _rows(library_path)
    assert {row[0] for row in rows} == ids_before and all(r[2] is None for r in rows)
    assert _files_under(photos) == set() and len(_files_under(into)) == 2
    _agrees(library_path, into)
    tagged = _luna(library_path, "find", "--tag", "precious", "--count")
    assert tagged.stdout.strip() == "2"
