"""`luna import PATH...`"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from luna.cli.app import app, library_path
from luna.cli.output import JsonOption, handle_errors, note, print_json
from luna.fsnames import for_humans

MAX_FAILURES_LISTED = 20


@app.command("import")
@handle_errors
def import_files(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Folders and files to import.")],
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            "-x",
            metavar="GLOB",
            help="Skip files and folders matching GLOB (name or path). Repeatable.",
        ),
    ] = None,
    follow_symlinks: Annotated[
        bool, typer.Option("--follow-symlinks", help="Follow symbolic links.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Report what would change; write nothing.")
    ] = False,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=0, help="Worker processes (0: one per core).")
    ] = 0,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Read again files that failed before.")
    ] = False,
    owner: Annotated[
        str | None,
        typer.Option(
            "--owner",
            help="Record files as owned by USER (default: the owner on disk).",
            metavar="USER",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds allowed to read one file.")
    ] = 60.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Record the photos and videos under PATHS in the library.

    Files are recorded in place: luna never moves, renames or changes them.
    Re-importing is incremental: unchanged files are not read again, changed files are
    updated, moved files keep their tags and albums, vanished files are marked missing.

    Example: luna import ~/Pictures --exclude '*/thumbnails/*'
    """
    from luna.cli.progress import make_progress
    from luna.importer import ImportOptions, Interrupted
    from luna.library import Library

    options = ImportOptions(
        exclude=tuple(exclude or ()),
        follow_symlinks=follow_symlinks,
        dry_run=dry_run,
        jobs=jobs,
        retry_failed=retry_failed,
        time_limit=timeout,
        owner=owner,
    )
    with Library.open(library_path(ctx), readonly=dry_run) as lib:
        if lib.backup_path and not quiet:
            note(f"Upgraded the library; the previous version is saved as {lib.backup_path}")
        progress = make_progress(not quiet)
        try:
            report = lib.import_paths(paths, options, progress)
        except Interrupted as exc:
            report = exc.report
    if as_json:
        print_json(report.to_json())
    if not quiet:
        _print_summary(report)
    raise typer.Exit(int(report.exit_status))


def _print_summary(report) -> None:
    for failure in report.failures[:MAX_FAILURES_LISTED]:
        note(f"failed: {for_humans(failure['path'])}: {failure['reason']}")
    if len(report.failures) > MAX_FAILURES_LISTED:
        more = len(report.failures) - MAX_FAILURES_LISTED
        note(f"... and {more} more failures (use --json to list them all)")
    verb = "Would import" if report.dry_run else "Imported"
    if report.interrupted:
        verb = "Interrupted after recording"
    counts = ", ".join(
        f"{getattr(report, name):,} {name}"
        for name in ("added", "updated", "moved", "unchanged", "missing", "skipped", "failed")
    )
    rate = ""
    if report.files_read and report.seconds > 0:
        mb = report.bytes_read / 1e6
        rate = f"; read {report.files_read:,} files, {mb:,.1f} MB"
    note(f"{verb}: {counts} ({report.seconds:.1f} s{rate})")
    if report.interrupted:
        note("Run the same import again to finish it.")
