"""`luna gallery`: a folder of photos to open in any browser (luna.ops.gallery). It takes
FILEs, or any of `luna find`'s filters (declared once, in luna.cli.find, and read by the
same luna.cli.find_run.find_query), or both."""

import inspect
from typing import Annotated

import typer

from luna.cli.app import app, library_path
from luna.cli.find_run import FILTER_OPTIONS, find_query
from luna.cli.options import (
    DryRunOption,
    JsonOption,
    LegacyNullOption,
    NullInputOption,
    _gathering_options,
)
from luna.cli.output import file_refs, handle_errors, note, plural, warn
from luna.cli.render import print_document
from luna.errors import EmptyPath
from luna.fsnames import for_humans

LEFT_OUT_LISTED = 20


def with_find_filters(command):
    """Give `command` every filter option of `luna find`, with find's own help: it gets
    them as one `filters` dict, for find_query."""
    from luna.cli.find import find_files

    found = inspect.signature(find_files).parameters
    added = {name: (found[name].annotation, found[name].default) for name in FILTER_OPTIONS}
    # (luna.cli.options' helper, package-internal: the one way commands gather options)
    return _gathering_options(command, "filters", added, lambda given: given)


def gallery(
    ctx: typer.Context,
    files: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[FILE...]",
            help="Photos and videos to show (paths, folders, ids; '-' reads them from stdin). "
            "With filters: those of them the filters find.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="The gallery's folder (new, empty, or a gallery "
            "luna wrote: it is brought up to date).",
            show_default=False,
        ),  # fmt: skip
    ] = None,
    title: Annotated[
        str | None,
        typer.Option(
            "--title",
            metavar="TEXT",
            help="The page's title (default: the album's or event's name, else Photos).",
            show_default=False,
        ),  # fmt: skip
    ] = None,
    originals: Annotated[
        bool,
        typer.Option(
            "--originals",
            help="Put the original files in too (copied, or hard-linked when "
            "unchanged), for download and video playback.",
        ),  # fmt: skip
    ] = False,
    keep_location: Annotated[
        bool,
        typer.Option(
            "--keep-location",
            help="Keep where each photo was taken: a map on the page, and "
            "the originals' GPS. Without it no position is in the gallery.",
        ),  # fmt: skip
    ] = False,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
    filters: dict | None = None,
) -> None:
    """Write a gallery: a folder that shows photos and videos in any browser, from a USB
    stick or any static web host, with no server and no network.

    A grid in date order, a full-screen viewer (arrow keys, swipe), each photo's date,
    place, camera and description, and with --keep-location a map. Run it again to bring
    the folder up to date: only what changed is written. Examples:

      luna gallery --album "Summer 2019" --out ~/usb/summer-2019

      luna gallery --tag beach --after 2019 --originals --out site/

      luna find --picked -0 | luna gallery -z - --out best --keep-location
    """
    from luna.cli.progress import CountProgress
    from luna.library import Library

    if out is None:  # an option, not an argument: FILE... may come first
        raise typer.BadParameter("a gallery needs its folder: --out DIR", param_hint="--out")
    if out == "":
        raise EmptyPath("--out")
    query = find_query(**(filters or {}))
    chosen = any(value not in (None, False, []) for value in (filters or {}).values())
    refs = file_refs(files, null=null or null_legacy) if files else None
    progress = CountProgress("Thumbnails and previews")
    try:
        with Library.open_for_reading(library_path(ctx)) as lib:
            report = lib.gallery(
                out, refs, query if chosen else None, title=title, originals=originals,
                keep_location=keep_location, dry_run=dry_run, progress=progress,
            )  # fmt: skip
    finally:
        progress.finished()
    if as_json:
        print_document(report.to_json())
    _summary(report)
    raise typer.Exit(int(report.exit_status))


def _summary(report) -> None:
    for item in report.no_thumbnail:
        warn(f"no thumbnail: {for_humans(item['path'])}: {item['reason']}")
    for item in report.left_out[:LEFT_OUT_LISTED]:
        note(f"original left out: {for_humans(item['path'])}: {item['reason']}")
    if report.left_out:
        more = len(report.left_out) - LEFT_OUT_LISTED
        tail = f" (the first {LEFT_OUT_LISTED} above, all in --json)" if more > 0 else ""
        note(f"{plural(len(report.left_out), 'original')} left out{tail}")
    shown = ", ".join(
        part
        for part in (
            plural(report.photos, "photo") if report.photos else "",
            plural(report.videos, "video") if report.videos else "",
        )
        if part
    )
    where = for_humans(report.out)
    if report.dry_run:
        note(
            f"Would write a gallery of {shown or 'nothing'} in {where}: "
            f"{plural(report.originals, 'original')}, {report.removed:,} files of an earlier "
            "run removed"
        )
        return
    on_map = f", {report.on_map:,} on the map" if report.on_map else ""
    note(
        f"Gallery of {shown or 'nothing'}{on_map} in {where}: {report.written:,} files "
        f"written, {report.unchanged:,} unchanged, {report.removed:,} removed; "
        f"{plural(report.originals, 'original')} ({report.seconds:.1f} s). Open "
        f"{for_humans(report.out)}/index.html"
    )


app.command("gallery")(handle_errors(with_find_filters(gallery)))
