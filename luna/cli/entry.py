"""The `luna` program: what runs before anything else is imported.

`luna --version` is answered here, without importing Typer, Click or rich (60-90 ms of
imports for one line); every other command line goes to luna.cli.app.
"""

from __future__ import annotations

import sys

from luna.cli.argv import command_named


def main() -> None:
    if command_named(sys.argv[1:]) == "--version":
        from luna.version import __version__

        sys.stdout.write(f"luna {__version__}\n")
        return
    from luna.cli.app import main as run

    run()
