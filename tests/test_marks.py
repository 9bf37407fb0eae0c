"""Stars, colour labels, picks and rejects, titles and descriptions (issue 16): given with
`luna rate`, `label`, `pick`, `reject`, `unflag` and `describe`, found with `find
--rating/--unrated/--label/--picked/--rejected`, sorted by `--sort rating`, shown by `show`
and every output format. What the file itself says (an XMP rating, label or title) counts
until something is said in luna, which wins; the file is never changed.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import make_photo, run_cli

SIDECAR = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="{rating}" xmp:Label="{label}">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


@pytest.fixture
def shoot(tmp_path, library_path):
    """Five photos; b.jpg says 3 stars, Green and a title in its XMP sidecar, and c.jpg
    was rejected in Lightroom (rating -1)."""
    folder = tmp_path / "shoot"
    for i, name in enumerate("abcde"):
        make_photo(folder / f"{name}.jpg", taken=f"2019:06:0{i + 1} 12:00:00", color=(i, 9, 9))
    (folder / "b.jpg.xmp").write_text(SIDECAR.format(rating=3, label="Green", title="Pier"))
    (folder / "c.jpg.xmp").write_text(SIDECAR.format(rating=-1, label="", title="Blurred"))
    assert run_cli("import", str(folder))[0] == 0
    return folder


def names(*args: str) -> list[str]:
    code, out, err = run_cli(
        "find", *args, "--kind", "photo", "--sort", "name", "--format", "{filename}"
    )
    assert code == 0, err
    return out.split()


def record(folder, name: str) -> dict:
    code, out, err = run_cli("find", "--name", name, "--json")
    assert code == 0, err
    (found,) = json.loads(out)["files"]
    return found


def fingerprint(folder) -> dict:
    """Each file's bytes and modification time: what luna must never change."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


def test_the_files_own_marks_count_until_luna_says_otherwise(shoot):
    b, c = record(shoot, "b.jpg"), record(shoot, "c.jpg")
    assert (b["rating"], b["label"], b["flag"], b["title"]) == (3, "green", None, "Pier")
    assert (c["rating"], c["flag"]) == (None, "reject")  # -1 is Lightroom's reject, not stars
    assert names("--rating", "3") == ["b.jpg"]
    assert names("--rejected") == ["c.jpg"]
    assert names("--label", "green") == ["b.jpg"]

    assert run_cli("rate", "0", str(shoot / "b.jpg"))[0] == 0
    assert run_cli("label", "none", str(shoot / "b.jpg"))[0] == 0
    assert run_cli("describe", str(shoot / "b.jpg"), "--title", "Harbour")[0] == 0
    assert run_cli("unflag", str(shoot / "c.jpg"))[0] == 0
    b, c = record(shoot, "b.jpg"), record(shoot, "c.jpg")
    assert (b["rating"], b["label"], b["title"]) == (0, None, "Harbour")
    assert c["flag"] is None
    assert names("--rating", "3") == [] and names("--rejected") == []
    assert "b.jpg" in names("--unrated") and names("--label", "green") == []


def test_rate_label_pick_and_find_them_with_nothing_else(shoot):
    before = fingerprint(shoot)
    assert run_cli("rate", "5", str(shoot / "a.jpg"), str(shoot / "d.jpg"))[0] == 0
    assert run_cli("rate", "2", str(shoot / "e.jpg"))[0] == 0
    assert run_cli("label", "Red", str(shoot / "a.jpg"))[0] == 0
    assert run_cli("pick", str(shoot / "d.jpg"))[0] == 0
    assert run_cli("reject", str(shoot / "e.jpg"))[0] == 0
    assert names("--rating", "5") == ["a.jpg", "d.jpg"]
    assert names("--rating", "3-5") == ["a.jpg", "b.jpg", "d.jpg"]
    assert names("--rating", "-2") == ["e.jpg"]
    assert names("--unrated") == ["c.jpg"]
    assert names("--label", "red") == ["a.jpg"]
    assert names("--label", "none") == ["c.jpg", "d.jpg", "e.jpg"]
    assert names("--picked") == ["d.jpg"]
    assert names("--rejected") == ["c.jpg", "e.jpg"]
    assert names("--picked", "--rating", "5") == ["d.jpg"]
    only_photos = ("--kind", "photo")
    code, out, _ = run_cli(
        "find", *only_photos, "--sort", "-rating", "--format", "{filename} {rating}"
    )
    assert out.splitlines() == ["a.jpg 5", "d.jpg 5", "b.jpg 3", "e.jpg 2", "c.jpg "]
    code, out, _ = run_cli("find", *only_photos, "--sort", "rating", "--format", "{filename}")
    assert out.split() == ["e.jpg", "b.jpg", "a.jpg", "d.jpg", "c.jpg"]  # unrated last
    assert fingerprint(shoot) == before  # not a byte or an mtime of any file changed


