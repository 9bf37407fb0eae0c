"""`luna missing`, `luna relink`, `luna prune`: files whose path vanished (luna.ops.missing).

Only library rows change here; the user's files are never written, moved or deleted.
"""

from typing import Annotated

import typer

from luna.cli.app import app, library_path, library_to_read
from luna.cli.options import (
    DryRunOption,
    JsonOption,
    LegacyNullOption,
    NullInputOption,
    YesOption,
    listing_options,
)
from luna.cli.output import confirm_deletion, file_refs, handle_errors, note, plural
from luna.cli.render import Listing, Output, print_document, render
from luna.errors import EmptyPath
from luna.fsnames import for_humans

MISSING_CSV_COLUMNS = [
    "id",
    "path",
    "filename",
    "kind",
    "size_bytes",
    "content_sha",
    "missing_since",
    "tags",
    "albums",
    "events",
]
# Past this many, lines about single files stop (the summary still counts them all, and
# --json lists every one): a mistyped NEW_PREFIX would otherwise print the whole disk.
MAX_LINES = 50


def _open(ctx: typer.Context):
    from luna.library import Library

    # A library that does not exist is an error: a mistyped --library must not look like
    # a library with nothing missing (library_to_read refuses it too).
    return Library.open(library_path(ctx), create=False)


@app.command("missing")
@handle_errors
@listing_options(paths=True)
def missing_list(
    ctx: typer.Context,
    under: Annotated[
        str | None,
        typer.Option("--under", metavar="FOLDER", help="Only missing files below FOLDER."),
    ] = None,
    output: Output = Output(),
) -> None:
    """List the files whose path has vanished: an import marks them missing, and keeps
    them with their tags, albums and events until you relink or prune them.

    A table on a terminal, one path per line otherwise (or with --paths); -0, --json,
    --jsonl and --csv for programs. None missing is not an error: nothing is printed.

    Example: luna missing --under /media/old-disk --json | jq '.files[].path'
    """
    if under == "":
        raise EmptyPath("--under")
    with library_to_read(ctx) as lib:
        records = lib.missing(under).rows
    listing = Listing(
        "files",
        records,
        MISSING_CSV_COLUMNS,
        table=["missing_since", "path", "tags", "albums", "events"],
        view=_table_view,
        piped="paths",
        empty="no missing files",
    )
    render(listing, output)
    if output.for_people and records:
        note(plural(len(records), "missing file"))


def _table_view(record: dict) -> dict:
    return {**record, "missing_since": (record["missing_since"] or "")[:10]}


