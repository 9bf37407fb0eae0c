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


# Global flags also accepted after the command word (`luna tag add x a.jpg --write-sidecars`),
# where people write a command's own options.
MOVABLE_FLAGS = ("--write-sidecars", "--no-write-sidecars")


def global_flags_first(argv: list[str]) -> list[str]:
    """The command line with MOVABLE_FLAGS given after the command word moved before it (up
    to a "--", after which every word is an argument)."""
    end = argv.index("--") if "--" in argv else len(argv)
    moved = [word for word in argv[:end] if word in MOVABLE_FLAGS]
    if not moved:
        return argv
    rest = [word for word in argv[:end] if word not in MOVABLE_FLAGS]
    return moved + rest + argv[end:]
