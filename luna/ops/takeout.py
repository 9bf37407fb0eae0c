"""`luna import --takeout PARTS... --into DIR`: a Google Photos Takeout into the library.

The parts are read in place (luna.ingest.takeout_files), each photo paired with its JSON
(luna.ingest.takeout). Then, a batch at a time (about BATCH_BYTES):

1. each photo and video of the batch is streamed out of its zip (or folder) into a staging
   folder inside the library folder, hashed on the way and flushed; a content this run or
   the library already has (an album's copy of a year folder's photo, a file repeated in
   two parts, a photo imported by an earlier run) is collapsed: its staged copy goes;
2. the staged files are moved into place by `import --move`'s own machinery
   (luna.ops.gather): journal, verified placement, template, families, recording. Before
   a file's destination is chosen, the JSON's facts are added to what the file says
   (adjust): its date when the file has none of its own (photoTakenTime is UTC: converted
   with the file's offset, else the time zone at its position, else the computer's), and
   its position when it has none (geoDataExif before geoData);
3. the rest of the JSON is given to the library's file of that content: the description,
   a favourite as a pick, archived and trashed as tags (`takeout/archived`,
   `takeout/trashed`), people as `People/NAME` tags, and the albums.

Step 3 runs for every photo, new or not, so a run after an interruption (Ctrl-C, kill -9:
the journal of step 2 leaves nothing half done) finishes what the last one began, and a
run after a complete one changes nothing. The staging folder holds only copies of what the
Takeout still has; what is left in it by a crash is removed by the next run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import hashlib
import os
import shutil
import threading
import time
import zipfile
from dataclasses import dataclass, field

from luna.errors import ExitStatus, Interrupted, LunaError
from luna.files.place import os_reason, remove_quietly
from luna.ingest.takeout import (
    OTHER_JSON,
    NotTakeoutJson,
    TakeoutFacts,
    album_title,
    is_photo_json,
    is_year_folder,
    pair_with_json,
    photo_facts,
    read_json,
)
from luna.ingest.takeout_files import BadTakeout, Folder, Member, Parts, list_takeout
from luna.results import Result
from luna.store.sql import write_transaction

BATCH_BYTES = 1 << 30  # staged at most at once: the disk needs this much room besides
STAGING = ".luna-takeout"  # inside the library folder
MARKER = "LUNA-STAGING.txt"  # in it: luna made it, and may empty it
JSON_DATE = "takeout:photoTakenTime"
JSON_PLACE = "takeout:geoData"
# The date sources a Takeout's JSON date is better than: not the file's own capture date.
_WEAKER_DATES = frozenset({"exif:ModifyDate", "filename", "file:mtime"})
_CHUNK = 1 << 20


@dataclass
class TakeoutOptions:
    into: str  # the library folder
    template: str | None = None
    dry_run: bool = False
    jobs: int = 0
    owner: str | None = None
    batch_bytes: int = BATCH_BYTES


@dataclass
class TakeoutReport(Result):
    """What a Takeout import did (or would do)."""

    dry_run: bool = False
    parts: int = 0
    media: int = 0  # photos and videos in the Takeout, each path once
    matched_json: int = 0  # of which paired with a JSON
    imported: int = 0  # new files in the library
    duplicates_collapsed: int = 0  # copies of a content already there or met before
    albums: list[str] = field(default_factory=list)
    repeated_in_parts: int = 0  # the same file in two parts, read once
    failed: list[dict] = field(default_factory=list)  # {"path", "reason"}
    without_json: list[str] = field(default_factory=list)  # media without JSON
    json_without_media: list[str] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def problems(self):  # type: ignore[override]
        return self.failed

    @property
    def exit_status(self) -> ExitStatus:
        if self.interrupted:
            return ExitStatus.INTERRUPTED
        return ExitStatus.PARTIAL if self.failed else ExitStatus.OK


@dataclass
class Planned:
    """A photo or video of the Takeout and what its JSON and folder say of it."""

    member: Member
    facts: TakeoutFacts | None
    album: str | None  # the album its folder is, if one
    sha: str | None = None  # once read
    located: bool = False  # its position at import was its JSON's (_adjusted)
    dated: bool = False  # and its date


# -- the plan: every photo with its JSON and album ------------------------------------------


def plan_takeout(listing, parts: Parts, report: TakeoutReport) -> list[Planned]:
    """Each photo and video of the Takeout with its JSON's facts and its album, in folder
    order; the JSONs left over and the photos without one go to the report."""
    planned = []
    for path in sorted(listing.folders):
        planned += _plan_folder(listing.folders[path], parts, report)
    # The year folders' copies first: theirs is the JSON Google keeps complete (an album's
    # copy may lack the place), and the first copy of a content is the one imported.
    planned.sort(key=lambda p: p.album is not None)
    report.media = len(planned)
    report.matched_json = sum(1 for p in planned if p.facts is not None)
    report.albums = sorted({p.album for p in planned if p.album})
    return planned


def _plan_folder(folder: Folder, parts: Parts, report: TakeoutReport) -> list[Planned]:
    photo_jsons: dict[str, dict] = {}
    album_json, title = False, None
    for name, member in sorted(folder.jsons.items()):
        if name in OTHER_JSON:
            continue
        try:
            value = read_json(parts.read_json(member))
        except (NotTakeoutJson, BadTakeout) as exc:
            report.failed.append({"path": member.where(), "reason": str(exc)})
            continue
        if is_photo_json(value):
            photo_jsons[name] = value
        elif "title" in value:  # an album's metadata.json (in the account's language)
            album_json, title = True, album_title(value) or title
    paired = pair_with_json(sorted(folder.media), sorted(photo_jsons))
    used = set(paired.values())
    report.json_without_media += [folder.jsons[n].where() for n in photo_jsons if n not in used]
    # An album: a folder with an album's JSON, named by its title (which may be empty: then
    # by the folder); never one of the year folders.
    name = os.path.basename(folder.path)
    album = (title or name) if album_json and not is_year_folder(name) else None
    planned = []
    for name, member in sorted(folder.media.items()):
        json_name = paired.get(name)
        if json_name is None:
            report.without_json.append(member.where())
        facts = photo_facts(photo_jsons[json_name]) if json_name else None
        planned.append(Planned(member, facts, album))
    return planned


# -- the import -----------------------------------------------------------------------------


def import_takeout(lib, paths: list[str], options: TakeoutOptions, progress=None):
    """Import the Takeout parts and folders `paths` into the library folder."""
    started = time.monotonic()
    report = TakeoutReport(dry_run=options.dry_run)
    listing = list_takeout(paths)
    report.parts, report.repeated_in_parts = len(listing.parts), listing.repeated
    into = os.path.realpath(os.path.expanduser(options.into))
    with Parts() as parts:
        planned = plan_takeout(listing, parts, report)
        try:
            if options.dry_run:
                _dry_run(lib, planned, parts, report)
            else:
                _import(lib, planned, into, options, report, progress)
        except KeyboardInterrupt:
            report.interrupted = True
            report.seconds = time.monotonic() - started
            raise Interrupted(
                "interrupted; what was imported is recorded, run it again to finish", report
            ) from None
    report.seconds = time.monotonic() - started
    return report


def _dry_run(lib, planned: list[Planned], parts: Parts, report: TakeoutReport) -> None:
    """Read and hash every photo (nothing is written) to count what would come in."""
    seen: set[str] = set()
    for p in planned:
        try:
            p.sha = _hash(parts, p.member)
        except (OSError, BadTakeout, ValueError) as exc:
            report.failed.append({"path": p.member.where(), "reason": _reason(exc)})
            continue
        _count_content(lib, p.sha, seen, report)


def _count_content(lib, sha: str, seen: set[str], report: TakeoutReport) -> None:
    if sha in seen or lib.store.files.present_contents([sha]):
        report.duplicates_collapsed += 1
    else:
        report.imported += 1
    seen.add(sha)


def _import(lib, planned, into: str, options, report, progress) -> None:
    from luna.ops.gather import make_library_folder

    make_library_folder(into, dry_run=False)
    staging = _fresh_staging(into)
    seen: set[str] = set()
    try:
        for n, batch in enumerate(_batches(planned, options.batch_bytes)):
            folder = os.path.join(staging, f"{n:05d}")
            staged = _stage(lib, batch, folder, seen, report)
            if staged:
                _move_into_place(lib, staged, folder, into, options, report, progress)
            shutil.rmtree(folder, ignore_errors=True)
            _give_json_facts(lib, batch, report)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _fresh_staging(into: str) -> str:
    """The staging folder, emptied of what a crashed run left (copies of what the Takeout
    still has: nothing else is ever put there). A folder of that name that luna did not
    make (it has no MARKER) is never emptied: the import stops instead."""
    staging = os.path.join(into, STAGING)
    if os.path.lexists(staging):
        if os.path.islink(staging) or not os.path.isfile(os.path.join(staging, MARKER)):
            raise LunaError(
                f"{staging} is in the way of luna's staging folder and was not made by luna; "
                "move it elsewhere, then run the import again"
            )
        shutil.rmtree(staging)
    os.makedirs(staging)
    with open(os.path.join(staging, MARKER), "w") as marker:
        marker.write("Photos being imported from a Google Takeout by luna: copies, removed once "
                     "in place. Safe to delete when no luna is running.\n")  # fmt: skip
    return staging


def _batches(planned: list[Planned], limit: int):
    batch: list[Planned] = []
    size = 0
    for p in planned:
        if batch and size + p.member.size > limit:
            yield batch
            batch, size = [], 0
        batch.append(p)
        size += p.member.size
    if batch:
        yield batch


def _stage(lib, batch, folder: str, seen: set[str], report) -> dict[str, Planned]:
    """Stream the batch's photos into `folder` (by their Takeout path), hashed on the way;
    those whose content is already there or already met are not kept. Returns the staged
    path of each photo kept."""
    staged: dict[str, Planned] = {}
    by_content: dict[str, Planned] = {}
    for p, path, error in _copied_out(batch, folder):
        if error is not None:
            remove_quietly(path)
            if isinstance(error, OSError) and error.errno == errno.ENOSPC:
                # Every photo after this one would fail alike: stop, keeping what is in.
                raise LunaError(
                    f"{os_reason(error, folder)}; what was imported so far is recorded: "
                    "make room, then run the same import again to finish it"
                )
            report.failed.append({"path": p.member.where(), "reason": _reason(error)})
            continue
        if p.sha in seen or lib.store.files.present_contents([p.sha]):
            report.duplicates_collapsed += 1
            remove_quietly(path)
            if p.sha in by_content:
                _complete_facts(by_content[p.sha], p)
        else:
            staged[path] = by_content[p.sha] = p
        seen.add(p.sha)
    return staged


def _complete_facts(kept: Planned, copy: Planned) -> None:
    """What another copy's JSON knows of a content staged in this batch and the staged
    one's JSON does not (a date, a place) goes to the staged one: it is the one imported."""
    if copy.facts is None:
        return
    if kept.facts is None:
        kept.facts = copy.facts
        return
    if kept.facts.taken_utc is None:
        kept.facts.taken_utc = copy.facts.taken_utc
    if kept.facts.latitude is None:
        kept.facts.latitude, kept.facts.longitude = copy.facts.latitude, copy.facts.longitude
        kept.facts.altitude = copy.facts.altitude


