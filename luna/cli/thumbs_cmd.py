"""`luna thumbs [build|prune|stats]`: thumbnails in the cache folder (lib.thumbs)."""

from typing import Annotated

import typer

from luna.cli.app import app, library_to_read
from luna.cli.options import DryRunOption, JsonOption, NullInputOption, filter_options
from luna.cli.output import error, file_refs, handle_errors, human_size, note, plural
from luna.cli.render import print_document, print_record
from luna.cli.usage import filter_query
from luna.errors import BadValue
from luna.fsnames import for_humans

ACTIONS = ("build", "prune", "stats")


@app.command("thumbs")
@handle_errors
@filter_options
def thumbs(
    ctx: typer.Context,
    words: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[build|prune|stats] [FILE...]",
            help="What to do (default: build), then the files to build for (paths, folders, "
            "ids; '-' reads them from stdin). Default: every photo and video.",
            show_default=False,
        ),
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="Also make the 1,440 px previews (the gallery's).")
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", metavar="webp|jpeg", help="The thumbnails' format.")
    ] = "webp",
    null: NullInputOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
    filters: dict | None = None,
) -> None:
    """Make thumbnails (256 px) of the library's photos and videos, kept in
    $XDG_CACHE_HOME/luna/thumbs (~/.cache/luna/thumbs) by content, so that moves, renames
    and copies need no new one. A second run opens no original. Files that cannot be read
    are named on stderr with the reason (exit 3); the others are made.

    Example: luna thumbs    (every photo and video)

    Example: luna thumbs --album "Summer 2019" --preview

    Example: luna thumbs prune --dry-run    (of contents no longer in the library)

    Example: luna thumbs stats --json
    """
    action, refs = _action(words or [])
    filters = filters or {}
    building = {"--preview": preview, "--format": fmt != "webp", "FILE": bool(refs)}
    building |= {"a filter": any(filters.values())}
    if action != "build":
        _refuse(action, building)
    if action != "prune" and dry_run:
        raise BadValue(f"--dry-run is for luna thumbs prune, not {action}")
    with library_to_read(ctx) as lib:
        if action == "stats":
            _print_stats(lib.thumbs.stats(), as_json)
        elif action == "prune":
            _print_pruned(lib.thumbs.prune(dry_run=dry_run), as_json)
        else:
            files = file_refs(refs, null=null) if refs else None
            report = _build(lib, files, filter_query(lib, filters), preview, fmt)
            _print_built(report, as_json)
            raise typer.Exit(int(report.exit_status))


def _action(words: list[str]) -> tuple[str, list[str]]:
    """The action word, if the first word is one, and the files after it. (A file named
    like an action is given as ./prune.)"""
    if words and words[0] in ACTIONS:
        return words[0], words[1:]
    return "build", words


def _refuse(action: str, given: dict[str, bool]) -> None:
    wrong = [name for name, on in given.items() if on]
    if wrong:
        raise BadValue(f"{wrong[0]} is for luna thumbs build, not {action}")


def _build(lib, files, query, preview: bool, fmt: str):
    from luna.cli.progress import CountProgress

    progress = CountProgress("Thumbnails")
    try:
        return lib.thumbs.build(files, preview=preview, fmt=fmt, progress=progress, query=query)
    finally:
        progress.finished()


def _print_built(report, as_json: bool) -> None:
    if as_json:
        print_document(report.to_json())
    for failure in report.failed:
        error(f"{for_humans(failure['path'])}: {failure['reason']}")
    placeholders = ""
    if report.placeholders:
        placeholders = (
            f", {plural(report.placeholders, 'video')} with a placeholder (install "
            "luna-photos[video] or ffmpeg for their frames)"
        )
    stopped = " (interrupted: run it again to finish)" if report.interrupted else ""
    note(
        f"Made {plural(report.built, 'thumbnail')}, {report.cached:,} already made"
        f"{placeholders}, {len(report.failed):,} failed "
        f"({report.seconds:.1f} s){stopped}"
    )


def _print_pruned(report, as_json: bool) -> None:
    if as_json:
        print_document(report.to_json())
    verb = "Would remove" if report.dry_run else "Removed"
    note(
        f"{verb} {plural(report.removed, 'thumbnail')} ({human_size(report.bytes)}) of "
        f"contents no longer in the library; {report.kept:,} kept"
    )


def _print_stats(stats, as_json: bool) -> None:
    if as_json:
        print_document(stats)
        return
    pairs = [
        ("folder", stats["folder"]),
        ("thumbnails", f"{stats['count']:,}"),
        ("size", human_size(stats["bytes"])),
        ("contents", f"{stats['contents']:,}"),
        ("placeholders", f"{stats['placeholders']:,}"),
    ]
    for size, entry in stats["by_size"].items():
        pairs.append((f"{size} px", f"{entry['count']:,} ({human_size(entry['bytes'])})"))
    print_record(pairs, title="Thumbnails")
