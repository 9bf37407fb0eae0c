"""Events: named points or spans of time that group files, and finding them in the time line.

Every time here is a local wall-clock time, and an event's span is compared with files'
wall-clock `start`, whatever their UTC offsets. A trip's "14:00" means 14:00 where the
photos were taken, which is also what the camera wrote; converting to UTC would move a
Tokyo photo taken at 14:00 out of a "Tokyo, 14:00 to 18:00" event because the user typed
the span in Tokyo time. An event's `utc_offset` only records the zone the user gave.

What an event covers (`covered_range`):

- a span covers files taken from its start up to and including the second of its end;
- a date alone names a whole day: `--start 2019-06-01` with no end is the day from 00:00:00
  to 23:59:59 (stored as that span), and a date-only end is the end of that day (a month
  or a year alone, read as `luna find` reads them, names the whole month or year);
- a point event (a start with a time and no end) covers the minute of its start, since a
  photo of "the toast at 20:15" is taken at 20:15:37.

`attach` and `detect` consider photos and videos, never sidecars (they follow their media),
and leave out files whose only date is the file's modification time (`date_source` is
"file:mtime"): that is when the file was copied or edited, and a folder copied in one go
would look like one burst of photos. `detect` also leaves out missing files: its time line
is the files that are there.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from luna import values
from luna.errors import BadTime, EventExists, NotFound
from luna.fsnames import from_db
from luna.names import slugify, tidy_name, uuid_text
from luna.results import Result
from luna.store.rows import time_value
from luna.timefmt import iso_local
from luna.values import When

EVENT_KEYS = ["name", "slug", "start", "end", "utc_offset", "description", "files"]
FILE_KEYS = ["id", "path", "filename", "start", "kind"]
MTIME_SOURCE = "file:mtime"
SECOND, MINUTE = dt.timedelta(seconds=1), dt.timedelta(minutes=1)

# -- reading what users type ----------------------------------------------------------------


def as_when(value, option: str) -> When:
    """A When from text (luna.values.when), a date (a whole day) or a datetime (aware: its
    offset is kept)."""
    if isinstance(value, When):
        return value
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        minutes = None if offset is None else int(offset.total_seconds() // 60)
        moment = value.replace(tzinfo=None)
        return When(moment, moment + SECOND, minutes)
    if isinstance(value, dt.date):
        day = dt.datetime.combine(value, dt.time())
        return When(day, day + dt.timedelta(days=1), None, date_only=True)
    return values.when(value, option)


def as_gap(value, option: str = "--gap") -> dt.timedelta:
    """A timedelta as it is, or a duration typed as text (luna.values.duration)."""
    if isinstance(value, dt.timedelta):
        if value <= dt.timedelta(0):
            raise BadTime(f"{option}: {value} must be longer than zero")
        return value
    return values.duration(value, option)


def _last_second(when: When) -> dt.datetime:
    """The end a date-only time gives a span: the last second of the day (or of the month
    or year) it names."""
    return when.after - SECOND


def event_span(start, end=None) -> tuple[dt.datetime, dt.datetime | None, int | None]:
    """(start, end or None for a point, utc_offset) of an event from what the user typed."""
    first = as_when(start, "--start")
    last = as_when(end, "--end") if end is not None else None
    if last is None:
        finish = _last_second(first) if first.date_only else None
    else:
        finish = _last_second(last) if last.date_only else last.moment
    if finish is not None and finish < first.moment:
        raise BadTime(f"end {end} is before start {start}")
    offsets = {w.utc_offset for w in (first, last) if w is not None and w.utc_offset is not None}
    if len(offsets) > 1:
        raise BadTime(
            f"start {start} and end {end} have different UTC offsets; an event has one zone, "
            "in which both are local times"
        )
    return first.moment, finish, offsets.pop() if offsets else None


def covered_range(start: dt.datetime, end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """The files' wall-clock times [low, high) an event covers (see the module's notes)."""
    if end is None:
        low = start.replace(second=0, microsecond=0)
        return low, low + MINUTE
    return start, end.replace(microsecond=0) + SECOND


# -- storage helpers -----------------------------------------------------------------------


@dataclass(frozen=True)
class EventRecord:
    id: int
    name: str
    slug: str
    start: dt.datetime
    end: dt.datetime | None
    utc_offset: int | None
    description: str

    def covers(self, low: dt.datetime, high: dt.datetime) -> bool:
        """Whether every time from `low` to `high` (inclusive) falls in this event."""
        first, past = covered_range(self.start, self.end)
        return first <= low and high < past


def _record(row) -> EventRecord:
    event_id, name, slug, start, end, offset, description = row
    begin = time_value(start)
    assert begin is not None  # event.start is NOT NULL
    return EventRecord(event_id, name, slug, begin, time_value(end), offset, description or "")


def _by_slug(lib, slug: str) -> EventRecord | None:
    row = lib.store.events.by_slug(slug)
    return _record(row) if row else None


def find_event(lib, name: str) -> EventRecord:
    """The event called `name` (compared by slug: case, spaces and punctuation ignored)."""
    found = _by_slug(lib, slugify(tidy_name(name, "event")))
    if found is None:
        raise NotFound(f"no event named {name!r} (see `luna event list`)")
    return found


def _refuse_taken(lib, slug: str, name: str) -> None:
    taken = _by_slug(lib, slug)
    if taken is not None:
        raise EventExists(
            f"an event named {taken.name!r} already exists (slug {slug!r}); "
            f"choose another name than {name!r}"
        )


def event_row(event: EventRecord, files: int) -> dict:
    """An event as listings print it (keys pinned by the tests: EVENT_KEYS)."""
    return {
        "name": event.name,
        "slug": event.slug,
        "start": iso_local(event.start, event.utc_offset),
        "end": iso_local(event.end, event.utc_offset),
        "utc_offset": event.utc_offset,
        "description": event.description,
        "files": files,
    }


# -- the commands ---------------------------------------------------------------------------


def create_event(lib, name: str, start, end=None, description: str = "") -> dict:
    """Create an event; `start`/`end` are text (see luna.values.when), Whens, dates or
    datetimes."""
    name, description = tidy_name(name, "event"), description or ""
    slug = slugify(name)
    begin, finish, offset = event_span(start, end)
    with lib.db.atomic("IMMEDIATE"):
        _refuse_taken(lib, slug, name)
        event_id = lib.store.events.insert(name, slug, begin, finish, offset, description)
    return event_row(EventRecord(event_id, name, slug, begin, finish, offset, description), 0)


def list_events(lib) -> list[dict]:
    """Every event, earliest first, with how many files it holds."""
    return [event_row(_record(row[:7]), row[7]) for row in lib.store.events.with_counts()]


def show_event(lib, name: str) -> dict:
    """An event's row, with `files` the list of its files in the order they were taken
    (files without a date last)."""
    event = find_event(lib, name)
    rows = lib.store.events.files(event.id)
    files = [
        {
            "id": uuid_text(file_id),
            "path": from_db(path),
            "filename": from_db(filename),
            "start": iso_local(time_value(start), offset),
            "kind": kind,
        }
        for file_id, path, filename, start, offset, kind in rows
    ]
    return {**event_row(event, len(files)), "files": files}


def rename_event(lib, old: str, new: str) -> dict:
    """Rename an event; its new slug must not be another event's."""
    new_name = tidy_name(new, "event")
    new_slug = slugify(new_name)
    with lib.db.atomic("IMMEDIATE"):
        event = find_event(lib, old)
        if new_slug != event.slug:
            _refuse_taken(lib, new_slug, new_name)
        lib.store.events.rename(event.id, new_name, new_slug)
        lib.sidecars.note_changed(lib.store.sidecars.files_in("event", event.id))
    return {"old": event.name, "new": new_name, "slug": new_slug}