@app.command("relink")
@handle_errors
def relink_files(
    ctx: typer.Context,
    old: Annotated[
        str, typer.Argument(metavar="OLD_PREFIX", help="The folder the files used to be in.")
    ],
    new: Annotated[str, typer.Argument(metavar="NEW_PREFIX", help="The folder they are in now.")],
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Also compare each file's SHA-256 (reads every file; slower)."
        ),
    ] = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Point the library at files whose folder or disk moved (a remount, a new computer):
    every library file below OLD_PREFIX becomes the same path below NEW_PREFIX, keeping
    its id, tags, albums and events.

    Each file must be at its new path with the size the library knows (and the same
    SHA-256 with --verify); a file that is not is listed and its record left alone. A file
    already imported at the new place is merged into its older record. Files themselves
    are never touched. Exit code 0 when every file was relinked, 3 when some were not, 1
    when the library has no file below OLD_PREFIX.

    Example: luna relink /media/old-disk/Photos /mnt/photos --verify
    """
    with _open(ctx) as lib:
        report = lib.relink(old, new, verify=verify, dry_run=dry_run)
    for problem in report.problems[:MAX_LINES]:
        note(f"not relinked: {for_humans(problem.new_path)}: {problem.reason} ({problem.detail})")
    if len(report.problems) > MAX_LINES:
        note(f"... and {len(report.problems) - MAX_LINES} more not relinked (--json lists all)")
    note(_relink_summary(report))
    if as_json:
        print_document(report.to_json())
    if report.exit_status:
        raise typer.Exit(int(report.exit_status))


def _relink_summary(report) -> str:
    verb = "Would relink" if report.dry_run else "Relinked"
    text = f"{verb} {plural(report.relinked, 'file')}"
    if report.merged:
        text += f" ({report.merged} merged with records already at the new place)"
    for reason, count in report.counts().items():
        where = f" under {for_humans(report.new)}" if reason == "not found" else ""
        text += f"; {count} {reason}{where}"
    return text


@app.command("prune")
@handle_errors
def prune_files(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[FILE]...",
            help="Only these missing files: paths (a folder means every library file in "
            "it), ids or id prefixes; '-' reads them from stdin. Default: every missing file.",
            show_default=False,
        ),
    ] = None,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    yes: YesOption = False,
    dry_run: DryRunOption = False,
    accept_vanished: Annotated[
        bool,
        typer.Option(
            "--accept-vanished",
            help="Also prune files whose folder left an empty folder behind (by default "
            "luna takes that for a disk that is not mounted and keeps them).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Remove missing files from the library, after showing which tags, albums and events
    they carry (the tags, albums and events themselves stay). Asks first; needs --yes when
    stdin is not a terminal.

    Only files marked missing are removed, and only if their path is still gone: a file
    that is there again is kept. The files on disk are never touched.

    Example: luna prune ~/Pictures/2012 --dry-run
    """
    files = file_refs(refs, null=null or null_legacy) if refs else None
    with _open(ctx) as lib:
        plan = lib.prune(files, dry_run=True, accept_vanished=accept_vanished)
        _show_prune_plan(plan, dry_run=dry_run)
        if not plan.files or dry_run:
            if as_json:
                print_document(plan.to_json())
            return
        confirm_deletion(f"the records of {plural(plan.removed, 'missing file')}", yes)
        done = lib.prune(ids=plan.ids, accept_vanished=accept_vanished)
    # Files that came back (or were imported again) while the question was on screen.
    for item in done.reappeared + done.not_missing:
        note(f"kept {for_humans(item['path'])}: it is there again")
    # The report covers the whole command: what the plan left alone too.
    done.reappeared = plan.reappeared + done.reappeared + done.not_missing
    done.not_missing = plan.not_missing
    done.unavailable = plan.unavailable + done.unavailable
    note(f"Removed {plural(done.removed, 'missing file')} from the library")
    if as_json:
        print_document(done.to_json())


def _show_prune_plan(plan, *, dry_run: bool) -> None:
    present = len(plan.not_missing)
    if present:
        are = "is" if present == 1 else "are"
        note(
            f"left alone: {plural(present, 'named file')} {are} not missing (prune only removes "
            "missing files)"
        )
    for item in plan.reappeared:
        note(f"kept {for_humans(item['path'])}: it is there again (luna import records it)")
    for item in plan.unavailable[:20]:
        note(f"kept {for_humans(item['path'])}: unavailable, not gone ({item['reason']})")
    if len(plan.unavailable) > 20:
        note(f"kept {len(plan.unavailable) - 20:,} more unavailable files (see --json)")
    if not plan.files:
        note("nothing to prune: no missing files")
        return
    verb = "Would remove" if dry_run else "Will remove"
    carrying = [f for f in plan.files if f["tags"] or f["albums"] or f["events"]]
    note(
        f"{verb} {plural(plan.removed, 'missing file')} from the library"
        + (f", {len(carrying)} with tags, albums or events:" if carrying else ".")
    )
    for record in carrying[:MAX_LINES]:
        note(f"  {for_humans(record['path'])}: {_carried(record)}")
    if len(carrying) > MAX_LINES:
        note(f"  ... and {len(carrying) - MAX_LINES} more (--dry-run --json lists all)")


def _carried(record: dict) -> str:
    """`tags beach, 2019; album Holidays; event Paris trip`"""
    parts = []
    for key, one, many in (
        ("tags", "tag", "tags"),
        ("albums", "album", "albums"),
        ("events", "event", "events"),
    ):
        names = record[key]
        if names:
            parts.append(f"{one if len(names) == 1 else many} {', '.join(names)}")
    return "; ".join(parts)
