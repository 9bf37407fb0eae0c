"""luna's settings: built-in defaults, the config file, the environment and the command line.

The config file is TOML at `$LUNA_CONFIG`, else `$XDG_CONFIG_HOME/luna/config.toml`, else
`~/.config/luna/config.toml`. Each setting's effective value is the first of: the command
line, the environment (`LUNA_LIBRARY`, `LUNA_USER`), the config file, the default; and each
remembers where it came from, which `luna config` shows.

Loading is cheap because `luna find` runs in shell loops: without a config file nothing is
parsed and nothing beyond `os` and `pathlib` is imported; tomllib only loads when there is a
file to read. Nothing here prints: unknown keys become `Settings.warnings` for the user
interface to show, and bad values raise ConfigError.

    from luna.settings import load_settings
    settings = load_settings({"template": ("{year}/{filename}", "command line (--template)")})
    settings.get("template")       # '{year}/{filename}'
    settings["template"].source    # 'command line (--template)'
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luna.errors import ConfigError
from luna.locations import ServerAddress, config_path, is_server_url, library_location

LIBRARY_ENV = "LUNA_LIBRARY"  # the same names as in luna.config
USER_ENV = "LUNA_USER"

# luna.files.layout.DEFAULT_TEMPLATE says the same; repeated here so that reading settings does
# not import the layout code.
DEFAULT_TEMPLATE = "{year}/{month}/{day}/{filename}"

DEFAULT = "default"


def data_folder() -> Path:
    """luna's folder for its data: `$XDG_DATA_HOME/luna`, else `~/.local/share/luna`."""
    data_home = os.environ.get("XDG_DATA_HOME")
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    if not data_home or not os.path.isabs(data_home):
        data_home = os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data_home) / "luna"


def _default_library() -> Path:
    """Where the library lives when neither the environment nor a config file says (and
    without $LUNA_LIBRARY, which is a source of its own)."""
    return data_folder() / "library.db"


@dataclass(frozen=True)
class Key:
    """A setting luna knows: its TOML type, default, help, and what an unset value means."""

    name: str
    # "path", "library" (a path or a postgresql:// URL), "str", "list" (of strings),
    # "count" (an integer >= 0) or "bool"
    kind: str
    default: Any | Callable[[], Any]
    help: str
    env: str | None = None
    unset: str | None = None  # what None (or 0 for a count) means, for people
    choices: tuple[str, ...] = ()  # the values a "str" may take, when only some may

    def default_value(self):
        return self.default() if callable(self.default) else self.default


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "library",
            "library",
            _default_library,
            "The library: a file (SQLite) or a postgresql:// URL; -L/--library on the "
            "command line.",
            env=LIBRARY_ENV,
        ),
        Key(
            "library_folder",
            "path",
            None,
            "Where `luna import --copy/--move` and `luna organize` put files (--into).",
            unset="not set: --copy/--move need --into",
        ),
        Key(
            "template",
            "str",
            DEFAULT_TEMPLATE,
            "Where files go in the library folder (--template).",
        ),
        Key(
            "exclude",
            "list",
            list,
            "Glob patterns `luna import` skips (--exclude); one string or a list.",
        ),
        Key(
            "user",
            "str",
            None,
            "Who is acting on shared albums (--user).",
            env=USER_ENV,
            unset="your login name",
        ),
        Key("jobs", "count", 0, "Worker processes for import (--jobs).", unset="one per core"),
        Key(
            "roots",
            "roots",
            dict,
            'Named folders ([roots] photos = "/mnt/photos"): paths below one are stored '
            "relative to its name, so computers that mount a shared disk at different places "
            "see the same files.",
            unset="none: paths are stored as they are",
        ),
        Key(
            "sidecar_write",
            "bool",
            False,
            "Keep XMP sidecars current after every change of tags, stars, labels, titles, "
            "albums and events (--write-sidecars).",
        ),
        Key(
            "sidecar_naming",
            "str",
            "file",
            "New sidecars: file (IMG_1.CR2.xmp, darktable, digiKam) or stem (IMG_1.xmp, "
            "Lightroom; a RAW+JPEG pair shares one).",
            choices=("file", "stem"),
        ),
    )
}