STAGING_THREADS = 2  # inflating, hashing and writing release the GIL: two cores at work


def _copied_out(batch: list[Planned], folder: str):
    """(planned, staged path, None or the exception) for each photo of the batch, in
    order, copied out by a few threads, each reading the parts through its own handles
    (a zip file object is not for two threads at once). Each sets its Planned's sha."""
    from concurrent.futures import ThreadPoolExecutor

    local = threading.local()
    opened: list[Parts] = []

    def copy(p: Planned) -> tuple[Planned, str, BaseException | None]:
        if not hasattr(local, "parts"):
            local.parts = Parts()
            opened.append(local.parts)
        path = os.path.join(folder, *p.member.name.split("/"))
        try:
            p.sha = _copy_out(local.parts, p.member, path)
        except (OSError, BadTakeout, ValueError, zipfile.BadZipFile) as exc:
            return p, path, exc
        return p, path, None

    try:
        with ThreadPoolExecutor(STAGING_THREADS, thread_name_prefix="luna-takeout") as pool:
            yield from pool.map(copy, batch)
    finally:
        for parts in opened:
            parts.close()


def _copy_out(parts: Parts, member: Member, path: str) -> str:
    """Write the member's bytes to `path` (flushed to disk), returning their SHA-256."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    digest = hashlib.sha256()
    with parts.open(member) as source, open(path, "xb") as target:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            target.write(chunk)
        target.flush()
        os.fsync(target.fileno())
    return digest.hexdigest()


def _hash(parts: Parts, member: Member) -> str:
    digest = hashlib.sha256()
    with parts.open(member) as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _move_into_place(lib, staged, folder, into, options, report, progress) -> None:
    from luna.ops.gather import Gatherer, GatherOptions

    gather = GatherOptions(
        mode="move", into=into, template=options.template, jobs=options.jobs,
        owner=options.owner, adjust=lambda facts: _adjusted(facts, staged.get(facts.path)),
        staging=folder,
    )  # fmt: skip
    try:
        done = Gatherer(lib, gather, progress).run([folder])
    except Interrupted as exc:
        _count_moved(exc.report, staged, report)
        raise KeyboardInterrupt from None
    _count_moved(done, staged, report)


def _count_moved(done, staged: dict[str, Planned], report: TakeoutReport) -> None:
    report.imported += done.moved
    report.duplicates_collapsed += done.duplicates
    for step in done.problems:
        planned = staged.get(step.source)
        where = planned.member.where() if planned else step.source
        report.failed.append({"path": where, "reason": step.detail})


# -- what the JSON adds -----------------------------------------------------------------------


def _adjusted(facts, planned: Planned | None):
    """A staged file's facts with what its JSON knows and the file does not: its date
    (when the file has no capture date of its own) and its position."""
    if planned is None or planned.facts is None:
        return facts
    json, found = planned.facts, facts.found
    if json.taken_utc is not None and (found.start is None or _weak(found.date_source)):
        own_offset = None if _weak(found.offset_source) else found.utc_offset
        position = (found.latitude, found.longitude)
        start, offset, zone_from = local_time(json, own_offset, found.offset_source, position)
        found.start, found.utc_offset = start, offset
        found.date_source, found.date_precision = JSON_DATE, None
        found.offset_source = zone_from
        found.end = None
        found.end_from_duration()
        planned.dated = True
    if found.location_source is None and json.latitude is not None:
        found.latitude, found.longitude = json.latitude, json.longitude
        found.altitude = json.altitude
        found.location_source = JSON_PLACE
        planned.located = True
    from luna.ingest.extract import processor_metadata
    from luna.store.rows import encode_json

    return dataclasses.replace(facts, processor_json=encode_json(processor_metadata(found)))


def local_time(
    json: TakeoutFacts, own_offset: int | None, offset_source, position: tuple
) -> tuple[dt.datetime, int, str]:
    """photoTakenTime (UTC) as the local time it was where the photo was taken: with the
    file's own UTC offset (`own_offset`, from `offset_source`), else the time zone at its
    position (the file's, else the JSON's), else the computer's. Returns (local time,
    offset in minutes, where the offset came from: "its place (Europe/Paris)"...)."""
    assert json.taken_utc is not None
    utc = json.taken_utc
    if own_offset is not None:
        return utc + dt.timedelta(minutes=own_offset), own_offset, offset_source
    latitude, longitude = position
    if latitude is None or longitude is None:
        latitude, longitude = json.latitude, json.longitude
    if latitude is not None and longitude is not None:
        from zoneinfo import ZoneInfo

        from luna.places.zones import time_zone_at

        zone = time_zone_at(latitude, longitude)
        local = utc.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone))
        return local.replace(tzinfo=None), _minutes(local), f"its place ({zone})"
    local = utc.replace(tzinfo=dt.UTC).astimezone()  # the computer's zone
    return local.replace(tzinfo=None), _minutes(local), "this computer's time zone"


def _weak(source: str | None) -> bool:
    """A date or offset source that is not the file's own ("file:mtime (this computer's
    time zone)" included)."""
    return source is None or source.split(" ")[0] in _WEAKER_DATES