def delete_event(lib, name: str) -> dict:
    """Delete an event; its files stay in the library (only the links go)."""
    with lib.db.atomic("IMMEDIATE"):
        event = find_event(lib, name)
        files = lib.store.events.count(event.id)
        lib.sidecars.note_changed(lib.store.sidecars.files_in("event", event.id))
        lib.store.events.delete(event.id)  # its links go with it; files are never touched
    return {"name": event.name, "files": files}


@dataclass
class FileChange(Result):
    """What add, remove or attach did (or would do, on a dry run) to an event's files."""

    event: str  # the event's name as stored
    changed: int  # files added or removed
    unchanged: int  # files that already were (or were not) in it
    left_out: int = 0  # add: sidecars; attach: files in the span dated only by their mtime
    dry_run: bool = False
    skipped: list[str] = field(default_factory=list)  # FILEs not in the library (skipped)


def add_files(lib, name: str, file_ids: list[str], *, dry_run: bool = False) -> FileChange:
    """Put files in an event. Sidecars are left out: they follow their media."""
    with lib.db.atomic("IMMEDIATE"):
        event = find_event(lib, name)
        sidecars = lib.store.events.sidecars(file_ids)
        wanted = [f for f in file_ids if f not in sidecars]
        present = lib.store.events.linked(event.id, wanted)
        new = [f for f in wanted if f not in present]
        if not dry_run:
            lib.store.events.link(event.id, new)
            lib.sidecars.note_changed(new)
    return FileChange(event.name, len(new), len(present), len(sidecars), dry_run)


