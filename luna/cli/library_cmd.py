"""`luna library ...`: the library as a whole."""

from typing import Annotated

import typer

from luna.cli.app import app
from luna.cli.options import JsonOption
from luna.cli.output import handle_errors, note
from luna.cli.render import print_document

library_app = typer.Typer(help="The library as a whole: copy it to another.", no_args_is_help=True)
app.add_typer(library_app, name="library")


@library_app.command("copy")
@handle_errors
def library_copy(
    source: Annotated[str, typer.Argument(help="The library to copy: a file or a URL.")],
    destination: Annotated[
        str,
        typer.Argument(
            help="A new library: a file that does not exist yet, or an empty PostgreSQL "
            "database (postgresql://...)."
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Copy a whole library to a new one, SQLite or PostgreSQL, either way.

    Everything goes with its ids: files and their hashes, tags, albums and who may see or
    change them, events, relations, history. The copy is read back and each table's row
    count and SHA-256 compared with the source's before it is kept; on any difference
    nothing is kept. The source is only read.

    \b
    Examples:
      luna library copy ~/.local/share/luna/library.db postgresql://ada@nas/photos
      luna library copy postgresql://ada@nas/photos ~/photos-backup.db
    """
    from luna.library import Library

    result = Library.copy(
        source, destination, progress=lambda table, rows: note(f"{table}: {rows:,} rows")
    )
    if as_json:
        print_document(result)
    total = sum(row["rows"] for row in result.rows)
    note(
        f"copied {total:,} rows in {len(result.rows)} tables from {result.about['source']} to "
        f"{result.about['destination']}; read back, every table's count and SHA-256 match"
    )
