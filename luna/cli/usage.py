"""Checks of a command line as a whole, beyond what each option's value says (that is
luna.values): options that cannot go together are a usage error, never one silently
winning over the other."""

from __future__ import annotations

from luna.errors import BadValue


def one_output_mode(chosen: dict[str, bool]) -> None:
    """Refuse two output options at once (`--json --csv`, `--paths --json`): the output
    options of a listing command with whether each was given."""
    given = [option for option, on in chosen.items() if on]
    if len(given) > 1:
        listed = ", ".join(given[:-1]) + " and " + given[-1]
        raise BadValue(f"{listed} cannot be used together: choose one output")
