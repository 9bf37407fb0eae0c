"""`luna config`: the effective settings and where each came from (see luna.settings)."""

import sys
from typing import Annotated

import typer

from luna.cli.app import app, cli_settings
from luna.cli.options import JsonOption
from luna.cli.output import handle_errors, note
from luna.cli.render import LIST_JOINER, Listing, Output, print_document, render
from luna.errors import LunaError

CONFIG_JSON_VERSION = 1


@app.command("config")
@handle_errors
def config_show(
    ctx: typer.Context,
    show_path: Annotated[
        bool,
        typer.Option("--path", help="Print only the config file's path (it need not exist yet)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show each setting's effective value and where it came from.

    Settings come from the config file, TOML at $LUNA_CONFIG, else
    $XDG_CONFIG_HOME/luna/config.toml, else ~/.config/luna/config.toml. The environment
    ($LUNA_LIBRARY, $LUNA_USER) wins over the file, and command-line options win over
    both. Paths may start with ~. A key luna does not know is reported and ignored.

    \b
    Keys:
      library         the library: a file, or a postgresql:// URL (-L/--library)
      library_folder  where import --copy/--move and organize put files (--into)
      template        their paths in it, default {year}/{month}/{day}/{filename}
      exclude         glob patterns import skips (--exclude): a string or a list
      user            who acts on shared albums (--as), default your login name
      jobs            worker processes for import (--jobs), default 0: one per core
      roots           [roots] name = "folder": paths below one are stored by its name,
                      so computers mounting a shared folder elsewhere see the same files
      sidecar_write   true: keep XMP sidecars current after every change (--write-sidecars)
      sidecar_naming  new sidecars: file (IMG_1.CR2.xmp, default) or stem (IMG_1.xmp)

    \b
    Example:
      # ~/.config/luna/config.toml
      library_folder = "~/Pictures/Library"
      template = "{year}/{year}-{month}/{filename}"
      exclude = ["*.tmp", "@eaDir", ".thumbnails"]
      [roots]  # where this computer mounts the folders a shared library names
      photos = "/mnt/photos"

    \b
    Edit it with:
      $EDITOR "$(luna config --path)"
    """
    from luna.locations import config_path
    from luna.settings import display_path

    if show_path and as_json:
        raise LunaError("choose one of --path and --json")
    if show_path:
        # Needs no valid file: this is how one finds the file to repair it.
        sys.stdout.write(f"{config_path()}\n")
        return
    settings = cli_settings(ctx)
    if as_json:
        print_document(
            {
                "version": CONFIG_JSON_VERSION,
                "config_file": str(settings.path),
                "config_file_exists": settings.exists,
                "settings": {
                    key: {"value": _json_value(s.value), "source": s.source}
                    for key, s in settings.items()
                },
            }
        )
        return
    # A table for people (a long path folds, never cut short: it is how one checks which
    # library luna will open); `key<TAB>value<TAB>source` lines for a program.
    rows = [
        {"key": k, "value": _json_value(s.value), "source": s.source} for k, s in settings.items()
    ]
    render(Listing("settings", rows, ["key", "value", "source"], view=_for_people), Output())
    if not settings.exists:
        note(f"No config file at {display_path(settings.path)}; defaults apply.")


def _for_people(row: dict) -> dict:
    from luna.settings import KEYS

    return {**row, "value": _shown(row["value"], KEYS[row["key"]])}


def _json_value(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, dict):  # roots
        return {name: str(folder) for name, folder in value.items()}
    return str(value)  # paths


def _shown(value, key) -> str:
    """A value for people, saying what an unset one means ("0 (one per core)")."""
    if value is None:
        return f"({key.unset or 'not set'})"
    if key.kind == "count" and value == 0 and key.unset:
        return f"0 ({key.unset})"
    if isinstance(value, (list, tuple)):
        return LIST_JOINER.join(map(str, value)) if value else "(none)"
    if isinstance(value, dict):  # roots
        shown = [f"{name} = {folder}" for name, folder in value.items()]
        return LIST_JOINER.join(shown) if shown else f"({key.unset})"
    return str(value)
