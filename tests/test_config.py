"""The config file, the precedence of its settings, and `luna config`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from luna.errors import ConfigError
from luna.settings import (
    KEYS,
    config_path,
    example_config,
    load_settings,
)
from tests.conftest import run_luna_as_owner

DEFAULT_TEMPLATE = "{year}/{month}/{day}/{filename}"


@pytest.fixture(autouse=True)
def isolated_config(isolated_home, monkeypatch):
    """No test reads a real config file: the XDG config home is under the fake home."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(isolated_home / ".config"))
    monkeypatch.delenv("LUNA_CONFIG", raising=False)
    monkeypatch.delenv("LUNA_USER", raising=False)
    return isolated_home / ".config" / "luna" / "config.toml"


def write_config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_json(cli, *args):
    import json

    code, out, err = cli(*args, "config", "--json")
    assert code == 0, err
    return json.loads(out), err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: "), err
    return lines[0]


# -- where the file is ---------------------------------------------------------------------


def test_config_path_follows_xdg_config_home(isolated_config, tmp_path, monkeypatch):
    assert config_path() == isolated_config
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    assert config_path() == tmp_path / "elsewhere" / "luna" / "config.toml"


def test_relative_or_empty_xdg_config_home_is_ignored(isolated_home, monkeypatch):
    expected = isolated_home / ".config" / "luna" / "config.toml"
    for value in ("relative/config", ""):
        monkeypatch.setenv("XDG_CONFIG_HOME", value)
        assert config_path() == expected
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert config_path() == expected


def test_luna_config_chooses_another_file(tmp_path, isolated_config, monkeypatch):
    write_config(isolated_config, 'template = "{year}/{filename}"\n')
    other = write_config(tmp_path / "work.toml", 'template = "work/{filename}"\n')
    monkeypatch.setenv("LUNA_CONFIG", str(other))
    assert config_path() == other
    setting = load_settings()["template"]
    assert setting.value == "work/{filename}"
    assert setting.source == f"config file {other}"


def test_luna_config_expands_tilde(isolated_home, monkeypatch):
    monkeypatch.setenv("LUNA_CONFIG", "~/luna.toml")
    assert config_path() == isolated_home / "luna.toml"


def test_config_path_option(cli, isolated_config):
    code, out, err = cli("config", "--path")
    assert (code, out, err) == (0, f"{isolated_config}\n", "")


def test_config_path_option_works_with_a_broken_file(cli, isolated_config):
    # `$EDITOR "$(luna config --path)"` is how one repairs the file.
    write_config(isolated_config, "template = \n")
    code, out, _ = cli("config", "--path")
    assert (code, out) == (0, f"{isolated_config}\n")


def test_path_and_json_together_are_refused(cli):
    code, out, err = cli("config", "--path", "--json")
    assert code == 1 and out == ""
    assert "--path" in one_error_line(err)


# -- values and where they come from ------------------------------------------------------


def test_no_file_gives_defaults(isolated_home, monkeypatch):
    monkeypatch.delenv("LUNA_LIBRARY")
    settings = load_settings()
    assert not settings.exists and settings.warnings == []
    assert {key: s.source for key, s in settings.items()} == dict.fromkeys(KEYS, "default")
    assert settings.get("library") == isolated_home / ".local/share/luna/library.db"
    assert settings.get("library_folder") is None
    assert settings.get("template") == DEFAULT_TEMPLATE
    assert settings.get("exclude") == []
    assert settings.get("user") is None
    assert settings.get("jobs") == 0


def test_no_file_cli(cli, isolated_config):
    doc, err = config_json(cli)
    assert doc["config_file_exists"] is False
    assert doc["config_file"] == str(isolated_config)
    assert doc["settings"]["template"] == {"value": DEFAULT_TEMPLATE, "source": "default"}
    assert err == ""  # JSON for a program: no note about the absent file
    code, out, err = cli("config")
    assert code == 0
    # not a terminal: `key<TAB>value<TAB>source` lines (a table for people on a terminal)
    lines = [line.split("\t") for line in out.splitlines()]
    assert [key for key, _, _ in lines] == [*KEYS]
    assert ["template", DEFAULT_TEMPLATE, "default"] in lines
    assert "No config file at ~/.config/luna/config.toml" in err