def remove_files(lib, name: str, file_ids: list[str], *, dry_run: bool = False) -> FileChange:
    """Take files out of an event (the files themselves stay in the library)."""
    with lib.db.atomic("IMMEDIATE"):
        event = find_event(lib, name)
        present = lib.store.events.linked(event.id, file_ids)
        if not dry_run:
            lib.store.events.unlink(event.id, sorted(present))
            lib.sidecars.note_changed(present)
    return FileChange(event.name, len(present), len(file_ids) - len(present), 0, dry_run)


def attach_files(lib, name: str, *, dry_run: bool = False) -> FileChange:
    """Add every photo and video taken within the event's span (see covered_range),
    comparing wall-clock times. Files dated only by their mtime are counted, not added."""
    with lib.db.atomic("IMMEDIATE"):
        event = find_event(lib, name)
        low, high = covered_range(event.start, event.end)
        rows = lib.store.events.taken_between(low, high, MTIME_SOURCE)
        in_span = [file_id for file_id, guessed in rows if not guessed]
        present = lib.store.events.linked(event.id, in_span)
        new = [f for f in in_span if f not in present]
        if not dry_run:
            lib.store.events.link(event.id, new)
            lib.sidecars.note_changed(new)
    return FileChange(event.name, len(new), len(present), len(rows) - len(in_span), dry_run)


# -- detecting events in the time line -------------------------------------------------------


@dataclass
class _Shot:
    id: str
    start: dt.datetime
    last: dt.datetime  # its end for a video, else its start
    utc_offset: int | None
    place: tuple  # (city, region, country), each a name or None


@dataclass
class Proposal:
    """A group of files close together in time, as an event to create."""

    name: str
    slug: str
    start: dt.datetime
    end: dt.datetime
    utc_offset: int | None
    file_ids: list[str]
    covered_by: str | None = None  # the existing event that already covers it

    def row(self) -> dict:
        record = EventRecord(0, self.name, self.slug, self.start, self.end, self.utc_offset, "")
        return event_row(record, len(self.file_ids))


@dataclass
class Detection(Result):
    """The events `event detect` created (or would create) and those it skipped."""

    created: list[Proposal] = field(default_factory=list)  # or to create, on a dry run
    skipped: list[Proposal] = field(default_factory=list)  # already covered by an event
    small_groups: int = 0  # groups with fewer than min_files files
    dry_run: bool = False

    def data(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "count": len(self.created),
            "events": [p.row() for p in self.created],
            "skipped": [{**p.row(), "covered_by": p.covered_by} for p in self.skipped],
            "small_groups": self.small_groups,
        }


def detect_events(lib, gap="6h", min_files: int = 5, *, dry_run: bool = False) -> Detection:
    """Split the time line where consecutive files are more than `gap` apart; each group of
    at least `min_files` files becomes an event named by its dates and its place (city,
    else region, else country: _group_place) ("Paris, 2019-06-01 to 2019-06-03"), holding
    those files. A group an existing event
    already covers (its span contains the group, or it holds all of the group's files) is
    skipped, so running detect twice creates nothing the second time."""
    gap = as_gap(gap)
    if min_files < 1:
        raise BadTime("min-files must be at least 1")
    result = Detection(dry_run=dry_run)
    with lib.db.atomic("IMMEDIATE"):
        groups = _split(_time_line(lib), gap)
        kept = [g for g in groups if len(g) >= min_files]
        result.small_groups = len(groups) - len(kept)
        events = _existing_events(lib)
        taken = {e.slug for e, _ in events}
        for group in kept:
            covered_by = _covering(events, group)
            # A skipped group is reported under its plain name, not a "(2)" variant.
            proposal = _propose(group, set() if covered_by else taken, covered_by)
            if covered_by:
                result.skipped.append(proposal)
                continue
            taken.add(proposal.slug)
            result.created.append(proposal)
            if not dry_run:
                _store(lib, proposal)
    return result


