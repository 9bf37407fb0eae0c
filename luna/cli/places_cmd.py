"""`luna places` (the places of the library's files, with counts) and `luna places update`."""

from typing import Annotated

import typer

from luna.cli.app import app, library_to_change, library_to_read
from luna.cli.options import JsonOption, listing_options
from luna.cli.output import handle_errors, note
from luna.cli.render import Listing, Output, print_document, render

places_app = typer.Typer(
    help="Places: where the files were taken, by city, region and country (offline).",
    invoke_without_command=True,
)
app.add_typer(places_app, name="places")

_COLUMNS = {
    "city": ["city", "region", "country", "country_code", "files"],
    "region": ["region", "country", "country_code", "files"],
    "country": ["country", "country_code", "files"],
}


@places_app.callback()
@handle_errors
@listing_options()
def places(
    ctx: typer.Context,
    by: Annotated[
        str,
        typer.Option("--by", metavar="LEVEL", help="city (the default), region or country."),
    ] = "city",
    output: Output = Output(),
) -> None:
    """List the places of the library's files with how many files each has, most first.

    The names are the files' own (IPTC/XMP City, State, Country) or, for a file with a GPS
    position, found in luna's offline place data.

    Examples: luna places --by country; luna places --json | jq '.places[0]'
    """
    if ctx.invoked_subcommand is not None:
        return
    with library_to_read(ctx) as lib:
        found = lib.places(by)
    without = found.about["without_place"]
    render(
        Listing(
            "places", found.rows, _COLUMNS[found.about["by"]], document=found.about,
            empty="no file has a place",
        ),
        output,
    )  # fmt: skip
    if without and not output.json:
        note(f"{without:,} files have no place")


@places_app.command("update")
@handle_errors
def update(
    ctx: typer.Context,
    everything: Annotated[
        bool,
        typer.Option(
            "--all", help="Every file again, not only those not worked out yet (new place data)."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Work out the city, region and country of the files that have none yet: after an
    upgrade of luna, or an import that was interrupted. Imports and geotag do it
    themselves. No network: the place data ships with luna.

    Example: luna places update --all
    """
    with library_to_change(ctx) as lib:
        report = lib.update_places(everything=everything)
    if as_json:
        print_document(report)
    note(
        f"worked out the places of {report.files:,} files: {report.with_place:,} with a "
        f"place ({report.named_by_file:,} named by the file itself, {report.looked_up:,} "
        "positions looked up)"
    )
