"""`luna import --copy/--move`: gather photos from cards, phones and old folders into the
library folder, under paths made from a template, losing nothing.

Each file is read once, as an in-place import reads it (content hash, metadata), in
worker processes. Then, one source folder at a time:

- content the library already has is a duplicate: reported and skipped (with --move the
  source stays, unless --remove-duplicates, which deletes it only after re-checking that
  the library's copy still has that content);
- files that belong together travel together: a photo's sidecars (XMP, AAE), the MOV of a
  Live Photo and the RAW beside a JPEG go to the photo's folder, under its (possibly
  numbered) name, so they keep matching it;
- a name already taken by other content gets a number, "IMG_1 (1).jpg"; the same content
  already there is a duplicate. Nothing is ever overwritten;
- the copy or move itself goes through luna.ops.transfer: journal, copy to a temporary name,
  fsync, verify, rename, record, and only then (--move) delete the source.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from luna import interrupts
from luna.errors import ExitStatus, InsideLibraryFolder, Interrupted, LunaError, NotFound
from luna.files import place
from luna.files.layout import PLACE_FIELDS
from luna.fsnames import for_humans
from luna.ingest.importer import NamesSkipped
from luna.ops import transfer
from luna.ops.families import family_destinations, layout_facts, travel_groups
from luna.results import Result
from luna.store.transfers import Journal


@dataclass
class GatherOptions:
    mode: str  # "copy" or "move"
    into: str  # the library folder
    template: str | None = None  # default: luna.files.layout.DEFAULT_TEMPLATE
    remove_duplicates: bool = False
    dry_run: bool = False
    exclude: tuple[str, ...] = ()
    follow_symlinks: bool = False
    jobs: int = 0
    owner: str | None = None
    # What a caller adds to each file's facts once read, before its destination is chosen
    # (luna.ops.takeout: the dates and places of Google's JSON): FileFacts -> FileFacts.
    adjust: Callable | None = None
    # A folder inside the library folder that is a source all the same: where the Takeout
    # import puts the files it reads out of zips, to be moved into place from there.
    staging: str | None = None


@dataclass
class Step:
    """One line of the plan: what happens (or happened) to one source file."""

    source: str
    destination: str | None
    action: str  # copy, move, duplicate, remove-duplicate, failed
    detail: str = ""


@dataclass
class GatherReport(NamesSkipped, Result):
    """What a copy or move did (or would do): a step per file; its problems are the
    failed steps."""

    mode: str
    dry_run: bool = False
    copied: int = 0
    moved: int = 0
    duplicates: int = 0
    removed_duplicates: int = 0
    skipped: int = 0  # not photos or videos, or gone since they were listed
    skipped_files: list[dict] = field(default_factory=list)  # the first ones: NamesSkipped
    failed: int = 0
    bytes_copied: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    steps: list[Step] = field(default_factory=list)
    # Destination disks that filled up: {"folder", "files", "bytes"}, the files and bytes
    # that did not fit (each file is also a failed step).
    disk_full: list[dict] = field(default_factory=list)

    def fail(self, source: str, reason: str, destination: str | None = None) -> None:
        self.failed += 1
        self.steps.append(Step(source, destination, "failed", reason))

    def no_space(self, source: str, destination: str, size: int, folder: str) -> None:
        """`source` did not fit on the full disk of `folder` (the first folder reported)."""
        self.fail(source, f"no space left on the disk of {for_humans(folder)}", destination)
        for full in self.disk_full:
            if full["folder"] == folder:
                full["files"] += 1
                full["bytes"] += size
                return
        self.disk_full.append({"folder": folder, "files": 1, "bytes": size})

    @property
    def exit_status(self) -> ExitStatus:
        if self.interrupted:
            return ExitStatus.INTERRUPTED
        return ExitStatus.PARTIAL if self.failed else ExitStatus.OK

    @property
    def problems(self) -> list[Step]:  # type: ignore[override]
        return [step for step in self.steps if step.action == "failed"]

    def data(self) -> dict:
        data = dataclasses.asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


def make_library_folder(into: str, *, dry_run: bool) -> None:
    """Create the library folder if needed, but only inside a folder that exists: when its
    parent is missing too, the path has a typo or names a disk that is not mounted, and
    the photos must not go to a tree of new folders on another disk."""
    if os.path.isdir(into):
        return
    parent = os.path.dirname(into)
    if not os.path.isdir(parent):
        raise NotFound(
            f"no such folder: {for_humans(parent)} (luna creates the library folder "
            f"{for_humans(into)}, but not the folders above it)"
        )
    if dry_run:
        return
    try:
        os.mkdir(into)
    except FileExistsError:
        if not os.path.isdir(into):  # a file of that name, not another luna's folder
            raise LunaError(
                f"cannot create the library folder {for_humans(into)}: a file is in the way"
            ) from None
    except OSError as exc:
        raise LunaError(
            f"cannot create the library folder {for_humans(into)}: {exc.strerror}"
        ) from None


class Gatherer:
    def __init__(self, library, options: GatherOptions, progress=None):
        from luna.files import layout
        from luna.ingest.importer import Importer, ImportOptions, NoProgress

        self.library = library
        self.options = options
        self.progress = progress or NoProgress()
        self.template = layout.parse_template(options.template or layout.DEFAULT_TEMPLATE)
        self.into = os.path.realpath(os.path.expanduser(options.into))
        self.report = GatherReport(mode=options.mode, dry_run=options.dry_run)
        # The importer's own recording (rows, keyword tags, owners, related files), so a
        # gathered file is recorded exactly as an imported one.
        self.importer = Importer(
            library, ImportOptions(dry_run=options.dry_run, owner=options.owner)
        )

        self.journal = Journal(library.db)
        self._planned: set[str] = set()  # destinations taken in this run (dry runs too)
        self._in_this_run: dict[str, str] = {}  # content hash -> where it goes
        self._own_rows: dict[str, str] = {}  # path -> id of a source recorded in place
        self._folders: dict = {}  # what presence.same_entry found out about folders
        self._full_disks = place.FullDisks()
        self._inflight: deque = deque()  # (journal entry, facts, future) in order
        self._to_start: list[tuple] = []  # (facts, destination, file id) to journal and copy
        self._threads: Executor | None = None  # made on the first copy

    # -- the whole run -----------------------------------------------------------------------
    def run(self, paths) -> GatherReport:
        from luna.ingest.importer import resolve_roots

        started = time.monotonic()
        roots = resolve_roots(paths)
        self._refuse_sources_in_library_folder(roots)
        make_library_folder(self.into, dry_run=self.options.dry_run)
        # Held for the whole run: another luna must not take this run's journal rows and
        # partial copies for a crash's leftovers.
        with transfer.transferring(self.library, dry_run=self.options.dry_run):
            try:
                candidates = self._scan(roots)
                try:
                    self._read_and_gather(candidates)
                    self._start_copies()
                finally:
                    self._drain()
                if not self.options.dry_run:
                    self.importer.link_related()
            except KeyboardInterrupt:
                self.report.interrupted = True
                self.report.seconds = time.monotonic() - started
                raise Interrupted(
                    "interrupted; what was copied is recorded, run it again to finish", self.report
                ) from None
            finally:
                self.progress.finished()
        self.report.seconds = time.monotonic() - started
        return self.report

    def _refuse_sources_in_library_folder(self, roots: list[str]) -> None:
        for root in roots:
            if self._staged(root):
                continue
            if root == self.into or root.startswith(self.into.rstrip("/") + "/"):
                raise InsideLibraryFolder(
                    f"{for_humans(root)} is inside the library folder {for_humans(self.into)}; "
                    "to rearrange files already there, use `luna organize`"
                )

    def _staged(self, path: str) -> bool:
        staging = self.options.staging
        return staging is not None and (path + "/").startswith(staging.rstrip("/") + "/")

    def _scan(self, roots: list[str]):
        from luna.files.scan import Candidate, ScanOptions, ScanProblem, walk
        from luna.ingest.sniff import is_certainly_not_media, not_media_reason

        inside = self.into.rstrip("/") + "/"
        candidates = []
        options = ScanOptions(self.options.exclude, self.options.follow_symlinks)
        for n, item in enumerate(walk(roots, options)):
            if n & 2047 == 0:
                self.progress.scanning(n)
            if isinstance(item, ScanProblem):
                self.report.fail(item.path, item.reason)
                continue
            path, st = item
            if path.startswith(inside) and not self._staged(path):
                # the library folder below a source: not a source
                continue
            if is_certainly_not_media(path):
                self.report.skip(path, not_media_reason(path))
                continue
            candidates.append(Candidate.from_stat(path, st))
        candidates.sort(key=lambda c: c.path)
        return candidates

    # -- reading, one folder at a time -------------------------------------------------------
    def _read_and_gather(self, candidates) -> None:
        if not candidates:
            return
        from luna.ingest.extract import FileFacts, Skipped, read_file, record_warnings_here
        from luna.ingest.workers import Failed, Pool, default_jobs

        self.progress.reading(len(candidates), sum(c.size for c in candidates))
        waiting: dict[str, int] = {}
        for c in candidates:
            folder = os.path.dirname(c.path)
            waiting[folder] = waiting.get(folder, 0) + 1
        ready: dict[str, list] = {}
        jobs = self.options.jobs or default_jobs()
        pool = Pool(read_file, jobs, self.importer.time_limit, start=record_warnings_here)
        try:
            reading = pool.run(candidates, path_of=lambda c: c.path, size_of=lambda c: c.size)
            for candidate, result in reading:
                self.progress.advance(candidate.size)
                folder = os.path.dirname(candidate.path)
                if isinstance(result, FileFacts):
                    if self.options.adjust is not None:
                        result = self.options.adjust(result)
                    ready.setdefault(folder, []).append(result)
                elif isinstance(result, Skipped):
                    self.report.skip(candidate.path, result.reason)
                elif isinstance(result, Failed):
                    self.report.fail(candidate.path, result.reason)
                waiting[folder] -= 1
                if waiting[folder] == 0:  # the whole folder is read: its groups are known
                    self._gather_folder(ready.pop(folder, []))
        finally:
            pool.close()

    def _gather_folder(self, facts: list) -> None:
        for group in travel_groups(facts):
            self._gather_group(group)

    # -- one photo and what travels with it --------------------------------------------------
    def _gather_group(self, group: list) -> None:
        lead = group[0]
        fresh = []
        for facts in group:
            if not self._already_in_library(facts):
                fresh.append(facts)
        if not fresh:
            return
        try:
            destinations = self._destinations(lead, fresh)
        except OSError as exc:
            for facts in fresh:
                self.report.fail(facts.path, f"cannot check the destination: {exc.strerror}")
            return
        for facts in fresh:
            dest = destinations.get(facts.path)
            if dest is None:
                continue  # the same content is already at its destination: a duplicate
            self._put(facts, dest)

    def _already_in_library(self, facts) -> bool:
        """Content the library has (present, same size) is a duplicate, not a new file;
        so is content this run is already putting somewhere. A file recorded where it is
        (imported in place) is the library's own: a copy would be a second one, while a
        move takes its row along (id, tags, albums, events, history)."""
        if facts.content_sha in self._in_this_run:
            self._duplicate(facts, self._in_this_run[facts.content_sha], "copied in this run")
            return True
        own_id = self.importer.store.id_at(facts.path)
        for file_id, path, missing in self.importer.store.same_content_elsewhere(
            facts.content_sha, facts.size, facts.path
        ):
            if missing is None:
                self._duplicate_of(facts, path, file_id, own_id)
                return True
        if own_id is not None and self.options.mode == "copy":
            self._duplicate(facts, facts.path, "already in the library where it is", kept=True)
            return True
        if own_id is not None:
            self._own_rows[facts.path] = own_id
        return False

    def _duplicate_of(self, facts, existing: str, existing_id: str, own_id: str | None) -> None:
        """`facts` has the content of the library's file at `existing`. Unless that is this
        very file reached by another path (a symbolic link, a bind mount, a card that
        ignores case), which is only ever left where it is."""
        from luna.files import presence

        try:
            itself = presence.same_entry(facts.path, existing, self._folders)
        except presence.CannotTell:
            itself = True  # in doubt, it is the library's copy: never removed
        if itself:
            why = "the library's own file, reached by another path"
            self._duplicate(facts, existing, why, kept=True)
        else:
            self._duplicate(facts, existing, "already in the library", merge=(own_id, existing_id))

    def _duplicate(
        self, facts, existing: str, why: str, *, kept: bool = False, merge=(None, None)
    ) -> None:
        """Report a duplicate; with --move --remove-duplicates remove it (unless `kept`),
        its own row (`merge`: its id and the kept file's) merged into the kept file's."""
        self.report.duplicates += 1
        if self.options.mode == "move" and self.options.remove_duplicates and not kept:
            self._remove_duplicate(facts, existing, *merge)
            return
        left = " (left in place)" if self.options.mode == "move" else ""
        self.report.steps.append(Step(facts.path, existing, "duplicate", why + left))

    def _remove_duplicate(self, facts, existing: str, own_id=None, existing_id=None) -> None:
        if self.options.dry_run:
            self.report.steps.append(Step(facts.path, existing, "remove-duplicate"))
            return
        detail = ""
        try:
            removable = place.check_second_copy(
                facts.path, facts.content_sha, existing, self._folders
            )
            if removable and own_id is not None and existing_id is not None:
                # The duplicate was imported in place and may carry tags, albums and
                # events: they move to the kept file first, so that removing it loses none.
                self.importer.merge_rows(keep=existing_id, drop=own_id)
                detail = f"its tags, albums and events are now on {for_humans(existing)}"
            if removable:
                place.unlink_source(facts.path)
        except (place.TransferFailed, OSError) as exc:
            reason = str(exc) if isinstance(exc, place.TransferFailed) else exc.strerror
            self.report.fail(facts.path, f"duplicate kept: {reason}", existing)
            return
        self.report.removed_duplicates += 1
        self.report.steps.append(Step(facts.path, existing, "remove-duplicate", detail))

    def _destinations(self, lead, members: list) -> dict[str, str]:
        """Where each member goes; members whose content is already there are reported
        as duplicates and left out."""
        found = lead.found
        place = ()
        if not self.template.fields.isdisjoint(PLACE_FIELDS):
            from luna.ops.places import place_names  # reads luna's place data

            place = place_names(found.metadata, found.latitude, found.longitude)
        relative = self.template.render(
            layout_facts(lead.path, lead.kind, lead.content_sha, found.start,
                         found.date_source, found.metadata, list(found.keywords), place)
        )  # fmt: skip
        free, same = family_destinations(self.into, relative, lead.path, members, self._planned)
        for facts in members:
            if facts.path in same:
                # A source recorded in place keeps its row where it is rather than lose it.
                kept = facts.path in self._own_rows
                self._duplicate(
                    facts, same[facts.path], "the same content is already there", kept=kept
                )
        return free

    # -- the transfer itself -----------------------------------------------------------------
    # Copies run in a few threads (hashing and file I/O release the GIL), so reading one
    # file back overlaps with writing the next; the library is written from this thread only.
    def _put(self, facts, dest: str) -> None:
        mode = self.options.mode
        self._in_this_run[facts.content_sha] = dest
        if self.options.dry_run:
            self.report.steps.append(Step(facts.path, dest, mode))
            self._count(mode, facts.size)
            return
        if self._no_room(facts, dest):
            return
        try:
            place.make_folders(os.path.dirname(dest))
        except place.NoSpace:
            self._out_of_space(facts, dest)
            return
        except place.TransferFailed as exc:
            self.report.fail(facts.path, str(exc), dest)
            return
        self._to_start.append((facts, dest, self._own_rows.pop(facts.path, None)))
        if len(self._to_start) >= START_TOGETHER:
            self._start_copies()

    def _start_copies(self) -> None:
        """Journal the queued files in one transaction, then start their copies."""
        if not self._to_start:
            return
        mode = self.options.mode
        queued, self._to_start = self._to_start, []
        # Journaled, started and queued as one: _drain then closes every entry begun.
        with interrupts.interrupts_deferred():
            entries = self.journal.begin_many(
                [(mode, facts.path, dest, facts.content_sha, facts.size, file_id)
                 for facts, dest, file_id in queued]
            )  # fmt: skip
            for entry, (facts, _, _) in zip(entries, queued, strict=True):
                known = (facts.size, facts.mtime_ns)
                future = self._copier().submit(_place, entry, mode, known)
                self._inflight.append((entry, facts, future))
        while len(self._inflight) > COPIES_IN_FLIGHT:
            self._complete_done()

    def _no_room(self, facts, dest: str) -> bool:
        """Whether `dest` is on a disk already found full (the file is then reported)."""
        folder = self._full_disks.full_folder(dest)
        if folder is not None:
            self.report.no_space(facts.path, dest, facts.size, folder)
        return folder is not None

    def _out_of_space(self, facts, dest: str) -> None:
        self._full_disks.mark_full(dest)
        self._no_room(facts, dest)

    def _copier(self):
        if self._threads is None:
            from concurrent.futures import ThreadPoolExecutor

            self._threads = ThreadPoolExecutor(COPY_THREADS, thread_name_prefix="luna-copy")
        return self._threads

    def _complete_done(self) -> None:
        """Wait for the oldest copy in flight, then close it and every one after it that is
        done too: those in place are recorded together, in one transaction."""
        # Waiting is where Ctrl-C lands: the copy stays queued until it is done, so _drain
        # still records it.
        self._inflight[0][2].result()
        with interrupts.interrupts_deferred():
            done = []
            while self._inflight and self._inflight[0][2].done():
                entry, facts, future = self._inflight.popleft()
                done.append((entry, facts, future.result()))
            placed = [(entry, facts) for entry, facts, error in done if error is None]
            failed = self._record_placed(placed) if placed else {}
            for entry, facts, error in done:
                self._complete(entry, facts, error or failed.get(entry.id))

    def _complete(self, entry, facts, error: str | None) -> None:
        if isinstance(error, PlacedButKept):  # in place and recorded; the source stayed
            self.report.fail(facts.path, error, entry.destination)
            return
        if error is not None:
            self.journal.finish(entry)  # nothing was placed: the source is untouched
            if isinstance(error, AlreadyThere):
                self._duplicate(facts, entry.destination, str(error))
            elif isinstance(error, Vanished):
                self.report.skip(facts.path, str(error))
            elif isinstance(error, DiskFull):
                self._out_of_space(facts, entry.destination)
            else:
                self.report.fail(facts.path, error, entry.destination)
            return
        self.report.steps.append(Step(facts.path, entry.destination, entry.operation))
        self._count(entry.operation, facts.size)

    def _drain(self) -> None:
        """Finish every copy in flight (also after Ctrl-C: they are moments from done; files
        queued but not yet journaled are left for the next run). A Ctrl-C meanwhile stops
        nothing half-way: it is raised once all are recorded."""
        interrupted = False
        while self._inflight:
            try:
                self._complete_done()
            except KeyboardInterrupt:
                interrupted = True
        if self._threads is not None:
            self._threads.shutdown()
        if interrupted:
            raise KeyboardInterrupt

    def _count(self, mode: str, size: int) -> None:
        if mode == "move":
            self.report.moved += 1
        else:
            self.report.copied += 1
        self.report.bytes_copied += size

    def _record_placed(self, placed: list[tuple]) -> dict:
        """Files in place, (entry, facts) each: record them, then (a move) delete their
        sources. Returns {entry id: PlacedButKept why} for each whose source stayed."""

        def record(_entries):
            at_destination = []
            for entry, facts in placed:
                dest = entry.destination
                at_destination.append(
                    dataclasses.replace(facts, path=dest, mtime_ns=os.stat(dest).st_mtime_ns)
                )
                if entry.file_id is not None:  # recorded in place before: its row moves along
                    self.importer.move_row(entry.file_id, facts.path, dest)
            self.importer.record_many(at_destination)

        entries = [entry for entry, _ in placed]
        failed = transfer.complete_many(
            self.journal, entries, record, self.importer.in_transaction, self._folders
        )
        return {entry_id: PlacedButKept(why) for entry_id, why in failed.items()}


COPY_THREADS = 3
# Files are journaled this many at a time, in one transaction, and the copies done at the
# head of the queue are recorded together: a small file's copy costs a few statements, not
# a few transactions.
START_TOGETHER = 16
COPIES_IN_FLIGHT = 32  # bounded: each holds a journal entry and, briefly, a partial file


class PlacedButKept(str):
    """In place and recorded, but (a move) its source could not be removed: a failure."""


class AlreadyThere(str):
    """_place's answer when the destination appeared meanwhile holding this very content:
    a duplicate, not a failure."""


class Vanished(str):
    """_place's answer when the source was deleted after it was read: skipped."""


class DiskFull(str):
    """_place's answer when the destination's disk is full."""


def _place(entry, mode: str, known: tuple[int, int]) -> str | None:
    """In a copy thread: put the file at its destination, verified. Returns why it could
    not (an AlreadyThere when the same content got there first, a Vanished when the source
    went away), or None. The journal entry is the caller's to close."""
    source, dest = entry.source, entry.destination
    try:
        transfer.put_in_place(entry, may_link=mode == "move", known=known)
    except FileExistsError:
        if transfer.holds(dest, entry):
            return AlreadyThere("put there meanwhile (another luna importing the same files?)")
        return f"{for_humans(dest)} appeared while luna was copying; nothing was overwritten"
    except (place.TransferFailed, OSError) as exc:
        if not os.path.lexists(source):
            return _source_gone(entry)
        if isinstance(exc, OSError):
            exc = place.failure(exc, os.path.dirname(dest))
        return DiskFull(exc) if isinstance(exc, place.NoSpace) else str(exc)
    return None


def _source_gone(entry) -> str:
    """The source went away after it was read: another luna moving the same card put it in
    place first, or someone deleted it. Either way nothing failed here."""
    if transfer.holds(entry.destination, entry):
        return AlreadyThere("moved there meanwhile (another luna importing the same files?)")
    return Vanished("vanished before luna could copy it")
