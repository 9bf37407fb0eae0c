"""The command word of a command line, found without importing the command-line toolkit
(luna.cli.entry answers `--version` with it; luna.cli.app loads only the command named)."""

from __future__ import annotations


def command_named(argv: list[str]) -> str | None:
    """The command word of a command line: the first word that is not a global option."""
    args = iter(argv)
    for word in args:
        if word in ("-L", "--library"):
            next(args, None)  # the option's value
        elif word in ("-h", "--help"):
            return None
        elif word == "--version" or not word.startswith("-"):
            return word
    return None