def test_file_sets_values_and_is_named_as_their_source(isolated_home, isolated_config):
    write_config(
        isolated_config,
        'library = "~/photos.db"\n'
        'library_folder = "~/Pictures/Library"\n'
        'template = "{year}/{year}-{month}/{filename}"\n'
        'exclude = ["*.tmp", "@eaDir"]\n'
        'user = "alice"\n'
        "jobs = 4\n"
        "sidecar_write = true\n"
        'sidecar_naming = "stem"\n'
        "[roots]\n"
        'photos = "/mnt/photos"\n'
        'archive = "~/archive/"\n',
    )
    os.environ.pop("LUNA_LIBRARY")  # monkeypatched by conftest, so restored after the test
    settings = load_settings()
    assert settings.exists
    source = "config file ~/.config/luna/config.toml"
    assert {key: s.source for key, s in settings.items()} == dict.fromkeys(KEYS, source)
    assert settings.get("library") == isolated_home / "photos.db"  # ~ expanded
    assert settings.get("library_folder") == isolated_home / "Pictures" / "Library"
    assert settings.get("template") == "{year}/{year}-{month}/{filename}"
    assert settings.get("exclude") == ["*.tmp", "@eaDir"]
    assert settings.get("user") == "alice"
    assert settings.get("jobs") == 4
    assert (settings.get("sidecar_write"), settings.get("sidecar_naming")) == (True, "stem")
    assert settings.get("roots") == {
        "photos": "/mnt/photos",
        "archive": str(isolated_home / "archive"),
    }


@pytest.mark.parametrize(
    "roots, complaint",
    [
        ('roots = "/mnt"', "roots must be a table of names and folders"),
        ('[roots]\n"a b" = "/mnt"', "names of letters, digits"),
        ('[roots]\nphotos = "relative/dir"', "absolute folders"),
        ("[roots]\nphotos = 3", "folders (non-empty strings)"),
    ],
)
def test_a_wrong_root_is_refused_saying_why(isolated_config, roots, complaint):
    write_config(isolated_config, roots + "\n")
    with pytest.raises(ConfigError, match=re.escape(complaint)):
        load_settings()


def test_file_values_in_cli_json(cli, isolated_home, isolated_config):
    write_config(isolated_config, 'library_folder = "~/Lib"\nexclude = "*.tmp"\n')
    doc, _ = config_json(cli)
    assert doc["config_file_exists"] is True
    assert doc["settings"]["library_folder"] == {
        "value": str(isolated_home / "Lib"),
        "source": "config file ~/.config/luna/config.toml",
    }
    # One pattern may be written as a plain string.
    assert doc["settings"]["exclude"]["value"] == ["*.tmp"]


def test_json_keys_are_pinned(cli):
    doc, _ = config_json(cli)
    assert list(doc) == ["version", "config_file", "config_file_exists", "settings"]
    assert doc["version"] == 1
    assert list(doc["settings"]) == [
        "library",
        "library_folder",
        "template",
        "exclude",
        "user",
        "jobs",
        "roots",
        "sidecar_write",
        "sidecar_naming",
    ]
    assert all(list(entry) == ["value", "source"] for entry in doc["settings"].values())


def test_environment_beats_the_file(tmp_path, isolated_config, monkeypatch):
    write_config(isolated_config, 'library = "/from/file.db"\nuser = "alice"\n')
    monkeypatch.setenv("LUNA_LIBRARY", str(tmp_path / "env.db"))
    monkeypatch.setenv("LUNA_USER", "bob")
    settings = load_settings()
    assert settings["library"].value == tmp_path / "env.db"
    assert settings["library"].source == "environment (LUNA_LIBRARY)"
    assert (settings["user"].value, settings["user"].source) == ("bob", "environment (LUNA_USER)")


def test_empty_environment_variables_count_as_unset(isolated_config, monkeypatch):
    write_config(isolated_config, 'library = "/from/file.db"\n')
    monkeypatch.setenv("LUNA_LIBRARY", "")
    monkeypatch.setenv("LUNA_USER", "")
    settings = load_settings()
    assert settings["library"].value == Path("/from/file.db")
    assert settings["user"].source == "default"


def test_library_option_beats_environment_and_file(cli, tmp_path, isolated_config):
    write_config(isolated_config, 'library = "/from/file.db"\n')  # and conftest sets the env
    doc, _ = config_json(cli, "-L", str(tmp_path / "cli.db"))
    assert doc["settings"]["library"] == {
        "value": str(tmp_path / "cli.db"),
        "source": "command line (--library)",
    }
    doc, _ = config_json(cli)
    assert doc["settings"]["library"]["source"] == "environment (LUNA_LIBRARY)"


def test_overrides_beat_everything(isolated_config, monkeypatch, isolated_home):
    write_config(isolated_config, 'template = "{year}/{filename}"\nuser = "alice"\n')
    monkeypatch.setenv("LUNA_USER", "bob")
    settings = load_settings(
        {
            "template": ("{camera}/{filename}", "command line (--template)"),
            "user": ("carol", "command line (--user)"),
            "library_folder": ("~/Out", "command line (--into)"),
            "exclude": ("*.tmp", "command line (--exclude)"),
            "jobs": (None, "command line (--jobs)"),  # None: the option was not given
        }
    )
    assert settings["template"].value == "{camera}/{filename}"
    assert settings["template"].source == "command line (--template)"
    assert settings.get("user") == "carol"
    assert settings.get("library_folder") == isolated_home / "Out"
    assert settings.get("exclude") == ["*.tmp"]
    assert settings["jobs"].source == "default"


def test_unknown_override_is_a_programming_error():
    with pytest.raises(ValueError, match="templte"):
        load_settings({"templte": ("x", "command line (--template)")})


