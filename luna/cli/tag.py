"""`luna tag ...`"""

from typing import Annotated

import typer

from luna.cli.app import app, library_to_change, library_to_read
from luna.cli.options import (
    DryRunOption,
    FilesArgument,
    LegacyNullOption,
    NullInputOption,
    SkipMissingOption,
    YesOption,
    listing_options,
)
from luna.cli.output import confirm_deletion, file_refs, handle_errors, note, warn_skipped
from luna.cli.render import Listing, Output, render
from luna.errors import LunaError

tag_app = typer.Typer(
    help="Tags: words or phrases (Places/France/Paris) on files.", no_args_is_help=True
)
app.add_typer(tag_app, name="tag")

TagsOption = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", metavar="TAG", help="A tag; repeat for several."),
]
TagAndFiles = Annotated[
    list[str],
    typer.Argument(
        metavar="[TAG] FILE...",
        help="The tag (unless given with -t), then paths, ids or id prefixes; '-' reads "
        "them from stdin.",
    ),
]


def _split(tags: list[str] | None, args: list[str]) -> tuple[list[str], list[str]]:
    """`tag add beach a.jpg` or `tag add -t beach -t 2019 a.jpg`."""
    if tags:
        return tags, args
    if len(args) < 2:
        raise LunaError("give a TAG and at least one FILE (or tags with -t)")
    return [args[0]], args[1:]


@tag_app.command("add")
@handle_errors
def tag_add(
    ctx: typer.Context,
    args: TagAndFiles,
    tags: TagsOption = None,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    skip_missing: SkipMissingOption = False,
    dry_run: DryRunOption = False,
) -> None:
    """Tag files.

    Example: luna tag add -t Paris -t trip ~/Pictures/2019/Paris
    """
    names, refs = _split(tags, args)
    files = file_refs(refs, null=null or null_legacy)
    with library_to_change(ctx) as lib:
        change = lib.tags.add(names, files, skip_missing=skip_missing, dry_run=dry_run)
    warn_skipped(change.skipped)
    verb = "would tag" if dry_run else "tagged"
    already = f" ({change.unchanged} already had it)" if change.unchanged else ""
    note(f"{verb} {change.files} files with {', '.join(change.tags)}{already}")


@tag_app.command("remove")
@handle_errors
def tag_remove(
    ctx: typer.Context,
    args: TagAndFiles,
    tags: TagsOption = None,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    skip_missing: SkipMissingOption = False,
    dry_run: DryRunOption = False,
) -> None:
    """Take tags off files (the tag itself stays; see `tag delete`).

    Example: luna tag remove beach ~/Pictures/2019/IMG_0001.jpg
    """
    names, refs = _split(tags, args)
    files = file_refs(refs, null=null or null_legacy)
    with library_to_change(ctx) as lib:
        change = lib.tags.remove(names, files, skip_missing=skip_missing, dry_run=dry_run)
    warn_skipped(change.skipped)
    verb = "would untag" if dry_run else "untagged"
    note(f"{verb} {change.changed} files ({', '.join(change.tags)})")


@tag_app.command("list")
@handle_errors
@listing_options()
def tag_list(ctx: typer.Context, output: Output) -> None:
    """List every tag with how many files carry it.

    Example: luna tag list --csv > tags.csv
    """
    with library_to_read(ctx) as lib:
        found = lib.tags.list()
    render(Listing("tags", found.rows, ["name", "files", "from_metadata", "parent"]), output)


@tag_app.command("rename")
@handle_errors
def tag_rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="The tag to rename.")],
    new: Annotated[str, typer.Argument(help="Its new name; an existing tag is merged into.")],
) -> None:
    """Rename a tag (and the tags below it); if NEW exists, OLD is merged into it.

    Example: luna tag rename "Places/Paris" "Places/France/Paris"
    """
    with library_to_change(ctx) as lib:
        result = lib.tags.rename(old, new)
    how = "merged into" if result["merged"] else "renamed to"
    note(f"{result['old']} {how} {result['new']} ({result['renamed'] + result['merged']} tags)")


@tag_app.command("delete")
@handle_errors
def tag_delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="TAG", help="The tag to delete.")],
    yes: YesOption = False,
) -> None:
    """Delete a tag from the library and from every file (files themselves stay).

    Example: luna tag delete blurry --yes
    """
    confirm_deletion(f"tag {name!r}", yes)
    with library_to_change(ctx) as lib:
        result = lib.tags.delete(name)
    note(f"deleted tag {result['name']} (it was on {result['files']} files)")


@tag_app.command("show")
@handle_errors
@listing_options(paths=True)
def tag_show(
    ctx: typer.Context, refs: FilesArgument, output: Output, null: NullInputOption = False
) -> None:
    """Show the tags of files, and where each came from (you, or the file's metadata).

    Example: luna tag show ~/Pictures/2019/IMG_0001.jpg
    """
    files = file_refs(refs, null=null)
    with library_to_read(ctx) as lib:
        found = lib.tags.of(files)
    render(Listing("files", found.rows, ["path", "tags"], flat=_tag_names), output)


def _tag_names(row: dict) -> dict:
    """--json and --jsonl say where each tag came from; CSV and the table list the names."""
    return {**row, "tags": [t["name"] for t in row["tags"]]}
