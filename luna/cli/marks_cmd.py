"""`luna rate`, `luna label`, `luna pick`, `luna reject`, `luna unflag`, `luna describe`."""

from typing import Annotated

import typer

from luna.cli.app import app, library_to_change
from luna.cli.options import (
    DryRunOption,
    FilesArgument,
    LegacyNullOption,
    NullInputOption,
    SkipMissingOption,
)
from luna.cli.output import file_refs, handle_errors, note, warn_skipped

StarsArgument = Annotated[str, typer.Argument(metavar="STARS", help="0 to 5 (0: unrated).")]
ColourArgument = Annotated[
    str,
    typer.Argument(metavar="COLOUR", help="red, yellow, green, blue, purple, or none."),
]


def _said(change, what: str) -> None:
    """One line on stderr: how many files changed, and how many had it already."""
    warn_skipped(change.skipped)
    verb = "would mark" if change.dry_run else "marked"
    already = f" ({change.unchanged} already so)" if change.unchanged else ""
    note(f"{verb} {change.changed} of {change.files} files {what}{already}")


@app.command("rate")
@handle_errors
def rate(
    ctx: typer.Context,
    stars: StarsArgument,
    refs: FilesArgument,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    skip_missing: SkipMissingOption = False,
    dry_run: DryRunOption = False,
) -> None:
    """Give files 0 to 5 stars (0: unrated). The files themselves are not changed.

    Example: luna find --tag Paris --paths -0 | luna rate 4 - -z
    """
    from luna import values

    count = values.count(stars, "STARS", 0, 5)
    files = file_refs(refs, null=null or null_legacy)
    with library_to_change(ctx) as lib:
        change = lib.marks.rate(count, files, skip_missing=skip_missing, dry_run=dry_run)
    _said(change, "unrated" if count == 0 else f"{count} star{'s' * (count != 1)}")


@app.command("label")
@handle_errors
def label(
    ctx: typer.Context,
    colour: ColourArgument,
    refs: FilesArgument,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    skip_missing: SkipMissingOption = False,
    dry_run: DryRunOption = False,
) -> None:
    """Give files a colour label (red, yellow, green, blue, purple), or none.

    Example: luna label red ~/Pictures/2019/IMG_0001.jpg
    """
    files = file_refs(refs, null=null or null_legacy)
    with library_to_change(ctx) as lib:
        change = lib.marks.label(colour, files, skip_missing=skip_missing, dry_run=dry_run)
    _said(change, f"with label {change.value}" if change.value else "without a label")


def _flag_command(name: str, flag: str | None, what: str, doc: str) -> None:
    """Register `luna pick`, `reject` or `unflag`: one command each, alike but for the flag."""

    def command(
        ctx: typer.Context,
        refs: FilesArgument,
        null: NullInputOption = False,
        null_legacy: LegacyNullOption = False,
        skip_missing: SkipMissingOption = False,
        dry_run: DryRunOption = False,
    ) -> None:
        files = file_refs(refs, null=null or null_legacy)
        with library_to_change(ctx) as lib:
            change = lib.marks.flag(flag, files, skip_missing=skip_missing, dry_run=dry_run)
        _said(change, what)

    command.__doc__ = doc
    command.__name__ = name
    app.command(name)(handle_errors(command))


_flag_command(
    "pick", "pick", "as picked",
    "Mark files as picks (the keepers of a shoot); `luna find --picked` lists them.\n\n"
    "Example: luna pick ~/Pictures/2019/IMG_0001.jpg",
)  # fmt: skip
_flag_command(
    "reject", "reject", "as rejected",
    "Mark files as rejected; nothing is deleted (`luna find --rejected` lists them).\n\n"
    "Example: luna reject ~/Pictures/2019/IMG_0002.jpg",
)  # fmt: skip
_flag_command(
    "unflag", None, "neither picked nor rejected",
    "Take the pick or reject mark off files.\n\n"
    "Example: luna unflag ~/Pictures/2019/IMG_0002.jpg",
)  # fmt: skip


@app.command("describe")
@handle_errors
def describe(
    ctx: typer.Context,
    refs: FilesArgument,
    title: Annotated[
        str | None, typer.Option("--title", help="The title ('' takes it off).")
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="The description ('' takes it off).")
    ] = None,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    skip_missing: SkipMissingOption = False,
    dry_run: DryRunOption = False,
) -> None:
    """Give files a title and/or a description (over what the files themselves say).

    Example: luna describe IMG_0001.jpg --title "Harbour at dawn" --description "Saint-Malo"
    """
    files = file_refs(refs, null=null or null_legacy)
    with library_to_change(ctx) as lib:
        changes = lib.marks.describe(
            files, title=title, description=description, skip_missing=skip_missing,
            dry_run=dry_run,
        )  # fmt: skip
    for change in changes:
        what = f"with a {change.mark}" if change.value else f"without a {change.mark}"
        _said(change, what)