def _store(lib, proposal: Proposal) -> None:
    p = proposal
    event_id = lib.store.events.insert(p.name, p.slug, p.start, p.end, p.utc_offset, "")
    lib.store.events.link(event_id, p.file_ids)
    lib.sidecars.note_changed(p.file_ids)


def _time_line(lib) -> list[_Shot]:
    rows = lib.store.events.time_line(MTIME_SOURCE)
    shots = []
    for file_id, start, end, offset, *names in rows:
        begin, finish = time_value(start), time_value(end)
        assert begin is not None  # the time line holds dated files only
        last = max(begin, finish) if finish else begin
        place = tuple(n.strip() if isinstance(n, str) and n.strip() else None for n in names)
        shots.append(_Shot(file_id, begin, last, offset, place))
    return shots


def _split(shots: list[_Shot], gap: dt.timedelta) -> list[list[_Shot]]:
    """Groups of shots in which no two consecutive ones are more than `gap` apart (a video's
    end counts as its last moment)."""
    groups: list[list[_Shot]] = []
    latest = None
    for shot in shots:
        if latest is None or shot.start - latest > gap:
            groups.append([])
            latest = shot.last
        groups[-1].append(shot)
        latest = max(latest, shot.last)
    return groups


def _propose(group: list[_Shot], taken: set[str], covered_by: str | None) -> Proposal:
    start = group[0].start.replace(microsecond=0)
    end = max(s.last for s in group).replace(microsecond=0)
    name = _unique_name(_group_name(group, start, end), taken)
    ids = [s.id for s in group]
    return Proposal(name, slugify(name), start, end, _shared_offset(group), ids, covered_by)


def _group_name(group: list[_Shot], start: dt.datetime, end: dt.datetime) -> str:
    dates = start.date().isoformat()
    if end.date() != start.date():
        dates += f" to {end.date().isoformat()}"
    place = _group_place(group)
    return f"{place}, {dates}" if place else dates


def _group_place(group: list[_Shot]) -> str | None:
    """The place that names a group: its city if at least half the files with a place were
    taken there, else its region, else its country, on the same rule ("Paris"; a week
    through Brittany's towns: "Bretagne"; a road trip: "France"); else the most common
    city. Among ties the place visited first wins (most_common keeps first-seen order)."""
    placed = [s.place for s in group if any(s.place)]
    if not placed:
        return None
    for level in range(3):  # city, region, country
        counts = Counter(place[level] for place in placed if place[level])
        if counts:
            name, files = counts.most_common(1)[0]
            if 2 * files >= len(placed):
                return name
    cities = Counter(place[0] for place in placed if place[0])
    return cities.most_common(1)[0][0] if cities else None


def _unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name (2)`, `name (3)`, ... when another event has its slug (two groups
    on one day, or an event the user named "2019-06-01" that does not cover the group)."""
    candidate, n = name, 1
    while slugify(candidate) in taken:
        n += 1
        candidate = f"{name} ({n})"
    return candidate


def _shared_offset(group: list[_Shot]) -> int | None:
    """The zone every file that records one agrees on; None if they differ or none does."""
    offsets = {s.utc_offset for s in group if s.utc_offset is not None}
    return offsets.pop() if len(offsets) == 1 else None


def _existing_events(lib) -> list[tuple[EventRecord, set[str]]]:
    links: dict[int, set[str]] = {}
    for event_id, file_id in lib.store.events.all_links():
        links.setdefault(event_id, set()).add(file_id)
    return [(rec, links.get(rec.id, set())) for rec in map(_record, lib.store.events.all())]


def _covering(events: list[tuple[EventRecord, set[str]]], group: list[_Shot]) -> str | None:
    """The name of an event that already covers this group, if any."""
    ids = {s.id for s in group}
    low, high = group[0].start, max(s.last for s in group)
    for event, files in events:
        if ids <= files or event.covers(low, high):
            return event.name
    return None