def test_path_argument_reads_that_file(tmp_path):
    other = write_config(tmp_path / "c.toml", "jobs = 2\n")
    settings = load_settings(path=other)
    assert settings.path == other and settings.get("jobs") == 2


def test_example_config_is_valid_and_shown_in_help(cli, tmp_path, isolated_home):
    settings = load_settings(path=write_config(tmp_path / "c.toml", example_config()))
    assert settings.warnings == []
    assert settings.get("library_folder") == isolated_home / "Pictures" / "Library"
    assert settings.get("exclude") == ["*.tmp", "@eaDir", ".thumbnails"]
    code, out, _ = cli("config", "--help")
    assert code == 0
    help_lines = [line.strip() for line in out.splitlines()]
    for line in example_config().splitlines():
        assert line in help_lines
    for key in KEYS:
        assert key in out


# -- mistakes in the file --------------------------------------------------------------------


def test_invalid_toml_is_one_line_naming_file_and_line(cli, isolated_config):
    write_config(isolated_config, 'template = "{year}/{filename}"\nexclude = [*.tmp]\n')
    with pytest.raises(ConfigError, match=r"config\.toml.*line 2"):
        load_settings()
    code, out, err = cli("config")
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert "~/.config/luna/config.toml" in line and "line 2" in line


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("template = 3\n", "template"),
        ('template = ""\n', "template"),
        ("exclude = [1, 2]\n", "exclude"),
        ("exclude = {a = 1}\n", "exclude"),
        ("jobs = -1\n", "jobs"),
        ("jobs = true\n", "jobs"),
        ('jobs = "4"\n', "jobs"),
        ("user = 7\n", "user"),
        ("library_folder = 1979-05-27\n", "library_folder"),
        ('library_folder = "Pictures/Library"\n', "library_folder"),  # relative to what?
        ('library = ""\n', "library"),
        ('sidecar_write = "yes"\n', "sidecar_write"),
        ('sidecar_naming = "sideways"\n', "sidecar_naming"),
    ],
)
def test_wrong_type_is_one_line_naming_key_and_file(cli, isolated_config, text, key):
    write_config(isolated_config, f"# luna\n\n{text}")
    code, out, err = cli("config")
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert line.startswith(f"Error: config file ~/.config/luna/config.toml, line 3: {key} must be ")


def test_wrong_type_message(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(path=write_config(tmp_path / "c.toml", "jobs = -2\n"))
    assert str(caught.value).endswith(
        ": jobs must be a whole number (0 or more), not -2 (an integer)"
    )


def test_unknown_key_is_a_warning_with_a_suggestion(cli, isolated_config):
    write_config(isolated_config, 'templte = "{year}/{filename}"\nfuture_key = 1\n')
    settings = load_settings()
    assert settings["template"].source == "default"
    typo, unknown = settings.warnings
    assert "'templte'" in typo and "did you mean 'template'?" in typo
    assert "'future_key'" in unknown and "known keys: library," in unknown

    import json

    code, out, err = cli("config", "--json")
    assert code == 0
    assert json.loads(out)["settings"]["template"]["source"] == "default"
    warnings = [line for line in err.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 2 and "did you mean 'template'?" in warnings[0]


def test_not_utf8_is_one_line(cli, isolated_config):
    isolated_config.parent.mkdir(parents=True)
    isolated_config.write_bytes(b'template = "caf\xe9"\n')
    code, _, err = cli("config")
    assert code == 1
    assert "not UTF-8" in one_error_line(err)


def test_a_folder_in_place_of_the_file_is_one_line(cli, isolated_config):
    isolated_config.mkdir(parents=True)
    code, _, err = cli("config")
    assert code == 1
    assert "cannot read config file ~/.config/luna/config.toml" in one_error_line(err)


def test_permission_denied_is_one_line(monkeypatch, isolated_config):
    write_config(isolated_config, "jobs = 2\n")

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (
        "cannot read config file ~/.config/luna/config.toml: Permission denied"
    )


def test_unreadable_file_is_one_line(isolated_config):
    write_config(isolated_config, "jobs = 2\n").chmod(0)
    try:
        done = run_luna_as_owner("config")
    finally:
        isolated_config.chmod(0o600)
    assert done.returncode == 1
    assert "cannot read config file" in one_error_line(done.stderr)


# -- cost --------------------------------------------------------------------------------------


def test_loading_without_a_file_parses_nothing(tmp_path):
    # `luna find` runs in shell loops: no config file, no TOML parser.
    code = (
        "import sys; from luna.settings import load_settings; load_settings(); "
        "print('tomllib' in sys.modules)"
    )
    env = {**os.environ, "LUNA_CONFIG": str(tmp_path / "absent.toml")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_default_template_is_the_layouts():
    # Repeated in luna.settings so that reading settings does not import the layout code.
    from luna.files.layout import DEFAULT_TEMPLATE as LAYOUT_DEFAULT

    assert load_settings().get("template") == LAYOUT_DEFAULT == DEFAULT_TEMPLATE
