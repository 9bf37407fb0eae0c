"""The options and arguments several commands share, declared once for Typer: `--json`,
the output options of every listing (`listing_options`), FILE... and the options of the
commands that organize files.

Kept apart from the rendering (luna.cli.output, luna.cli.render) so that rendering does not
import Typer: `luna find` runs without it (luna.cli.quick_find).
"""

import functools
import inspect
from typing import Annotated

import typer

from luna.cli.render import read_output

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]

# -- the output options of a listing -------------------------------------------------------

_JSON = Annotated[bool, typer.Option("--json", help="One versioned JSON document.")]
_JSONL = Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")]
_CSV = Annotated[bool, typer.Option("--csv", help="CSV (RFC 4180) with a header row.")]
_PATHS = Annotated[bool, typer.Option("--paths", help="One path per line.")]
_PRINT0 = Annotated[
    bool, typer.Option("--print0", "-0", help="NUL-terminated paths, for xargs -0.")
]
_FORMAT = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="TEMPLATE",
        help="A line per row, TEMPLATE filled with its --json keys: '{path}\\t{tags}'.",
        show_default=False,
    ),
]

_FIELDS = Annotated[
    str | None,
    typer.Option(
        "--fields",
        metavar="LIST",
        help="Only these --format fields, a column each: 'date,camera,path' (a table, "
        "or tab-separated for a program).",
        show_default=False,
    ),
]


def listing_options(*, paths: bool = False):
    """Add --json, --jsonl, --csv, --format, --fields (and with `paths`, --paths and --print0/-0) to
    a command, which receives them as one `output: Output` argument."""
    options = {"json": _JSON, "jsonl": _JSONL, "csv": _CSV, "template": _FORMAT, "fields": _FIELDS}
    if paths:
        options |= {"paths": _PATHS, "print0": _PRINT0}
    names = {f"output_{name}": name for name in options}

    def decorate(command):
        added = {
            param: (options[name], None if name in ("template", "fields") else False)
            for param, name in names.items()
        }
        return _gathering_options(
            command,
            "output",
            added,
            lambda given: read_output(**{names[p]: given[p] for p in names}),
        )

    return decorate


def _gathering_options(command, argument: str, added: dict, gather):
    """`command` with the options `added` ({parameter: (annotation, default)}) in place of
    its parameter `argument`, which receives gather({parameter: value given})."""
    signature = inspect.signature(command, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.name != argument]
    parameters = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind)
        for name, (kind, default) in added.items()
    ]

    @functools.wraps(command)
    def with_options(*args, **kwargs):
        given = {name: kwargs.pop(name) for name in added}
        return command(*args, **{argument: gather(given)}, **kwargs)

    with_options.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*kept, *parameters]
    )
    return with_options


# -- options shared by the organizing commands ---------------------------------------------

FilesArgument = Annotated[
    list[str],
    typer.Argument(
        metavar="FILE...",
        help="Paths (a folder means every library file in it), ids or id prefixes; "
        "'-' reads them from stdin.",
    ),
]
NullInputOption = Annotated[
    bool,
    typer.Option("--null-input", "-z", help="With '-': names on stdin are NUL-separated."),
]
# The spelling before 0.x: `-0` now means NUL-terminated *output* wherever it exists.
LegacyNullOption = Annotated[bool, typer.Option("--null", "-0", hidden=True)]
SkipMissingOption = Annotated[
    bool,
    typer.Option("--skip-missing", help="Ignore FILEs not in the library instead of failing."),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", "-n", help="Say what would change; change nothing.")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
ActAsOption = Annotated[
    str | None,
    typer.Option(
        "--as", help="Act as USER (default: $LUNA_USER, else your login).", metavar="USER"
    ),
]
# The spelling before 0.x, which `find --user` (owned by) made ambiguous.
LegacyUserOption = Annotated[str | None, typer.Option("--user", "-u", hidden=True)]


# -- the filters of the commands that choose files as `luna find` does (organize, thumbs) ---

# parameter: (Query field, its type, option, metavar, help)
_FILTERS = {
    "tag": (
        "tags",
        list[str] | None,
        "--tag",
        "TAG",
        "Only files with this tag (repeatable: all).",
    ),
    "after": ("after", str | None, "--after", "WHEN", "Only files taken from WHEN on."),
    "before": ("before", str | None, "--before", "WHEN", "Only files taken before WHEN."),
    "kind": ("kinds", list[str] | None, "--kind", "KIND", "Only photo, video or sidecar files."),
    "camera": ("camera", str | None, "--camera", "TEXT", "Only files from this camera."),
    "album": ("album", str | None, "--album", "ALBUM", "Only files in this album."),
    "event": ("event", str | None, "--event", "EVENT", "Only files of this event."),
}


def filter_options(command):
    """Add --tag, --after, --before, --kind, --camera, --album and --event to a command,
    which receives them as one `filters` argument: the Query fields, read
    (luna.cli.usage.read_filters) and checked."""
    from luna.cli.usage import read_filters

    added = {
        name: (Annotated[kind, typer.Option(option, metavar=metavar, help=text)], None)
        for name, (_, kind, option, metavar, text) in _FILTERS.items()
    }
    return _gathering_options(
        command,
        "filters",
        added,
        lambda given: read_filters({_FILTERS[name][0]: value for name, value in given.items()}),
    )


ContactSheetOption = Annotated[
    str | None,
    typer.Option(
        "--contact-sheet",
        metavar="SHEET.jpg",
        help="Write a contact sheet (a JPEG grid of thumbnails with names and dates) to "
        "SHEET.jpg instead of listing.",
        show_default=False,
    ),
]
