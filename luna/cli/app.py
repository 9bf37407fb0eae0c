"""`luna`: the entry point, global options and the one place where errors become exit codes."""

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from luna.errors import ExitStatus, LunaError
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
        Path | None,
        typer.Option(
            "--library",
            "-L",
            help="Library file to use. Default: $LUNA_LIBRARY, else `library` in the config "
            "file, else $XDG_DATA_HOME/luna/library.db (~/.local/share/luna/library.db).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """luna keeps a library of your photos and videos in a single SQLite file."""
    ctx.obj = {"library": library}
    from luna import notices

    if _report_recovery not in notices.recovery_listeners:
        notices.recovery_listeners.append(_report_recovery)
    # File names are bytes; one that is not UTF-8 is printed exactly as it is (paths, -0,
    # CSV, templates), as ls and find do, rather than failing. JSON carries it in base64.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")


def _report_recovery(recovered) -> None:
    from luna.cli.output import note, warn

    for r in recovered:
        line = f"an interrupted {r.entry.operation} was {r.outcome}: {r.detail}"
        (warn if r.outcome == "needs attention" else note)(line.replace(" was needs", " needs"))


def library_path(ctx: typer.Context) -> Path | None:
    root = ctx.find_root()
    return (root.obj or {}).get("library")


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
    "doctor": "organize_cmd",
    "dupes": "dupes_cmd",
    "event": "event",
    "find": "find",
    "import": "import_cmd",
    "missing": "missing_cmd",
    "organize": "organize_cmd",
    "prune": "missing_cmd",
    "relink": "missing_cmd",
    "search": "find",
    "show": "show",
    "stats": "stats",
    "tag": "tag",
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
    "import_cmd", "show", "find", "tag", "album", "event", "stats",
    "verify_cmd", "dupes_cmd", "missing_cmd", "organize_cmd", "config_cmd",
]  # fmt: skip


def main() -> None:
    from luna.interrupts import stop_on_sigterm, terminated

    stop_on_sigterm()
    try:
        _run()
    except KeyboardInterrupt:  # before or after a command could handle it
        sys.exit(int(ExitStatus.TERMINATED if terminated() else ExitStatus.INTERRUPTED))
    except SystemExit:
        # A command stopped by SIGTERM ends as one stopped by Ctrl-C would (130, or Click's
        # "Aborted!"); the status says which it was.
        if terminated():
            sys.exit(int(ExitStatus.TERMINATED))
        raise


def _run() -> None:
    try:
        load_commands(sys.argv[1:])
        with _only_the_command_named(sys.argv[1:]):
            app(prog_name="luna")
    except LunaError as exc:  # normally handled in the command; this is the safety net
        from luna.cli.output import error

        error(str(exc))
        sys.exit(int(exc.exit_status))
    except BrokenPipeError:
        _quiet_broken_pipe()
    except Exception as exc:  # noqa: BLE001 - a traceback is never the user's interface
        from luna.cli.output import debug_enabled, error

        if debug_enabled():
            raise
        error(f"internal error: {type(exc).__name__}: {exc} (set LUNA_DEBUG=1 for details)")
        sys.exit(int(ExitStatus.ERROR))


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


def _quiet_broken_pipe() -> None:
    # `luna ... | head`: the reader left; exit without a traceback or a message.
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(int(ExitStatus.ERROR))
