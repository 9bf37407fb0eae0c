"""`luna event ...`"""

from typing import Annotated

import typer

from luna import values
from luna.cli.app import app, library_to_change, library_to_read
from luna.cli.options import (
    DryRunOption,
    FilesArgument,
    JsonOption,
    LegacyNullOption,
    NullInputOption,
    SkipMissingOption,
    YesOption,
    listing_options,
)
from luna.cli.output import confirm_deletion, file_refs, handle_errors, note, plural, warn_skipped
from luna.cli.render import Listing, Output, print_document, render

event_app = typer.Typer(
    help="Events: named points or spans of time that group files.", no_args_is_help=True
)
app.add_typer(event_app, name="event")

# The table leaves out what only scripts need; --json, --jsonl and --csv have every key.
TABLE_COLUMNS = ["name", "start", "end", "files", "description"]
WHEN_HELP = (
    "2019-06-01, 2019-06-01T14:00 or '2019-06-01 14:00:00', optionally with an offset (+02:00, Z)."
)
NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The event's name.")]


@event_app.command("create")
@handle_errors
def event_create(
    ctx: typer.Context,
    name: NameArgument,
    start: Annotated[str, typer.Option("--start", "-s", metavar="WHEN", help=WHEN_HELP)],
    end: Annotated[
        str | None,
        typer.Option(
            "--end", "-e", metavar="WHEN", help="When it ends; a date alone means that day's end."
        ),
    ] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="Free text.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create an event: a point in time, or a span with --end.

    Times are local wall-clock times, like the times photos are taken at; an offset such
    as +02:00 is recorded but does not shift the span. A date alone names a whole day: a
    date-only --end means the end of that day, and a date-only --start without --end is
    that whole day. Add files with `event add` or `event attach`.

    Example: luna event create "Paris trip" --start 2019-06-01 --end 2019-06-03
    """
    values.when(start, "--start")  # a bad WHEN is a usage error, before the library opens
    values.optional(values.when, end, "--end")
    with library_to_change(ctx) as lib:
        row = lib.events.create(name, start, end, description=description)
    if as_json:
        print_document(row)
    span = f"{row['start']} to {row['end']}" if row["end"] else f"at {row['start']}"
    note(f"created event {row['name']} ({span})")


@event_app.command("add")
@handle_errors
def event_add(
    ctx: typer.Context,
    name: NameArgument,
    refs: FilesArgument,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    skip_missing: SkipMissingOption = False,
    dry_run: DryRunOption = False,
) -> None:
    """Put files in an event (sidecars are left out: they follow their photos).

    Example: luna event add "Paris trip" ~/Pictures/2019/Paris
    """
    files = file_refs(refs, null=null or null_legacy)
    with library_to_change(ctx) as lib:
        change = lib.events.add(name, files, skip_missing=skip_missing, dry_run=dry_run)
    warn_skipped(change.skipped)
    verb = "would add" if dry_run else "added"
    extra = [f"{change.unchanged} already in it"] if change.unchanged else []
    if change.left_out:
        extra.append(f"{plural(change.left_out, 'sidecar')} left out")
    _report(f"{verb} {plural(change.changed, 'file')} to {change.event}", extra)


@event_app.command("remove")
@handle_errors
def event_remove(
    ctx: typer.Context,
    name: NameArgument,
    refs: FilesArgument,
    null: NullInputOption = False,
    null_legacy: LegacyNullOption = False,
    skip_missing: SkipMissingOption = False,
    dry_run: DryRunOption = False,
) -> None:
    """Take files out of an event (the files stay in the library).

    Example: luna event remove "Paris trip" ~/Pictures/2019/Paris/IMG_0042.jpg
    """
    files = file_refs(refs, null=null or null_legacy)
    with library_to_change(ctx) as lib:
        change = lib.events.remove(name, files, skip_missing=skip_missing, dry_run=dry_run)
    warn_skipped(change.skipped)
    verb = "would remove" if dry_run else "removed"
    extra = [f"{change.unchanged} were not in it"] if change.unchanged else []
    _report(f"{verb} {plural(change.changed, 'file')} from {change.event}", extra)


@event_app.command("attach")
@handle_errors
def event_attach(ctx: typer.Context, name: NameArgument, dry_run: DryRunOption = False) -> None:
    """Add every photo and video taken during the event.

    Files' local wall-clock times are compared with the event's span, whatever their time
    zones: a trip's "14:00" is 14:00 where the photos were taken. A span includes the
    second of its end; an event with no end covers the minute of its start. Sidecars, and
    files whose only date is their modification time, are left out.

    Example: luna event attach "Paris trip" --dry-run
    """
    with library_to_change(ctx) as lib:
        change = lib.events.attach(name, dry_run=dry_run)
    verb = "would attach" if dry_run else "attached"
    extra = [f"{change.unchanged} already in it"] if change.unchanged else []
    if change.left_out:
        extra.append(f"{change.left_out} left out: dated only by their file's mtime")
    _report(f"{verb} {plural(change.changed, 'file')} to {change.event}", extra)


def _report(summary: str, extra: list[str]) -> None:
    note(f"{summary} ({'; '.join(extra)})" if extra else summary)


@event_app.command("list")
@handle_errors
@listing_options()
def event_list(ctx: typer.Context, output: Output) -> None:
    """List events, earliest first, with how many files each holds.

    Example: luna event list --json | jq '.events[].name'
    """
    with library_to_read(ctx) as lib:
        rows = lib.events.list().rows
    _print_events(rows, output)


def _print_events(rows: list[dict], output: Output) -> None:
    from luna.ops.events import EVENT_KEYS

    render(Listing("events", rows, EVENT_KEYS, table=TABLE_COLUMNS), output)


@event_app.command("show")
@handle_errors
@listing_options(paths=True)
def event_show(ctx: typer.Context, name: NameArgument, output: Output) -> None:
    """Show an event and its files, in the order they were taken.

    --json prints the event with a `files` list; --jsonl and --csv print only the files.

    Example: luna event show "Paris trip" --csv
    """
    from luna.ops.events import FILE_KEYS

    with library_to_read(ctx) as lib:
        shown = lib.events.show(name)
    event, files = shown.about, shown.rows
    span = f"{event['start']} to {event['end']}" if event["end"] else event["start"]
    title = f"{event['name']}: {span}, {plural(len(files), 'file')}"
    if event["description"]:
        title += f"\n{event['description']}"
    listing = Listing(
        "files",
        files,
        FILE_KEYS,
        table=["start", "kind", "filename"],
        title=title,
        document=event,
        piped="paths",
    )
    render(listing, output)


@event_app.command("rename")
@handle_errors
def event_rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(metavar="OLD", help="The event to rename.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="Its new name.")],
) -> None:
    """Rename an event (no other event may have the new name).

    Example: luna event rename "Paris trip" "Paris, June 2019"
    """
    with library_to_change(ctx) as lib:
        result = lib.events.rename(old, new)
    note(f"renamed event {result['old']} to {result['new']}")


@event_app.command("delete")
@handle_errors
def event_delete(ctx: typer.Context, name: NameArgument, yes: YesOption = False) -> None:
    """Delete an event; its files stay in the library.

    Asks first; without a terminal, --yes is needed.

    Example: luna event delete "Paris trip" --yes
    """
    with library_to_change(ctx) as lib:
        event = lib.events.get(name)  # a typo fails before the question
        confirm_deletion(f"event {event.name!r}", yes)
        result = lib.events.delete(name)
    note(f"deleted event {result['name']} (its {plural(result['files'], 'file')} stay)")


@event_app.command("detect")
@handle_errors
@listing_options()
def event_detect(
    ctx: typer.Context,
    gap: Annotated[
        str,
        typer.Option(
            "--gap",
            "-g",
            metavar="DURATION",
            help="Split where consecutive files are more than this apart: 90m, 6h, 2d, 1w.",
        ),
    ] = "6h",
    min_files: Annotated[
        str,
        typer.Option("--min-files", "-m", metavar="N", help="Keep groups of at least N files."),
    ] = "5",
    dry_run: DryRunOption = False,
    output: Output = Output(),
) -> None:
    """Find events in the library's time line and create them with their files.

    Files are taken in date order and split where two consecutive ones are more than --gap
    apart; each group of at least --min-files files becomes an event named by its dates and
    where they were taken: the city of at least half of them, else their region, else their
    country ("Paris, 2019-06-01 to 2019-06-03"; "Bretagne, ..."). Missing
    files, sidecars and files dated only by their modification time are left out. A group
    that an existing event already covers (its span contains the group, or it holds all of
    its files) is skipped, so running detect again creates no duplicates. Prints the events
    created, or with --dry-run the ones it would create.

    Example: luna event detect --gap 12h --min-files 10 --dry-run
    """
    gap_length = values.duration(gap, "--gap")
    least = values.count(min_files, "--min-files", low=1)
    with library_to_change(ctx) as lib:
        found = lib.events.detect(gap=gap_length, min_files=least, dry_run=dry_run)
    _print_events([p.row() for p in found.created], output)
    for skipped in found.skipped:
        note(
            f"skipped {skipped.name} ({plural(len(skipped.file_ids), 'file')}): "
            f"already covered by event {skipped.covered_by}"
        )
    if found.small_groups:
        note(f"{plural(found.small_groups, 'group')} of fewer than {least} files left out")
    verb = "would create" if dry_run else "created"
    note(f"{verb} {plural(len(found.created), 'event')}")