def _minutes(local: dt.datetime) -> int:
    offset = local.utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


def _give_json_facts(lib, batch: list[Planned], report: TakeoutReport) -> None:
    """Tags, picks, descriptions and albums, to the library's file of each content; and
    the date and position its JSON knows when the file has none of its own (done already
    by _adjusted, unless a crash let the journal's recovery record the file afresh)."""
    ids = lib.store.files.present_contents([p.sha for p in batch if p.sha])
    _give_dates_and_places(lib, batch, ids)
    tags: dict[str, set[str]] = {}
    picks: set[str] = set()
    albums: dict[str, set[str]] = {}
    for p in batch:
        file_id = ids.get(p.sha or "")
        if file_id is None:
            continue
        if p.album:
            albums.setdefault(p.album, set()).add(file_id)
        if p.facts is None:
            continue
        for tag in _tags_of(p.facts):
            tags.setdefault(tag, set()).add(file_id)
        if p.facts.favorited:
            picks.add(file_id)
        if p.facts.description:
            lib.marks.describe([file_id], description=p.facts.description)
    for tag, files in sorted(tags.items()):
        lib.tags.add([tag], sorted(files))
    if picks:
        lib.marks.flag("pick", sorted(picks))
    for title, files in sorted(albums.items()):
        _add_to_album(lib, title, sorted(files))


