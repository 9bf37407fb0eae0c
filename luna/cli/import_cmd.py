"""`luna import PATH...`"""

from typing import Annotated, Any

import typer

from luna import values
from luna.cli.app import app, library_path
from luna.cli.options import JsonOption
from luna.cli.output import FAILURES_LISTED, handle_errors, human_size, note, plural
from luna.cli.render import print_document
from luna.errors import EmptyPath, LunaError
from luna.fsnames import for_humans

MAX_JOBS = 1024  # more worker processes than any machine has cores for
MAX_TIMEOUT = 86_400  # a day per file: longer is a file that will never be read


@app.command("import")
@handle_errors
def import_files(
    ctx: typer.Context,
    # str, not Path: Path("") is ".", and an empty argument must not mean this folder.
    paths: Annotated[list[str], typer.Argument(help="Folders and files to import.")],
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
        str | None,
        typer.Option(
            "--jobs",
            "-j",
            metavar="N",
            help=f"Worker processes, 0 to {MAX_JOBS} (0: one per core; default: jobs in the "
            "config file, else 0).",
            show_default=False,
        ),
    ] = None,
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
        str,
        typer.Option(
            "--timeout",
            metavar="S",
            help=f"Seconds allowed to read one file, 1 to {MAX_TIMEOUT:,} (plus 60 per GB).",
        ),
    ] = "60",
    copy: Annotated[
        bool,
        typer.Option("--copy", help="Copy new files into the library folder (see --into)."),
    ] = False,
    takeout: Annotated[
        bool,
        typer.Option(
            "--takeout",
            help="The PATHs are a Google Photos Takeout (its zip parts, read in place, or the "
            "folders they were extracted to): copy its photos into the library folder with "
            "the dates, places, descriptions, favourites, people and albums of its JSON files.",
        ),
    ] = False,
    move: Annotated[
        bool,
        typer.Option(
            "--move",
            help="Move new files into the library folder: each source is deleted only once "
            "its copy is verified and recorded.",
        ),
    ] = False,
    into: Annotated[
        str | None,
        typer.Option(
            "--into",
            metavar="DIR",
            help="The library folder for --copy/--move (default: library_folder in the "
            "config file).",
            show_default=False,
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            metavar="TEMPLATE",
            help="Where files go in the library folder, e.g. {year}/{month}/{day}/{filename} "
            "(the default). See README for the fields.",
            show_default=False,
        ),
    ] = None,
    remove_duplicates: Annotated[
        bool,
        typer.Option(
            "--remove-duplicates",
            help="With --move: delete a source whose content the library already has "
            "(after checking the library's copy).",
        ),
    ] = False,
    accept_vanished: Annotated[
        bool,
        typer.Option(
            "--accept-vanished",
            help="Mark files missing even when every known file under a folder vanished at "
            "once, or an empty folder is left where theirs was (by default luna takes that "
            "for a disk that is not mounted and marks nothing).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="List the files skipped (not photos or videos) with why, on stderr.",
        ),
    ] = False,
    from_sidecars: Annotated[
        bool,
        typer.Option(
            "--from-sidecars",
            help="Also take back from the XMP sidecars luna wrote what a lost library held: "
            "stars, labels, picks, titles, albums and events.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Record the photos and videos under PATHS in the library.

    By default files are recorded in place: luna never moves, renames or changes them.
    Re-importing is incremental: unchanged files are not read again, changed files are
    updated, moved files keep their tags and albums, vanished files are marked missing.

    With --copy or --move, new files are put into the library folder under paths made
    from a template (files that belong together, such as a photo's XMP sidecar or its
    Live Photo video, travel together); content the library already has is skipped as a
    duplicate, and nothing is ever overwritten. --dry-run prints the plan.

    Examples:

      luna import ~/Pictures --exclude '*/thumbnails/*'

      luna import /media/card --move --into ~/Photos --template '{year}/{month}/{filename}'
    """
    from luna.cli.progress import make_progress
    from luna.library import Library

    # Bad numbers are usage errors, found before anything is read or the library opened.
    workers = values.count(jobs, "--jobs", high=MAX_JOBS) if jobs is not None else None
    time_limit = values.number(timeout, "--timeout", 1, MAX_TIMEOUT)
    values.optional(values.nonempty, owner, "--owner")
    values.each(values.nonempty, exclude, "--exclude")
    if accept_vanished and (copy or move):
        raise LunaError("--accept-vanished goes with an import in place, not --copy/--move")
    if "" in paths:
        raise EmptyPath()
    if into == "":
        raise EmptyPath("--into")
    if takeout and (copy or move or remove_duplicates or from_sidecars or accept_vanished):
        raise LunaError(
            "--takeout copies into the library folder itself: it goes without --copy, --move, "
            "--remove-duplicates, --from-sidecars and --accept-vanished"
        )
    gathering = copy or move
    if not (gathering or takeout) and (into is not None or template is not None):
        raise LunaError("--into and --template need --copy, --move or --takeout")
    if not gathering and remove_duplicates:
        raise LunaError("--remove-duplicates needs --move")
    if copy and move:
        raise LunaError("choose one of --copy and --move")
    if remove_duplicates and not move:
        raise LunaError("--remove-duplicates goes with --move")
    if from_sidecars and (gathering or dry_run):
        raise LunaError("--from-sidecars goes with an import in place, not --copy/--move/--dry-run")
    settings = _settings(ctx, into=into, template=template, exclude=exclude, jobs=workers)
    common: dict[str, Any] = dict(
        exclude=tuple(settings.get("exclude") or ()),
        follow_symlinks=follow_symlinks,
        dry_run=dry_run,
        jobs=settings.get("jobs") or 0,
        owner=owner,
    )
    if takeout:
        options = _takeout_options(settings, **common)
    elif gathering:
        options = _gather_options(
            settings, move=move, remove_duplicates=remove_duplicates, **common
        )
    else:
        from luna.ingest.importer import ImportOptions

        options = ImportOptions(
            **common,
            retry_failed=retry_failed,
            time_limit=time_limit,
            accept_vanished=accept_vanished,
        )
    with Library.open(library_path(ctx), readonly=dry_run) as lib:
        if lib.backup_path and not quiet:
            note(f"Upgraded the library; the previous version is saved as {lib.backup_path}")
        progress = make_progress(not quiet)
        if takeout:
            report = lib.import_takeout(paths, options, progress)
        elif gathering:
            report = lib.gather(paths, options, progress)
        else:
            report = lib.import_paths(paths, options, progress)
            if from_sidecars:
                rebuilt = lib.sidecars.rebuild(paths)
    if from_sidecars and not quiet:
        note(
            f"from {rebuilt.sidecars:,} sidecars: {rebuilt.albums_created} albums and "
            f"{rebuilt.events_created} events made, {rebuilt.memberships:,} files put back in them"
        )
    if takeout:
        if as_json:
            print_document(report)
        if not quiet:
            _print_takeout_summary(report, verbose=verbose)
        raise typer.Exit(int(report.exit_status))
    if as_json:
        print_document(report)
    elif gathering and report.dry_run:
        _print_plan(report)
    if verbose:
        _print_skipped(report)
    if not quiet:
        if gathering:
            _print_gather_summary(report, options.into)
        else:
            _print_summary(report)
    raise typer.Exit(int(report.exit_status))


def _print_skipped(report) -> None:
    """-v: each skipped file and why, as far as the report names them."""
    from luna.ingest.importer import LISTED_AT_MOST

    for skipped in report.skipped_files:
        note(f"skipped: {for_humans(skipped['path'])}: {skipped['reason']}")
    unnamed = report.skipped - len(report.skipped_files)
    if unnamed:
        note(f"... and {unnamed:,} more skipped (only the first {LISTED_AT_MOST:,} are named)")


def _print_summary(report) -> None:
    from luna.cli.output import warn

    _list_files("failed", report.failures)
    _list_files("still failing, unchanged since it failed", report.known_failures)
    if report.known_failed:
        note(
            f"{report.known_failed:,} files still fail as before (--retry-failed reads them again)"
        )
    for root in report.vanished_roots:
        warn(
            f"every file under {for_humans(root['path'])} vanished ({root['files']:,} files): "
            "is the disk mounted? Nothing was marked missing; if they are really gone, run "
            "the import again with --accept-vanished"
        )
    _list_files("unavailable", report.unavailable_files)
    if report.unavailable:
        warn(
            f"{report.unavailable:,} known files are unavailable (no permission, an I/O error, "
            "or a disk not mounted); they were not marked missing"
        )
    verb = "Would import" if report.dry_run else "Imported"
    if report.interrupted:
        verb = "Interrupted after recording"
    counts = ", ".join(
        f"{getattr(report, name):,} {name}"
        for name in ("added", "updated", "moved", "unchanged", "missing", "skipped", "failed")
    )
    rate = ""
    if report.files_read and report.seconds > 0:
        rate = f"; read {plural(report.files_read, 'file')}, {human_size(report.bytes_read)}"
    note(f"{verb}: {counts} ({report.seconds:.1f} s{rate})")
    if report.interrupted:
        note("Run the same import again to finish it.")


def _list_files(what: str, files: list[dict]) -> None:
    for item in files[:FAILURES_LISTED]:
        note(f"{what}: {for_humans(item['path'])}: {item['reason']}")
    if len(files) > FAILURES_LISTED:
        more = len(files) - FAILURES_LISTED
        note(f"... and {more:,} more (use --json to list them all)")


def _print_takeout_summary(report, *, verbose: bool) -> None:
    """The Takeout's counts, and what could not be matched (all of it with -v)."""
    for what, paths in (("no JSON for", report.without_json),
                        ("no photo for", report.json_without_media)):  # fmt: skip
        shown = paths if verbose else paths[:FAILURES_LISTED]
        for path in shown:
            note(f"{what}: {path}")
        if len(paths) > len(shown):
            note(f"... and {len(paths) - len(shown):,} more (-v or --json lists them all)")
    _list_files("failed", report.failed)
    verb = "Would import" if report.dry_run else "Imported"
    if report.interrupted:
        verb = "Interrupted after importing"
    note(
        f"{verb} {report.imported:,} new files from a Takeout of {report.media:,} photos and "
        f"videos in {report.parts} parts: {report.matched_json:,} with their JSON, "
        f"{report.duplicates_collapsed:,} copies collapsed, {len(report.albums):,} albums, "
        f"{len(report.failed):,} failed ({report.seconds:.1f} s)"
    )
    if report.interrupted:
        note("Run the same import again to finish it.")


def _takeout_options(settings, **common):
    """`luna import --takeout`: a Google Photos Takeout into the library folder."""
    from luna.ops.takeout import TakeoutOptions

    into = settings.get("library_folder")
    if not into:
        raise LunaError(
            "no library folder: give --into DIR, or set library_folder in the config file "
            "(see `luna config`)"
        )
    return TakeoutOptions(
        into=str(into),
        template=settings.get("template"),
        dry_run=common["dry_run"],
        jobs=common["jobs"],
        owner=common["owner"],
    )


def _gather_options(settings, *, move: bool, remove_duplicates: bool, **common):
    """`luna import --copy/--move`: put new files into the library folder."""
    from luna.ops.gather import GatherOptions

    into = settings.get("library_folder")
    if not into:
        raise LunaError(
            "no library folder: give --into DIR, or set library_folder in the config file "
            "(see `luna config`)"
        )
    return GatherOptions(
        mode="move" if move else "copy",
        into=str(into),
        template=settings.get("template"),
        remove_duplicates=remove_duplicates,
        **common,
    )


def _settings(ctx, *, into, template, exclude, jobs):
    """The effective library folder, template, excludes and jobs: options, then the
    config file, then defaults."""
    from luna.cli.app import cli_settings

    return cli_settings(
        ctx,
        {
            "library_folder": (into, "command line (--into)"),
            "template": (template, "command line (--template)"),
            "exclude": (exclude or None, "command line (--exclude)"),
            "jobs": (jobs, "command line (--jobs)"),
        },
    )


def _print_plan(report) -> None:
    from luna.cli.render import print_plan

    print_plan(report.steps)


def _print_gather_summary(report, into: str) -> None:
    from luna.cli.output import print_transfer_failures

    print_transfer_failures(report)
    done = report.moved if report.mode == "move" else report.copied
    verb = {"copy": "Copied", "move": "Moved"}[report.mode]
    if report.dry_run:
        verb = f"Would {report.mode}"
    elif report.interrupted:
        verb = f"Interrupted after: {verb.lower()}"
    extra = f", {report.removed_duplicates:,} removed" if report.removed_duplicates else ""
    rate = ""
    if report.seconds > 0 and report.bytes_copied and not report.dry_run:
        rate = f", {human_size(report.bytes_copied / report.seconds)}/s"
    note(
        f"{verb} {plural(done, 'file')} ({human_size(report.bytes_copied)}) into "
        f"{for_humans(into)}; "
        f"{report.duplicates:,} duplicates{extra}, {report.skipped:,} skipped, "
        f"{report.failed:,} failed ({report.seconds:.1f} s{rate})"
    )
    if report.interrupted:
        note("Run the same import again to finish it.")
