"""`luna dupes`: copies of the same photo, the space they waste, and which to keep."""

import sys
from typing import Annotated

import typer

from luna import values
from luna.cli.app import app, library_path, library_to_read
from luna.cli.options import ActAsOption, DryRunOption, LegacyUserOption, listing_options
from luna.cli.output import handle_errors, human_size, note, plural, print_jsonl, print_paths, warn
from luna.cli.render import (
    LIST_JOINER,
    Output,
    print_document,
    write_csv,
    write_template,
    write_tsv,
)
from luna.cli.usage import one_output_mode
from luna.errors import BadValue, NotReviewed


@app.command("dupes")
@handle_errors
@listing_options(paths=True)
def dupes(
    ctx: typer.Context,
    under: Annotated[
        str | None,
        typer.Argument(
            metavar="[FOLDER]",
            help="Only groups with a copy in this folder (say, ~/Downloads).",
            show_default=False,
        ),
    ] = None,
    similar: Annotated[
        bool,
        typer.Option(
            "--similar",
            help="Also photos that look the same: resized, recompressed, another format.",
        ),
    ] = False,
    threshold: Annotated[
        str | None,
        typer.Option(
            "--threshold",
            metavar="BITS",
            help="With --similar: how many of the 64 bits of two pictures' hashes may "
            "differ, 0 to 32 (lower is stricter). Default: 8.",
            show_default=False,
        ),
    ] = None,
    keep: Annotated[
        str | None,
        typer.Option(
            "--keep",
            metavar="RULE",
            help="Which copy to keep: most-organized (most tags, albums and events, then "
            "the oldest; the default), oldest, newest, shortest-path, largest (most pixels; "
            "the default with --similar), or in:PATH (the copy under PATH).",
            show_default=False,
        ),
    ] = None,
    extras: Annotated[
        bool,
        typer.Option(
            "--extras",
            help="Print only the copies not kept (paths; -0 for NUL). With --similar, only "
            "with --reviewed.",
        ),
    ] = False,
    reviewed: Annotated[
        bool,
        typer.Option(
            "--reviewed",
            help="With --similar --extras: you have looked at the groups, and the extras are "
            "copies you mean to act on (similar pictures may be different photos).",
        ),
    ] = False,
    merge: Annotated[
        bool,
        typer.Option(
            "--merge-metadata",
            help="Give each kept file the tags, albums and events of its copies, so deleting "
            "them loses nothing.",
        ),
    ] = False,
    dry_run: DryRunOption = False,
    user: ActAsOption = None,
    user_legacy: LegacyUserOption = None,
    output: Output = Output(),
) -> None:
    """Find duplicate files: the same content (or, with --similar, the same picture).

    Prints each group with the copy to keep first (for a program: `GROUP<TAB>keep|extra
    <TAB>PATH` lines). Nothing is ever deleted: review, then act on the extra copies
    yourself.

    Examples:

      luna dupes                                # groups and the space they waste

      luna dupes --merge-metadata               # keep tags/albums of copies on the kept one

      luna dupes --extras -0 | xargs -0 rm --    # exact copies only: delete the extras

      luna dupes --similar --json               # review: groups with their distances

      luna dupes --similar --extras --reviewed -0 | xargs -0 mv --backup=numbered -t ~/review --
    """
    from luna.library import Library
    from luna.ops import dupes as core

    if similar and extras and not reviewed:
        # Refused first, before any work: a list of pictures that only look alike is not to be
        # piped into rm unread.
        raise NotReviewed()
    documents = ("--json", "--jsonl", "--csv", "--format")  # whole groups, not a list of paths
    given = output.given()
    one_output_mode({"--extras": extras, **{k: given[k] for k in documents}})
    if threshold is not None and not similar:
        raise BadValue("--threshold needs --similar")
    bits = values.count(threshold, "--threshold", high=32) if threshold is not None else None
    values.optional(values.nonempty, user if user is not None else user_legacy, "--as")
    rule = values.optional(values.nonempty, keep, "--keep")
    if rule:
        core.keeper_rule(rule)  # a bad rule is reported before any work
    # --similar keeps the hashes it computes, and --merge-metadata changes files' records;
    # otherwise dupes only reads, so it works on a read-only library too.
    writes = similar or merge
    opened = Library.open(library_path(ctx), create=False) if writes else library_to_read(ctx)
    with opened as lib:
        progress = None
        if similar:
            from luna.cli.progress import CountProgress

            progress = CountProgress("Hashing photos")
        try:
            found = lib.dupes(
                similar=similar, threshold=bits, keep=rule, under=under, progress=progress
            )
        finally:
            if progress is not None:
                progress.finished()
        if merge:
            _merge(lib, found, user=user if user is not None else user_legacy, dry_run=dry_run)
        _render(found, extras=extras, output=output)
    _summarize(found.groups, found.hashing)
    if found.exit_status:
        raise typer.Exit(int(found.exit_status))