def _give_dates_and_places(lib, batch: list[Planned], ids: dict[str, str]) -> None:
    first: dict[str, Planned] = {}  # each content's first copy, completed by the others
    for p in batch:
        if p.facts is not None and p.sha in ids:
            if p.sha in first:
                _complete_facts(first[p.sha], p)
            else:
                first[p.sha] = dataclasses.replace(p, facts=dataclasses.replace(p.facts))
    facts_of = {ids[sha]: p.facts for sha, p in first.items() if p.facts is not None}
    rows = lib.store.geotags.candidates(sorted(facts_of))
    from_json = sorted(_located_by_json(batch, ids))
    dated = sorted({ids[p.sha] for p in batch if p.dated and p.sha in ids})

    def give() -> None:
        lib.store.geotags.keep_as_set(from_json, JSON_PLACE)
        lib.store.files.keep_date_as_set(dated)
        for file_id, _, start, _, own_position, date_source in rows:
            json = facts_of[file_id]
            if json.latitude is not None and not own_position:
                lib.store.geotags.set(
                    file_id, json.latitude, json.longitude, json.altitude, JSON_PLACE
                )
            if json.taken_utc is not None and (start is None or _weak(date_source)):
                local, minutes, zone_from = local_time(json, None, None, (None, None))
                sources = {"date_source": JSON_DATE, "offset_source": zone_from}
                lib.store.files.set_date(file_id, local, minutes, sources)

    write_transaction(lib, give, then="run the same import again to finish it")


def _located_by_json(batch: list[Planned], ids: dict[str, str]) -> set[str]:
    """The files of the batch recorded with their JSON's position (by _adjusted)."""
    return {ids[p.sha] for p in batch if p.located and p.sha in ids}


def _tags_of(facts: TakeoutFacts) -> list[str]:
    tags = [f"People/{name}" for name in facts.people]
    if facts.archived:
        tags.append("takeout/archived")
    if facts.trashed:
        tags.append("takeout/trashed")
    return tags


def _add_to_album(lib, title: str, file_ids: list[str]) -> None:
    from luna.names import slugify

    if lib.store.albums.by_slug(slugify(title)) is None:
        lib.albums.create(title)
    lib.albums.add(title, file_ids)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
