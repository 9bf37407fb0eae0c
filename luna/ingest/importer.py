"""`luna import`: bring directory trees of photos and videos into the library.

The pipeline, in the order data flows:
1. resolve the roots and load what the library already knows under them (one query);
2. walk the trees (`luna.files.scan`), comparing size and mtime: unchanged files are not read;
3. read new and changed files in worker processes (`luna.ingest.workers` running
   `luna.ingest.extract.read_file`): one read gives the hash, the MIME type and the metadata;
4. record the results in small transactions, deciding inside each write transaction
   whether a file is new, changed or moved, so two imports at once stay correct;
5. mark files whose path has vanished as missing (never delete them).

An interrupted import (Ctrl-C, kill -9) loses at most the last unwritten batch; running
the same import again finishes the job.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Protocol

from luna.errors import BadName, EmptyPath, ExitStatus, Interrupted
from luna.files.scan import Candidate, ScanOptions, ScanProblem, require_root, walk
from luna.ingest.sniff import is_certainly_not_media, not_media_reason
from luna.interrupts import crash_point
from luna.mtimes import same_mtime
from luna.results import Result
from luna.store.sql import write_transaction
from luna.store.writes import FileStore

BATCH_FILES = 200  # results written per transaction at most...
BATCH_SECONDS = 1.0  # ...and at least this often, so a kill loses little work
# Skipped and unavailable files a report names (the first ones); they are all counted, so
# 200,000 files of an unrelated tree or an unmounted disk cost a number, not a list.
LISTED_AT_MOST = 1000
BASE_TIME_LIMIT = 60.0  # seconds a worker may spend on one file...
SECONDS_PER_GB = 60.0  # ...plus this much per GB (slow disks, huge videos)


@dataclass(frozen=True)
class ImportOptions:
    exclude: tuple[str, ...] = ()
    follow_symlinks: bool = False
    dry_run: bool = False
    jobs: int = 0  # 0: one worker per core
    retry_failed: bool = False  # read files that failed before even if unchanged
    time_limit: float = BASE_TIME_LIMIT
    owner: str | None = None  # record files as this user instead of their owner on disk
    # Read every file, even those whose size and mtime match the library (bit rot keeps
    # both): `luna verify --accept` uses it to record a changed file's new content.
    reread: bool = False
    change_reason: str = "import"  # kept in the content history when a file's hash changes
    # Mark files missing even when every file under a root vanished at once, or their
    # folder left an empty folder behind: by default luna takes that for a disk that is
    # not mounted and marks nothing.
    accept_vanished: bool = False
    # Read again the media of a new or changed XMP sidecar. Off when luna itself just wrote
    # the sidecars (luna.ops.sidecars): what they say, the library said first.
    media_of_sidecars: bool = True


class NamesSkipped:
    """A report that counts skipped files and names the first LISTED_AT_MOST of them,
    each with why (not media by its extension or its content, gone since it was listed)."""

    skipped: int
    skipped_files: list[dict]

    def skip(self, path: str, reason: str) -> None:
        self.skipped += 1
        if len(self.skipped_files) < LISTED_AT_MOST:
            self.skipped_files.append({"path": path, "reason": reason})


@dataclass
class ImportReport(NamesSkipped, Result):
    """What an import did (or, with dry_run, would do). Its problems are the files that
    failed."""

    dry_run: bool = False
    added: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    missing: int = 0
    unavailable: int = 0  # known files out of reach (permissions, I/O errors, unmounted)
    unavailable_files: list[dict] = field(default_factory=list)  # the first LISTED_AT_MOST
    skipped: int = 0
    skipped_files: list[dict] = field(default_factory=list)  # the first ones: NamesSkipped
    failed: int = 0
    failures: list[dict] = field(default_factory=list)
    # Files that failed before and are unchanged since: named, but not failures of this
    # run (a nightly import does not fail every night for the same six files).
    known_failed: int = 0
    known_failures: list[dict] = field(default_factory=list)
    # Roots whose every known file vanished at once: {"path", "files"}; nothing marked.
    vanished_roots: list[dict] = field(default_factory=list)
    files_read: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    def fail(self, path: str, reason: str) -> None:
        self.failed += 1
        self.failures.append({"path": path, "reason": reason})

    def out_of_reach(self, path: str, reason: str) -> None:
        self.unavailable += 1
        if len(self.unavailable_files) < LISTED_AT_MOST:
            self.unavailable_files.append({"path": path, "reason": reason})

    def still_failing(self, path: str, reason: str) -> None:
        self.known_failed += 1
        self.known_failures.append({"path": path, "reason": reason})

    @property
    def exit_status(self) -> ExitStatus:
        if self.interrupted:
            return ExitStatus.INTERRUPTED
        attention = self.failed or self.unavailable or self.vanished_roots
        return ExitStatus.PARTIAL if attention else ExitStatus.OK

    @property
    def problems(self) -> list[dict]:  # type: ignore[override]
        return self.failures

    def data(self) -> dict:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


class Progress(Protocol):
    """How the importer tells a UI what it is doing; it never prints anything itself."""

    def scanning(self, seen: int) -> None: ...
    def reading(self, files: int, total_bytes: int) -> None:
        """Files (and bytes) to read so far: called again as the walk finds more."""

    def advance(self, nbytes: int) -> None: ...
    def finished(self) -> None: ...


class NoProgress:
    def scanning(self, seen: int) -> None:
        pass

    def reading(self, files: int, total_bytes: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def finished(self) -> None:
        pass


def resolve_roots(paths) -> list[str]:
    """Absolute, symlink-free roots; nested roots dropped so no file is seen twice."""
    roots = []
    for p in paths:
        if str(p) == "":
            raise EmptyPath()
        expanded = os.path.expanduser(str(p))
        require_root(expanded, str(p))
        roots.append(os.path.realpath(expanded))
    kept: list[str] = []
    for root in sorted(set(roots)):
        if not any(root.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(root)
    return kept


class Importer:
    def __init__(self, library, options: ImportOptions, progress: Progress | None = None):
        self.library = library
        self.db = library.db
        self.options = options
        self.progress = progress or NoProgress()
        self.report = ImportReport(dry_run=options.dry_run)
        self._claimed: set[str] = set()  # hex ids of rows moved in this run
        self._moved_from: set[str] = set()  # their former paths
        self._touched_folders: set[str] = set()  # where files came, changed or went
        self._sidecar_changed: set[str] = set()  # unchanged media whose sidecar changed
        # New or edited XMP sidecars of media the library knew: what other programs changed
        # in them (stars, labels, tags removed) is for luna.ops.sidecars to take.
        self.changed_sidecars: list[str] = []
        self._moves_possible = True  # False when recording what luna itself just wrote
        self._tag_ids: dict[str, int | None] = {}  # None: not a valid tag name
        self._failed_before: set[str] = set()  # paths that had failed when the run began
        self._reappeared: set[str] = set()  # paths marked missing, found again by the walk
        self._unread_in: dict[str, int] = {}  # folder -> its files queued and not yet read
        self._queued = (0, 0)  # files and bytes found to read so far
        self._present_under: dict[str, int] = {}  # root -> rows not marked missing
        self._approximate: set[str] = set()  # paths of rows with a pre-schema-5 mtime
        self._exact_mtimes: dict[str, int] = {}  # of those, found unchanged: their mtime_ns
        self.store = FileStore(self.db)
        self._user_ids: dict[int | str, int] = {}
        self._library_file = _library_file(library)

    # -- 1. what the library knows ------------------------------------------------------
    def _known_files(self, roots: list[str]) -> dict[str, tuple]:
        """path -> (size, mtime, is missing) for every row under the roots. Also counts,
        per root, the rows not already missing (to notice a root whose files all vanish)."""
        known = {}
        for root in roots:
            below = self.store.known_below(root)
            self._present_under[root] = len(below) - sum(row[2] for row in below.values())
            known.update(below)
        return known

    def _approximate_mtimes(self, roots: list[str]) -> set[str]:
        """Paths under the roots whose rows keep an mtime converted from schema 4's float."""
        return {path for root in roots for path in self.store.approximate_below(root)}

    def _known_failures(self, roots: list[str]) -> dict[str, tuple]:
        """path -> (size, mtime, reason) for files under the roots that failed before."""
        failures: dict[str, tuple] = {}
        for root in roots:
            failures.update(
                (path, (size, mtime, reason))
                for path, size, mtime, reason in self.store.failures_below(root)
            )
        return failures

    # -- the whole run ------------------------------------------------------------------
    def run(self, paths) -> ImportReport:
        started = time.monotonic()
        roots = resolve_roots(paths)
        known = self._known_files(roots)
        self._approximate = self._approximate_mtimes(roots)
        failures_before = self._known_failures(roots)
        self._failed_before = set(failures_before)
        try:
            # The walk runs as the workers need files: reading starts with the first folder,
            # and the files waiting to be read are a few folders' worth, not the whole tree.
            self._read_and_record(self._to_read(roots, known, failures_before), failures_before)
            if self._reappeared:
                self.in_transaction(lambda: self._clear_missing(sorted(self._reappeared)))
            self._mark_missing(known, roots)
            self._record_exact_mtimes()
            self.link_related()
            self._forget_fixed_failures(failures_before)
        except KeyboardInterrupt:
            self.report.interrupted = True
            self.report.seconds = time.monotonic() - started
            raise Interrupted(
                "interrupted; run the same import again to finish it", self.report
            ) from None
        finally:
            self.progress.finished()
        self.report.seconds = time.monotonic() - started
        return self.report

    # -- 2. walk ------------------------------------------------------------------------
    def _to_read(self, roots, known, failures_before) -> Iterator[Candidate]:
        """The files to read, a folder at a time, each folder's in path order: new and
        changed files, and the media of new or changed sidecars. Counts the rest."""
        scan_options = ScanOptions(self.options.exclude, self.options.follow_symlinks)
        folder: str | None = None
        found: list[Candidate] = []
        trust_stat = not self.options.reread
        for n, item in enumerate(walk(roots, scan_options)):
            if n & 2047 == 0:
                self.progress.scanning(n)
            if isinstance(item, ScanProblem):
                self.report.fail(item.path, item.reason)
                continue
            path, st = item
            row = known.pop(path, None)
            # The common case of a re-import, kept short: 100,000 files pass here.
            if (
                row is not None
                and trust_stat
                and row[0] == st.st_size
                and (row[1] == st.st_mtime_ns or self._unchanged_before_schema5(path, row, st))
            ):
                self.report.unchanged += 1
                if row[2]:
                    self._reappeared.add(path)
                continue
            if not self._needs_reading(path, st, row, failures_before):
                continue
            here = path.rpartition("/")[0]
            if here != folder:  # the walk gives a folder's files one after another
                yield from self._folder_found(found)
                folder, found = here, []
            found.append(Candidate.from_stat(path, st))
        yield from self._folder_found(found)

    def _unchanged_before_schema5(self, path: str, row: tuple, st) -> bool:
        """Whether a row recorded before schema 5 holds this file's mtime at the precision
        it had then (luna.mtimes); if so, the file is unchanged and its exact mtime is
        recorded at the end of the run, so that it is compared exactly from then on."""
        if path not in self._approximate or not same_mtime(row[1], st.st_mtime_ns, True):
            return False
        self._exact_mtimes[path] = st.st_mtime_ns
        return True

    def _record_exact_mtimes(self) -> None:
        if self._exact_mtimes and not self.options.dry_run:
            self.in_transaction(lambda: self.store.record_exact_mtimes(self._exact_mtimes))

    def _folder_found(self, found: list[Candidate]):
        if not found:
            return
        if self.options.media_of_sidecars:
            self._add_media_of_changed_sidecars(found)
        found.sort(key=_path_of)  # a stable, readable order for progress and reports
        folder = os.path.dirname(found[0].path)  # the walk gives a folder's files together
        self._unread_in[folder] = self._unread_in.get(folder, 0) + len(found)
        self._queued = (self._queued[0] + len(found), self._queued[1] + sum(c.size for c in found))
        self.progress.reading(*self._queued)  # the totals so far: they grow with the walk
        yield from found

    def _needs_reading(self, path: str, st, row, failures_before) -> bool:
        """Whether a file the library has no unchanged row for (`row`: its row's size,
        mtime and missing flag, or None) is to be read: not when it is certainly not media,
        nor when it failed before, is unchanged since, and its cause has not passed."""
        report = self.report
        if row is None and self._is_library_file(path):
            report.skip(path, "the library itself")
            return False
        if row is None and is_certainly_not_media(path):
            report.skip(path, not_media_reason(path))
            return False
        before = failures_before.get(path)
        if (
            before is not None
            and not self.options.retry_failed
            and before[0] == st.st_size
            and before[1] == st.st_mtime_ns
            and not cause_may_have_passed(before[2])
        ):
            failures_before.pop(path)
            report.still_failing(path, before[2])
            return False
        return True

    def _is_library_file(self, path: str) -> bool:
        """The library's own file, its journal (-wal, -shm, -journal) or a backup made
        before an upgrade (.schema7-...bak): found when the library lives among the photos."""
        own = self._library_file
        return own is not None and (path == own or path.startswith((own + "-", own + ".")))

    def _counted_unchanged(self, path: str, row: tuple, st) -> bool:
        """Whether the walk found the file at `path` (row: id, sha, size, mtime_ns) as
        recorded, exactly or at a pre-schema-5 row's precision."""
        found = st.st_mtime_ns
        return row[2] == st.st_size and found in (row[3], self._exact_mtimes.get(path))

    def _add_media_of_changed_sidecars(self, todo: list[Candidate]) -> None:
        """A new or edited XMP sidecar changes what luna knows of its media (keywords,
        dates, places), even when the media file itself did not change: read it again."""
        queued = {c.path for c in todo}
        for sidecar in [c.path for c in todo if c.path.lower().endswith(".xmp")]:
            for media in media_described_by(sidecar):
                row = self.store.find_by_path(media)
                if row is not None and sidecar not in self.changed_sidecars:
                    self.changed_sidecars.append(sidecar)
                if media in queued:
                    continue
                try:
                    st = os.stat(media)
                except OSError:
                    continue
                # Only media the walk counted unchanged: new ones are queued already, and
                # failed, skipped or excluded ones are not the sidecar's to bring in.
                if row is None or not self._counted_unchanged(media, row, st):
                    continue
                todo.append(Candidate.from_stat(media, st))
                queued.add(media)
                self._sidecar_changed.add(media)
                self.report.unchanged -= 1  # it will be counted as updated instead

    # -- 3 and 4. read in workers, record in batches --------------------------------------
    def _read_and_record(self, todo: Iterator[Candidate], failures_before: dict) -> None:
        first = next(todo, None)
        if first is None:
            return  # nothing to read: no worker is started
        from luna.ingest.extract import read_file, record_warnings_here
        from luna.ingest.workers import Pool, default_jobs

        todo = itertools.chain([first], todo)
        jobs = self.options.jobs or default_jobs()
        pool = Pool(read_file, jobs, self.time_limit, start=record_warnings_here)
        try:
            results = pool.run(todo, path_of=_path_of, size_of=_size_of)
            self._record_results(results, failures_before)
        finally:
            pool.close()  # also when a write fails or Ctrl-C arrives: no worker lingers

    def _record_results(self, results, failures_before: dict) -> None:
        from luna.ingest.extract import FileFacts, Skipped
        from luna.ingest.workers import Failed

        batch: list = []
        finished: list[str] = []  # folders whose every file to read is in `batch` or before
        last_flush = time.monotonic()
        for candidate, result in results:
            self.progress.advance(candidate.size)
            folder = os.path.dirname(candidate.path)
            left = self._unread_in[folder] = self._unread_in[folder] - 1
            if not left:
                del self._unread_in[folder]
                finished.append(folder)
            if isinstance(result, Skipped):
                self.report.skip(candidate.path, result.reason)
                continue
            if isinstance(result, FileFacts):
                self.report.files_read += 1
                self.report.bytes_read += result.size
            elif isinstance(result, Failed):
                failures_before.pop(candidate.path, None)
                self.report.fail(candidate.path, result.reason)
                result = (candidate, result.reason)
            batch.append(result)
            if len(batch) >= BATCH_FILES or time.monotonic() - last_flush > BATCH_SECONDS:
                self._write_batch(batch, finished)
                batch, finished, last_flush = [], [], time.monotonic()
        self._write_batch(batch, finished)

    # -- the recorder, also for luna.ops.gather, which reads files as an import does and
    #    records them where it put them ------------------------------------------------------
    def time_limit(self, candidate: Candidate) -> float:
        """Seconds a worker may spend reading this file before it is given up on."""
        return self.options.time_limit + SECONDS_PER_GB * candidate.size / 1e9

    def in_transaction(self, fn):
        """Run `fn` in one write transaction; nothing of it lands if it fails. (A dry run
        writes nothing, and runs it as it is.)"""
        if self.options.dry_run:
            return fn()
        return write_transaction(
            self.library, fn,
            then="; what was recorded before stays, run the import again once this is fixed",
        )  # fmt: skip

    def _write_batch(self, batch: list, finished: list[str]) -> None:
        """Record a batch of results; then link the files of the folders it finished (while
        the workers read on, rather than all folders at the end)."""
        from luna.store.writes import RelationStore

        def record_all():
            self.record_many([item for item in batch if not isinstance(item, tuple)])
            for item in batch:
                if isinstance(item, tuple):
                    self._record_failure(*item)
            linked = [f for f in finished if f in self._touched_folders]
            if linked and not self.options.dry_run:
                self._link_folders(RelationStore(self.db), linked)
                self._touched_folders.difference_update(linked)

        if batch or finished:
            self.in_transaction(record_all)
            crash_point("batch")

    def record(self, facts) -> None:
        """Record what was read of a file (FileFacts): a new row, an update, or a file moved
        since the last import. Inside a write transaction (in_transaction)."""
        self.record_many([facts])

    def record_many(self, many: list) -> None:
        """record() for many files at once: a few statements for all of them, not a few
        for each. Inside a write transaction (in_transaction)."""
        # Read inside the write transaction: another luna may have recorded them meanwhile.
        existing = self.store.rows_at([facts.path for facts in many])
        elsewhere = self.store.same_contents_elsewhere(
            [facts.content_sha for facts in many if facts.path not in existing]
        )
        new: list[tuple[str, dict, list[str]]] = []
        for facts in many:
            file_id = self._record_one(facts, existing.get(facts.path), elsewhere)
            if file_id is not None:
                new.append((file_id, self._row(facts), facts.found.keywords))
        self.store.insert_many([(file_id, row) for file_id, row, _ in new])
        for file_id, _, keywords in new:
            if keywords:
                tag_ids = {t for t in map(self._tag_id, keywords) if t is not None}
                self.store.set_metadata_tags(file_id, tag_ids, had_any=False)
        failed_before = [facts.path for facts in many if facts.path in self._failed_before]
        if failed_before and not self.options.dry_run:
            self.store.forget_failures(failed_before)

    def _record_one(self, facts, existing, elsewhere) -> str | None:
        """Update the row of a changed or moved file; a new file's id is returned, for the
        caller to insert its row with the others."""
        if existing is not None:
            file_id, sha, size, mtime = existing
            same = (sha, size, mtime) == (facts.content_sha, facts.size, facts.mtime_ns)
            if same and facts.path not in self._sidecar_changed:
                self.report.unchanged += 1  # another luna recorded it meanwhile
                return None
            self.report.updated += 1
        else:
            same_content = elsewhere.get(facts.content_sha, ()) if self._moves_possible else ()
            file_id = self._find_moved(facts, same_content)
            if file_id is not None:
                self.report.moved += 1
            else:
                self.report.added += 1
        if self.options.dry_run:
            return None
        self._touched_folders.add(os.path.dirname(facts.path))
        if file_id is None:
            return uuid.uuid4().hex
        if existing is not None and existing[1] != facts.content_sha:
            self.store.remember_content(
                file_id, existing[1], existing[2], self.options.change_reason
            )
        row = self._row(facts)
        if self.options.owner is None:  # an owner given with --owner earlier stays
            row["owner"] = self.store.owner_of(file_id)
        self.store.update(file_id, row)
        tag_ids = {t for t in map(self._tag_id, facts.found.keywords) if t is not None}
        self.store.set_metadata_tags(file_id, tag_ids, had_any=True)
        return None

    def move_row(self, file_id: str, old_path: str, new_path: str) -> None:
        """Luna moved a recorded file (import --move): its row follows it, keeping its id,
        tags, albums, events and history. Inside the caller's write transaction."""
        self.store.move_row(file_id, new_path)
        self._touched_folders.update((os.path.dirname(old_path), os.path.dirname(new_path)))

    def merge_rows(self, *, keep: str, drop: str) -> None:
        """Two rows of one content become row `keep`, with everything attached to both."""
        from luna.store.writes import merge_rows

        self.in_transaction(lambda: merge_rows(self.db, keep=keep, drop=drop))

    def _find_moved(self, facts, same_content) -> str | None:
        """A row with the same content whose path is gone: the file was moved or renamed.
        (Not one whose path is only out of reach: that file is still where it was.)
        `same_content`: (id, path, size, missing_since) of the rows with its hash."""
        from luna.files.presence import presence

        for file_id, path, size, missing_since in same_content:
            if size != facts.size or path == facts.path:
                continue
            if file_id in self._claimed or path in self._reappeared:
                continue  # (a file found again is not gone, though still marked missing)
            if missing_since is not None or presence(path).gone:
                self._claimed.add(file_id)
                self._moved_from.add(path)
                self._touched_folders.add(os.path.dirname(path))
                return file_id
        return None

    def _row(self, facts) -> dict:
        from luna.store.models import utcnow

        found = facts.found
        now = utcnow()
        return {
            "path": facts.path,
            "filename": os.path.basename(facts.path),
            "kind": facts.kind,
            "mime_type": facts.mime_type,
            "size_bytes": facts.size,
            "mtime_ns": facts.mtime_ns,
            "content_sha": facts.content_sha,
            "start": found.start,
            "end": found.end,
            "utc_offset": found.utc_offset,
            "latitude": found.latitude,
            "longitude": found.longitude,
            "altitude": found.altitude,
            "width": found.width,
            "height": found.height,
            "metadata": facts.metadata_json,
            "processor_metadata": facts.processor_json,
            "owner": self._owner_id(facts.uid),
            "missing_since": None,
            "modified": now,
            "verified_at": now,
        }

    def _owner_id(self, uid: int) -> int | None:
        key = self.options.owner or uid
        if key not in self._user_ids:
            name = self.options.owner or _user_name(uid)
            self._user_ids[key] = self.library.user_id(name, create=not self.options.dry_run)
        return self._user_ids[key]

    def _tag_id(self, name: str) -> int | None:
        """None for a keyword that cannot be a tag ("a//b"): the file's other tags stay."""
        if name not in self._tag_ids:
            try:
                self._tag_ids[name] = self.library.tag_id(name)
            except BadName:
                self._tag_ids[name] = None
        return self._tag_ids[name]

    # -- failures -----------------------------------------------------------------------
    def _record_failure(self, candidate: Candidate, reason: str) -> None:
        if not self.options.dry_run:
            self.store.record_failure(candidate.path, candidate.size, candidate.mtime_ns, reason)

    def _forget_fixed_failures(self, leftover: dict) -> None:
        """Failures recorded before that did not fail this time (fixed, gone, now excluded)."""
        if leftover and not self.options.dry_run:
            self.in_transaction(lambda: self.store.forget_failures(list(leftover)))

    # -- 5. vanished files ----------------------------------------------------------------
    def _mark_missing(self, unseen: dict[str, tuple], roots: list[str]) -> None:
        """Rows under the roots whose path is gone are marked missing, never deleted.

        A path that still exists but was not walked (hidden, excluded) is left alone; so is
        one that is only out of reach (unavailable: permissions, an I/O error, a disk not
        mounted), and so is every file of a root whose known files all vanished at once."""
        from luna.files.presence import Lookout

        lookout = Lookout(trust_empty_folders=self.options.accept_vanished)
        gone, out_of_reach = [], []
        for path, (_size, _mtime, was_missing) in unseen.items():
            if path in self._moved_from:
                continue
            found = lookout.presence(path)
            if found.gone:
                gone.append((path, was_missing))
            elif found.state == "unavailable" and not was_missing:
                self.report.out_of_reach(path, found.reason or "out of reach")
                out_of_reach.append(path)
        if not self.options.accept_vanished:
            gone = self._unless_everything_vanished(gone, out_of_reach, roots)

        def mark():
            for path, was_missing in gone:
                if was_missing or self.options.dry_run:
                    self.report.missing += 1
                else:
                    # 0 if another luna moved the row to a new path meanwhile.
                    if self.store.mark_missing(path):
                        self.report.missing += 1
                        self._touched_folders.add(os.path.dirname(path))

        if gone:
            self.in_transaction(mark)

    def _unless_everything_vanished(
        self, gone: list[tuple], out_of_reach: list[str], roots: list[str]
    ) -> list[tuple]:
        """`gone` without the files of roots whose every known file vanished (or went out
        of reach) since the last import: an unmounted disk or an emptied mount point looks
        like that, and marking a whole disk missing would hide its tags and albums, and
        offer them to prune."""
        newly_gone: dict[str, int] = {}
        absent: dict[str, int] = {}
        for path, was_missing in gone:
            if not was_missing:
                root = _root_of(path, roots)
                newly_gone[root] = newly_gone.get(root, 0) + 1
                absent[root] = absent.get(root, 0) + 1
        for path in out_of_reach:
            root = _root_of(path, roots)
            absent[root] = absent.get(root, 0) + 1
        vanished = {root for root in newly_gone if absent[root] == self._present_under.get(root, 0)}
        for root in sorted(vanished):
            self.report.vanished_roots.append({"path": root, "files": newly_gone[root]})
        return [(path, m) for path, m in gone if _root_of(path, roots) not in vanished]

    def record_written(self, paths: list[str], mime: str) -> None:
        """Record files of type `mime` luna itself just wrote beside the photos (XMP
        sidecars), read here in this process: small files, whose media need no reading
        again, are not worth the workers of a run(), nor sniffing."""
        from luna.ingest.extract import FileFacts, read_file
        from luna.ingest.extract.facts import FileFailed

        # A sidecar luna wrote is where luna put it, not another file moved there (sidecars
        # of the same tags have the same bytes: a move would take another's row).
        self._moves_possible = False
        facts = []
        for path in paths:
            try:
                read = read_file(path, mime)
            except FileFailed as exc:
                self.report.failures.append({"path": path, "reason": str(exc)})
                continue
            if isinstance(read, FileFacts):
                facts.append(read)
        for i in range(0, len(facts), 500):
            self.in_transaction(lambda batch=facts[i : i + 500]: self.record_many(batch))
        self.link_related()

    # -- 6. related files ---------------------------------------------------------------
    def link_related(self) -> None:
        """Recompute RAW+JPEG, Live Photo, edited and sidecar links where files changed."""
        from luna.store.writes import RelationStore

        if self.options.dry_run or not self._touched_folders:
            return
        store = RelationStore(self.db)
        folders = sorted(self._touched_folders)
        for i in range(0, len(folders), 100):
            self.in_transaction(lambda chunk=folders[i : i + 100]: self._link_folders(store, chunk))

    @staticmethod
    def _link_folders(store, folders: list[str]) -> None:
        from luna.ingest import relations

        for folder in folders:
            members = store.folder_members(folder)
            links = relations.relations_in_folder(members)
            identifiers = [m.content_identifier for m in members if m.content_identifier]
            if identifiers:
                links |= relations.live_photo_pairs(store.same_identifiers(identifiers))
            store.replace([m.id for m in members], relations.RELATION_KINDS, links)

    def _clear_missing(self, paths: list[str]) -> None:
        if not self.options.dry_run:
            self.store.clear_missing(paths)