@dataclass
class Setting:
    """A setting's effective value and where it came from: "default", "config file PATH",
    "environment (LUNA_LIBRARY)", "command line (--into)"..."""

    key: str
    value: Any
    source: str


class Settings:
    """The effective value of every known setting (see KEYS), in KEYS order."""

    def __init__(self, settings: dict[str, Setting], path: Path, exists: bool, warnings: list[str]):
        self._settings = settings
        self.path = path  # the config file consulted
        self.exists = exists  # whether it was there
        self.warnings = warnings  # unknown keys, for the user interface to show

    def get(self, key: str):
        """The effective value of `key` (KeyError for a key luna does not know)."""
        return self._settings[key].value

    def __getitem__(self, key: str) -> Setting:
        return self._settings[key]

    def items(self) -> Iterator[tuple[str, Setting]]:
        return iter(self._settings.items())

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={s.value!r}" for k, s in self._settings.items())
        return f"Settings({values})"


def load_settings(
    overrides: dict[str, tuple[Any, str]] | None = None, *, path: str | Path | None = None
) -> Settings:
    """Every setting's effective value: `overrides` (key -> (value, source), normally from
    the command line; a None value counts as not given), then the environment, then the
    config file at `path` (default: config_path()), then the default. Raises ConfigError."""
    config_file = Path(path).expanduser() if path is not None else config_path()
    from_file, exists, warnings = _read_config(config_file)
    file_source = f"config file {display_path(config_file)}"
    settings: dict[str, Setting] = {}
    for name, key in KEYS.items():
        settings[name] = Setting(name, key.default_value(), DEFAULT)
        if name in from_file:
            settings[name] = Setting(name, from_file[name], file_source)
        env_value = os.environ.get(key.env) if key.env else None
        if env_value:  # an empty variable counts as unset, as in luna.config
            settings[name] = Setting(name, _from_text(key, env_value), f"environment ({key.env})")
    for name, (value, source) in (overrides or {}).items():
        if name not in KEYS:
            raise ValueError(f"unknown setting {name!r}; known: {', '.join(KEYS)}")
        if value is not None:
            settings[name] = Setting(name, _from_program(KEYS[name], value), source)
    return Settings(settings, config_file, exists, warnings)


def example_config() -> str:
    """A small config file, as shown in `luna config --help` and the README."""
    return (
        "# ~/.config/luna/config.toml\n"
        'library_folder = "~/Pictures/Library"\n'
        'template = "{year}/{year}-{month}/{filename}"\n'
        'exclude = ["*.tmp", "@eaDir", ".thumbnails"]\n'
        "[roots]  # where this computer mounts the folders a shared library names\n"
        'photos = "/mnt/photos"\n'
    )


def display_path(path: Path) -> str:
    """`path` with the home folder written `~`, as people write it in the config file."""
    home = os.path.expanduser("~")
    text = str(path)
    if home not in ("", "/", "~") and text.startswith(home.rstrip("/") + "/"):
        return "~" + text[len(home.rstrip("/")) :]
    return text


# -- reading the file ------------------------------------------------------------------------


def _read_config(config_file: Path) -> tuple[dict[str, Any], bool, list[str]]:
    """(valid known values, whether the file exists, warnings about unknown keys)."""
    shown = display_path(config_file)
    try:
        data = config_file.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return {}, False, []
    except OSError as exc:  # permission, a folder, an I/O error
        raise ConfigError(f"cannot read config file {shown}: {exc.strerror or exc}") from None
    import tomllib  # only when there is a config file to read

    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {shown} is not UTF-8 text (byte {exc.start + 1})") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line N, column M)".
        message = " ".join(str(exc).split())
        raise ConfigError(f"config file {shown} is not valid TOML: {message}") from None
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for name, raw in document.items():
        key = KEYS.get(name)
        if key is None:
            # A warning, not an error: a config written for a newer luna still works here.
            warnings.append(f"config file {shown}: unknown key {name!r} ignored{_hint(name)}")
            continue
        try:
            values[name] = _from_toml(key, raw)
        except ValueError as exc:
            where = _line_of(name, data)
            raise ConfigError(f"config file {shown}{where}: {name} must be {exc}") from None
    return values, True, warnings


