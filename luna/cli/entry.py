"""The `luna` program: what runs before anything else is imported.

`luna --version` is answered here, without importing Typer, Click or rich (60-90 ms of
imports for one line), and the `luna find` command lines scripts type go to
luna.cli.quick_find, which runs them without Typer too; every other command line goes to
luna.cli.app.
"""

from __future__ import annotations

import sys

from luna.cli.argv import command_named


def main() -> None:
    named = command_named(sys.argv[1:])
    if named == "--version":
        from luna.version import __version__

        sys.stdout.write(f"luna {__version__}\n")
        return
    if named in ("find", "search"):
        from luna.cli import quick_find

        if quick_find.run(sys.argv[1:]):
            return
    from luna.cli.app import main as run

    run()
