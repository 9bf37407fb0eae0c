"""`luna`: the entry point, global options and the one place where errors become exit codes."""

import contextlib
import sys
from typing import Annotated

import typer

from luna.cli.running import guarded, start
from luna.locations import Location, library_location
from luna.version import __version__

app = typer.Typer(
    name="luna",
    help="A photo library you own: import, tag, group and find photos and videos.",
    epilog="Exit codes: 0 success, 1 bad input, 2 usage error, 3 finished but some files "
    "failed, 4 library cannot be used, 5 not allowed for this user, 130 interrupted "
    "(Ctrl-C), 143 stopped by SIGTERM (systemd, docker stop, kill).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain Click-style help and usage errors: "Error: ..." on one line, no boxes.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"luna {__version__}\n")
        raise typer.Exit()


@app.callback()
def luna_main(
    ctx: typer.Context,
    library: Annotated[
        str | None,
        typer.Option(
            "--library",
            "-L",
            help="Library to use: a file, or a postgresql:// URL (a shared library). Default: "
            "$LUNA_LIBRARY, else `library` in the config file, else "
            "$XDG_DATA_HOME/luna/library.db (~/.local/share/luna/library.db).",
            show_default=False,
        ),
    ] = None,
    write_sidecars: Annotated[
        bool | None,
        typer.Option(
            "--write-sidecars/--no-write-sidecars",
            help="Keep XMP sidecars current after the command's changes (default: "
            "sidecar_write in the config file, else no).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """luna keeps a library of your photos and videos in a single SQLite file."""
    ctx.obj = {
        "library": library_location(library) if library else None,
        "write_sidecars": write_sidecars,
        "changed": [],  # libraries opened to change, for their sidecar reports
    }
    start()


def library_path(ctx: typer.Context) -> Location | None:
    root = ctx.find_root()
    return (root.obj or {}).get("library")


def cli_settings(ctx: typer.Context, overrides: dict | None = None):
    """luna.settings.load_settings() for a command: adds the global -L/--library to the
    command's own `overrides` and shows the config file's warnings on stderr."""
    from luna.cli.output import warn
    from luna.settings import load_settings

    overrides = dict(overrides or {})
    chosen = library_path(ctx)
    if chosen is not None:
        overrides.setdefault("library", (chosen, "command line (--library)"))
    settings = load_settings(overrides)
    for line in settings.warnings:
        warn(line)
    return settings


def library_to_change(ctx: typer.Context):
    """The library, for a command that changes what it says of files (tags, stars, albums,
    events). With sidecar writing on (--write-sidecars, or sidecar_write = true in the
    config file), the sidecars of the files it changed are written as it closes, and
    luna.cli.output.handle_errors reports what could not be written."""
    from luna.library import Library

    obj = ctx.find_root().obj or {}
    settings = cli_settings(ctx)
    wanted = obj.get("write_sidecars")
    lib = Library.open(library_path(ctx), create=False)  # only import creates one
    if wanted or (wanted is None and settings.get("sidecar_write")):
        lib.sidecar_naming = settings.get("sidecar_naming")
        obj.setdefault("changed", []).append(lib)
    return lib


def library_to_read(ctx: typer.Context):
    """The library, for a command that only reads it: opened read-only, so that a library
    on a read-only file, folder or disk can be read too."""
    from luna.library import Library

    return Library.open_for_reading(library_path(ctx))


# Commands register themselves on `app` when their module is imported. `luna find` runs in
# shell loops, so a run imports only the module of the command it names; --help, no
# command, or a name luna does not know load them all (to list them, or to say so).
COMMAND_MODULES = {
    "album": "album",
    "config": "config_cmd",
    "describe": "marks_cmd",
    "doctor": "organize_cmd",
    "dupes": "dupes_cmd",
    "event": "event",
    "find": "find",
    "gallery": "gallery_cmd",
    "geotag": "geotag_cmd",
    "import": "import_cmd",
    "label": "marks_cmd",
    "library": "library_cmd",
    "missing": "missing_cmd",
    "organize": "organize_cmd",
    "pick": "marks_cmd",
    "places": "places_cmd",
    "prune": "missing_cmd",
    "rate": "marks_cmd",
    "reject": "marks_cmd",
    "relink": "missing_cmd",
    "search": "find",
    "show": "show",
    "sidecar": "sidecar_cmd",
    "stats": "stats",
    "tag": "tag",
    "thumbs": "thumbs_cmd",
    "unflag": "marks_cmd",
    "verify": "verify_cmd",
}


def load_commands(argv: list[str] | None = None) -> None:
    """Register every command, or (given the command line) only the one it names."""
    import importlib

    from luna.cli.argv import command_named

    named = command_named(argv) if argv is not None else None
    if named == "--version":
        return  # answered before any command is looked at
    wanted = [COMMAND_MODULES[named]] if named in COMMAND_MODULES else HELP_ORDER
    for module in wanted:
        importlib.import_module(f"luna.cli.{module}")


# The order `luna --help` lists them in: as a library is used.
HELP_ORDER = [
    "import_cmd", "show", "find", "tag", "marks_cmd", "album", "event", "stats",
    "verify_cmd", "dupes_cmd", "missing_cmd", "organize_cmd", "places_cmd", "geotag_cmd",
    "sidecar_cmd", "thumbs_cmd", "gallery_cmd",
    "library_cmd",
    "config_cmd",
]  # fmt: skip


def main() -> None:
    guarded(_run)


def _run() -> None:
    from luna.cli.argv import global_flags_first

    argv = global_flags_first(sys.argv[1:])
    load_commands(argv)
    with _only_the_command_named(argv):
        app(args=argv, prog_name="luna")


@contextlib.contextmanager
def _only_the_command_named(argv: list[str]):
    """Typer builds every registered command before it runs one: `find` alone, without
    the other commands of its module (its `search` alias), saves that work on each
    search in a shell loop. Put back afterwards, for callers that run several."""
    from luna.cli.argv import command_named

    named = command_named(argv)
    everything = app.registered_commands
    if named in COMMAND_MODULES:
        app.registered_commands = [c for c in everything if c.name in (None, named)]
    try:
        yield
    finally:
        app.registered_commands = everything
