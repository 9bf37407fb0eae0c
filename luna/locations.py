"""Where a library is, a file (SQLite) or a database on a PostgreSQL server; and where the
config file is.

`-L`, `$LUNA_LIBRARY` and `library` in the config file take either a path or a URL
(`postgresql://ada@nas/photos`, `postgresql:///photos?host=/run/postgresql`). A URL is kept
whole for the driver, which reads a password from it, `PGPASSWORD` or `~/.pgpass`; luna only
ever shows it with the password taken out. Standard library only: read on every command.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

SERVER_SCHEMES = ("postgresql://", "postgres://")
_PASSWORD = re.compile(r"^(\w+://[^:/@?#]*):[^@/?#]*@")


def is_server_url(text: str | os.PathLike) -> bool:
    return isinstance(text, str) and text.lower().startswith(SERVER_SCHEMES)


class ServerAddress:
    """A library on a PostgreSQL server. `str()` is the URL without its password (what
    messages show); `url` is the whole of it (what the driver is given)."""

    def __init__(self, url: str):
        self.url = url

    def __str__(self) -> str:
        without_password = _PASSWORD.sub(r"\1@", self.url)
        return re.sub(r"([?&]password=)[^&]*", r"\1***", without_password, flags=re.I)

    def __repr__(self) -> str:
        return f"ServerAddress({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServerAddress) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)


Location = Path | ServerAddress


CONFIG_ENV = "LUNA_CONFIG"


def config_path() -> Path:
    """`$LUNA_CONFIG`, else `$XDG_CONFIG_HOME/luna/config.toml`, else
    `~/.config/luna/config.toml`. The file need not exist."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME")
    # The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    if not config_home or not os.path.isabs(config_home):
        config_home = os.path.join(os.path.expanduser("~"), ".config")
    return Path(config_home) / "luna" / "config.toml"


def library_location(value: str | os.PathLike | ServerAddress) -> Location:
    """A library's location from what a person wrote: a URL, or a path (`~` expanded)."""
    if isinstance(value, ServerAddress):
        return value
    if is_server_url(value):
        return ServerAddress(str(value))
    return Path(value).expanduser()
