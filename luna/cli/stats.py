"""`luna stats`"""

import typer

from luna.cli.app import app, library_to_read
from luna.cli.options import JsonOption
from luna.cli.output import handle_errors, human_size
from luna.cli.render import print_document


@app.command("stats")
@handle_errors
def show_stats(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Count the library's files by kind, year, camera, country and city.

    Also prints the total size, how many have a location, and missing and failed files.

    Example: luna stats --json | jq .by_year
    """
    with library_to_read(ctx) as lib:
        stats = lib.stats()
    if as_json:
        print_document(stats)
    else:
        _print_tables(stats.fields)


def _print_tables(stats: dict) -> None:
    from rich.table import Table

    from luna.cli.output import stdout_console

    console = stdout_console()
    summary = Table(show_header=False, box=None, padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column(justify="right", overflow="fold")  # the library's path, never cut
    summary.add_row("library", stats["library"])
    summary.add_row("files", f"{stats['files']:,}")
    summary.add_row("total size", human_size(stats["total_bytes"]))
    summary.add_row("with a location", f"{stats['with_location']:,}")
    summary.add_row("missing", f"{stats['missing']:,}")
    summary.add_row("failed to import", f"{stats['failed']:,}")
    summary.add_row(
        "tags / albums / events", f"{stats['tags']:,} / {stats['albums']:,} / {stats['events']:,}"
    )
    console.print(summary)
    for title, key in (
        ("kind", "by_kind"),
        ("year", "by_year"),
        ("camera", "by_camera"),
        ("date source", "by_date_source"),
        ("country", "by_country"),
        ("city", "by_city"),
    ):
        if not stats[key]:
            continue
        table = Table(title=f"by {title}", title_justify="left", box=None, padding=(0, 2))
        table.add_column(title, overflow="fold")
        table.add_column("files", justify="right")
        rows = list(stats[key].items())
        for name, count in rows[:_MOST_CITIES] if key == "by_city" else rows:
            table.add_row(name, f"{count:,}")
        if key == "by_city" and len(rows) > _MOST_CITIES:
            table.add_row(f"(and {len(rows) - _MOST_CITIES:,} more: luna places)", "")
        console.print(table)


_MOST_CITIES = 20  # a table people read; --json and `luna places` give them all
