"""`luna geotag TRACK.gpx... [FILE...]`: positions from GPS tracks for photos without one."""

from typing import Annotated

import typer

from luna.cli.app import app, library_to_change
from luna.cli.options import DryRunOption, JsonOption, SkipMissingOption
from luna.cli.output import handle_errors, note
from luna.cli.render import Listing, Output, print_document, render
from luna.errors import LunaError


@app.command("geotag")
@handle_errors
def geotag(
    ctx: typer.Context,
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="TRACK.gpx... [FILE...]",
            help="GPX tracks, then the files to place (paths, folders, ids); no FILE: every "
            "photo and video without a position.",
        ),
    ],
    max_gap: Annotated[
        str,
        typer.Option(
            "--max-gap",
            metavar="DURATION",
            help="At most this far in time from the track points around a photo (default 30m).",
        ),
    ] = "30m",
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            metavar="ZONE",
            help="The camera's time zone (Europe/Paris), for files that do not say theirs.",
        ),
    ] = None,
    clock_offset: Annotated[
        str | None,
        typer.Option(
            "--clock-offset",
            metavar="+1m30s",
            help="How far ahead (+) or behind (-) the camera's clock was.",
        ),
    ] = None,
    skip_missing: SkipMissingOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Give photos and videos without a position the one of GPS tracks (GPX) at the moment
    they were taken, interpolated between the two nearest track points; photos outside every
    track are listed, never guessed. The files themselves are not changed.

    Example: luna geotag ~/tracks/2019-06-*.gpx ~/Pictures/2019/Iceland --tz Atlantic/Reykjavik
    """
    from luna import values
    from luna.ops.geotag import time_zone

    # Bad values are refused before the library is opened or a track read.
    gap = values.duration(max_gap, "--max-gap")
    offset = values.optional(values.clock_offset, clock_offset, "--clock-offset")
    time_zone(tz)
    tracks = [p for p in paths if p.lower().endswith(".gpx")]
    files = [p for p in paths if not p.lower().endswith(".gpx")] or None
    if not tracks:
        raise LunaError("give at least one GPX track (TRACK.gpx) before the files")
    with library_to_change(ctx) as lib:
        report = lib.geotag(
            tracks, files, max_gap=gap, tz=tz, clock_offset=offset,
            skip_missing=skip_missing, dry_run=dry_run,
        )  # fmt: skip
    if as_json:
        print_document(report)
    elif dry_run and report.tagged:
        columns = ["path", "taken_utc", "latitude", "longitude"]
        render(Listing("tagged", report.tagged, columns), Output())
    for missed in report.not_tagged:
        note(f"not placed: {missed['path']}: {missed['reason']}")
    would = "would place" if dry_run else "placed"
    note(
        f"{would} {len(report.tagged)} of {report.files} files from {report.source}; "
        f"{report.own_position} have a position of their own, {len(report.not_tagged)} not placed"
    )
