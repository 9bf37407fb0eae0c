"""`luna dupes`: exact copies grouped, the right one kept, the others listed for deletion,
and nothing a copy carries (tags, albums, events) lost on the way."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import CORPUS, make_photo, requires_corpus


def _snapshot(folder: Path) -> dict:
    """Every file under `folder` with its bytes and mtime: what luna must never change."""
    return {
        str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture
def copies(photos: Path, cli) -> dict[str, Path]:
    """One photo in three places (with different ages), plus a photo with no copy."""
    original = make_photo(photos / "2019" / "beach.jpg", color=(10, 120, 200))
    backup = photos / "b" / "beach.jpg"
    backup.parent.mkdir()
    shutil.copy(original, backup)
    download = photos / "Downloads" / "very" / "deep" / "beach (1).jpg"
    download.parent.mkdir(parents=True)
    shutil.copy(original, download)
    other = make_photo(photos / "2019" / "other.jpg", color=(200, 20, 20))
    for age, path in enumerate([original, backup, download]):
        os.utime(path, (1_500_000_000 + age * 1000,) * 2)  # original oldest
    code, _, err = cli("import", photos)
    assert code == 0, err
    return {"original": original, "backup": backup, "download": download, "other": other}


def _json(cli_json, *args):
    code, doc, err = cli_json(*args)
    assert code == 0, err
    return doc


def _groups(cli_json, *args):
    return _json(cli_json, "dupes", *args)["groups"]


def test_copies_are_one_group_with_the_space_they_waste(copies, cli_json):
    doc = _json(cli_json, "dupes")
    assert doc["version"] == 1 and doc["mode"] == "exact" and doc["group_count"] == 1
    (group,) = doc["groups"]
    size = copies["original"].stat().st_size
    assert group["wasted_bytes"] == doc["wasted_bytes"] == 2 * size
    assert sorted(f["path"] for f in group["files"]) == sorted(
        str(copies[k]) for k in ("original", "backup", "download")
    )
    assert [f["keep"] for f in group["files"]] == [True, False, False]
    assert set(group["files"][0]) == {
        "id", "path", "keep", "size_bytes", "width", "height", "content_sha", "distance",
        "tags", "albums", "events",
    }  # fmt: skip


def test_by_default_the_oldest_copy_is_kept(copies, cli_json):
    (group,) = _groups(cli_json)
    assert group["files"][0]["path"] == str(copies["original"])


def test_the_copy_with_most_tags_and_albums_is_kept_first(copies, cli, cli_json):
    cli("tag", "add", "-t", "sea", "-t", "2019", copies["download"])
    (group,) = _groups(cli_json)
    assert group["files"][0]["path"] == str(copies["download"])
    assert group["files"][0]["tags"] == ["2019", "sea"]


@pytest.mark.parametrize(
    ("rule", "kept"),
    [
        ("oldest", "original"),
        ("newest", "download"),
        ("shortest-path", "backup"),
        ("in:{photos}/Downloads", "download"),
        ("in:{photos}/empty", "original"),  # no copy there: the default rule decides
    ],
)
def test_keep_rules(copies, cli_json, photos, rule, kept):
    (photos / "empty").mkdir()
    (group,) = _groups(cli_json, "--keep", rule.format(photos=photos))
    assert group["files"][0]["path"] == str(copies[kept])


def test_extras_print0_lists_every_copy_but_the_kept_one(copies, cli, photos):
    before = _snapshot(photos)
    code, out, _ = cli("dupes", "--extras", "-0")
    assert code == 0
    assert sorted(out.split("\0")[:-1]) == sorted([str(copies["backup"]), str(copies["download"])])
    assert _snapshot(photos) == before  # listing never touches a file


def test_merge_metadata_gives_the_kept_file_what_its_copies_carry(copies, cli, cli_json):
    cli("tag", "add", "sea", copies["backup"])
    cli("album", "create", "Summer")
    cli("album", "add", "Summer", copies["download"])
    cli("event", "create", "Beach day", "--start", "2019-06-01")
    cli("event", "add", "Beach day", copies["download"])
    code, _, err = cli("dupes", "--keep", "oldest", "--merge-metadata")
    assert code == 0, err
    assert "gained tags sea; albums Summer; events Beach day" in err
    (kept,) = _json(cli_json, "show", copies["original"])["files"]
    assert kept["tags"] == ["sea"]
    assert [a["name"] for a in kept["albums"]] == ["Summer"]
    assert [e["name"] for e in kept["events"]] == ["Beach day"]
    # Once merged, deleting the extras loses nothing: a second merge has nothing to add.
    code, _, err = cli("dupes", "--keep", "oldest", "--merge-metadata")
    assert "gave 0 kept files" in err


def test_merged_tags_survive_a_reimport_of_the_kept_file(copies, cli, cli_json, photos):
    cli("tag", "add", "sea", copies["backup"])
    cli("dupes", "--keep", "oldest", "--merge-metadata")
    os.utime(copies["original"], (1_600_000_000,) * 2)  # makes the import read it again
    code, out, _ = cli("import", "--json", photos)
    assert json.loads(out)["updated"] == 1
    assert _json(cli_json, "show", copies["original"])["files"][0]["tags"] == ["sea"]


def test_merge_dry_run_changes_nothing(copies, cli, cli_json):
    cli("tag", "add", "sea", copies["backup"])
    code, _, err = cli("dupes", "--keep", "oldest", "--merge-metadata", "--dry-run")
    assert code == 0 and "would gain tags sea" in err
    assert _json(cli_json, "show", copies["original"])["files"][0]["tags"] == []


def test_merge_respects_album_roles(copies, cli, cli_json, monkeypatch):
    monkeypatch.setenv("LUNA_USER", "alice")
    cli("album", "create", "Alice's")
    cli("album", "add", "Alice's", copies["backup"])
    cli("album", "share", "Alice's", "bob", "--role", "viewer")
    monkeypatch.setenv("LUNA_USER", "bob")
    code, _, err = cli("dupes", "--keep", "oldest", "--merge-metadata")
    assert code == 0
    assert 'not added to album "Alice\'s"' in err or "not added to album 'Alice's'" in err
    assert _json(cli_json, "show", copies["original"])["files"][0]["albums"] == []


def test_folder_argument_shows_only_groups_with_a_copy_there(copies, cli_json, photos):
    assert len(_groups(cli_json, str(photos / "Downloads"))) == 1
    (photos / "2019" / "nothing-here").mkdir()
    assert _groups(cli_json, str(photos / "2019" / "nothing-here")) == []


def test_missing_copies_and_sidecars_are_not_duplicates(photos, cli, cli_json):
    a = make_photo(photos / "a.jpg")
    shutil.copy(a, photos / "gone.jpg")
    xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>'
    (photos / "a.jpg.xmp").write_text(xmp)
    make_photo(photos / "b.jpg", color=(1, 2, 3))
    (photos / "b.jpg.xmp").write_text(xmp)
    cli("import", photos)
    os.unlink(photos / "gone.jpg")
    cli("import", photos)
    assert _groups(cli_json) == []


def test_no_duplicates_is_not_an_error(photos, cli):
    make_photo(photos / "only.jpg")
    cli("import", photos)
    code, out, err = cli("dupes")
    assert (code, out) == (0, "")
    assert "No duplicates." in err


def test_csv_and_jsonl(copies, cli):
    code, out, _ = cli("dupes", "--csv")
    lines = out.strip().splitlines()
    assert lines[0].startswith("group,keep,path,id")
    assert len(lines) == 4 and lines[1].startswith("1,yes,")
    code, out, _ = cli("dupes", "--jsonl")
    assert [len(json.loads(line)["files"]) for line in out.splitlines()] == [3]


@pytest.mark.parametrize("similar", [[], ["--similar"]], ids=["exact", "similar"])
@pytest.mark.parametrize("option", ["FOLDER", "--keep in:"])
def test_a_folder_that_does_not_exist_is_refused(copies, cli, tmp_path, option, similar):
    """A typo, or a disk not mounted: taken as given it would match nothing, and the user
    would read "no duplicates" (or, for --keep, see another copy kept)."""
    gone = tmp_path / "nowhere"
    args = [str(gone)] if option == "FOLDER" else ["--keep", f"in:{gone}"]
    code, out, err = cli("dupes", *similar, *args)
    assert (code, out) == (1, "")
    assert err == f"Error: no such folder: {gone}\n"


def test_a_file_is_not_a_folder(copies, cli):
    code, _, err = cli("dupes", copies["original"])
    assert code == 1 and err == f"Error: not a folder: {copies['original']}\n"


def test_bad_options_are_one_line(copies, cli):
    code, _, err = cli("dupes", "--keep", "biggest")
    assert code == 2 and err.count("\n") == 1 and "--keep" in err
    code, _, err = cli("dupes", "--threshold", "4")
    assert code == 2 and "--threshold needs --similar" in err


# -- near duplicates -------------------------------------------------------------------------


def _scene(seed: int, size=(1200, 900)):
    """A natural-looking picture (shapes of random colours, softened): what a perceptual
    hash is made for; flat colours would all look alike to it."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(50, 500), rng.randrange(50, 400)
        draw.ellipse((x, y, x + w, y + h), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image.filter(ImageFilter.GaussianBlur(4))


@pytest.fixture
def lookalikes(photos: Path, cli) -> dict[str, Path]:
    original = _scene(1)
    paths = {
        "original": photos / "camera" / "IMG_1.jpg",
        "small": photos / "cloud" / "IMG_1-small.jpg",
        "squeezed": photos / "cloud" / "IMG_1-q40.jpg",
        "png": photos / "export" / "IMG_1.png",
        "other": photos / "camera" / "IMG_2.jpg",
    }
    for p in paths.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    original.save(paths["original"], quality=92)
    original.resize((600, 450)).save(paths["small"], quality=85)
    original.save(paths["squeezed"], quality=40)
    original.save(paths["png"])
    _scene(2).save(paths["other"], quality=92)
    code, _, err = cli("import", photos)
    assert code == 0, err
    return paths


def test_similar_groups_resized_recompressed_and_converted_copies(lookalikes, cli_json):
    doc = _json(cli_json, "dupes", "--similar")
    assert doc["mode"] == "similar" and doc["threshold"] == 8
    (group,) = doc["groups"]
    assert {f["path"] for f in group["files"]} == {
        str(lookalikes[k]) for k in ("original", "small", "squeezed", "png")
    }
    # The original (most pixels, then most bytes) is kept, not a cloud service's copy.
    kept = group["files"][0]
    assert kept["keep"] and kept["path"] in (str(lookalikes["original"]), str(lookalikes["png"]))
    assert kept["width"] == 1200
    assert group["content_sha"] is None  # the copies' bytes differ
    assert all(f["distance"] <= 8 for f in group["files"])
    assert doc["hashing"]["computed"] == 5 and doc["hashing"]["failed"] == []


def test_similar_hashes_are_computed_once(lookalikes, cli_json):
    _json(cli_json, "dupes", "--similar")
    doc = _json(cli_json, "dupes", "--similar")
    assert doc["hashing"] == {"computed": 0, "cached": 5, "failed": []}


def _group_paths(doc) -> list[set[str]]:
    return [{Path(f["path"]).name for f in group["files"]} for group in doc["groups"]]


def test_similar_pairs_found_once_still_see_new_and_removed_photos(lookalikes, cli, cli_json):
    """Close pairs are kept between runs; a photo added later is still compared with the
    others, a photo gone leaves its groups, and a larger threshold searches again."""
    from luna import Library
    from luna.ops.similar import HASH_METHOD

    first = _group_paths(_json(cli_json, "dupes", "--similar"))
    assert first == [{"IMG_1.jpg", "IMG_1-small.jpg", "IMG_1-q40.jpg", "IMG_1.png"}]
    # A new copy, imported after the pairs were kept, joins the group.
    newcomer = lookalikes["original"].parent / "IMG_1-crop.jpg"
    _scene(1).resize((800, 600)).save(newcomer, quality=70)
    assert cli("import", lookalikes["original"].parent)[0] == 0
    second = _group_paths(_json(cli_json, "dupes", "--similar"))
    assert second == [first[0] | {"IMG_1-crop.jpg"}]
    # A copy deleted and forgotten leaves the group; its hash leaves the kept pairs.
    lookalikes["small"].unlink()
    assert cli("import", lookalikes["small"].parent)[0] == 0
    assert cli("prune", "--yes")[0] == 0
    third = _group_paths(_json(cli_json, "dupes", "--similar"))
    assert third == [second[0] - {"IMG_1-small.jpg"}]
    with Library.open() as lib:
        searched = lib.store.duplicates.searched(HASH_METHOD)
        present = {value for _, value in lib.store.duplicates.hashed_photos(HASH_METHOD)}
    assert set(searched) == present and set(searched.values()) == {8}
    # The other picture is never grouped, however often the pairs are reused.
    assert all("IMG_2.jpg" not in group for group in first + second + third)
    # A looser threshold searches around every photo again, and records it.
    assert _group_paths(_json(cli_json, "dupes", "--similar", "--threshold", "12")) == third
    with Library.open() as lib:
        assert set(lib.store.duplicates.searched(HASH_METHOD).values()) == {12}


def test_similar_extras_and_a_strict_threshold(lookalikes, cli):
    code, out, _ = cli("dupes", "--similar", "--keep", f"in:{lookalikes['original'].parent}",
                       "--extras", "--reviewed", "-0")  # fmt: skip
    assert sorted(out.split("\0")[:-1]) == sorted(
        str(lookalikes[k]) for k in ("small", "squeezed", "png")
    )
    # --threshold 0: only pictures whose hashes are identical group.
    code, out, _ = cli("dupes", "--similar", "--threshold", "0", "--json")
    doc = json.loads(out)
    assert doc["threshold"] == 0
    assert all(f["distance"] == 0 for g in doc["groups"] for f in g["files"])


def test_a_photo_that_cannot_be_decoded_is_reported_not_fatal(lookalikes, photos, cli):
    broken = photos / "camera" / "IMG_3.jpg"
    data = lookalikes["original"].read_bytes()
    broken.write_bytes(data[:2000])  # a truncated JPEG: imported, but no picture to compare
    cli("import", photos)
    code, out, err = cli("dupes", "--similar", "--json")
    doc = json.loads(out)
    if doc["hashing"]["failed"]:
        assert code == 3 and "not compared" in err
    assert len(doc["groups"]) == 1


@pytest.mark.parametrize(
    "output",
    [["-0"], ["--paths"], [], ["--json"], ["--csv"]],
    ids=["print0", "paths", "plain", "json", "csv"],
)
def test_similar_extras_need_reviewed(lookalikes, cli, output):
    """Similar pictures may be different photos: their extras are no list for `xargs rm`
    until the user says the groups were looked at."""
    code, out, err = cli("dupes", "--similar", "--extras", *output)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "review the groups first" in err and "--reviewed" in err
    code, out, err = cli("dupes", "--similar", "--extras", "--reviewed", "-0")
    assert code == 0 and len(out.split("\0")[:-1]) == 3


def test_exact_extras_need_no_review(copies, cli):
    code, out, _ = cli("dupes", "--extras", "-0")
    assert code == 0 and len(out.split("\0")[:-1]) == 2


def _chart(size=(1200, 900)):
    """A line chart on white, as gnuplot draws one: axes, ticks, labels, a curve."""
    import math

    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.line([(100, 50), (100, 800), (1150, 800)], fill="black", width=3)
    for i in range(11):
        draw.line([(100 + i * 100, 800), (100 + i * 100, 790)], fill="black", width=2)
        draw.text((95 + i * 100, 815), str(i * 10), fill="black")
    curve = [(100 + i * 10, 500 - int(250 * math.sin(i / 8))) for i in range(105)]
    draw.line(curve, fill="red", width=4)
    draw.text((500, 20), "omega_prs.txt using 1:2", fill="black")
    return image


@pytest.fixture
def mixed(photos: Path, cli) -> dict[str, Path]:
    """A flat grey frame, a black one, a chart, a photo and its resized copy."""
    from PIL import Image

    paths = {
        "flat": photos / "flat.jpg",
        "black": photos / "dark" / "black.jpg",
        "chart": photos / "chart.png",
        "photo": photos / "IMG_5.jpg",
        "copy": photos / "cloud" / "IMG_5-small.jpg",
    }
    paths["copy"].parent.mkdir()
    paths["black"].parent.mkdir()
    Image.new("RGB", (4032, 2012), (137, 137, 137)).save(paths["flat"], quality=90)
    Image.new("RGB", (640, 480), "black").save(paths["black"], quality=90)
    _chart().save(paths["chart"])
    _scene(5).save(paths["photo"], quality=92)
    _scene(5).resize((600, 450)).save(paths["copy"], quality=85)
    code, _, err = cli("import", photos)
    assert code == 0, err
    return paths


def _assert_every_extra_within_threshold(doc):
    for group in doc["groups"]:
        kept, *extras = group["files"]
        assert kept["keep"] and kept["distance"] == 0
        assert extras and all(f["distance"] <= doc["threshold"] for f in extras), group


def test_similar_groups_no_flat_frame_or_chart_with_a_photo(mixed, cli):
    code, out, err = cli("dupes", "--similar", "--json")
    assert code == 0, err
    doc = json.loads(out)
    _assert_every_extra_within_threshold(doc)
    groups = [{f["path"] for f in g["files"]} for g in doc["groups"]]
    assert groups == [{str(mixed["photo"]), str(mixed["copy"])}]
    # The flat frames (whose hashes are the same: 0) are not compared at all, and it says so.
    assert doc["left_out"] == {"little_structure": 2}
    assert "2 pictures left out: too little structure to compare by appearance" in err


def test_a_flat_frame_is_still_an_exact_duplicate(mixed, cli, photos):
    shutil.copy(mixed["flat"], photos / "flat-copy.jpg")
    cli("import", photos)
    for mode in ([], ["--similar"]):
        code, out, _ = cli("dupes", *mode, "--json")
        (group,) = [g for g in json.loads(out)["groups"] if g["content_sha"]]
        assert {f["path"] for f in group["files"]} == {
            str(mixed["flat"]),
            str(photos / "flat-copy.jpg"),
        }


def test_left_out_is_counted_in_the_folder_given(mixed, cli):
    code, out, _ = cli("dupes", "--similar", "--json", mixed["copy"].parent)
    assert json.loads(out)["left_out"] == {"little_structure": 0}
    code, out, err = cli("dupes", "--similar", mixed["black"].parent)
    assert "1 picture left out" in err


@requires_corpus()
def test_corpus_groups_hold_only_pictures_close_to_the_kept_one(lib, cli):
    """On real pictures (../shared/corpus): every picture of a group is within the threshold
    of the kept one and of each other, and the flat grey frame and the gnuplot chart, which a
    chain of close pairs once put in one group of 90, share no group."""
    from luna.ops.similar import hamming, perceptual_hash

    cli("import", CORPUS)
    code, out, err = cli("dupes", "--similar", "--json")
    assert code in (0, 3), err  # 3: the corpus holds pictures that cannot be decoded
    doc = json.loads(out)
    _assert_every_extra_within_threshold(doc)
    for group in doc["groups"]:
        hashes = [perceptual_hash(f["path"]) for f in group["files"]]
        assert max(hamming(a, b) for a in hashes for b in hashes) <= doc["threshold"], group
    grouped = {f["path"] for g in doc["groups"] for f in g["files"]}
    flat = str(CORPUS / "exif-py/jpg/tests/67-0_length_string.jpg")
    chart = str(CORPUS / "exif-py/tiff/Tless0.tiff")
    assert flat not in grouped and chart not in grouped
    assert doc["left_out"]["little_structure"] > 0
    assert "left out: too little structure" in err
