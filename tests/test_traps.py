"""Traps one word of a command line can spring: an unset variable, a symlink loop, a typo in
--into, a template that drops the extension, a file skipped without a word. Each must end
in a clear message, or in what the user meant, and never in work done somewhere else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import library_exists, make_photo


def _snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _json(cli, *args):
    code, out, err = cli(*args, "--json")
    assert out.strip(), f"exit {code}: {err}"
    return code, json.loads(out), err


# -- organize --template '{sha8}': the file keeps its extension, its sidecars follow ---------


def test_a_template_without_the_extension_still_gives_photos_theirs(tmp_path, cli):
    into = tmp_path / "Library"
    make_photo(into / "IMG_1.jpg")
    (into / "IMG_1.jpg.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    (into / "IMG_1.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    cli("import", into)
    code, plan, err = _json(cli, "organize", "--into", into, "--template", "{sha8}", "--dry-run")
    assert code == 0, err
    names = {Path(s["source"]).name: Path(s["destination"]).name for s in plan["steps"]}
    photo = names["IMG_1.jpg"]
    assert photo.endswith(".jpg") and len(photo) == len("3f2a9c1b.jpg")
    stem = photo.removesuffix(".jpg")
    assert names["IMG_1.jpg.xmp"] == f"{stem}.jpg.xmp"  # the sidecars still name the photo
    assert names["IMG_1.xmp"] == f"{stem}.xmp"
    assert (into / "IMG_1.jpg").is_file()  # a dry run


# -- an empty argument (an unset $DIR) is refused, never taken for the current folder --------

EMPTY = "an empty path was given (an unset variable?)"


@pytest.fixture
def in_photo_folder(tmp_path, monkeypatch):
    """The current folder holds photos: what an empty path would wrongly name."""
    here = tmp_path / "here"
    make_photo(here / "a.jpg")
    make_photo(here / "b.jpg", color=(1, 2, 3))
    monkeypatch.chdir(here)
    return here


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", ""], EMPTY),
        (["import", "", "--json"], EMPTY),
        (["import", "", "--dry-run"], EMPTY),
        (["import", "", "--copy", "--into", "LIBRARY"], EMPTY),
        (["import", "", "--move", "--into", "LIBRARY"], EMPTY),
        (["import", "HERE", "--copy", "--into", ""], f"--into: {EMPTY}"),
    ],
)
def test_an_empty_path_to_import_is_a_usage_error_and_imports_nothing(
    in_photo_folder, tmp_path, library_path, cli, args, message
):
    before = _snapshot(in_photo_folder)
    into = tmp_path / "Library"
    args = [{"LIBRARY": str(into), "HERE": str(in_photo_folder)}.get(a, a) for a in args]
    code, out, err = cli(*args)
    assert (code, err.strip(), out) == (2, f"Error: {message}", "")
    assert not library_exists(library_path)  # refused before anything, even creating a library
    assert _snapshot(in_photo_folder) == before and not into.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["organize", "", "--into", "LIBRARY", "--template", "{sha8}"],
        ["organize", "--into", "", "--template", "{sha8}"],
        ["verify", ""],
        ["tag", "add", "beach", ""],
        ["prune", "", "--yes"],
        ["doctor", "--into", ""],
    ],
)
def test_an_empty_path_to_other_commands_is_a_usage_error(tmp_path, cli, args, monkeypatch):
    library = tmp_path / "Library"
    make_photo(library / "a.jpg")
    cli("import", library)
    monkeypatch.chdir(library)  # where an empty path would point
    args = [str(library) if a == "LIBRARY" else a for a in args]
    code, out, err = cli(*args)
    assert code == 2, err
    assert err.startswith("Error: ") and err.strip().endswith(EMPTY)
    assert (library / "a.jpg").is_file()
    code, tags, _ = _json(cli, "tag", "list")
    assert tags["tags"] == []


# -- paths that do not lead anywhere ---------------------------------------------------------


def test_a_symlink_loop_named_on_the_command_line_says_so(tmp_path, cli):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    code, out, err = cli("import", loop)
    assert code == 1
    assert err.strip() == f"Error: symbolic link loop: {loop}"
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    code, out, err = cli("import", a, "--copy", "--into", tmp_path / "Library")
    assert (code, err.strip()) == (1, f"Error: symbolic link loop: {a}")


def test_organize_into_a_folder_that_does_not_exist_is_refused(tmp_path, cli):
    library = tmp_path / "Library"
    make_photo(library / "a.jpg")
    cli("import", library)
    missing = tmp_path / "nonexistent" / "x"
    code, out, err = cli("organize", "--into", missing, "--template", "{sha8}")
    assert (code, err.strip()) == (1, f"Error: no such folder: {missing}")
    assert not missing.exists() and not missing.parent.exists()
    assert (library / "a.jpg").is_file()
    code, out, err = cli("organize", "--into", library / "a.jpg", library / "a.jpg")
    assert (code, err.strip()) == (1, f"Error: not a folder: {library / 'a.jpg'}")


def test_import_creates_the_library_folder_but_not_the_folders_above_it(tmp_path, cli):
    card = tmp_path / "card"
    make_photo(card / "a.jpg")
    into = tmp_path / "unmounted" / "Photos"
    for mode in ("--copy", "--move", "--dry-run"):
        code, out, err = cli("import", card, "--move" if mode == "--dry-run" else mode,
                             "--into", into, *([mode] if mode == "--dry-run" else []))  # fmt: skip
        assert code == 1, err
        assert err.strip() == (
            f"Error: no such folder: {into.parent} (luna creates the library folder "
            f"{into}, but not the folders above it)"
        )
        assert not into.parent.exists() and (card / "a.jpg").is_file()
    code, report, err = _json(cli, "import", card, "--copy", "--into", tmp_path / "Photos")
    assert code == 0 and report["copied"] == 1, err


# -- what was skipped, and why ---------------------------------------------------------------


@pytest.fixture
def mixed(tmp_path) -> Path:
    """A phone dump: a photo, a GPS track (skipped by its name) and a text file with a
    made-up extension (skipped by its content)."""
    folder = tmp_path / "dump"
    make_photo(folder / "a.jpg")
    (folder / "walk.gpx").write_text("<gpx version='1.1'></gpx>\n")
    (folder / "notes.dat").write_text("shopping list\n")
    return folder


def test_import_names_each_skipped_file_with_why(mixed, cli):
    code, report, err = _json(cli, "import", mixed)
    assert code == 0, err
    assert report["skipped"] == 2
    reasons = {item["path"]: item["reason"] for item in report["skipped_files"]}
    assert reasons == {
        str(mixed / "walk.gpx"): "not a photo or video (a .gpx file)",
        str(mixed / "notes.dat"): "not a photo or video (text/plain)",
    }
    assert "skipped:" not in err  # only with -v


def test_import_verbose_lists_skipped_files_on_stderr(mixed, cli):
    code, out, err = cli("import", mixed, "-v")
    assert code == 0 and out == ""
    assert f"skipped: {mixed / 'walk.gpx'}: not a photo or video (a .gpx file)" in err
    assert f"skipped: {mixed / 'notes.dat'}: not a photo or video (text/plain)" in err


@pytest.mark.parametrize("mode", ["--copy", "--move"])
def test_import_copy_or_move_names_skipped_files_too(mixed, tmp_path, cli, mode):
    code, report, err = _json(cli, "import", mixed, mode, "--into", tmp_path / "Library")
    assert code == 0, err
    assert report["skipped"] == 2
    assert sorted(item["path"] for item in report["skipped_files"]) == [
        str(mixed / "notes.dat"),
        str(mixed / "walk.gpx"),
    ]
    assert (mixed / "walk.gpx").is_file() and (mixed / "notes.dat").is_file()  # never moved
    code, out, err = cli("import", mixed, mode, "--into", tmp_path / "Library", "--verbose")
    assert f"skipped: {mixed / 'walk.gpx'}: not a photo or video (a .gpx file)" in err


def test_the_list_of_skipped_files_is_capped_but_the_count_is_not(tmp_path, cli, monkeypatch):
    import luna.ingest.importer

    monkeypatch.setattr(luna.ingest.importer, "LISTED_AT_MOST", 3)
    for i in range(5):
        (tmp_path / "tracks" / f"{i}.gpx").parent.mkdir(exist_ok=True)
        (tmp_path / "tracks" / f"{i}.gpx").write_text("<gpx/>")
    code, report, err = _json(cli, "import", tmp_path / "tracks")
    assert (report["skipped"], len(report["skipped_files"])) == (5, 3)
    code, out, err = cli("import", tmp_path / "tracks", "-v")
    assert err.count("skipped: ") == 3
    assert "... and 2 more skipped (only the first 3 are named)" in err
