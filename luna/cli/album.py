"""`luna album ...`: parses arguments, calls luna.ops.albums, prints the result."""

from typing import Annotated, Literal

import typer

from luna import values
from luna.cli.app import app, library_to_change, library_to_read
from luna.cli.options import (
    ActAsOption,
    DryRunOption,
    FilesArgument,
    LegacyNullOption,
    LegacyUserOption,
    NullInputOption,
    SkipMissingOption,
    YesOption,
    listing_options,
)
from luna.cli.output import file_refs, handle_errors, note, plural, warn_skipped
from luna.cli.render import Listing, Output, render

album_app = typer.Typer(
    help="Albums: named collections with an owner, editors and viewers.", no_args_is_help=True
)
app.add_typer(album_app, name="album")

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The album's name (any case).")]
ALBUM_COLUMNS = ["name", "slug", "description", "owner", "role", "files", "created"]
FILE_COLUMNS = ["id", "path", "filename", "start", "kind", "added"]


def _acting(user: str | None) -> str | None:
    """--as, checked; None when not given (the library knows who is acting then)."""
    return values.optional(values.nonempty, user, "--as")


@album_app.command("create")
@handle_errors
def album_create(
    ctx: typer.Context,
    name: NameArgument,
    description: Annotated[
        str, typer.Option("--description", "-d", help="What the album is about.")
    ] = "",
    user: ActAsOption = None,
    user_legacy: LegacyUserOption = None,
) -> None:
    """Create an empty album owned by the acting user.

    Example: luna album create "Summer 2019" --description "Brittany, with the kids"
    """
    with library_to_change(ctx) as lib:
        row = lib.albums.create(
            name,
            user=_acting(user if user is not None else user_legacy),
            description=description,
        )
    note(f"created album {row['name']} (slug {row['slug']}), owned by {row['owner']}")


@album_app.command("add")
@handle_errors
def album_add(
    ctx: typer.Context,
    name: NameArgument,
    refs: FilesArgument,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    skip_missing: SkipMissingOption = False,
    dry_run: DryRunOption = False,
    user: ActAsOption = None,
    user_legacy: LegacyUserOption = None,
) -> None:
    """Add files to an album, after the ones already in it (owner and editors only).

    Nothing is added if any FILE is not in the library, unless --skip-missing.

    Example: luna find --after 2019 --before 2020 -0 | luna album add "Summer 2019" -z -
    """
    acting = _acting(user if user is not None else user_legacy)
    files = file_refs(refs, null=null or null_legacy)
    with library_to_change(ctx) as lib:
        change = lib.albums.add(
            name, files, user=acting, skip_missing=skip_missing, dry_run=dry_run
        )
    warn_skipped(change.skipped)
    if dry_run:
        note(f"would add {plural(len(change.changed), 'file')} to {change.album} (dry run)")
        if change.unchanged:
            note(f"{len(change.unchanged)} {_are(change.unchanged)} already in it")
    else:
        note(f"added {plural(len(change.changed), 'file')} to {change.album}")
        if change.unchanged:
            note(f"{len(change.unchanged)} {_were(change.unchanged)} already in it")


@album_app.command("remove")
@handle_errors
def album_remove(
    ctx: typer.Context,
    name: NameArgument,
    refs: FilesArgument,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    skip_missing: SkipMissingOption = False,
    dry_run: DryRunOption = False,
    user: ActAsOption = None,
    user_legacy: LegacyUserOption = None,
) -> None:
    """Take files out of an album; they stay in the library (owner and editors only).

    Example: luna album remove "Summer 2019" ~/Pictures/2019/blurry.jpg
    """
    acting = _acting(user if user is not None else user_legacy)
    files = file_refs(refs, null=null or null_legacy)
    with library_to_change(ctx) as lib:
        change = lib.albums.remove(
            name, files, user=acting, skip_missing=skip_missing, dry_run=dry_run
        )
    warn_skipped(change.skipped)
    if dry_run:
        note(f"would remove {plural(len(change.changed), 'file')} from {change.album} (dry run)")
        if change.unchanged:
            note(f"{len(change.unchanged)} {_are(change.unchanged)} not in it")
    else:
        note(f"removed {plural(len(change.changed), 'file')} from {change.album}")
        if change.unchanged:
            note(f"{len(change.unchanged)} {_were(change.unchanged)} not in it")


def _were(items: list) -> str:
    return "was" if len(items) == 1 else "were"


def _are(items: list) -> str:
    return "is" if len(items) == 1 else "are"


@album_app.command("list")
@handle_errors
@listing_options()
def album_list(
    ctx: typer.Context,
    output: Output,
    user: ActAsOption = None,
    user_legacy: LegacyUserOption = None,
) -> None:
    """List the albums you own, edit or view, with your role and their file counts.

    Example: luna album list --json | jq -r '.albums[] | select(.role == "owner") | .name'
    """
    acting = _acting(user if user is not None else user_legacy)
    with library_to_read(ctx) as lib:
        rows = lib.albums.list(user=acting).rows
        who = lib.acting_user(acting)
    render(Listing("albums", rows, ALBUM_COLUMNS, empty=f"no albums for {who}"), output)


