"""XMP sidecars beside the photos: what people organized in luna (tags, stars, labels,
picks, titles, albums, events), where digiKam, darktable, Lightroom, Bridge and ExifTool
read it, and from which a lost library can be rebuilt.

A photo or video gets the sidecar the library already links to it (luna.ingest.relations),
else a new one named as the `sidecar_naming` setting says: "file", IMG_1.CR2.xmp
(darktable, digiKam), or "stem", IMG_1.xmp (Lightroom), which the RAW and the JPEG of a
pair share: one sidecar, written once with what luna says of both.

An existing sidecar is edited, never replaced wholesale (luna.ingest.xmp_sidecar), and
only when it is as luna last read it: one another program changed since (or one luna has
not read yet) is left alone and reported, for `luna import` to read. The media files are
never opened for writing. Each sidecar is written to a temporary file, fsynced and renamed
into place (luna.files.replace), then recorded in the library as read, so that the next
import does not take luna's own writing for another program's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from luna.errors import BadValue, ChangedSinceRead, NoSpaceToWrite, SidecarRefused, WriteFailed
from luna.results import Result

NAMINGS = ("file", "stem")
XMP_MIME = "application/rdf+xml"  # what the import records for an XMP sidecar


@dataclass
class SidecarsWritten(Result):
    """What `luna sidecar write` did (or would do, with dry_run)."""

    files: int = 0  # photos and videos whose sidecars were looked at
    sidecars: int = 0  # sidecars they have (a RAW+JPEG pair may share one)
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # already said everything luna knows
    dry_run: bool = False
    problems: list[dict] = field(default_factory=list)  # {"path", "reason"}
    skipped: list[str] = field(default_factory=list)  # FILEs not in the library


def sidecar_path(media_path: str, naming: str) -> str:
    """Where a new sidecar of `media_path` goes: IMG_1.CR2.xmp, or IMG_1.xmp."""
    if naming not in NAMINGS:
        raise BadValue(f"sidecar naming: {naming!r} is not one of {', '.join(NAMINGS)}")
    if naming == "stem":
        return os.path.splitext(media_path)[0] + ".xmp"
    return media_path + ".xmp"


# Sidecars being written at once. Each write waits on the disk (fsync) most of its time,
# with Python's lock released: a few threads overlap those waits with the next sidecars'
# preparation (the database and the XML, on the calling thread).
WRITERS = 4
_BATCH = 500  # sidecars whose contents are read from the library at once


def write_sidecars(lib, file_ids: list[str], *, naming: str = "file", dry_run: bool = False):
    """Bring the sidecars of the files up to date with the library."""
    from concurrent.futures import ThreadPoolExecutor

    report = SidecarsWritten(dry_run=dry_run)
    media = lib.store.sidecars.media(file_ids)
    report.files = len(media)
    targets = _targets(lib, media, naming)
    report.sidecars = len(targets)
    written: list[str] = []
    disk_full: list[str] = []  # set by the first write a full disk refused
    said: dict[str, dict] = {}
    with ThreadPoolExecutor(max_workers=WRITERS) as writers:
        pending = []
        for n, (target, ids) in enumerate(targets.items()):
            if n % _BATCH == 0:  # what luna says of the next files, a few queries for all
                batch = list(targets.values())[n : n + _BATCH]
                said = lib.store.sidecars.said_of([i for group in batch for i in group])
            if disk_full:
                report.problems.append({"path": target, "reason": "not written: the disk is full"})
                continue
            try:
                outcome, write = _prepare(lib, target, _fields_of(said, ids), dry_run)
            except (WriteFailed, SidecarRefused) as exc:
                report.problems.append({"path": target, "reason": str(exc)})
                continue
            if write is None:
                _count(report, outcome, target, written)
            else:
                pending.append((target, outcome, writers.submit(_written, write, disk_full)))
        for target, outcome, future in pending:
            failure = future.result()
            if failure is None:
                _count(report, outcome, target, written)
            else:
                report.problems.append({"path": target, "reason": failure})
            if len(written) >= _BATCH and not dry_run:  # while the writers go on
                _record(lib, written)
                written = []
    if written and not dry_run:
        _record(lib, written)
    return report


def _count(report: SidecarsWritten, outcome: str, target: str, written: list[str]) -> None:
    setattr(report, outcome, getattr(report, outcome) + 1)
    if outcome != "unchanged":
        written.append(target)


def _written(write, disk_full: list[str]) -> str | None:
    """Run one prepared write (in a writer thread): None, or why it failed."""
    if disk_full:
        return "not written: the disk is full"
    try:
        write()
    except NoSpaceToWrite as exc:
        disk_full.append(str(exc))
        return str(exc)
    except WriteFailed as exc:
        return str(exc)
    return None


def _targets(lib, media: list[tuple[str, str]], naming: str) -> dict[str, list[str]]:
    """{sidecar path: the ids of the media it speaks for}: the sidecar linked already (of
    the naming asked for, when there are two), else a new one."""
    targets: dict[str, list[str]] = {}
    for file_id, path in media:
        linked = lib.store.sidecars.of(file_id)
        wanted = sidecar_path(path, naming)
        target = wanted if wanted in linked or not linked else linked[0]
        targets.setdefault(target, []).append(file_id)
    return targets


def _fields_of(said: dict[str, dict], ids: list[str]):
    """What the sidecar says: every tag, album and event of the media it speaks for, and
    the first of their stars, label, flag, title and description (a RAW's, then its
    JPEG's). `said`: luna.store.sidecars.said_of for them."""
    from luna.ingest.xmp_sidecar import AlbumRef, EventRef, SidecarFields
    from luna.readable import MARKS, effective_marks
    from luna.values import LABELS

    tags: set[str] = set()
    albums: set = set()
    events: set = set()
    marks: dict = dict.fromkeys(MARKS)
    position = None  # luna's (luna geotag), which the photo lacks: the sidecar says it too
    for file_id in ids:
        found = said[file_id]
        position = position or found["position"]
        tags.update(found["tags"])
        albums.update(AlbumRef(name, owner) for name, owner in found["albums"])
        events.update(
            EventRef(name, start, end, offset, description or "")
            for name, start, end, offset, description in found["events"]
        )
        for key, value in effective_marks(found["metadata"], found["said"]).items():
            if marks[key] is None:
                marks[key] = value
    if marks["label"] not in LABELS:  # a label of the file's own that is no colour
        marks["label"] = None
    latitude, longitude, altitude = position or (None, None, None)
    return SidecarFields(
        tags=tuple(sorted(tags)), albums=tuple(albums), events=tuple(events),
        latitude=latitude, longitude=longitude, altitude=altitude, **marks,
    )  # fmt: skip


def _prepare(lib, target: str, fields, dry_run: bool):
    """("created", "updated" or "unchanged", the write to run or None); WriteFailed or
    SidecarRefused (the sidecar is then as it was)."""
    from luna.files.replace import read_with_state, replace_file
    from luna.ingest.extract.xmp import MAX_PACKET
    from luna.ingest.xmp_sidecar import updated_sidecar

    found = read_with_state(target, limit=MAX_PACKET)
    existing, state = found if found is not None else (None, None)
    if state is not None:
        known = lib.store.sidecars.state_at(target)
        if known is None:
            raise ChangedSinceRead(
                "a sidecar luna has not read yet: run `luna import` on its folder first"
            )
        if (state.size, state.mtime_ns) != tuple(known):
            raise ChangedSinceRead(
                "changed by another program since luna read it: `luna import` reads it"
            )
    if existing is None and fields == type(fields)():
        return "unchanged", None  # nothing to say: no sidecar needed
    data = updated_sidecar(existing, fields)
    if data == existing:
        return "unchanged", None
    outcome = "created" if existing is None else "updated"
    if dry_run:
        return outcome, None
    return outcome, lambda: replace_file(target, data, expected=state)


def _record(lib, paths: list[str]) -> None:
    """Record the written sidecars as read (their rows and links), without reading their
    media again: what the sidecars say, the library said first."""
    from luna.ingest.importer import Importer, ImportOptions

    importer = Importer(lib, ImportOptions(media_of_sidecars=False))
    importer.record_written(paths, XMP_MIME)


# -- reading: what other programs changed -----------------------------------------------------


@dataclass
class SidecarsRead(Result):
    """What `luna sidecar read` took from sidecars (or an import, from changed ones)."""

    files: int = 0  # photos and videos whose sidecars were read
    sidecars: int = 0
    tags_added: int = 0
    tags_removed: int = 0
    problems: list[dict] = field(default_factory=list)  # {"path", "reason"}
    skipped: list[str] = field(default_factory=list)  # FILEs not in the library


def take_changed(lib, sidecars: list[str], report: SidecarsRead | None = None) -> SidecarsRead:
    """Take what other programs changed in these sidecars (luna.ingest.importer found them
    new or edited): their stars, label, flag, title and description over luna's, and the
    tags added or removed since luna last wrote them (luna:Tags). In one transaction."""
    from luna.store.sql import write_transaction

    report = report or SidecarsRead()

    def take_all() -> None:
        for sidecar in sidecars:
            media = [i for i in (lib.store.files.id_at(p) for p in _described(sidecar)) if i]
            if media:
                _take(lib, sidecar, media, report)

    write_transaction(lib, take_all, then="nothing was taken from the sidecars")
    return report


def _described(sidecar: str) -> list[str]:
    from luna.ingest.importer import media_described_by

    return media_described_by(sidecar)


def _take(lib, sidecar: str, media_ids: list[str], report: SidecarsRead) -> None:
    from luna.files.replace import read_with_state
    from luna.ingest.extract.xmp import MAX_PACKET
    from luna.ingest.xmp_sidecar import read_sidecar_fields, tag_changes

    try:
        found = read_with_state(sidecar, limit=MAX_PACKET)
    except WriteFailed as exc:
        report.problems.append({"path": sidecar, "reason": str(exc)})
        return
    packet = found[0] if found else None
    fields = read_sidecar_fields(packet) if packet else None
    changes = tag_changes(packet) if packet else None
    if fields is None or changes is None:
        report.problems.append({"path": sidecar, "reason": "not XMP luna can read"})
        return
    report.sidecars += 1
    report.files += len(media_ids)
    added, removed = changes
    marks = {
        "rating": fields.rating,
        # None is "no label" said there (digiKam's 0, an emptied xmp:Label): the file's own
        # xmp:Label, read into its metadata before, may be the one taken off.
        "label": fields.label or "",
        "flag": {"pick": 1, "reject": -1}.get(fields.flag or ""),
        "title": fields.title,
        "description": fields.description,
    }
    for column, value in marks.items():
        lib.store.marks.set(column, value, media_ids)
    tags = lib.store.tags
    if added:
        wanted = [tags.ensure(name) for name in sorted(added)]
        present = tags.links_present(wanted, media_ids)
        new = [(t, f) for t in wanted for f in media_ids if (t, f) not in present]
        tags.link(new, source="metadata")
        report.tags_added += len(new)
    if removed:
        ids = [row[0] for row in map(tags.find, sorted(removed)) if row is not None]
        present = tags.links_present(ids, media_ids) if ids else set()
        tags.unlink(present)
        report.tags_removed += len(present)


# -- rebuilding a library from the sidecars ---------------------------------------------------


@dataclass
class Rebuilt(Result):
    """What `luna import --from-sidecars` took from the sidecars besides an import's work."""

    sidecars: int = 0
    albums_created: int = 0
    events_created: int = 0
    memberships: int = 0  # files put back in an album or event
    problems: list[dict] = field(default_factory=list)


def rebuild_from_sidecars(lib, sidecars: list[str], acting_user: str) -> Rebuilt:
    """After an import: each sidecar's stars, label, flag, title and description (as
    `sidecar read` takes them), and its albums and events (luna:Albums, luna:Events),
    made where the library has none of that name, with the sidecar's media in them. An
    album keeps the owner the sidecar names (else `acting_user`)."""
    from luna.store.sql import write_transaction

    rebuilt = Rebuilt()

    def rebuild_all() -> None:
        read = SidecarsRead()
        for sidecar in sidecars:
            media = [i for i in (lib.store.files.id_at(p) for p in _described(sidecar)) if i]
            if not media:
                continue
            _take(lib, sidecar, media, read)
            _put_back_groups(lib, sidecar, media, acting_user, rebuilt)
        rebuilt.sidecars = read.sidecars
        rebuilt.problems = read.problems

    write_transaction(lib, rebuild_all, then="the files are imported; run it again to finish")
    return rebuilt


def _put_back_groups(lib, sidecar: str, media: list[str], acting_user: str, rebuilt) -> None:
    from luna.ingest.xmp_sidecar import read_sidecar_fields
    from luna.names import slugify, tidy_name

    with open(sidecar, "rb") as fp:
        fields = read_sidecar_fields(fp.read())
    if fields is None:
        return
    albums, events = lib.store.albums, lib.store.events
    for album in fields.albums:
        name = tidy_name(album.name, "album")
        row = albums.by_slug(slugify(name))
        if row is None:
            owner = lib.store.users.ensure(tidy_name(album.owner or acting_user, "user"))
            row = albums.create(name, slugify(name), "", owner)
            rebuilt.albums_created += 1
        new = [m for m in media if m not in albums.present(row.id, media)]
        albums.add_files(row.id, new)
        rebuilt.memberships += len(new)
    for event in fields.events:
        name = tidy_name(event.name, "event")
        found = events.by_slug(slugify(name))
        if found is None:
            event_id = events.insert(
                name, slugify(name), event.start, event.end, event.utc_offset, event.description
            )
            rebuilt.events_created += 1
        else:
            event_id = found[0]
        new = [m for m in media if m not in events.linked(event_id, media)]
        events.link(event_id, new)
        rebuilt.memberships += len(new)
