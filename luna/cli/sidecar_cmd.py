"""`luna sidecar write` and `luna sidecar read`: XMP sidecars beside the photos, holding what
the library says of them, and what other programs changed in them."""

from typing import Annotated

import typer

from luna.cli.app import app, library_path
from luna.cli.options import (
    DryRunOption,
    JsonOption,
    LegacyNullOption,
    NullInputOption,
    SkipMissingOption,
)
from luna.cli.output import error, file_refs, handle_errors, note, warn_skipped
from luna.cli.render import print_document
from luna.fsnames import for_humans

sidecar_app = typer.Typer(
    help="XMP sidecars (IMG_1.jpg.xmp): what luna knows of a photo, where other programs read it.",
    no_args_is_help=True,
)
app.add_typer(sidecar_app, name="sidecar")

EveryFileArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[FILE...]", help="Paths, ids or id prefixes ('-': stdin); none: every file."
    ),
]


@sidecar_app.command("write")
@handle_errors
def sidecar_write(
    ctx: typer.Context,
    refs: EveryFileArgument = None,
    naming: Annotated[
        str | None,
        typer.Option(
            "--naming",
            metavar="file|stem",
            help="New sidecars: file (IMG_1.CR2.xmp) or stem (IMG_1.xmp); default: the "
            "config's sidecar_naming, else file.",
        ),
    ] = None,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    skip_missing: SkipMissingOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write what the library says of files into their XMP sidecars: tags, stars, label,
    pick or reject, title, description, albums and events. An existing sidecar is edited
    (what other programs keep in it stays); the photos themselves are never changed.

    Example: luna sidecar write ~/Pictures/2019
    """
    from luna.cli.app import cli_settings
    from luna.library import Library

    naming = naming or cli_settings(ctx).get("sidecar_naming")
    files = file_refs(refs, null=null or null_legacy) if refs else None
    with Library.open(library_path(ctx), create=False) as lib:
        report = lib.sidecars.write(
            files, naming=naming, skip_missing=skip_missing, dry_run=dry_run
        )
    warn_skipped(report.skipped)
    for problem in report.problems:
        error(f"not written: {for_humans(problem['path'])}: {problem['reason']}")
    if as_json:
        print_document(report)
    would = "would be " if dry_run else ""
    note(
        f"sidecars of {report.files} files: {report.created} {would}created, "
        f"{report.updated} {would}updated, {report.unchanged} unchanged"
        + (f", {len(report.problems)} not written" if report.problems else "")
    )
    raise typer.Exit(report.exit_status)


@sidecar_app.command("read")
@handle_errors
def sidecar_read(
    ctx: typer.Context,
    refs: EveryFileArgument = None,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    skip_missing: SkipMissingOption = False,
    as_json: JsonOption = False,
) -> None:
    """Take what other programs (digiKam, darktable, Lightroom...) wrote in the files' XMP
    sidecars: stars, labels, pick or reject, titles, descriptions over luna's, and the tags
    they added or removed since luna last wrote the sidecar. `luna import` does the same for
    the sidecars it finds changed.

    Example: luna sidecar read ~/Pictures/2019
    """
    from luna.library import Library

    files = file_refs(refs, null=null or null_legacy) if refs else None
    with Library.open(library_path(ctx), create=False) as lib:
        report = lib.sidecars.read(files, skip_missing=skip_missing)
    warn_skipped(report.skipped)
    for problem in report.problems:
        error(f"not read: {for_humans(problem['path'])}: {problem['reason']}")
    if as_json:
        print_document(report)
    note(
        f"read {report.sidecars} sidecars of {report.files} files: {report.tags_added} tags "
        f"added, {report.tags_removed} removed"
    )
    raise typer.Exit(report.exit_status)
