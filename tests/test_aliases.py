"""One file reached by two paths is one file: `import --move --remove-duplicates` never
deletes the library's own copy because a symbolic link, a bind mount or a case-insensitive
card shows it under another name. Hard links, two real names, still count as two."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import make_photo

from luna.files import place, presence


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def three_photos(tmp_path) -> Path:
    folder = tmp_path / "x" / "photos"
    for i, name in enumerate("abc"):
        make_photo(folder / f"{name}.jpg", color=(60 * i, 10, 10))
    return folder


def _move_removing_duplicates(cli_json, source: Path, into: Path, *extra: str) -> dict:
    code, report, err = cli_json(
        "import", source, "--move", "--remove-duplicates", "--into", into, *extra
    )
    assert code == 0, err
    return report


def _assert_all_still_there(folder: Path, before: dict) -> None:
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# -- end to end, as the user ran it ---------------------------------------------------


def test_a_symlink_to_the_recorded_folder_is_not_a_duplicate_to_delete(
    three_photos, tmp_path, cli, cli_json
):
    before = {p.name: p.read_bytes() for p in three_photos.iterdir()}
    assert cli("import", three_photos)[0] == 0
    card = tmp_path / "x" / "card"
    card.mkdir()
    (card / "link").symlink_to(three_photos)
    into = tmp_path / "x" / "dest"
    report = _move_removing_duplicates(cli_json, card, into, "--follow-symlinks")
    assert report["removed_duplicates"] == 0 and report["duplicates"] == 3
    assert {s["action"] for s in report["steps"]} == {"duplicate"}
    assert all("reached by another path" in s["detail"] for s in report["steps"])
    _assert_all_still_there(three_photos, before)


def test_a_bind_mount_of_the_recorded_folder_is_not_a_duplicate_to_delete(
    three_photos, tmp_path, cli, cli_json, bind_mount
):
    before = {p.name: p.read_bytes() for p in three_photos.iterdir()}
    assert cli("import", three_photos)[0] == 0
    alias = bind_mount(three_photos)
    report = _move_removing_duplicates(cli_json, alias, tmp_path / "dest")
    assert report["removed_duplicates"] == 0 and report["duplicates"] == 3
    _assert_all_still_there(three_photos, before)


def test_a_case_insensitive_card_spelled_otherwise_keeps_its_photos(exfat_card, tmp_path, cli_json):
    dcim = exfat_card / "DCIM"
    make_photo(dcim / "IMG_1.JPG", color=(1, 2, 3))
    make_photo(dcim / "IMG_2.JPG", color=(250, 2, 3))
    before = {p.name: p.read_bytes() for p in dcim.iterdir()}
    code, _, err = cli_json("import", dcim)
    assert code == 0, err
    # The same card, folder and file names typed in another case.
    into = tmp_path / "dest"
    report = _move_removing_duplicates(cli_json, exfat_card / "dcim", into)
    assert report["removed_duplicates"] == 0 and report["duplicates"] == 2
    report = _move_removing_duplicates(cli_json, dcim / "img_1.jpg", into)
    assert report["removed_duplicates"] == 0 and report["duplicates"] == 1
    _assert_all_still_there(dcim, before)


def test_a_real_second_copy_is_still_removed(three_photos, tmp_path, cli, cli_json):
    assert cli("import", three_photos)[0] == 0
    card = tmp_path / "card"
    card.mkdir()
    for photo in three_photos.iterdir():
        (card / photo.name).write_bytes(photo.read_bytes())
    report = _move_removing_duplicates(cli_json, card, tmp_path / "dest")
    assert report["removed_duplicates"] == 3
    assert list(card.iterdir()) == [] and len(list(three_photos.iterdir())) == 3


# -- the check itself --------------------------------------------------------------------------


def test_remove_source_refuses_the_same_file_by_a_symlinked_folder(three_photos, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(three_photos)
    kept = three_photos / "a.jpg"
    with pytest.raises(place.TransferFailed, match="reached by another path"):
        place.remove_source(str(link / "a.jpg"), _sha(kept), str(kept))
    assert kept.exists()


def test_remove_source_refuses_the_same_file_by_a_bind_mount(three_photos, bind_mount):
    alias = bind_mount(three_photos)
    kept = three_photos / "a.jpg"
    with pytest.raises(place.TransferFailed, match="reached by another path"):
        place.remove_source(str(alias / "a.jpg"), _sha(kept), str(kept))
    assert kept.exists()


def test_remove_source_refuses_another_spelling_on_a_case_insensitive_card(exfat_card):
    kept = make_photo(exfat_card / "IMG_1.JPG")
    with pytest.raises(place.TransferFailed, match="reached by another path"):
        place.remove_source(str(exfat_card / "img_1.jpg"), _sha(kept), str(kept))
    assert os.listdir(exfat_card) == ["IMG_1.JPG"]


def test_remove_source_refuses_a_destination_that_is_a_symlink_to_the_source(tmp_path):
    source = make_photo(tmp_path / "card" / "IMG_1.jpg")
    kept = tmp_path / "library" / "IMG_1.jpg"
    kept.parent.mkdir()
    kept.symlink_to(source)
    with pytest.raises(place.TransferFailed, match="reached by another path"):
        place.remove_source(str(source), _sha(source), str(kept))
    assert source.exists()


def test_a_hard_link_is_a_second_name_and_may_go(tmp_path):
    kept = make_photo(tmp_path / "library" / "IMG_1.jpg")
    source = tmp_path / "card" / "IMG_1.jpg"
    source.parent.mkdir()
    os.link(kept, source)
    place.remove_source(str(source), _sha(kept), str(kept))
    assert not source.exists() and kept.exists()


def test_two_hard_links_in_one_folder_differing_in_case_are_two_names(tmp_path):
    # On a case-sensitive file system IMG_1.JPG and img_1.jpg can be two real names.
    kept = make_photo(tmp_path / "IMG_1.JPG")
    os.link(kept, tmp_path / "img_1.jpg")
    assert not presence.same_entry(str(tmp_path / "img_1.jpg"), str(kept))
    place.remove_source(str(tmp_path / "img_1.jpg"), _sha(kept), str(kept))
    assert kept.exists() and not (tmp_path / "img_1.jpg").exists()


def test_the_folder_probe_leaves_nothing_behind(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert not presence.same_folder(str(a), str(b))
    assert list(a.iterdir()) == [] and list(b.iterdir()) == []


def test_dry_run_shows_the_files_kept(three_photos, tmp_path, cli, cli_json):
    assert cli("import", three_photos)[0] == 0
    (tmp_path / "card").mkdir()
    (tmp_path / "card" / "link").symlink_to(three_photos)
    code, out, err = cli(
        "import", tmp_path / "card", "--follow-symlinks", "--move", "--remove-duplicates",
        "--into", tmp_path / "dest", "--dry-run", "--json",
    )  # fmt: skip
    assert code == 0, err
    steps = json.loads(out)["steps"]
    assert [s["action"] for s in steps] == ["duplicate"] * 3
