"""`luna album ...` as users and scripts see it: albums with an owner, editors and viewers,
files in date or insertion order, FILE... from arguments or stdin, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_photo

ALBUM_KEYS = ["name", "slug", "description", "owner", "role", "files", "created"]
SHOW_KEYS = [
    "version",
    "name",
    "slug",
    "description",
    "owner",
    "role",
    "created",
    "editors",
    "viewers",
    "count",
    "files",
]
FILE_KEYS = ["id", "path", "filename", "start", "kind", "added"]


def luna(*args, user: str | None = "alice", stdin: str | None = None, env=None):
    """Run the CLI in-process as `user` (None: nobody said), feeding `stdin`;
    returns (exit code, stdout, stderr)."""
    from conftest import run_cli

    return run_cli(*args, *(["--as", user] if user else []), input=stdin, env=env)


def luna_json(*args, user: str | None = "alice"):
    code, out, err = luna(*args, "--json", user=user)
    assert code == 0, err
    return json.loads(out)


def listed(user: str | None = "alice") -> list[dict]:
    """`album list --json`: the albums `user` may see."""
    document = luna_json("album", "list", user=user)
    assert list(document) == ["version", "count", "albums"]
    return document["albums"]


def ok(*args, **kwargs) -> str:
    """Run a command that must succeed; returns what it said on stderr."""
    code, _, err = luna(*args, **kwargs)
    assert code == 0, err
    return err


def filenames(album: str, *, user: str = "alice", order: str = "date") -> list[str]:
    record = luna_json("album", "show", album, "--order", order, user=user)
    return [f["filename"] for f in record["files"]]


@pytest.fixture
def photos_dir(photos, cli):
    """Four photos taken in 2018, 2019, 2020 and 2021, named so that their names sort
    neither by date nor in the order the tests add them."""
    make_photo(photos / "b.jpg", taken="2019:06:01 12:00:00", color=(10, 0, 0))
    make_photo(photos / "d.jpg", taken="2018:01:01 08:00:00", color=(20, 0, 0))
    make_photo(photos / "a.jpg", taken="2021:03:03 09:00:00", color=(30, 0, 0))
    make_photo(photos / "trip" / "c.jpg", taken="2020:07:14 18:00:00", color=(40, 0, 0))
    code, _, err = cli("import", photos)
    assert code == 0, err
    return photos


@pytest.fixture
def holidays(photos_dir):
    """Album "Holidays", owned by alice, shared with bob (viewer) and carol (editor)."""
    ok("album", "create", "Holidays", "--description", "Summers")
    ok("album", "add", "Holidays", photos_dir / "b.jpg", photos_dir / "d.jpg")
    ok("album", "share", "Holidays", "bob", "--role", "viewer")
    ok("album", "share", "Holidays", "carol", "--role", "editor")
    return photos_dir


# -- creating, listing, showing ---------------------------------------------------------------


def test_create_list_show_have_pinned_json_keys(photos_dir):
    err = ok("album", "create", "Summer 2019", "--description", "Brittany")
    assert "created album Summer 2019" in err and "alice" in err
    ok("album", "add", "summer 2019", photos_dir / "b.jpg")

    [row] = listed()
    assert list(row) == ALBUM_KEYS
    assert {k: row[k] for k in ALBUM_KEYS if k != "created"} == {
        "name": "Summer 2019",
        "slug": "summer-2019",
        "description": "Brittany",
        "owner": "alice",
        "role": "owner",
        "files": 1,
    }
    assert row["created"].endswith("Z")

    record = luna_json("album", "show", "SUMMER 2019")
    assert list(record) == SHOW_KEYS
    assert (record["editors"], record["viewers"]) == ([], [])
    [file] = record["files"]
    assert list(file) == FILE_KEYS
    assert file["path"] == str(photos_dir / "b.jpg")
    assert (file["filename"], file["kind"]) == ("b.jpg", "photo")
    assert file["start"] == "2019-06-01T12:00:00"
    assert file["added"].endswith("Z")
    assert len(file["id"]) == 36  # as `luna show` prints ids


def test_name_is_matched_by_slug(photos_dir):
    ok("album", "create", "Summer 2019")
    code, _, err = luna("album", "create", "summer   2019")
    assert code == 1
    assert err.strip() == "Error: album 'Summer 2019' already exists (its slug is 'summer-2019')"
    assert filenames("SUMMER 2019") == []


def test_unknown_album_is_not_found(photos_dir):
    for args in (["show", "Nope"], ["add", "Nope", photos_dir], ["delete", "Nope", "--yes"]):
        code, out, err = luna("album", *args)
        assert (code, out) == (1, ""), args
        assert err.startswith("Error: no album 'Nope'"), args


def test_empty_name_is_refused(photos_dir):
    code, _, err = luna("album", "create", "  ")
    assert code == 1 and "album name is empty" in err


def test_list_csv_and_jsonl(holidays):
    ok("album", "create", "Autumn")
    code, out, _ = luna("album", "list", "--csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ",".join(ALBUM_KEYS)
    assert [line.split(",")[0] for line in lines[1:]] == ["Autumn", "Holidays"]
    code, out, _ = luna("album", "list", "--jsonl")
    assert [json.loads(line)["name"] for line in out.splitlines()] == ["Autumn", "Holidays"]
    code, out, _ = luna("album", "list")
    assert code == 0 and "Holidays" in out and "Autumn" in out


def test_show_csv_and_jsonl_list_the_files(holidays):
    code, out, _ = luna("album", "show", "Holidays", "--jsonl")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["filename"] for r in rows] == ["d.jpg", "b.jpg"]
    assert all(list(r) == FILE_KEYS for r in rows)
    code, out, _ = luna("album", "show", "Holidays", "--csv")
    assert out.splitlines()[0] == ",".join(FILE_KEYS)
    code, out, _ = luna("album", "show", "Holidays")  # not a terminal: the paths
    assert code == 0 and [Path(p).name for p in out.splitlines()] == ["d.jpg", "b.jpg"]


def test_list_shows_only_what_the_user_can_see(holidays):
    ok("album", "create", "Private")
    assert [a["name"] for a in listed()] == ["Holidays", "Private"]
    assert [(a["name"], a["role"]) for a in listed(user="bob")] == [("Holidays", "viewer")]
    [carols] = listed(user="carol")
    assert (carols["role"], carols["owner"], carols["files"]) == ("editor", "alice", 2)
    assert listed(user="dave") == []
    code, out, err = luna("album", "list", user="dave")
    assert (code, out, err) == (0, "", "")  # not a terminal: nothing to read, nothing said


# -- order ------------------------------------------------------------------------------------


def test_files_by_date_or_in_the_order_added(photos_dir):
    ok("album", "create", "Mix")
    ok("album", "add", "Mix", photos_dir / "a.jpg")  # 2021
    ok("album", "add", "Mix", photos_dir / "d.jpg", photos_dir / "trip")  # 2018, 2020
    ok("album", "add", "Mix", photos_dir / "b.jpg")  # 2019
    assert filenames("Mix") == ["d.jpg", "b.jpg", "c.jpg", "a.jpg"]
    assert filenames("Mix", order="added") == ["a.jpg", "d.jpg", "c.jpg", "b.jpg"]

    # Removing and adding again puts a file at the end; adding it twice does not move it.
    ok("album", "remove", "Mix", photos_dir / "a.jpg")
    ok("album", "add", "Mix", photos_dir / "a.jpg", photos_dir / "d.jpg")
    assert filenames("Mix", order="added") == ["d.jpg", "c.jpg", "b.jpg", "a.jpg"]

    code, _, err = luna("album", "show", "Mix", "--order", "name")
    assert code == 2 and "--order" in err


# -- adding and removing files ----------------------------------------------------------------


def test_add_and_remove_say_what_changed(photos_dir):
    ok("album", "create", "Holidays")
    err = ok("album", "add", "Holidays", photos_dir / "b.jpg", photos_dir / "trip")
    assert err.splitlines() == ["added 2 files to Holidays"]
    err = ok("album", "add", "Holidays", photos_dir)  # a folder: every library file below it
    assert err.splitlines() == ["added 2 files to Holidays", "2 were already in it"]
    err = ok("album", "remove", "holidays", photos_dir / "b.jpg")
    assert err.splitlines() == ["removed 1 file from Holidays"]
    err = ok("album", "remove", "Holidays", photos_dir / "b.jpg", photos_dir / "a.jpg")
    assert err.splitlines() == ["removed 1 file from Holidays", "1 was not in it"]
    assert filenames("Holidays") == ["d.jpg", "c.jpg"]


def test_files_from_stdin_one_per_line(photos_dir):
    ok("album", "create", "Holidays")
    names = f"{photos_dir / 'a.jpg'}\n{photos_dir / 'b.jpg'}\n\n"
    err = ok("album", "add", "Holidays", "-", stdin=names)
    assert "added 2 files to Holidays" in err
    assert filenames("Holidays", order="added") == ["a.jpg", "b.jpg"]


def test_files_from_stdin_nul_separated(photos_dir):
    odd = photos_dir / "with\nnewline.jpg"
    make_photo(odd, taken="2017:05:05 05:05:05", color=(0, 50, 0))
    ok("import", odd, user=None)
    ok("album", "create", "Holidays")
    stdin = "\0".join([str(odd), str(photos_dir / "d.jpg")]) + "\0"
    err = ok("album", "add", "Holidays", "-z", "-", stdin=stdin)
    assert "added 2 files to Holidays" in err
    assert filenames("Holidays", order="added") == ["with\nnewline.jpg", "d.jpg"]
    # --null: the spelling before --null-input, still understood.
    err = ok("album", "remove", "Holidays", "--null", "-", stdin=str(odd) + "\0")
    assert "removed 1 file from Holidays" in err


def test_a_bad_file_changes_nothing_unless_skipped(photos_dir):
    ok("album", "create", "Holidays")
    good, bad = photos_dir / "a.jpg", photos_dir / "no-such.jpg"
    code, out, err = luna("album", "add", "Holidays", good, bad)
    assert (code, out) == (1, "")
    assert f"not in the library: {bad}" in err and "nothing was changed" in err
    assert filenames("Holidays") == []

    err = ok("album", "add", "Holidays", good, bad, "--skip-missing")
    assert f"skipped (not in the library): {bad}" in err
    assert "added 1 file to Holidays" in err
    assert filenames("Holidays") == ["a.jpg"]

    code, _, err = luna("album", "remove", "Holidays", good, bad)
    assert code == 1 and "nothing was changed" in err
    assert filenames("Holidays") == ["a.jpg"]


def test_files_by_id_and_id_prefix(photos_dir):
    ok("album", "create", "Holidays")
    ok("album", "add", "Holidays", photos_dir / "a.jpg")
    file_id = luna_json("album", "show", "Holidays")["files"][0]["id"]
    ok("album", "create", "Other")
    ok("album", "add", "Other", file_id)
    assert filenames("Other") == ["a.jpg"]
    ok("album", "remove", "Other", file_id.replace("-", "")[:12])
    assert filenames("Other") == []


def test_dry_run_changes_nothing(holidays):
    before = luna_json("album", "show", "Holidays")
    err = ok("album", "add", "Holidays", holidays, "--dry-run")
    assert err.splitlines() == [
        "would add 2 files to Holidays (dry run)",
        "2 are already in it",
    ]
    err = ok("album", "remove", "Holidays", holidays / "b.jpg", "-n")
    assert err.splitlines() == ["would remove 1 file from Holidays (dry run)"]
    assert luna_json("album", "show", "Holidays") == before


def test_dry_run_is_refused_like_the_real_thing(holidays):
    code, _, err = luna("album", "add", "Holidays", holidays, "--dry-run", user="bob")
    assert code == 5 and "you are bob (viewer)" in err


# -- sharing: the "done when" ---------------------------------------------------------


def test_two_users_share_an_album(holidays):
    # bob, a viewer, sees the album but may not change it.
    record = luna_json("album", "show", "Holidays", user="bob")
    assert record["role"] == "viewer"
    assert (record["owner"], record["editors"], record["viewers"]) == ("alice", ["carol"], ["bob"])
    assert [f["filename"] for f in record["files"]] == ["d.jpg", "b.jpg"]

    code, out, err = luna("album", "add", "Holidays", holidays / "a.jpg", user="bob")
    assert (code, out) == (5, "")
    assert err.strip() == (
        "Error: only alice (the owner) or an editor (carol) may add to album 'Holidays'; "
        "you are bob (viewer)"
    )
    for args in (["remove", "Holidays", holidays / "b.jpg"], ["rename", "Holidays", "Mine"]):
        code, _, err = luna("album", *args, user="bob")
        assert code == 5 and "you are bob (viewer)" in err, args

    # carol, an editor, may add, remove and rename...
    err = ok("album", "add", "Holidays", holidays / "a.jpg", user="carol")
    assert "added 1 file to Holidays" in err
    ok("album", "remove", "Holidays", holidays / "d.jpg", user="carol")
    assert filenames("Holidays", user="bob") == ["b.jpg", "a.jpg"]

    # ...but only alice shares, unshares and deletes.
    owner_only = [
        ["share", "Holidays", "dave"],
        ["unshare", "Holidays", "bob"],
        ["delete", "Holidays", "--yes"],
    ]
    for args in owner_only:
        for user, role in (("carol", "editor"), ("bob", "viewer")):
            code, _, err = luna("album", *args, user=user)
            assert code == 5, (args, user)
            verb = args[0]
            assert err.strip() == (
                f"Error: only alice (the owner) may {verb} album 'Holidays'; "
                f"you are {user} ({role})"
            )

    # dave has no part in it at all.
    code, _, err = luna("album", "show", "Holidays", user="dave")
    assert code == 5
    assert err.strip() == (
        "Error: only alice (the owner), an editor (carol) or a viewer may see album "
        "'Holidays'; you are dave (no role)"
    )

    # The listings agree with all that.
    assert [(a["name"], a["role"], a["files"]) for a in listed(user="bob")] == [
        ("Holidays", "viewer", 2)
    ]
    record = luna_json("album", "show", "Holidays")
    assert (record["role"], record["editors"], record["viewers"]) == ("owner", ["carol"], ["bob"])

    ok("album", "delete", "Holidays", "--yes")
    assert listed(user="bob") == []
    assert listed(user="carol") == []


def test_share_changes_role_and_unshare_takes_it_away(holidays):
    err = ok("album", "share", "Holidays", "bob", "--role", "editor")
    assert err.strip() == "bob is now an editor of Holidays (was viewer)"
    err = ok("album", "share", "Holidays", "bob", "--role", "editor")
    assert err.strip() == "bob was already an editor of Holidays"
    record = luna_json("album", "show", "Holidays")
    assert (record["editors"], record["viewers"]) == (["bob", "carol"], [])
    ok("album", "add", "Holidays", holidays / "a.jpg", user="bob")

    err = ok("album", "unshare", "Holidays", "bob")
    assert err.strip() == "bob is no longer an editor of Holidays"
    code, _, _ = luna("album", "show", "Holidays", user="bob")
    assert code == 5
    err = ok("album", "unshare", "Holidays", "bob")
    assert err.strip() == "bob had no access to Holidays; nothing changed"
    err = ok("album", "share", "Holidays", "erin")  # viewer unless told
    assert err.strip() == "erin is now a viewer of Holidays"


def test_share_with_the_owner_is_an_error(holidays):
    code, _, err = luna("album", "share", "Holidays", "alice", "--role", "editor")
    assert code == 1
    assert err.strip() == "Error: alice owns album 'Holidays'; share it with someone else"
    code, _, err = luna("album", "unshare", "Holidays", "alice")
    assert code == 1 and "an owner cannot be unshared" in err
    code, _, err = luna("album", "share", "Holidays", "bob", "--role", "owner")
    assert code == 2


def test_users_are_created_on_first_mention(holidays, library_path):
    from luna.library import Library

    ok("album", "share", "Holidays", "zoe")
    listed(user="yann")  # reading does not create anyone
    with Library.open(library_path, create=False) as lib:
        assert lib.user_id("zoe", create=False) is not None
        assert lib.user_id("yann", create=False) is None
        # (The import also recorded the photos' owner on disk.)
        users = {name for (name,) in lib.db.execute_sql('SELECT name FROM "user"')}
        assert {"alice", "bob", "carol", "zoe"} <= users


def test_acting_user_from_environment_then_login(photos_dir, monkeypatch):
    monkeypatch.setenv("LUNA_USER", "bob")
    ok("album", "create", "Bobs", user=None)
    [row] = listed(user=None)
    assert (row["owner"], row["role"]) == ("bob", "owner")

    monkeypatch.delenv("LUNA_USER")
    monkeypatch.setattr("getpass.getuser", lambda: "frank")
    ok("album", "create", "Franks", user=None)
    assert [a["name"] for a in listed(user=None)] == ["Franks"]
    assert [a["name"] for a in listed(user="bob")] == ["Bobs"]  # --user wins


# -- renaming and deleting --------------------------------------------------------------------


def test_rename_keeps_files_order_and_shares(holidays):
    ok("album", "create", "Autumn")
    code, _, err = luna("album", "rename", "Holidays", "autumn", user="carol")
    assert code == 1 and "album 'Autumn' already exists" in err

    err = ok("album", "rename", "holidays", "Summer 2019", user="carol")
    assert err.strip() == "renamed album Holidays to Summer 2019"
    code, _, _ = luna("album", "show", "Holidays")
    assert code == 1
    record = luna_json("album", "show", "summer 2019", user="bob")
    assert (record["name"], record["slug"]) == ("Summer 2019", "summer-2019")
    assert [f["filename"] for f in record["files"]] == ["d.jpg", "b.jpg"]
    assert (record["editors"], record["viewers"]) == (["carol"], ["bob"])

    ok("album", "rename", "Summer 2019", "SUMMER 2019")  # same slug, new spelling
    assert luna_json("album", "show", "summer 2019")["name"] == "SUMMER 2019"


def test_delete_needs_yes_without_a_terminal_and_keeps_files(holidays, cli_json):
    code, _, err = luna("album", "delete", "Holidays")  # CliRunner's stdin is not a tty
    assert code == 1
    assert "refusing to delete album 'Holidays'" in err and "--yes" in err
    assert filenames("Holidays") == ["d.jpg", "b.jpg"]

    err = ok("album", "delete", "Holidays", "--yes")
    assert err.strip() == "deleted album Holidays; its 2 files stay in the library"
    code, _, _ = luna("album", "show", "Holidays")
    assert code == 1
    code, stats, _ = cli_json("stats")
    assert (stats["files"], stats["albums"]) == (4, 0)
    code, shown, _ = cli_json("show", holidays / "b.jpg")
    assert shown["files"][0]["albums"] == []

    # The name is free again, and the new album starts empty and unshared.
    ok("album", "create", "Holidays")
    record = luna_json("album", "show", "Holidays")
    assert (record["files"], record["editors"], record["viewers"]) == ([], [], [])


# -- help and the Python API ------------------------------------------------------------------


def test_every_album_command_has_help_with_an_example(cli):
    from luna.cli.album import album_app

    code, out, _ = cli("album", "--help")
    assert code == 0
    names = [c.name for c in album_app.registered_commands]
    assert names == [
        "create",
        "add",
        "remove",
        "list",
        "show",
        "rename",
        "delete",
        "share",
        "unshare",
    ]
    for name in names:
        assert name in out
        code, text, _ = cli("album", name, "--help")
        assert code == 0 and "Example" in text, name


def test_python_api(photos_dir, library_path):
    from luna.errors import PermissionDenied
    from luna.library import Library
    from luna.ops import albums
    from luna.ops.targets import resolve

    with Library.open(library_path, create=False) as lib:
        albums.create_album(lib, "Trips", user="alice")
        ids = resolve(lib, [str(photos_dir / "trip"), str(photos_dir / "a.jpg")]).ids
        change = albums.add_files(lib, "trips", ids, user="alice")
        assert (len(change.changed), change.unchanged, change.dry_run) == (2, [], False)
        albums.share_album(lib, "Trips", "bob", role="viewer", user="alice")
        with pytest.raises(PermissionDenied):
            albums.remove_files(lib, "Trips", ids, user="bob")
        access = albums.check_access(lib, "Trips", user="bob", action="show")
        assert (access.name, access.role, access.files) == ("Trips", "viewer", 2)
        shown = albums.show_album(lib, "Trips", user="bob", order="added")
        assert [f["filename"] for f in shown["files"]] == ["c.jpg", "a.jpg"]
        assert albums.delete_album(lib, "Trips", user="alice") == {"name": "Trips", "files": 2}
        assert albums.list_albums(lib, user="alice") == []