def _merge(lib, found, *, user: str | None, dry_run: bool) -> None:
    report = lib.merge_metadata(found, user=user, dry_run=dry_run)
    verb = "would give" if dry_run else "gave"
    for change in report.changes:
        gained = "; ".join(
            f"{kind} {', '.join(names)}"
            for kind, names in change.items()
            if kind in ("tags", "albums", "events") and names
        )
        note(f"{_human_path(change['path'])}: {'would gain' if dry_run else 'gained'} {gained}")
    note(
        f"Merged: {verb} {report.files} kept files {report.tags} tags, {report.albums} "
        f"album places and {report.events} events from their copies"
    )
    for album in report.refused:
        warn(f"not added to album {album!r}: you may not change it (see luna album show)")


def _render(found, *, extras, output: Output):
    from luna.fsnames import for_humans
    from luna.ops.dupes import group_record

    mode = output.mode
    groups = found.groups
    if mode == "json":
        print_document(found)
    elif mode == "jsonl":
        print_jsonl(group_record(g) for g in groups)
    elif mode == "csv":
        write_csv(CSV_COLUMNS, _csv_rows(groups))
    elif mode == "template":
        write_template(output.template or "", _csv_rows(groups))
    elif extras or mode in ("paths", "print0"):
        chosen = [c for g in groups for c in (g.extras if extras else g.files)]
        print_paths((c.path for c in chosen), null=mode == "print0")
    elif mode == "lines":
        # The groups survive a pipe: `1<TAB>keep<TAB>PATH`, `1<TAB>extra<TAB>PATH`.
        write_tsv([[str(n), _role(c), c.path] for n, g in enumerate(groups, 1) for c in g.files])
    else:
        for n, group in enumerate(groups, 1):
            sha = f"sha {group.content_sha[:12]}" if group.content_sha else "similar"
            copies = plural(len(group.files), "copy", "copies")
            sys.stdout.write(
                f"{'' if n == 1 else chr(10)}group {n}: {copies}, "
                f"{human_size(group.wasted_bytes)} wasted ({sha})\n"
            )
            for c in group.files:
                sys.stdout.write(f"  {_role(c):<5}  {for_humans(c.path)}{_carried(c)}\n")


def _role(c) -> str:
    return "keep" if c.keep else "extra"


def _carried(c) -> str:
    parts = []
    if c.distance:
        parts.append(f"{c.distance} bits apart")
    if c.width and c.height:
        parts.append(f"{c.width}x{c.height}")
    if c.tags:
        parts.append("tags: " + LIST_JOINER.join(c.tags))
    if c.albums:
        parts.append("albums: " + LIST_JOINER.join(c.albums))
    if c.events:
        parts.append("events: " + LIST_JOINER.join(c.events))
    return f"  ({'; '.join(parts)})" if parts else ""


def _summarize(groups, hashing) -> None:
    extra = sum(len(g.extras) for g in groups)
    wasted = sum(g.wasted_bytes for g in groups)
    if hashing is not None:
        note(
            f"Hashed {hashing.computed} photos ({hashing.cached} already known)"
            + (f"; {len(hashing.failed)} could not be read" if hashing.failed else "")
        )
        for path, reason in hashing.failed[:20]:
            warn(f"not compared: {_human_path(path)}: {reason}")
        if hashing.little_structure:
            count = hashing.little_structure
            note(
                f"{count} {'picture' if count == 1 else 'pictures'} left out: too little "
                "structure to compare by appearance (near-uniform frames, plain gradients); "
                "exact copies of them are still listed"
            )
    if not groups:
        note("No duplicates.")
    else:
        note(
            f"{plural(len(groups), 'group')}, {plural(extra, 'extra copy', 'extra copies')}, "
            f"{human_size(wasted)} wasted"
        )


CSV_COLUMNS = [
    "group",
    "keep",
    "path",
    "id",
    "size_bytes",
    "width",
    "height",
    "distance",
    "content_sha",
    "tags",
    "albums",
    "events",
]


def _csv_rows(groups) -> list[dict]:
    from luna.ops.dupes import copy_record

    return [
        {**copy_record(c), "group": n, "keep": "yes" if c.keep else "no"}
        for n, group in enumerate(groups, 1)
        for c in group.files
    ]


def _human_path(path: str) -> str:
    from luna.fsnames import for_humans

    return for_humans(path)
