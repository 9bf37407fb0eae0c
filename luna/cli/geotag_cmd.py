"""`luna geotag TRACK... [FILE...]` and `luna geotag --from-photos [FILE...]`: positions
for photos without one, from GPS tracks or from the photos taken around them."""

from typing import Annotated

import typer

from luna.cli.app import app, library_to_change
from luna.cli.options import DryRunOption, JsonOption, SkipMissingOption
from luna.cli.output import FAILURES_LISTED, handle_errors, note, print_json
from luna.cli.render import Listing, Output, feature_collection, print_document, render
from luna.cli.usage import one_output_mode
from luna.errors import BadValue
from luna.fsnames import for_humans


@app.command("geotag")
@handle_errors
def geotag(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[TRACK...] [FILE...]",
            help="GPS tracks (.gpx, .kml, .geojson, .json), then the files to place (paths, "
            "folders, ids); no FILE: every photo and video without a position.",
            show_default=False,
        ),
    ] = None,
    from_photos: Annotated[
        bool,
        typer.Option(
            "--from-photos",
            help="No track: place each photo from the photos with a position of their own "
            "taken around it (a phone's, beside the camera).",
        ),
    ] = False,
    within: Annotated[
        str | None,
        typer.Option(
            "--within",
            metavar="DURATION",
            help="With --from-photos: at most this far in time from those photos, on the same "
            "day (default 10m).",
            show_default=False,
        ),
    ] = None,
    max_distance: Annotated[
        str | None,
        typer.Option(
            "--max-distance",
            metavar="DIST",
            help="With --from-photos: the photos before and after must be closer together "
            "than this (default 1km).",
            show_default=False,
        ),
    ] = None,
    max_gap: Annotated[
        str | None,
        typer.Option(
            "--max-gap",
            metavar="DURATION",
            help="With tracks: at most this far in time from the track points around a photo "
            "(default 30m).",
            show_default=False,
        ),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            metavar="ZONE",
            help="The camera's time zone (Europe/Paris), for files that do not say theirs "
            "(without it, --from-photos compares local clock times).",
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
    geojson: Annotated[
        bool,
        typer.Option("--geojson", help="A GeoJSON FeatureCollection of the files placed."),
    ] = False,
) -> None:
    """Give photos and videos without a position the one of GPS tracks (GPX, KML, GeoJSON)
    at the moment they were taken, interpolated between the two nearest track points; or,
    with --from-photos, the one of the photos with a position taken around them (the phone
    beside the camera), when those agree. Photos that cannot be placed are listed, never
    guessed. The files themselves are not changed.

    Example: luna geotag ~/tracks/2019-06-*.gpx ~/Pictures/2019/Iceland --tz Atlantic/Reykjavik

    Example: luna geotag --from-photos ~/Pictures/2019/Iceland --within 5m --dry-run
    """
    from luna import values
    from luna.ingest.tracks import track_format
    from luna.ops.geotag import time_zone

    # Bad values are refused before the library is opened or a track read.
    one_output_mode({"--json": as_json, "--geojson": geojson})
    _one_mode(from_photos, within, max_distance, max_gap)
    near = values.duration(within or "10m", "--within")
    apart = values.distance(max_distance or "1km", "--max-distance")
    gap = values.duration(max_gap or "30m", "--max-gap")
    offset = values.optional(values.clock_offset, clock_offset, "--clock-offset")
    time_zone(tz)
    tracks = [p for p in paths or [] if track_format(p)]
    files = [p for p in paths or [] if not track_format(p)] or None
    if from_photos and tracks:
        raise BadValue(f"--from-photos takes no track ({tracks[0]}): give tracks or --from-photos")
    if not from_photos and not tracks:
        raise BadValue(
            "give at least one GPS track (GPX, KML or GeoJSON) before the files, or --from-photos"
        )
    with library_to_change(ctx) as lib:
        if from_photos:
            report = lib.geotag_from_photos(
                files, within=near, max_distance=apart, tz=tz, clock_offset=offset,
                skip_missing=skip_missing, dry_run=dry_run,
            )  # fmt: skip
        else:
            report = lib.geotag(
                tracks, files, max_gap=gap, tz=tz, clock_offset=offset,
                skip_missing=skip_missing, dry_run=dry_run,
            )  # fmt: skip
    _print_report(report, as_json=as_json, geojson=geojson)


def _one_mode(from_photos: bool, within, max_distance, max_gap) -> None:
    """Refuse an option of the other way of placing photos: it would be ignored."""
    if from_photos and max_gap is not None:
        raise BadValue("--max-gap is for tracks; with --from-photos, --within says how near")
    if not from_photos and (within is not None or max_distance is not None):
        option = "--within" if within is not None else "--max-distance"
        raise BadValue(f"{option} goes with --from-photos")


def _print_report(report, *, as_json: bool, geojson: bool) -> None:
    """The data on stdout (asked for, or a dry run's table); the photos not placed and the
    summary on stderr."""
    if as_json:
        print_document(report)
    elif geojson:
        print_json(feature_collection(report.tagged))
    elif report.dry_run and report.tagged:
        columns = ["path", "taken_utc", "latitude", "longitude", "source"]
        render(Listing("tagged", report.tagged, columns), Output())
    # A library of cameras without GPS may have tens of thousands: the first few say why.
    for missed in report.not_tagged[:FAILURES_LISTED]:
        note(f"not placed: {for_humans(missed['path'])}: {missed['reason']}")
    if len(report.not_tagged) > FAILURES_LISTED:
        more = len(report.not_tagged) - FAILURES_LISTED
        note(f"... and {more:,} more not placed (--json lists them all)")
    would = "would place" if report.dry_run else "placed"
    note(
        f"{would} {len(report.tagged)} of {report.files} files from {report.source}; "
        f"{report.own_position} have a position of their own, {len(report.not_tagged)} not placed"
    )
