"""`luna find` without Typer: the command lines scripts type, read here.

`luna find` runs inside shell loops, and importing Typer (with its Click and the modules
they pull in) costs more than most searches. So luna.cli.entry hands a `find` or `search`
command line here first. One made only of global -L/--library options, the command word
and find's own options (luna.cli.find declares them for Typer; OPTIONS below must match,
which tests/test_quick_find.py checks) is read here, and the command runs as under Typer:
the same set-up, the same code (luna.cli.find_run), the same errors and exit statuses.
Anything else (--help, a mistake in the command line, an option not known here, shell
completion, LUNA_DEBUG) is left to Typer, which reads it and answers as it always has.
"""

import os
import sys

from luna.cli.output import debug_enabled, error
from luna.cli.render import read_output
from luna.cli.running import guarded, quiet_broken_pipe, start
from luna.errors import ExitStatus, LunaError
from luna.locations import Location, library_location

COMMANDS = ("find", "search")

# find's options: each spelling, with the parameter of luna.cli.find_run.run_find (or of
# Output, for the output options) it sets, and what it takes.
VALUE, REPEATED, FLAG = "value", "repeated", "flag"
OPTIONS = {
    "--after": ("after", VALUE),
    "--before": ("before", VALUE),
    "--on": ("on", VALUE),
    "--near": ("near", VALUE),
    "--radius": ("radius", VALUE),
    "--bbox": ("bbox", VALUE),
    "--place": ("place", VALUE),
    "--country": ("country", VALUE),
    "--album": ("album", VALUE),
    "--event": ("event", VALUE),
    "--mime": ("mime", VALUE),
    "--camera": ("camera", VALUE),
    "--lens": ("lens", VALUE),
    "--iso": ("iso", VALUE),
    "--focal": ("focal", VALUE),
    "--aperture": ("aperture", VALUE),
    "--rating": ("rating", VALUE),
    "--label": ("label", VALUE),
    "--duration": ("duration", VALUE),
    "--date-source": ("date_source", VALUE),
    "--location-source": ("location_source", VALUE),
    "--text": ("text", VALUE),
    "--name": ("name", VALUE),
    "--path": ("path", VALUE),
    "--min-size": ("min_size", VALUE),
    "--max-size": ("max_size", VALUE),
    "--sha": ("sha", VALUE),
    "--owner": ("owner", VALUE),
    "--user": ("owner_legacy", VALUE),
    "--sort": ("sort", VALUE),
    "--limit": ("limit", VALUE),
    "--offset": ("offset", VALUE),
    "--tag": ("tag", REPEATED),
    "--any-tag": ("any_tag", REPEATED),
    "--not-tag": ("not_tag", REPEATED),
    "--kind": ("kind", REPEATED),
    "--untagged": ("untagged", FLAG),
    "--unrated": ("unrated", FLAG),
    "--picked": ("picked", FLAG),
    "--rejected": ("rejected", FLAG),
    "--missing": ("missing", FLAG),
    "--duplicates": ("duplicates", FLAG),
    "--count": ("count", FLAG),
    "--geojson": ("geojson", FLAG),
    "--contact-sheet": ("contact_sheet", VALUE),
    "--has-location": ("has_location", FLAG),
    "--no-location": ("has_location", FLAG),
}
OUTPUT_OPTIONS = {
    "--json": ("json", FLAG),
    "--jsonl": ("jsonl", FLAG),
    "--csv": ("csv", FLAG),
    "--paths": ("paths", FLAG),
    "--print0": ("print0", FLAG),
    "-0": ("print0", FLAG),
    "--format": ("template", VALUE),
    "--fields": ("fields", VALUE),
}
# The value a flag sets (True, but for the "off" side of an on/off pair).
FLAG_VALUES = {"--no-location": False}
# What find_run.run_find receives for an option not given, as from Typer.
DEFAULTS: dict = {
    **{param: None for param, takes in OPTIONS.values() if takes != FLAG},
    **{param: False for param, takes in OPTIONS.values() if takes == FLAG},
    "has_location": None,
    "sort": "date",
}
# Typer answers shell completion requests when this is set.
COMPLETION_VARIABLE = "_LUNA_COMPLETE"


def run(argv: list[str]) -> bool:
    """Run the `luna find` of this command line as Typer would, if it is one read here;
    else do nothing and return False (Typer is then to read it)."""
    if COMPLETION_VARIABLE in os.environ or debug_enabled():
        return False
    read = read_command_line(argv)
    if read is None:
        return False
    library, options, output = read
    guarded(lambda: _as_typer_would(library, options, output))
    return True


def read_command_line(argv: list[str]) -> tuple[Location | None, dict, dict] | None:
    """(the library, run_find's options, Output's) of a `luna find` command line, read as
    Typer reads it; None when it is not one read here."""
    library = None
    words = list(argv)
    i = 0
    while i < len(words) and words[i] not in COMMANDS:
        if words[i] in ("-L", "--library") and i + 1 < len(words):
            library, i = words[i + 1], i + 2
        elif words[i].startswith("--library="):
            library, i = words[i].partition("=")[2], i + 1
        else:
            return None
    if i == len(words):
        return None
    options: dict = dict(DEFAULTS)
    output: dict = {}
    i += 1  # past the command word
    while i < len(words):
        word = words[i]
        # --name=value, as Click splits it: at the first "=", for a long option only.
        name, equals, attached = word.partition("=") if word.startswith("--") else (word, "", "")
        param, takes = OPTIONS.get(name) or OUTPUT_OPTIONS.get(name) or (None, None)
        into = output if name in OUTPUT_OPTIONS else options
        if takes is None or (takes == FLAG and equals):
            return None
        if takes == FLAG:
            into[param] = FLAG_VALUES.get(name, True)
            i += 1
            continue
        if equals:
            value, i = attached, i + 1
        elif i + 1 < len(words):
            value, i = words[i + 1], i + 2  # whatever it is, as Click takes it: --tag --json
        else:
            return None
        if takes == REPEATED:
            into[param] = [*(into[param] or []), value]
        else:
            into[param] = value
    return (library_location(library) if library else None), options, output


def _as_typer_would(library: Location | None, options: dict, output: dict) -> None:
    """The command, with what Typer (and luna.cli.output.handle_errors) would make of what
    escapes it: an error's line and exit status, Ctrl-C as 130, a closed pipe as a quiet 1."""
    from luna.cli.find_run import run_find

    try:
        start()
        run_find(library, read_output(**output), **options)
    except LunaError as exc:
        error(str(exc))
        sys.exit(int(exc.exit_status))
    except KeyboardInterrupt:
        sys.exit(int(ExitStatus.INTERRUPTED))
    except EOFError:
        sys.stderr.write("\nAborted!\n")
        sys.exit(int(ExitStatus.ERROR))
    except BrokenPipeError:
        quiet_broken_pipe()