def _line_of(name: str, data: bytes) -> str:
    """Where key `name` is set, as ", line N" ("" if it is not plain to see)."""
    import re

    pattern = re.compile(rb"""\s*["']?%s["']?\s*=""" % re.escape(name.encode()))
    for number, line in enumerate(data.splitlines(), 1):
        if pattern.match(line):
            return f", line {number}"
    return ""


def _hint(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(KEYS), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known keys: {', '.join(KEYS)})"


def _from_toml(key: Key, raw: Any):
    """The value of `key` in the file; ValueError("EXPECTED, not GOT") when it is wrong."""

    def wrong(expected: str) -> ValueError:
        return ValueError(f"{expected}, not {_describe(raw)}")

    if key.kind == "library" and isinstance(raw, str) and is_server_url(raw):
        return ServerAddress(raw)
    if key.kind in ("path", "library"):
        if not isinstance(raw, str) or not raw:
            raise wrong("a path (a non-empty string)")
        path = Path(raw).expanduser()
        if not path.is_absolute():
            # Relative to what? Not the folder luna happens to run in.
            raise wrong("an absolute path or one starting with ~")
        return path
    if key.kind == "str":
        if not isinstance(raw, str) or not raw:
            raise wrong("a non-empty string")
        if key.choices and raw not in key.choices:
            raise wrong(" or ".join(repr(c) for c in key.choices))
        return raw
    if key.kind == "bool":
        if not isinstance(raw, bool):
            raise wrong("true or false")
        return raw
    if key.kind == "roots":
        return _roots_from_toml(raw, wrong)
    if key.kind == "list":
        if isinstance(raw, str):  # `exclude = "*.tmp"`: one pattern
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
            raise wrong("a list of strings")
        return list(raw)
    if key.kind == "count":
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise wrong("a whole number (0 or more)")
        return raw
    raise AssertionError(key.kind)


ROOT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def _roots_from_toml(raw: Any, wrong: Callable[[str], ValueError]) -> dict[str, str]:
    """{name: absolute folder}; a name is letters, digits, "_", "-" and ".", as stored
    paths begin with it (luna.fsnames)."""
    if not isinstance(raw, dict):
        raise wrong('a table of names and folders ([roots] photos = "/mnt/photos")')
    roots = {}
    for name, folder in raw.items():
        if not ROOT_NAME.match(name):
            raise ValueError(f"names of letters, digits, _ - and ., not {name!r}")
        if not isinstance(folder, str) or not folder:
            raise ValueError(f"folders (non-empty strings), not {_describe(folder)} for {name}")
        path = Path(folder).expanduser()
        if not path.is_absolute():
            raise ValueError(f"absolute folders or ones starting with ~, not {folder!r}")
        roots[name] = os.path.normpath(str(path))
    return roots


def _describe(raw: Any) -> str:
    if isinstance(raw, bool):
        return f"{str(raw).lower()} (a boolean)"
    if isinstance(raw, str):
        return f"{raw!r}" if raw else "an empty string"
    if isinstance(raw, int):
        return f"{raw} (an integer)"
    if isinstance(raw, float):
        return f"{raw} (a number)"
    if isinstance(raw, list):
        bad = [x for x in raw if not (isinstance(x, str) and x)]
        return f"a list holding {_describe(bad[0])}" if bad else "a list"
    if isinstance(raw, dict):
        return "a table"
    return f"a {type(raw).__name__}"  # dates and times


def _from_text(key: Key, text: str):
    """An environment variable's value."""
    if key.kind == "library":
        return library_location(text)
    return Path(text).expanduser() if key.kind == "path" else text


def _from_program(key: Key, value: Any):
    """An override's value, as a caller (the command line) gives it."""
    if key.kind == "library":
        return library_location(value)
    if key.kind == "path":
        return Path(value).expanduser()
    if key.kind == "list":
        return [value] if isinstance(value, str) else list(value)
    return value
