"""`luna organize` (rearrange the library folder by a template) and `luna doctor`."""

from typing import Annotated

import typer

from luna.cli.app import app, library_path
from luna.cli.options import (
    DryRunOption,
    JsonOption,
    LegacyNullOption,
    NullInputOption,
    filter_options,
)
from luna.cli.output import file_refs, handle_errors, note, print_transfer_failures, warn
from luna.cli.render import print_document, print_plan
from luna.cli.usage import filter_query
from luna.errors import EmptyPath, ExitStatus, LunaError
from luna.fsnames import for_humans

# str, not Path: Path("") is ".", and an empty --into must not mean this folder.
IntoOption = Annotated[
    str | None,
    typer.Option(
        "--into",
        metavar="DIR",
        help="The library folder (default: library_folder in the config file).",
        show_default=False,
    ),
]


@app.command("organize")
@handle_errors
@filter_options
def organize(
    ctx: typer.Context,
    files: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[FILE...]",
            help="Files to rearrange (paths, folders, ids; '-' reads them from stdin). "
            "Default: every file in the library folder.",
            show_default=False,
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            metavar="TEMPLATE",
            help="The new layout, e.g. {year}/{year}-{month}/{filename}.",
            show_default=False,
        ),
    ] = None,
    into: IntoOption = None,
    include_outside: Annotated[
        bool,
        typer.Option(
            "--include-outside",
            help="Also move the named files that are outside the library folder into it.",
        ),
    ] = False,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
    filters: dict | None = None,
) -> None:
    """Move library files to where the template says, inside the library folder.

    Tags, albums and events stay: only the files' paths change. A photo's sidecars, Live
    Photo video and RAW travel with it. Nothing is overwritten: a name taken by other
    content gets a number. Any search can choose the files. Examples:

      luna organize --dry-run --template '{year}/{camera|unknown}/{filename}'

      luna organize --tag trip --after 2019 --template 'trips/{year}/{filename}'

      luna find --tag trip -0 | luna organize -z - --template 'trips/{year}/{filename}'

      luna organize ~/Desktop/old-photos --include-outside
    """
    from luna.library import Library
    from luna.ops.organize import OrganizeOptions

    if into == "":
        raise EmptyPath("--into")
    settings = _settings(ctx, into, template)
    folder = settings.get("library_folder")
    if not folder:
        raise LunaError(
            "no library folder: give --into DIR, or set library_folder in the config file"
        )
    options = OrganizeOptions(
        into=str(folder),
        template=settings.get("template"),
        include_outside=include_outside,
        dry_run=dry_run,
    )
    refs = file_refs(files, null=null or null_legacy) if files else None
    with Library.open(library_path(ctx), create=False) as lib:
        report = lib.organize(options, refs, filter_query(lib, filters or {}))
    if as_json:
        print_document(report.to_json())
    elif dry_run:
        print_plan(report.steps)
    print_transfer_failures(report)
    verb = "Would move" if dry_run else "Moved"
    outside = (
        f", {report.outside:,} outside the library folder (--include-outside moves them)"
        if report.outside
        else ""
    )
    note(
        f"{verb} {report.moved:,} files; {report.unchanged:,} already in place, "
        f"{report.duplicates:,} duplicates left where they are{outside}, {report.failed:,} "
        f"failed ({report.seconds:.1f} s)"
    )
    raise typer.Exit(int(report.exit_status))


def _settings(ctx, into: str | None, template: str | None):
    from luna.cli.app import cli_settings

    return cli_settings(
        ctx,
        {
            "library_folder": (into, "command line (--into)"),
            "template": (template, "command line (--template)"),
        },
    )


@app.command("doctor")
@handle_errors
def doctor(
    ctx: typer.Context,
    into: IntoOption = None,
    clean: Annotated[
        bool,
        typer.Option("--clean", help="Delete partial copies no interrupted run accounts for."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check the library: interrupted copies and moves, leftovers, database integrity.

    Any luna command that writes finishes or rolls back an interrupted import --copy/--move
    or organize first; the doctor says what that did and what is left. Exit code 0 when
    all is well, 3 when something needs attention.

    Example: luna doctor --json
    """
    from luna.library import Library

    if into == "":
        raise EmptyPath("--into")
    folder = _settings(ctx, into, None).get("library_folder")
    with Library.open(library_path(ctx), create=False) as lib:
        result = lib.doctor(folder=str(folder) if folder else None, clean=clean)
    if as_json:
        print_document(result.to_json())
    for item in result.pending:
        warn(
            f"unfinished {item['operation']}: {for_humans(item['source'])} -> "
            f"{for_humans(item['destination'])} ({item['state']})"
        )
    if result.others_transferring:
        note(
            f"another luna is copying or moving {len(result.in_progress)} file(s) now; "
            "its work in progress is not judged: run luna doctor again when it is done"
        )
    for path in result.stray_partials:
        warn(f"partial copy left behind: {for_humans(path)} (luna doctor --clean removes it)")
    for path in result.removed_partials:
        note(f"removed partial copy {for_humans(path)}")
    if result.integrity != "ok":
        warn(f"database integrity: {result.integrity}")
    note("All is well." if result.healthy else "Some things need attention (see above).")
    if not result.healthy:
        raise typer.Exit(int(ExitStatus.PARTIAL))
