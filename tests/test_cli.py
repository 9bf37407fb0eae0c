"""The command line as a user and a script see it: data on stdout, one-line errors on
stderr, documented exit codes, JSON with pinned keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import library_execute, library_exists, make_photo

REPORT_KEYS = {
    "version",
    "dry_run",
    "added",
    "updated",
    "moved",
    "unchanged",
    "missing",
    "unavailable",
    "unavailable_files",
    "skipped",
    "skipped_files",
    "failed",
    "failures",
    "known_failed",
    "known_failures",
    "vanished_roots",
    "files_read",
    "bytes_read",
    "seconds",
    "interrupted",
}
SHOW_KEYS = {
    "id",
    "rating",
    "label",
    "flag",
    "title",
    "description",
    "path",
    "verified_at",
    "content_history",
    "filename",
    "kind",
    "mime_type",
    "size_bytes",
    "mtime",
    "content_sha",
    "start",
    "end",
    "utc_offset_minutes",
    "width",
    "height",
    "location",
    "place",
    "owner",
    "missing_since",
    "created",
    "modified",
    "tags",
    "albums",
    "events",
    "related_files",
    "metadata",
    "processor_metadata",
}
STATS_KEYS = {
    "version",
    "library",
    "files",
    "total_bytes",
    "by_kind",
    "by_year",
    "by_camera",
    "by_date_source",
    "by_country",
    "by_city",
    "with_location",
    "missing",
    "failed",
    "tags",
    "albums",
    "events",
}


@pytest.fixture
def imported(photos, cli):
    make_photo(photos / "a.jpg", gps=(48.85, 2.35), make="Apple", model="iPhone 12")
    make_photo(photos / "b.jpg", taken="2021:01:01 00:00:01", color=(1, 1, 1))
    (photos / "c.txt").write_text("not a photo")
    code, out, err = cli("import", photos)
    assert code == 0, err
    return photos


def test_import_prints_summary_on_stderr_and_nothing_on_stdout(photos, cli):
    make_photo(photos / "a.jpg")
    code, out, err = cli("import", photos)
    assert code == 0
    assert out == ""
    assert "1 added" in err and "Imported" in err


def test_import_json_report(photos, cli_json):
    make_photo(photos / "a.jpg")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    code, report, err = cli_json("import", photos)
    assert code == 3  # finished, but a file failed
    assert set(report) == REPORT_KEYS
    assert report["version"] == 1
    assert (report["added"], report["failed"]) == (1, 1)
    assert report["failures"][0]["path"].endswith("broken.jpg")
    assert report["failures"][0]["reason"]


def test_import_dry_run_json(photos, cli_json, library_path):
    make_photo(photos / "a.jpg")
    code, report, _ = cli_json("import", photos, "--dry-run")
    assert code == 0
    assert report["dry_run"] is True and report["added"] == 1
    assert not library_exists(library_path)


def test_import_of_a_missing_path_is_one_line_and_exit_1(tmp_path, cli):
    code, out, err = cli("import", tmp_path / "nope")
    assert code == 1
    assert out == ""
    assert err.strip() == f"Error: no such file or directory: {tmp_path / 'nope'}"


def test_show_by_path_id_and_prefix(imported, cli_json):
    path = str(imported / "a.jpg")
    _, shown, _ = cli_json("show", path)
    assert list(shown) == ["version", "count", "files"] and shown["count"] == 1
    by_path = shown["files"]
    assert len(by_path) == 1 and set(by_path[0]) == SHOW_KEYS
    file_id = by_path[0]["id"]
    by_id = cli_json("show", file_id)[1]["files"]
    by_prefix = cli_json("show", file_id[:8])[1]["files"]
    assert by_id == by_prefix == by_path
    assert by_path[0]["location"]["latitude"] == pytest.approx(48.85)
    assert by_path[0]["metadata"]["model"] == "iPhone 12"


def test_show_several_files_as_jsonl(imported, cli):
    code, out, _ = cli("show", imported / "a.jpg", imported / "b.jpg", "--jsonl")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["filename"] for r in rows] == ["a.jpg", "b.jpg"]


def test_show_panel_lists_every_field(imported, cli):
    code, out, _ = cli("show", imported / "a.jpg")
    assert code == 0
    for label in (
        "id",
        "path",
        "kind",
        "sha-256",
        "taken",
        "location",
        "tags",
        "albums",
        "events",
        "camera",  # make and model in one (luna.readable)
        "read by",
    ):
        assert label in out
    assert "exif:DateTimeOriginal" in out
    assert "\x1b[" not in out  # no colour codes when not on a terminal


def test_show_unknown_file_is_an_error(imported, cli):
    code, out, err = cli("show", "/no/such/photo.jpg")
    assert code == 1
    assert out == ""
    assert err.startswith("Error: not in the library: /no/such/photo.jpg")


def test_show_prints_the_known_files_and_names_the_others(imported, cli, cli_json):
    known = str(imported / "a.jpg")
    code, out, err = cli("show", known, "/nope", "--json")
    assert code == 1 and "not in the library: /nope" in err
    assert [r["path"] for r in json.loads(out)["files"]] == [known]


def test_show_takes_folders_and_stdin_as_every_file_command_does(imported, cli, cli_json):
    paths = sorted(str(p) for p in imported.glob("*.jpg"))  # c.txt is not recorded
    _, by_folder, _ = cli_json("show", imported)
    assert sorted(r["path"] for r in by_folder["files"]) == paths
    code, out, _ = cli("show", "-", "--json", input="\n".join(paths) + "\n")
    assert code == 0 and sorted(r["path"] for r in json.loads(out)["files"]) == paths
    code, out, _ = cli("show", "-", "-z", "--json", input="\0".join(paths))
    assert code == 0 and sorted(r["path"] for r in json.loads(out)["files"]) == paths


def test_show_and_tag_show_resolve_ids_alike(imported, cli, cli_json, library_path):
    rows = cli_json("show", imported)[1]["files"]
    first, second = (r["id"].replace("-", "") for r in rows)  # stored without dashes
    for command in (["show"], ["tag", "show"]):
        code, out, err = cli(*command, first[:4], "--json")
        shown = json.loads(out)["files"][0]["id"].replace("-", "")
        assert code == 0 and shown == first, (command, err)
        # Fewer than 4 hex digits is not an id: a stray word must not pick a file.
        assert cli(*command, first[:3])[0] == 1
    # Two ids that share their first 4 digits: the prefix names neither.
    library_execute(library_path, "UPDATE file SET id = ? WHERE id = ?",
                    (first[:4] + second[4:], second))  # fmt: skip
    for command in (["show"], ["tag", "show"]):
        code, out, err = cli(*command, first[:4])
        assert code == 1 and out == "" and "several files" in err, command


def test_stats(imported, cli_json, cli):
    code, stats, _ = cli_json("stats")
    assert code == 0
    assert set(stats) == STATS_KEYS
    assert stats["files"] == 2
    assert stats["by_kind"] == {"photo": 2}
    assert stats["by_year"] == {"2019": 1, "2021": 1}
    assert stats["by_camera"] == {"Apple iPhone 12": 1, "Canon EOS 5D": 1}
    assert stats["with_location"] == 1
    assert (stats["missing"], stats["failed"]) == (0, 0)
    code, out, _ = cli("stats")
    assert code == 0 and "files" in out and "2019" in out


def test_every_command_has_help(cli):
    from luna.cli.app import app

    code, out, _ = cli("--help")
    assert code == 0
    assert "Exit codes" in out
    for command in app.registered_commands:
        assert command.name in out
        code, text, _ = cli(command.name, "--help")
        assert code == 0 and "Example" in text, command.name


def test_version(cli):
    from luna import __version__

    assert cli("--version")[:2] == (0, f"luna {__version__}\n")


def test_unknown_option_is_a_usage_error(cli):
    code, out, err = cli("import", "--no-such-option", ".")
    assert code == 2 and out == ""
    assert "Error: No such option: --no-such-option" in err


def test_dangling_symlink_is_no_such_file(tmp_path, cli):
    (tmp_path / "link").symlink_to(tmp_path / "nothing")
    code, _, err = cli("import", tmp_path / "link")
    assert code == 1
    assert err.strip() == (
        f"Error: no such file or directory: {tmp_path / 'link'} (a symbolic link to nothing)"
    )
    code, _, err = cli("import", tmp_path / "nothing")
    assert (code, err.strip()) == (1, f"Error: no such file or directory: {tmp_path / 'nothing'}")


def test_python_dash_m_luna_works():
    done = subprocess.run(
        [sys.executable, "-m", "luna", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("luna ")


def test_closed_pipe_is_quiet(imported, library_path):
    # `luna show ... | head -c1`: the reader goes away; no traceback may appear. The output
    # is made larger than a pipe's buffer so that luna really writes into a closed pipe.
    many = " ".join([f"'{imported}/a.jpg'"] * 600)
    proc = subprocess.run(
        f"'{sys.executable}' -m luna -L '{library_path}' show --jsonl {many} | head -c1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout == "{"
    assert proc.stderr == ""


def test_a_command_loads_only_its_own_module(tmp_path):
    """`luna find` runs in shell loops: it must not pay for importing the other commands."""
    script = (
        "import sys\n"
        "sys.argv = ['luna', '-L', sys.argv[1], 'find', '--count']\n"
        "from luna.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('luna.cli.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "none.db")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    loaded = done.stdout.split()
    assert "luna.cli.find" in loaded
    assert not {"luna.cli.album", "luna.cli.import_cmd", "luna.cli.dupes_cmd"} & set(loaded)


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["find", "--tag", "x"], "find"),
        (["-L", "find", "tag", "add"], "tag"),
        (["--library", "/x.db", "--", "show"], "show"),
        (["--help"], None),
        (["--version"], "--version"),
        ([], None),
    ],
)
def test_the_command_word_is_found_past_global_options(argv, named):
    from luna.cli.argv import command_named

    assert command_named(argv) == named


def test_version_is_answered_without_loading_the_command_line_toolkit():
    """`luna --version` runs in scripts' preambles: no Typer, Click or rich for one line."""
    script = (
        "import sys\n"
        "sys.argv = ['luna', '--version']\n"
        "from luna.cli.entry import main\n"
        "main()\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('typer', 'click', 'rich', 'peewee'))) or '-')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    from luna import __version__

    assert done.stdout == f"luna {__version__}\n-\n"


def test_stats_names_each_camera_once(photos, cli, cli_json):
    """The same camera written two ways is one line; the maker is not said twice; files
    without a camera come last."""
    make_photo(photos / "a.jpg", make="OLYMPUS IMAGING CORP.", model="E-P3", color=(1, 2, 3))
    make_photo(photos / "b.jpg", make="OLYMPUS IMAGING CORP.  ", model="E-P3 ", color=(4, 5, 6))
    make_photo(photos / "c.jpg", make="NIKON CORPORATION", model="NIKON D70", color=(7, 8, 9))
    make_photo(photos / "d.jpg", make=None, model=None, color=(9, 9, 9))
    assert cli("import", photos)[0] == 0
    _, stats, _ = cli_json("stats")
    assert list(stats["by_camera"].items()) == [
        ("OLYMPUS E-P3", 2),
        ("NIKON D70", 1),
        ("unknown", 1),
    ]


def test_command_modules_do_not_turn_annotations_into_strings():
    """Typer reads each command's annotations on every run; as strings (PEP 563) they are
    compiled and evaluated each time, ~10 ms of every `luna find` in a shell loop."""
    from luna.cli.app import COMMAND_MODULES

    folder = Path(__file__).resolve().parent.parent / "luna" / "cli"
    for module in {*COMMAND_MODULES.values(), "app", "render", "output"}:
        text = (folder / f"{module}.py").read_text(encoding="utf-8")
        assert "from __future__ import annotations" not in text, module


def test_a_command_run_leaves_every_command_registered():
    """Only the command named is built for a run; the others are back afterwards."""
    from luna.cli.app import _only_the_command_named, app, load_commands

    load_commands()
    before = [c.name for c in app.registered_commands]
    with _only_the_command_named(["-L", "x.db", "find", "--count"]):
        assert [c.name for c in app.registered_commands] == ["find"]
    assert [c.name for c in app.registered_commands] == before and "search" in before