def test_marks_in_every_output(shoot):
    run_cli("rate", "4", str(shoot / "a.jpg"))
    run_cli("label", "blue", str(shoot / "a.jpg"))
    run_cli("pick", str(shoot / "a.jpg"))
    run_cli("describe", str(shoot / "a.jpg"), "--title", "Dawn", "--description", "Low tide")
    found = record(shoot, "a.jpg")
    assert [found[k] for k in ("rating", "label", "flag", "title", "description")] == [
        4, "blue", "pick", "Dawn", "Low tide",
    ]  # fmt: skip
    code, out, _ = run_cli("find", "--name", "a.jpg", "--csv")
    header, row = out.splitlines()
    line = dict(zip(header.split(","), row.split(","), strict=True))
    assert (line["rating"], line["label"], line["flag"], line["title"]) == (
        "4",
        "blue",
        "pick",
        "Dawn",
    )
    code, out, _ = run_cli("find", "--name", "a.jpg", "--fields", "rating,label,flag,title")
    assert out == "4\tblue\tpick\tDawn\n"
    code, out, _ = run_cli("show", str(shoot / "a.jpg"), "--json")
    shown = json.loads(out)["files"][0]
    assert (shown["rating"], shown["flag"], shown["description"]) == (4, "pick", "Low tide")
    code, out, _ = run_cli("show", str(shoot / "b.jpg"))
    assert "rating\t3 stars\n" in out and "title\tPier\n" in out
    run_cli("rate", "1", str(shoot / "b.jpg"))
    code, out, _ = run_cli("show", str(shoot / "b.jpg"))
    assert "rating\t1 star  (the file says 3)\n" in out


def test_dry_run_says_and_changes_nothing(shoot):
    code, _, err = run_cli("rate", "5", "--dry-run", str(shoot / "a.jpg"), str(shoot / "b.jpg"))
    assert code == 0 and "would mark 2 of 2 files 5 stars" in err
    assert names("--rating", "5") == []


def test_many_files_from_stdin_nul_separated(shoot):
    listing = "".join(f"{shoot / n}.jpg\0" for n in "ade")
    code, _, err = run_cli("rate", "4", "-", "-z", input=listing)
    assert code == 0, err
    assert names("--rating", "4") == ["a.jpg", "d.jpg", "e.jpg"]
    code, _, err = run_cli("rate", "4", str(shoot))  # a folder: every file in it
    assert "marked 2 of 5 files 4 stars (3 already so)" in err


def test_marks_survive_a_reimport_of_a_changed_file(shoot):
    run_cli("rate", "5", str(shoot / "a.jpg"))
    run_cli("label", "purple", str(shoot / "a.jpg"))
    make_photo(shoot / "a.jpg", taken="2019:06:01 12:00:00", color=(250, 0, 0))  # edited
    code, out, err = run_cli("import", str(shoot), "--json")
    assert code == 0 and json.loads(out)["updated"] == 1, err
    assert (record(shoot, "a.jpg")["rating"], record(shoot, "a.jpg")["label"]) == (5, "purple")


@pytest.mark.parametrize(
    "args",
    [
        ["rate", "6", "x.jpg"],
        ["rate", "three", "x.jpg"],
        ["label", "pink", "x.jpg"],
        ["describe", "x.jpg"],
        ["find", "--label", "pink"],
        ["find", "--label", ""],
        ["find", "--sort", "stars"],
    ],
)
def test_bad_values_are_one_line_and_exit_2(shoot, args):
    code, out, err = run_cli(*args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_a_file_not_in_the_library_is_named_and_nothing_changes(shoot, tmp_path):
    stranger = make_photo(tmp_path / "elsewhere" / "x.jpg")
    code, _, err = run_cli("rate", "5", str(shoot / "a.jpg"), str(stranger))
    assert code == 1 and "x.jpg" in err
    assert names("--rating", "5") == []
    code, _, err = run_cli("rate", "5", "--skip-missing", str(shoot / "a.jpg"), str(stranger))
    assert code == 0 and "skipped" in err
    assert names("--rating", "5") == ["a.jpg"]


def test_from_python(shoot, library_path):
    from luna import Library

    with Library.open(library_path) as lib:
        change = lib.marks.rate(3, [str(shoot / "a.jpg"), str(shoot / "d.jpg")])
        assert (change.changed, change.unchanged) == (2, 0)
        assert lib.marks.flag("reject", [str(shoot / "a.jpg")]).changed == 1
        (title, description) = lib.marks.describe([str(shoot / "d.jpg")], title="T", description="")
        assert (title.value, description.value) == ("T", None)
    assert names("--rating", "3") == ["a.jpg", "b.jpg", "d.jpg"]
    assert names("--rejected") == ["a.jpg", "c.jpg"]


def test_merged_rows_keep_the_marks_of_either(shoot, library_path):
    """Two rows of one photo merged into one (dupes --merge-metadata, relink) keep what
    was said of either; the kept row's own marks win."""
    from luna import Library
    from luna.store.writes import merge_rows

    run_cli("rate", "5", str(shoot / "a.jpg"))
    run_cli("label", "red", str(shoot / "d.jpg"))
    run_cli("label", "blue", str(shoot / "a.jpg"))
    with Library.open(library_path) as lib:
        rows = lib.show([str(shoot / "a.jpg"), str(shoot / "d.jpg")]).rows
        a, d = (row["id"].replace("-", "") for row in rows)
        with lib.db.atomic():
            merge_rows(lib.db, keep=d, drop=a)
    merged = record(shoot, "d.jpg")
    assert (merged["rating"], merged["label"]) == (5, "red")
