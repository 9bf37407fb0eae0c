"""Where the library lives when the user does not say."""

from __future__ import annotations

import os
from pathlib import Path

from luna.locations import Location, config_path, library_location  # noqa: F401

LIBRARY_ENV = "LUNA_LIBRARY"


def default_library_path() -> Location:
    """`$LUNA_LIBRARY`, else `library` in the config file, else
    `$XDG_DATA_HOME/luna/library.db`, else `~/.local/share/luna/library.db`. A
    postgresql:// URL in either is a library on a server (luna.locations)."""
    explicit = os.environ.get(LIBRARY_ENV)
    if explicit:
        return library_location(explicit)  # no config file read at all
    from luna.settings import load_settings

    return load_settings().get("library")


def cache_folder() -> Path:
    """`$XDG_CACHE_HOME/luna`, else `~/.cache/luna`: what luna can always make again
    (thumbnails), so deleting it loses nothing."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base).absolute() / "luna"


USER_ENV = "LUNA_USER"


def acting_user(explicit: str | None = None) -> str:
    """Who is acting on shared albums: --user, else $LUNA_USER, else the login name."""
    if explicit:
        return explicit
    from_env = os.environ.get(USER_ENV)
    if from_env:
        return from_env
    from luna.settings import load_settings

    configured = load_settings().get("user")
    if configured:
        return configured
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


# The schema this luna writes; luna.store.db checks it against its list of migrations. Kept here
# so that `luna find` can check a library without importing peewee.
SCHEMA_VERSION = 9
