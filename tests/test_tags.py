"""`luna tag`: tagging from the shell, one file or thousands."""

from __future__ import annotations

import pytest
from conftest import make_photo, run_cli


@pytest.fixture
def three(photos, cli):
    paths = [make_photo(photos / f"{n}.jpg", color=(i, i, i)) for i, n in enumerate("abc")]
    assert cli("import", photos)[0] == 0
    return paths


def tags_of(cli_json, path) -> list[str]:
    rows = cli_json("tag", "show", path)[1]["files"]
    return [t["name"] for t in rows[0]["tags"]]


def listing(cli_json) -> dict:
    rows = cli_json("tag", "list")[1]["tags"]
    return {r["name"]: r["files"] for r in rows}


def test_add_show_list_remove(three, cli, cli_json):
    a, b, c = three
    code, out, err = cli("tag", "add", "beach", a, b)
    assert code == 0 and out == ""
    assert err.strip() == "tagged 2 files with beach"
    assert tags_of(cli_json, a) == ["beach"]
    assert listing(cli_json) == {"beach": 2}
    code, _, err = cli("tag", "add", "-t", "2019", "-t", "Beach", a, c)
    assert "tagged 2 files with 2019, beach (1 already had it)" in err
    assert listing(cli_json) == {"2019": 2, "beach": 3}
    code, _, err = cli("tag", "remove", "BEACH", a)
    assert code == 0 and "untagged 1 files" in err
    assert tags_of(cli_json, a) == ["2019"]


def test_names_are_trimmed_case_insensitive_and_keep_their_first_spelling(three, cli, cli_json):
    a, b, _ = three
    cli("tag", "add", "  Côte d'Azur ", a)
    cli("tag", "add", "CÔTE D'AZUR", b)
    assert listing(cli_json) == {"Côte d'Azur": 2}


def test_empty_tag_is_an_error(three, cli):
    code, out, err = cli("tag", "add", "  ", three[0])
    assert code == 1 and out == "" and err.startswith("Error: tag name is empty")


def test_files_from_stdin_lines_and_nul(three, cli, cli_json):
    a, b, c = three
    code, _, err = run_cli("tag", "add", "x", "-", input=f"{a}\n{b}\n")
    assert code == 0, err
    code, _, err = run_cli("tag", "add", "y", "-z", "-", input=f"{b}\0{c}\0")
    assert code == 0, err
    assert listing(cli_json) == {"x": 2, "y": 2}


def test_a_folder_means_every_file_in_it(three, photos, cli, cli_json):
    cli("tag", "add", "all", photos)
    assert listing(cli_json) == {"all": 3}


def test_all_or_nothing_unless_skip_missing(three, tmp_path, cli, cli_json):
    a = three[0]
    code, _, err = cli("tag", "add", "x", a, tmp_path / "nope.jpg")
    assert code == 1
    assert "not in the library" in err and "nope.jpg" in err and "nothing was changed" in err
    assert listing(cli_json) == {}
    code, _, err = cli("tag", "add", "x", a, tmp_path / "nope.jpg", "--skip-missing")
    assert code == 0 and "skipped" in err
    assert listing(cli_json) == {"x": 1}


def test_ids_and_prefixes_name_files(three, cli, cli_json):
    records = cli_json("show", three[0])[1]["files"]
    file_id = records[0]["id"]
    cli("tag", "add", "byid", file_id[:8])
    assert tags_of(cli_json, three[0]) == ["byid"]


def test_hierarchical_tags_and_their_implied_parents(three, lib, cli):
    from luna.ops.tags import keys_matching

    a, b, _ = three
    cli("tag", "add", "Places/France/Paris", a)
    cli("tag", "add", "Places/France/Nice", b)
    cli("tag", "add", "Places/Franceville", b)
    matching = keys_matching(lib, "places/france")
    names = {
        lib.db.execute_sql("SELECT name FROM tag WHERE id = ?", (i,)).fetchone()[0]
        for i in matching
    }
    assert names == {"Places/France/Paris", "Places/France/Nice"}


def test_rename_moves_children_and_merges(three, cli, cli_json):
    a, b, c = three
    cli("tag", "add", "Places/Paris", a)
    cli("tag", "add", "Places/Paris/Louvre", b)
    cli("tag", "add", "paris", c)
    code, _, err = cli("tag", "rename", "Places/Paris", "Places/France/Paris")
    assert code == 0, err
    assert listing(cli_json) == {
        "paris": 1,
        "Places/France/Paris": 1,
        "Places/France/Paris/Louvre": 1,
    }
    code, _, err = cli("tag", "rename", "Places/France/Paris", "PARIS")
    assert "merged into" in err
    assert listing(cli_json) == {"paris": 2, "paris/Louvre": 1}


def test_renaming_an_implied_parent_renames_the_tags_below_it(three, cli, cli_json):
    a, b, c = three
    cli("tag", "add", "Places/France/Paris", a)
    cli("tag", "add", "Places/France/Nice", b)
    cli("tag", "add", "Places/Spain", c)
    code, _, err = cli("tag", "rename", "places/france", "Lieux/France")
    assert code == 0, err
    assert listing(cli_json) == {
        "Lieux/France/Paris": 1,
        "Lieux/France/Nice": 1,
        "Places/Spain": 1,  # not below Places/France: stays
    }
    # Only whole levels: Places/Sp is not a parent of Places/Spain.
    code, _, err = cli("tag", "rename", "Places/Sp", "Other")
    assert code == 1 and "no tag 'Places/Sp'" in err
    assert "Places/Spain" in listing(cli_json)


def test_delete_needs_yes_without_a_terminal(three, cli, cli_json):
    cli("tag", "add", "blurry", three[0])
    code, _, err = cli("tag", "delete", "blurry")
    assert code == 1 and "without --yes" in err
    assert listing(cli_json) == {"blurry": 1}
    code, _, err = cli("tag", "delete", "blurry", "--yes")
    assert code == 0 and "deleted tag blurry (it was on 1 files)" in err
    assert listing(cli_json) == {}
    assert tags_of(cli_json, three[0]) == []


def test_dry_run_changes_nothing(three, cli, cli_json):
    code, _, err = cli("tag", "add", "maybe", *three, "--dry-run")
    assert code == 0 and "would tag 3 files" in err
    assert listing(cli_json) == {}


def test_listings_as_csv_and_jsonl(three, cli):
    cli("tag", "add", "beach", three[0])
    code, out, _ = cli("tag", "list", "--csv")
    assert out.splitlines() == ["name,files,from_metadata,parent", "beach,1,0,"]
    code, out, _ = cli("tag", "list", "--jsonl")
    assert out.strip() == '{"name": "beach", "files": 1, "from_metadata": 0, "parent": null}'


def test_keywords_from_files_and_user_tags_share_one_tag(photos, cli, cli_json):
    path = make_photo(photos / "k.jpg", keywords=["Beach"])
    cli("import", photos)
    cli("tag", "add", "beach", path)
    _, listed, _ = cli_json("tag", "list")
    assert listed == {
        "version": 1,
        "count": 1,
        "tags": [{"name": "Beach", "files": 1, "from_metadata": 1, "parent": None}],
    }


def test_tag_show_as_csv_and_jsonl(three, cli):
    a, b, _ = three
    cli("tag", "add", "-t", "x", "-t", "y", a)
    code, out, _ = cli("tag", "show", a, b, "--csv")
    assert out.splitlines() == ["path,tags", f"{a},x; y", f"{b},"]
    code, out, _ = cli("tag", "show", a, "--jsonl")
    assert '"tags": [{"name": "x", "source": "user"}, {"name": "y", "source": "user"}]' in out
