"""`luna verify [FILE...]`"""

from typing import Annotated

import typer

from luna import values
from luna.cli.app import app, library_path
from luna.cli.options import JsonOption, LegacyNullOption, NullInputOption
from luna.cli.output import handle_errors, human_size, note, plural
from luna.cli.render import print_document
from luna.fsnames import for_humans

MAX_PROBLEMS_LISTED = 50


@app.command("verify")
@handle_errors
def verify_files(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[FILE]...",
            help="Paths (a folder means every library file in it), ids or id prefixes; "
            "'-' reads them from stdin. Default: the whole library.",
            show_default=False,
        ),
    ] = None,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help="Only files not verified for AGE (90m, 12h, 30d, 2w), the oldest first.",
        ),
    ] = None,
    limit: Annotated[
        str | None, typer.Option("--limit", metavar="N", help="Check at most N files.")
    ] = None,
    accept: Annotated[
        bool,
        typer.Option("--accept", help="Record the new content of changed files (old hash kept)."),
    ] = False,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress; nothing on stderr unless something is wrong."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Read files again and check that their content is what the library recorded.

    Reports files whose content changed (bit rot, or an edit), files that are missing and
    files that cannot be read. Files are only read, never changed. The exit code is 3 when
    anything is wrong, 0 when all is well.

    Each file remembers when its content last matched, so --older-than spreads the work:
    a nightly job checks the files not verified for a month, oldest first, a few thousand
    at a time. --quiet prints nothing when all is well, so cron mails only problems.

    --accept records the new content of changed files (an edit you meant), keeping the
    old hash in the file's history; tags, albums and events stay.

    Example: luna verify ~/Pictures/2019

    Example (crontab): 0 3 * * * luna verify --older-than 30d --limit 20000 --quiet
    """
    from luna.cli.output import file_refs
    from luna.cli.progress import make_progress
    from luna.library import Library

    # A bad AGE or N is a usage error (exit 2), found before the library is opened.
    age = values.optional(values.duration, older_than, "--older-than")
    most = values.count(limit, "--limit", low=1) if limit is not None else None
    with Library.open(library_path(ctx), create=False) as lib:
        if lib.backup_path and not quiet:
            note(f"Upgraded the library; the previous version is saved as {lib.backup_path}")
        report = lib.verify(
            file_refs(refs, null=null or null_legacy) if refs else None,
            older_than=age,
            accept=accept,
            limit=most,
            progress=make_progress(not quiet),
        )
    if as_json:
        print_document(report.to_json())
    if not quiet or report.unresolved or report.interrupted:
        _print_summary(report, older_than)
    raise typer.Exit(int(report.exit_status))


def _print_summary(report, older_than: str | None) -> None:
    for p in report.problems[:MAX_PROBLEMS_LISTED]:
        line = f"{p.problem}: {for_humans(p.path)}"
        if p.detail:
            line += f": {p.detail}"
        if p.accepted:
            line += " (accepted: new content recorded)"
        note(line)
    if len(report.problems) > MAX_PROBLEMS_LISTED:
        more = len(report.problems) - MAX_PROBLEMS_LISTED
        note(f"... and {more} more (use --json to list them all)")
    verb = "Interrupted after verifying" if report.interrupted else "Verified"
    if report.checked == 0 and not report.interrupted:
        due = f" (none unverified for {older_than})" if older_than else ""
        note(f"Verified 0 files{due}")
        return
    accepted = f" ({report.accepted:,} accepted)" if report.accepted else ""
    note(
        f"{verb} {plural(report.checked, 'file')}: {report.ok:,} ok, "
        f"{report.changed:,} changed{accepted}, {report.missing:,} missing, "
        f"{report.unreadable:,} unreadable "
        f"({report.seconds:.1f} s, {human_size(report.bytes_read)})"
    )
    if report.interrupted:
        note("What was checked is recorded; with --older-than, running again continues.")