def _library_file(library) -> str | None:
    """The real path of a library kept in a file (None for one on a server)."""
    path = getattr(library, "path", None)
    if not isinstance(path, str | os.PathLike):
        return None
    return os.path.realpath(path)


def media_described_by(sidecar: str) -> list[str]:
    """The media files an XMP sidecar belongs to: IMG_1.jpg.xmp -> IMG_1.jpg;
    IMG_1.xmp -> every non-sidecar IMG_1.* in the same folder (RAW and JPEG alike)."""
    folder, name = os.path.split(sidecar)
    inner = os.path.splitext(name)[0]
    if os.path.splitext(inner)[1]:
        media = os.path.join(folder, inner)
        return [media] if os.path.isfile(media) else []
    found = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                stem, ext = os.path.splitext(entry.name)
                if (
                    stem.lower() == inner.lower()
                    and ext.lower() not in (".xmp", ".aae")
                    and not entry.name.startswith(".")
                    and entry.is_file()
                ):
                    found.append(entry.path)
    except OSError:
        pass
    return sorted(found)


def _root_of(path: str, roots: list[str]) -> str:
    """The import root `path` is under (roots never nest: resolve_roots drops nested ones)."""
    for root in roots:
        if path == root or path.startswith(root.rstrip("/") + "/"):
            return root
    return path


# A failure whose cause may have passed by the next import is read again then, even when
# the file is unchanged: a permission fixed, a disk that stopped failing, a machine less
# loaded. The prefixes are those luna.ingest.extract and luna.ingest.workers give such failures.
_PASSING_CAUSES = ("cannot read: ", "timed out after ")


def cause_may_have_passed(reason: str) -> bool:
    return reason.startswith(_PASSING_CAUSES)


def _path_of(candidate: Candidate) -> str:
    return candidate.path


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _size_of(candidate: Candidate) -> int:
    return candidate.size
