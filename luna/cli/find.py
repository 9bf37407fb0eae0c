"""`luna find` (alias `luna search`): the library's files matching filters, for a person
(a table) or for a program (paths, NUL-separated paths, JSON, JSON lines, CSV, GeoJSON, or
a template). Here the options and help as Typer reads them; what the command does is
luna.cli.find_run, which luna.cli.quick_find also calls, after reading the command lines
scripts type without loading Typer (its option table is checked against this one).
"""

from typing import Annotated

import typer

from luna.cli.app import app, library_path
from luna.cli.find_run import run_find
from luna.cli.options import ContactSheetOption, listing_options
from luna.cli.output import handle_errors
from luna.cli.render import Output


def find_files(
    ctx: typer.Context,
    after: Annotated[
        str | None,
        typer.Option(
            "--after",
            metavar="WHEN",
            help="Taken from WHEN on: 2019, 2019-06, 2019-06-01, 2019-06-01T14:00.",
        ),
    ] = None,
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            metavar="WHEN",
            help="Taken before WHEN (--before 2019-06: up to the end of May).",
        ),
    ] = None,
    on: Annotated[str | None, typer.Option("--on", metavar="DAY", help="Taken on DAY.")] = None,
    near: Annotated[
        str | None, typer.Option("--near", metavar="LAT,LON", help="Within --radius of this point.")
    ] = None,
    radius: Annotated[
        str | None,
        typer.Option(
            "--radius", metavar="DIST", help="With --near: 500m, 2km, 1.5mi (default 1km)."
        ),
    ] = None,
    bbox: Annotated[
        str | None,
        typer.Option(
            "--bbox", metavar="S,W,N,E", help="Inside this box (W > E crosses the antimeridian)."
        ),
    ] = None,
    place: Annotated[
        str | None,
        typer.Option(
            "--place",
            metavar="NAME",
            help="Taken in this city, region or country (any case, with or without accents).",
        ),
    ] = None,
    country: Annotated[
        str | None,
        typer.Option("--country", metavar="NAME", help="Taken in this country (FR or France)."),
    ] = None,
    has_location: Annotated[
        bool | None,
        typer.Option(
            "--has-location/--no-location",
            help="Only files with (without) a place.",
            show_default=False,
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag", metavar="TAG", help="Has TAG (or a tag below it); repeat: all of them."
        ),
    ] = None,
    any_tag: Annotated[
        list[str] | None,
        typer.Option("--any-tag", metavar="TAG", help="Has at least one of these tags."),
    ] = None,
    not_tag: Annotated[
        list[str] | None, typer.Option("--not-tag", metavar="TAG", help="Does not have TAG.")
    ] = None,
    untagged: Annotated[bool, typer.Option("--untagged", help="Has no tag at all.")] = False,
    album: Annotated[
        str | None, typer.Option("--album", metavar="NAME", help="In this album.")
    ] = None,
    event: Annotated[
        str | None, typer.Option("--event", metavar="NAME", help="In this event.")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", metavar="KIND", help="photo, video or sidecar (repeatable)."),
    ] = None,
    mime: Annotated[
        str | None,
        typer.Option("--mime", metavar="TYPE", help="image/heic, or a prefix such as image/."),
    ] = None,
    camera: Annotated[
        str | None,
        typer.Option("--camera", metavar="TEXT", help="Make or model contains TEXT (any case)."),
    ] = None,
    lens: Annotated[
        str | None,
        typer.Option("--lens", metavar="TEXT", help="Lens contains TEXT (any case)."),
    ] = None,
    iso: Annotated[
        str | None,
        typer.Option("--iso", metavar="MIN-MAX", help="ISO speed: 400, 100-800, 1600-, -200."),
    ] = None,
    focal: Annotated[
        str | None,
        typer.Option(
            "--focal",
            metavar="MIN-MAX",
            help="Focal length in mm, 35 mm equivalent when known: 24-70, 50, 200-.",
        ),
    ] = None,
    aperture: Annotated[
        str | None,
        typer.Option("--aperture", metavar="MIN-MAX", help="f-number: 1.4-2.8, 8, -2."),
    ] = None,
    rating: Annotated[
        str | None,
        typer.Option("--rating", metavar="N|MIN-MAX", help="Stars (0-5): 5, 3-5, 4-."),
    ] = None,
    location_source: Annotated[
        str | None,
        typer.Option(
            "--location-source",
            metavar="SOURCE",
            help="Position from SOURCE: gpx, photos (luna geotag), exif, xmp, sidecar, none...",
        ),
    ] = None,
    unrated: Annotated[bool, typer.Option("--unrated", help="No stars (0 or none).")] = False,
    label: Annotated[
        str | None,
        typer.Option(
            "--label", metavar="COLOUR", help="red, yellow, green, blue, purple, or none."
        ),
    ] = None,
    picked: Annotated[bool, typer.Option("--picked", help="Marked as a pick.")] = False,
    rejected: Annotated[bool, typer.Option("--rejected", help="Marked as rejected.")] = False,
    duration: Annotated[
        str | None,
        typer.Option("--duration", metavar="MIN-MAX", help="A video's length: 30s-2m, 10m-, -90s."),
    ] = None,
    date_source: Annotated[
        str | None,
        typer.Option(
            "--date-source",
            metavar="SOURCE",
            help="Date read from SOURCE: exif, quicktime, xmp, filename, mtime, guessed "
            "(filename or mtime), none...",
        ),
    ] = None,
    text: Annotated[
        str | None,
        typer.Option(
            "--text",
            metavar="WORDS",
            help="Every word in the title, description or tags (keywords), any case.",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="GLOB", help="File name matches GLOB (IMG_*.HEIC)."),
    ] = None,
    path: Annotated[
        str | None, typer.Option("--path", metavar="PREFIX", help="Under this folder.")
    ] = None,
    min_size: Annotated[
        str | None,
        typer.Option("--min-size", metavar="SIZE", help="At least SIZE (2MB, 500k, 1GiB)."),
    ] = None,
    max_size: Annotated[
        str | None, typer.Option("--max-size", metavar="SIZE", help="At most SIZE.")
    ] = None,
    sha: Annotated[
        str | None, typer.Option("--sha", metavar="PREFIX", help="SHA-256 starts with PREFIX.")
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", metavar="NAME", help="Owned by NAME.")
    ] = None,
    owner_legacy: Annotated[str | None, typer.Option("--user", hidden=True)] = None,
    missing: Annotated[
        bool, typer.Option("--missing", help="Files whose path has vanished (left out otherwise).")
    ] = False,
    duplicates: Annotated[
        bool, typer.Option("--duplicates", help="Files whose content appears more than once.")
    ] = False,
    sort: Annotated[
        str,
        typer.Option(
            "--sort", help="date, -date, name, -name, size, -size, rating, -rating or distance."
        ),
    ] = "date",
    limit: Annotated[
        str | None, typer.Option("--limit", metavar="N", help="At most N files.")
    ] = None,
    offset: Annotated[
        str | None, typer.Option("--offset", metavar="N", help="Skip the first N files.")
    ] = None,
    count: Annotated[bool, typer.Option("--count", help="Print only how many match.")] = False,
    geojson: Annotated[
        bool,
        typer.Option("--geojson", help="A GeoJSON FeatureCollection of the files with a place."),
    ] = False,
    contact_sheet: ContactSheetOption = None,
    output: Output = Output(),
) -> None:
    """Find files by time, place, tag, album, event, camera and kind (filters combine
    with AND; none lists everything). No match is not an error: nothing is printed (and
    --count prints 0), exit 0.

    Example: luna find --tag beach --near 43.7,7.26 --radius 20km -0 | xargs -0 ls -l

    Example: luna find --album "Summer 2019" --contact-sheet summer.jpg
    """
    run_find(
        library_path(ctx),
        output,
        after=after,
        before=before,
        on=on,
        near=near,
        radius=radius,
        bbox=bbox,
        place=place,
        country=country,
        has_location=has_location,
        tag=tag,
        any_tag=any_tag,
        not_tag=not_tag,
        untagged=untagged,
        album=album,
        event=event,
        kind=kind,
        mime=mime,
        camera=camera,
        lens=lens,
        iso=iso,
        focal=focal,
        aperture=aperture,
        rating=rating,
        unrated=unrated,
        label=label,
        picked=picked,
        rejected=rejected,
        duration=duration,
        date_source=date_source,
        location_source=location_source,
        text=text,
        name=name,
        path=path,
        min_size=min_size,
        max_size=max_size,
        sha=sha,
        owner=owner,
        owner_legacy=owner_legacy,
        missing=missing,
        duplicates=duplicates,
        sort=sort,
        limit=limit,
        offset=offset,
        count=count,
        geojson=geojson,
        contact_sheet=contact_sheet,
    )


find_files = listing_options(paths=True)(find_files)
app.command("find")(handle_errors(find_files))
app.command(
    "search",
    help="The same as `luna find` (see luna find --help).\n\nExample: luna search --tag beach",
    short_help="The same as find.",
)(handle_errors(find_files))