@album_app.command("show")
@handle_errors
@listing_options(paths=True)
def album_show(
    ctx: typer.Context,
    name: NameArgument,
    order: Annotated[
        Literal["date", "added"],
        typer.Option("--order", help="'date' (when taken, undated last) or 'added'."),
    ] = "date",
    output: Output = Output(),
    user: ActAsOption = None,
    user_legacy: LegacyUserOption = None,
) -> None:
    """Show an album's files, by date or in the order they were added.

    --json prints the album (name, owner, editors, viewers, ...) with its files;
    --jsonl and --csv print only the files.

    Example: luna album show "Summer 2019" --order added --json
    """
    with library_to_read(ctx) as lib:
        album = lib.albums.show(
            name, user=_acting(user if user is not None else user_legacy), order=order
        )
    record, files = album.about, album.rows
    listing = Listing(
        "files",
        files,
        FILE_COLUMNS,
        table=["start", "filename", "kind", "path"],
        title=_show_title(record, len(files)),
        document=record,
        piped="paths",
    )
    render(listing, output)


def _show_title(record: dict, files: int) -> str:
    parts = [f"owner {record['owner'] or 'nobody'}"]
    if record["editors"]:
        parts.append(f"editors {', '.join(record['editors'])}")
    if record["viewers"]:
        parts.append(f"viewers {', '.join(record['viewers'])}")
    parts.append(plural(files, "file"))
    title = f"{record['name']} ({'; '.join(parts)})"
    return f"{title}\n{record['description']}" if record["description"] else title


@album_app.command("rename")
@handle_errors
def album_rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(metavar="OLD", help="The album's current name.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="Its new name.")],
    user: ActAsOption = None,
    user_legacy: LegacyUserOption = None,
) -> None:
    """Rename an album (owner and editors only); its files, order and shares stay.

    Example: luna album rename "Summer 2019" "Brittany 2019"
    """
    with library_to_change(ctx) as lib:
        result = lib.albums.rename(
            old, new, user=_acting(user if user is not None else user_legacy)
        )
    note(f"renamed album {result['old']} to {result['new']}")


@album_app.command("delete")
@handle_errors
def album_delete(
    ctx: typer.Context,
    name: NameArgument,
    yes: YesOption = False,
    user: ActAsOption = None,
    user_legacy: LegacyUserOption = None,
) -> None:
    """Delete an album (owner only); its files stay in the library.

    Asks first; needs --yes when stdin is not a terminal.

    Example: luna album delete "Summer 2019" --yes
    """
    from luna.cli.output import confirm_deletion

    acting = _acting(user if user is not None else user_legacy)
    with library_to_change(ctx) as lib:
        access = lib.albums.access(name, "delete", user=acting)  # refused before the question
        confirm_deletion(
            f"album {access.name!r} ({plural(access.files, 'file')} in it stay in the library)", yes
        )
        result = lib.albums.delete(name, user=acting)
    note(
        f"deleted album {result['name']}; its {plural(result['files'], 'file')} stay in the library"
    )


@album_app.command("share")
@handle_errors
def album_share(
    ctx: typer.Context,
    name: NameArgument,
    other: Annotated[str, typer.Argument(metavar="USER", help="Who to share it with.")],
    role: Annotated[
        Literal["viewer", "editor"],
        typer.Option("--role", "-r", help="viewer: may see it; editor: may also change it."),
    ] = "viewer",
    user: ActAsOption = None,
    user_legacy: LegacyUserOption = None,
) -> None:
    """Let another user view or edit an album (owner only).

    Sharing again with another role replaces the first one.

    Example: luna album share "Summer 2019" bob --role editor
    """
    with library_to_change(ctx) as lib:
        result = lib.albums.share(
            name, other, role=role, user=_acting(user if user is not None else user_legacy)
        )
    if result["was"] == result["role"]:
        note(f"{result['user']} was already {_a(role)} of {result['album']}")
    elif result["was"]:
        note(f"{result['user']} is now {_a(role)} of {result['album']} (was {result['was']})")
    else:
        note(f"{result['user']} is now {_a(role)} of {result['album']}")


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


@album_app.command("unshare")
@handle_errors
def album_unshare(
    ctx: typer.Context,
    name: NameArgument,
    other: Annotated[str, typer.Argument(metavar="USER", help="Who loses access.")],
    user: ActAsOption = None,
    user_legacy: LegacyUserOption = None,
) -> None:
    """Take away another user's access to an album (owner only).

    Example: luna album unshare "Summer 2019" bob
    """
    with library_to_change(ctx) as lib:
        result = lib.albums.unshare(
            name, other, user=_acting(user if user is not None else user_legacy)
        )
    if result["was"]:
        note(f"{result['user']} is no longer {_a(result['was'])} of {result['album']}")
    else:
        note(f"{result['user']} had no access to {result['album']}; nothing changed")
