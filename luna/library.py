"""The library as a Python object: the whole of luna's API.

Every CLI command is one call here, and answers with a result (luna.results): its data,
the problems it met, the exit status the command ends with, and `to_json()`, the document
`--json` prints::

    from luna import Library, Query
    with Library.open() as lib:          # the default library
        report = lib.import_paths(["/photos"])
        for hit in lib.find(Query(tags=["beach"], after="2019")):
            print(hit.path)
        lib.tags.add("seen", [hit.id for hit in lib.find(Query(camera="X100"))])
        print(lib.stats()["files"])

Tags, albums and events are families of calls: `lib.tags.add(...)`, `lib.albums.share(...)`,
`lib.events.detect(...)`. FILE arguments are paths (a folder: every library file below
it), file ids or id prefixes, as on the command line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from luna.config import default_library_path
from luna.errors import Ambiguous, BadValue, LibraryError, NeedsUpgrade, NotFound
from luna.locations import Location, ServerAddress, library_location
from luna.mtimes import seconds_from_ns
from luna.names import uuid_text
from luna.readable import effective_marks
from luna.results import Record, Rows
from luna.store import libfile
from luna.timefmt import iso_local, iso_utc

if TYPE_CHECKING:
    import sqlite3

    from luna.store.store import Store

# luna.store.db (and with it peewee) is imported where a library is opened, not here:
# `luna find` opens a library for searching only (Library.for_search), without the ORM.


def _library_file(path: str | os.PathLike | ServerAddress | None) -> Location:
    """The library's file (made absolute), or its address on a server. Reads the roots this
    computer maps (the config file's [roots]), which every path stored or read goes through
    (luna.fsnames)."""
    _use_configured_roots()
    chosen = library_location(path) if path else default_library_path()
    return chosen if isinstance(chosen, ServerAddress) else chosen.absolute()


def _use_configured_roots() -> None:
    from luna import fsnames
    from luna.locations import config_path

    if not config_path().exists():  # no config file, no roots: nothing to read
        fsnames.use_roots({})
        return
    from luna.settings import load_settings

    # Imports store a file's real path, through symbolic links: so is a root's folder taken.
    roots = load_settings().get("roots")
    fsnames.use_roots({name: os.path.realpath(folder) for name, folder in roots.items()})


def _open_on_server(address: ServerAddress, *, create: bool, readonly: bool):
    """The connection to a library on a PostgreSQL server (luna.store.postgres, which
    imports the driver: only for such a library); None for one that does not exist yet
    and would be created, when readonly."""
    from luna.config import SCHEMA_VERSION

    try:
        from luna.store import postgres
    except ImportError:
        raise LibraryError(
            f"{address} is on a PostgreSQL server, and luna needs its driver for that: "
            "pip install 'luna-photos[postgres]'"
        ) from None
    return postgres.open_library(address, create=create, readonly=readonly, known=SCHEMA_VERSION)


class Library:
    def __init__(self, path: Location, database=None, backup: Path | None = None):
        self.path = path  # the library's file, or its ServerAddress (str() hides a password)
        self._db = database
        self._store: Store | None = None
        self._search_con: sqlite3.Connection | None = None  # for_search: read only, no ORM
        self.backup_path = backup  # set when opening migrated the schema
        self.recovered: list = []  # transfers a crash left, finished or rolled back on open
        self.tags = Tags(self)
        self.albums = Albums(self)
        self.events = Events(self)
        self.marks = Marks(self)
        self.sidecars = Sidecars(self)
        self.thumbs = Thumbs(self)
        # Keeping XMP sidecars current (sidecar_write, --write-sidecars): the naming of new
        # ones when on, None when off; the files changed since, and the last write's report.
        self.sidecar_naming: str | None = None
        self._changed: set[str] = set()
        self.sidecar_report = None

    @property
    def db(self):
        """The peewee database (opened read-only on first use after for_search)."""
        if self._db is None:
            if isinstance(self.path, ServerAddress):
                self._db = _open_on_server(self.path, create=False, readonly=True)
            else:
                from luna.store import db as dbmod

                self._db, self.backup_path = dbmod.connect(self.path, readonly=True)
        return self._db

    @property
    def on_server(self) -> bool:
        """Whether the library is on a PostgreSQL server (else an SQLite file)."""
        return isinstance(self.path, ServerAddress)

    @property
    def store(self):
        """Every read and write of the library's data (luna.store.store.Store)."""
        if self._store is None:
            from luna.store.store import Store

            self._store = Store(self.db)
        return self._store

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike | ServerAddress | None = None,
        *,
        create: bool = True,
        readonly: bool = False,
    ) -> Library:
        """Open the library at `path` (default: `default_library_path()`).

        create=False refuses a library that does not exist yet; only where no file exists is
        one created. readonly=True never writes (a library that does not exist yet, and may
        be created, is then an empty one in memory: what `import --dry-run` compares against).
        A file that is not a luna library this luna can use, or that luna may not write
        (unless readonly), is refused (LibraryError) and left as it was.
        """
        from luna.store import db as dbmod

        lib_path = _library_file(path)
        if isinstance(lib_path, ServerAddress):
            database = _open_on_server(lib_path, create=create, readonly=readonly)
            library = cls(lib_path, database if database is not None else dbmod.open_memory())
            return library._after_opening(readonly)
        if lib_path.is_dir():
            raise LibraryError(f"library path {lib_path} is a folder, not a file")
        if not lib_path.exists():
            if not create:
                raise NotFound(f"no library at {lib_path} (run `luna import PATH` to create it)")
            if readonly:
                return cls(lib_path, dbmod.open_memory())
            dbmod.create(lib_path)
        database, backup = dbmod.connect(lib_path, readonly=readonly)
        return cls(lib_path, database, backup)._after_opening(readonly)

    @classmethod
    def copy(
        cls,
        source: str | os.PathLike | ServerAddress,
        destination: str | os.PathLike | ServerAddress,
        progress=None,
    ) -> Rows:
        """Copy the whole library at `source` into a new one at `destination` (a file that
        does not exist yet, or an empty PostgreSQL database), either way, and check the copy
        row for row (luna.ops.copy_library). Rows: one per table, with its count and
        SHA-256. `progress(table, rows)` is called as each table is done."""
        from luna.ops.copy_library import copy_everything

        origin, target = _library_file(source), _library_file(destination)
        if origin == target:
            raise LibraryError(f"{origin} is both the source and the destination")
        new_file = isinstance(target, Path) and not target.exists()
        try:
            with cls.open_for_reading(origin) as src, cls.open(target) as dest:
                tables = copy_everything(src, dest, progress)
        except BaseException:
            if new_file and isinstance(target, Path):  # made by this copy: nothing to keep
                for leftover in (target, *(Path(f"{target}{s}") for s in ("-wal", "-shm"))):
                    leftover.unlink(missing_ok=True)
            raise
        return Rows("tables", tables, {"source": str(origin), "destination": str(target)})

    def _after_opening(self, readonly: bool) -> Library:
        if not readonly:
            with contextlib.ExitStack() as on_failure:
                on_failure.push(self)  # closes it, and says what an SQLite error means
                self._finish_interrupted_transfers()
                on_failure.pop_all()
        return self

    @classmethod
    def open_for_reading(cls, path: str | os.PathLike | ServerAddress | None = None) -> Library:
        """Open an existing library for a command that only reads, through a read-only
        connection, so that a library on a read-only file, folder or disk can be read. One
        written by an older luna is upgraded first (after a backup), as any command does."""
        lib_path = _library_file(path)
        try:
            return cls.open(lib_path, create=False, readonly=True)
        except NeedsUpgrade:
            cls.upgrade_to_read(lib_path)
        return cls.open(lib_path, create=False, readonly=True)

    @classmethod
    def for_search(cls, path: str | os.PathLike | ServerAddress | None = None) -> Library:
        """Open an existing library to search it (find, find_paths, count) through a plain
        read-only sqlite3 connection, without loading the ORM: what `luna find` does in a
        shell loop. Any other call opens the full read-only connection first."""
        library = cls(_library_file(path))
        if isinstance(library.path, ServerAddress):
            library._search_con = _open_on_server(library.path, create=False, readonly=True)
        else:
            from luna.store.search import connect

            library._search_con = connect(library.path)
        return library

    @classmethod
    def upgrade_to_read(cls, path: str | os.PathLike | ServerAddress) -> None:
        """Upgrade an older luna's library (after a backup) so that it can be read."""
        location = _library_file(path)
        if isinstance(location, ServerAddress):
            _open_on_server(location, create=False, readonly=False).close()
            return
        from luna.store import db as dbmod

        dbmod.upgrade_to_read(location)

    def _finish_interrupted_transfers(self) -> None:
        from luna.ops import transfer

        if self.store.transfers.has_pending():
            from luna import notices

            with transfer.alone(self) as no_other_luna_is_transferring:
                if not no_other_luna_is_transferring:
                    return  # its rows are its work in progress, not a crash's leftovers
                self.recovered = transfer.recover(self)
            notices.recovered(self.recovered)

    def close(self) -> None:
        if self._search_con is not None:
            self._search_con.close()
            self._search_con = None
        if self._db is not None and not self._db.is_closed():
            self._db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc is None:
                self.sidecars.flush()
        finally:
            self.close()
        # The safety net for every command: an SQLite error that escaped (a write refused
        # on a full or read-only disk, a damaged page) becomes one line saying what it means.
        if libfile.is_about_the_file(exc):
            raise libfile.unusable(self.path, exc) from None

    # -- who is acting -------------------------------------------------------------------
    def acting_user(self, explicit: str | None = None) -> str:
        """Whose album roles apply. In a library file: `explicit` (--as), else $LUNA_USER,
        else `user` in the config file, else the login name. On a server: the database
        login, always (the server enforces the roles); naming someone else is refused."""
        if not self.on_server:
            from luna.config import acting_user

            return acting_user(explicit)
        connection = self._search_con if self._search_con is not None else self.db
        login = connection.login()  # type: ignore[union-attr]  # a ServerDatabase here
        if explicit is not None and explicit != login:
            from luna.errors import PermissionDenied

            raise PermissionDenied(
                f"on a shared library you act as your database login ({login}), not "
                f"{explicit}; connect as {explicit} to act as them"
            )
        return login

    # -- importing ----------------------------------------------------------------------
    def import_paths(self, paths, options=None, progress=None, *, take_sidecars: bool = True):
        """Import files and folders in place (luna.ingest.importer.ImportOptions); returns
        an ImportReport, also when interrupted (then its exit_status says so)."""
        from luna.errors import Interrupted
        from luna.ingest.importer import Importer, ImportOptions

        options = options or ImportOptions()
        importer = Importer(self, options, progress)
        try:
            report = importer.run(paths)
        except Interrupted as exc:
            return exc.report
        if not options.dry_run:
            self.update_places()
        if importer.changed_sidecars and not options.dry_run and take_sidecars:
            # What other programs changed in the sidecars of known photos: their stars,
            # labels, titles and the tags they removed count over luna's.
            from luna.ops.sidecars import take_changed

            take_changed(self, importer.changed_sidecars)
        return report

    def gather(self, paths, options, progress=None):
        """`luna import --copy/--move`: put new files into the library folder and record
        them (luna.ops.gather.GatherOptions); returns a GatherReport, also when
        interrupted (then its exit_status says so)."""
        from luna.errors import Interrupted
        from luna.ops.gather import Gatherer

        try:
            report = Gatherer(self, options, progress).run(paths)
        except Interrupted as exc:
            return exc.report
        if not options.dry_run:
            self.update_places()
        return report

    def import_takeout(self, paths, options, progress=None):
        """`luna import --takeout`: a Google Photos Takeout (zip parts or folders) into the
        library folder (luna.ops.takeout.TakeoutOptions); returns a TakeoutReport, also when
        interrupted (then its exit_status says so)."""
        from luna.errors import Interrupted
        from luna.ops.takeout import import_takeout

        try:
            report = import_takeout(self, [str(p) for p in paths], options, progress)
        except Interrupted as exc:
            return exc.report
        if not options.dry_run:
            self.update_places()
        return report

    def user_id(self, name: str, *, create: bool = True) -> int | None:
        """The id of user `name`, created if new (unless create=False: then None)."""
        return self.store.users.ensure(name) if create else self.store.users.id_of(name)

    def tag_id(self, name: str) -> int:
        """The id of the tag called `name` (any case), created if new."""
        return self.store.tags.ensure(name)

    # -- looking files up ---------------------------------------------------------------
    def resolve(self, refs: str | os.PathLike | Iterable, *, skip_missing: bool = False):
        """The file ids FILE arguments name (luna.ops.targets.Resolved): a path (a folder:
        every library file below it), a file id, or a unique prefix of one (4 hex digits or
        more). Every command that takes FILE resolves it here."""
        from luna.ops.targets import resolve

        named = [refs] if isinstance(refs, str | os.PathLike) else list(refs)
        return resolve(self, [os.fspath(r) for r in named], skip_missing=skip_missing)

    def get_file(self, ref: str):
        """The record (luna.store.files.FileRecord) of the one file a path, id or id prefix
        names."""
        ids = self.resolve([ref], skip_missing=True).ids
        if not ids:
            raise NotFound(f"no file in the library matches {ref!r}")
        if len(ids) > 1:
            raise Ambiguous(f"{ref!r} is a folder of {len(ids)} files in the library; name one")
        record = self.store.files.record(ids[0])
        assert record is not None  # resolved just now, in this connection
        return record

    def serialize(self, file) -> dict:
        """Every field of a file (a FileRecord, as get_file returns), with its tags, albums,
        events, related files and content history."""
        from luna.ops.verify import content_history

        files = self.store.files
        location = None
        if file.latitude is not None and file.longitude is not None:
            location = {
                "latitude": file.latitude,
                "longitude": file.longitude,
                "altitude": file.altitude,
                # luna's (luna geotag: "gpx:walk.gpx"), else the file's own ("exif:GPS")
                "source": file.location_source
                or (file.processor_metadata or {}).get("location_source"),
            }
        city, region, country, code, source = file.place
        place = None
        if city or region or country or code:
            # source: "file" (its own IPTC/XMP names), "lookup" (luna's place data, from
            # its position), "file+lookup"; None until worked out (luna.ops.places)
            place = {"city": city, "region": region, "country": country,
                     "country_code": code, "source": source}  # fmt: skip
        return {
            "id": uuid_text(file.id),
            "path": file.path,
            "filename": file.filename,
            "kind": file.kind,
            "mime_type": file.mime_type,
            "size_bytes": file.size_bytes,
            "mtime": iso_utc(dt.datetime.fromtimestamp(seconds_from_ns(file.mtime_ns), dt.UTC)),
            "content_sha": file.content_sha,
            "start": iso_local(file.start, file.utc_offset),
            "end": iso_local(file.end, file.utc_offset),
            "utc_offset_minutes": file.utc_offset,
            "width": file.width,
            "height": file.height,
            "location": location,
            "place": place,
            "owner": file.owner,
            "missing_since": iso_utc(file.missing_since),
            "verified_at": iso_utc(file.verified_at),
            "created": iso_utc(file.created),
            "modified": iso_utc(file.modified),
            "tags": files.tags(file.id),
            "albums": [{"name": name, "slug": slug} for name, slug in files.albums(file.id)],
            "events": [
                {
                    "id": event_id,
                    "name": name,
                    "start": iso_local(start, offset),
                    "end": iso_local(end, offset),
                }
                for event_id, name, start, end, offset in files.events(file.id)
            ],
            "related_files": files.related(file.id),
            "content_history": content_history(self, file.id),
            **effective_marks(file.metadata, file.said),
            "metadata": file.metadata or {},
            "processor_metadata": file.processor_metadata or {},
        }

    def show(self, files, *, skip_missing: bool = False) -> Rows:
        """Every field of each file named (serialize), in the order named; those that name
        nothing are in `about["not_found"]` with skip_missing, else refused (NotFound)."""
        found = self.resolve(files, skip_missing=skip_missing)
        # Records by id: the FILEs are resolved already (get_file would resolve each again).
        records = [self.serialize(self.store.files.record(file_id)) for file_id in found.ids]
        return Rows("files", records, {"not_found": found.missing} if found.missing else {})

    # -- searching ----------------------------------------------------------------------
    def _searching(self):
        return self._search_con if self._search_con is not None else self.db.connection()

    def find(self, query, *, with_tags: bool = True):
        """The files a search (luna.search.query.Query) finds, sorted and limited: a Found
        result, whose hits have each file's fields, with their tags unless told not to."""
        from luna.search import query as search

        con = self._searching()
        hits = search.find(con, query)
        tags = search.tags_by_file(con, [h.id for h in hits]) if with_tags else None
        return search.Found(hits, tags)

    def places_pending(self) -> int:
        """How many files' city, region and country are still to be worked out (by the
        next import, geotag or `luna places update`): `find --place` cannot find them."""
        from luna.store.search import Search

        return Search(self._searching()).places_pending()

    def find_paths(self, query) -> list[str]:
        """Only the paths of what `find` would find (cheaper: no record per file)."""
        from luna.search import query as search

        return search.find_paths(self._searching(), query)

    def count(self, query) -> int:
        """How many files `find` would find."""
        from luna.search import query as search

        return search.count(self._searching(), query)

    # -- keeping the library true -------------------------------------------------------
    def verify(self, files=None, *, older_than=None, accept=False, limit=None, progress=None):
        """Read files again (all, or those named) and compare their SHA-256 with the
        library's; a VerifyReport, also when interrupted (luna.ops.verify.verify)."""
        from luna.ops import verify

        ids = None if files is None else self.resolve(files).ids
        try:
            return verify.verify(
                self, ids, older_than=older_than, accept=accept, limit=limit, progress=progress
            )
        except verify.Interrupted as exc:
            return exc.report

    def geotag(
        self, tracks, files=None, *, max_gap="30m", tz=None, clock_offset=None,
        skip_missing=False, dry_run=False,
    ):  # fmt: skip
        """Positions from GPS tracks (GPX, KML or GeoJSON paths) for the photos and videos
        without one of their own (among `files`, else all): luna.ops.geotag. `max_gap`,
        `clock_offset`: durations ("30m", "+1m30s") or timedeltas; `tz`: the camera's time
        zone, for files that do not say theirs."""
        from luna import values
        from luna.ingest.tracks import read_tracks
        from luna.ops import geotag

        if isinstance(max_gap, str):
            max_gap = values.duration(max_gap, "--max-gap")
        track = read_tracks([str(t) for t in _listed(tracks)])
        ids, missing = self._to_place(files, skip_missing)
        report = geotag.geotag(
            self, track, ids, max_gap=max_gap, tz=tz,
            clock_offset=_clock_offset(clock_offset), dry_run=dry_run,
        )  # fmt: skip
        return self._placed(report, missing, dry_run)

    def geotag_from_photos(
        self, files=None, *, within="10m", max_distance="1km", tz=None, clock_offset=None,
        skip_missing=False, dry_run=False,
    ):  # fmt: skip
        """Positions for the photos and videos without one of their own (among `files`,
        else all) from the photos with one taken within `within` of them (the phone beside
        the camera), when those agree within `max_distance`: luna.ops.geotag_photos.
        `within`, `clock_offset`: durations ("10m", "+1m30s") or timedeltas; `max_distance`:
        "1km", "500m" or metres; `tz`: the camera's time zone, for files that do not say
        theirs (else their local clock times are compared)."""
        from luna import values
        from luna.ops.geotag_photos import geotag_from_photos

        if isinstance(within, str):
            within = values.duration(within, "--within")
        if isinstance(max_distance, str):
            max_distance = values.distance(max_distance, "--max-distance")
        ids, missing = self._to_place(files, skip_missing)
        report = geotag_from_photos(
            self, ids, within=within, max_distance=max_distance, tz=tz,
            clock_offset=_clock_offset(clock_offset), dry_run=dry_run,
        )  # fmt: skip
        return self._placed(report, missing, dry_run)

    def _placed(self, report, missing: list[str], dry_run: bool):
        """A geotag's report, with the FILEs not in the library; the places of the files
        it placed worked out (unless it was a dry run)."""
        report.skipped = missing
        if not dry_run:
            self.update_places()
        return report

    def _to_place(self, files, skip_missing: bool) -> tuple[list[str], list[str]]:
        """The ids of the files geotag looks at (those named, else every file without a
        position), and the FILEs not in the library."""
        if files is None:
            return self.store.geotags.without_position(), []
        found = self.resolve(files, skip_missing=skip_missing)
        return found.ids, found.missing

    def update_places(self, *, everything: bool = False):
        """Work out the city, region and country of the files recorded or placed since the
        last time (of every file, with `everything`): luna.ops.places. Imports and geotag
        do it themselves; after an upgrade, or a luna with newer place data, `luna places
        update --all` does it for the whole library."""
        from luna.ops.places import work_out_places

        return work_out_places(self, everything=everything)

    def places(self, by: str = "city"):
        """The places of the library's files with how many each has (Rows "places"), by
        city, region or country: luna.ops.places.list_places."""
        from luna.ops.places import list_places

        return list_places(self, by)

    def dupes(self, *, similar=False, threshold=None, keep=None, under=None, progress=None):
        """Groups of copies, the one to keep first (luna.ops.dupes.Duplicates): the same
        content, or with `similar` the same picture."""
        from luna.ops.dupes import find_duplicates

        return find_duplicates(
            self, similar=similar, threshold=threshold, keep=keep, under=under,
            progress=progress,
        )  # fmt: skip

    def merge_metadata(self, duplicates, *, user: str | None = None, dry_run: bool = False):
        """Give each kept copy the tags, albums and events of its extras (MergeReport)."""
        from luna.ops.dupes import merge_metadata

        return merge_metadata(self, duplicates.groups, user=self.acting_user(user), dry_run=dry_run)

    def missing(self, under: str | None = None) -> Rows:
        """Files marked missing (below `under`), with their tags, albums and events."""
        from luna.ops.missing import missing_files

        return Rows("files", missing_files(self, under))

    def relink(self, old: str, new: str, *, verify: bool = False, dry_run: bool = False):
        """Point the rows below folder `old` at the same files below `new` (RelinkReport)."""
        from luna.ops.missing import relink

        return relink(self, old, new, verify=verify, dry_run=dry_run)

    def prune(self, files=None, *, ids=None, dry_run=False, accept_vanished=False):
        """Forget files marked missing: all, those named, or those of these file `ids`
        (as a dry run's report lists them) (PruneReport)."""
        from luna.ops.missing import prune

        if files is not None:
            ids = self.resolve(files).ids
        return prune(self, ids, dry_run=dry_run, accept_vanished=accept_vanished)

    def organize(self, options, files=None, query=None):
        """Move library files into the library folder's layout (OrganizeReport): those
        named, those a search finds, or (neither) all of them."""
        from luna.ops.organize import Organizer

        ids = None if files is None else self.resolve(files).ids
        if query is not None:
            chosen = [hit.id for hit in self.find(query)]
            ids = chosen if ids is None else [i for i in ids if i in set(chosen)]
        return Organizer(self, options).run(ids)

    def gallery(
        self, out, files=None, query=None, *, title=None, originals=False,
        keep_location=False, dry_run=False, progress=None,
    ):  # fmt: skip
        """Write a folder that shows photos and videos in any browser, offline
        (luna.ops.gallery; a GalleryReport): those named (FILEs), those a search
        (luna.search.query.Query) finds, or (neither) every photo and video. `title`:
        default the album's or event's name searched for. Positions stay out of it unless
        `keep_location`; the originals are in it only with `originals`. `progress` is
        handed to the thumbnail builds (lib.thumbs.build)."""
        from luna.errors import EmptyPath
        from luna.ops.gallery import GalleryOptions, choose, write_gallery

        if not os.fspath(out):
            raise EmptyPath("--out")
        if query is not None and query.album and query.acting_user is None:
            query.acting_user = self.acting_user()
        if title is None and query is not None:
            title = query.album or query.event
        options = GalleryOptions(
            os.fspath(out), title=title, originals=originals,
            keep_location=keep_location, dry_run=dry_run,
        )  # fmt: skip
        return write_gallery(self, choose(self, files, query), options, progress)

    def doctor(self, *, folder: str | None = None, clean: bool = False):
        """Interrupted copies and moves, leftovers, database integrity (Checkup)."""
        from luna.ops.doctor import checkup

        return checkup(self, folder=folder, clean=clean)

    # -- counting -----------------------------------------------------------------------
    def stats(self) -> Record:
        """Counts by kind, year, camera, country and city; size; located, missing and
        failed files."""
        from luna.ops.places import by_country_and_city

        counts = self.store.files.counts()
        by_country, by_city = by_country_and_city(self)
        return Record({
            "library": str(self.path),
            "files": counts["files"],
            "total_bytes": counts["total_bytes"],
            "by_kind": counts["by_kind"],
            "by_year": counts["by_year"],
            "by_camera": self._files_by_camera(),
            # How each file's date was found: "filename" and "file:mtime" are guesses.
            "by_date_source": counts["by_date_source"],
            # Files present, by where they were taken (luna.ops.places).
            "by_country": by_country,
            "by_city": by_city,
            "with_location": counts["with_location"],
            "missing": counts["missing"],
            "failed": counts["failed"],
            "tags": counts["tags"],
            "albums": counts["albums"],
            "events": counts["events"],
        })  # fmt: skip

    def _files_by_camera(self) -> dict[str, int]:
        """Files per camera, named as the `{camera}` template field names them, so that
        ("NIKON CORPORATION", "NIKON D70") counts as "NIKON D70", not the maker twice."""
        from luna.files.layout import camera_name

        counts: dict[str, int] = {}
        for make, model, count in self.store.files.by_make_and_model():
            name = camera_name(make, model) or "unknown"
            counts[name] = counts.get(name, 0) + count
        unknown = counts.pop("unknown", None)
        ranked = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        if unknown:
            ranked["unknown"] = unknown  # last, as in a table a person reads
        return ranked

    def failures(self) -> Rows:
        """Files that could not be imported, with the reason, most recent first."""
        return Rows(
            "failures",
            [
                {"path": path, "reason": reason, "failed_at": iso_utc(at)}
                for path, reason, at in self.store.files.failures()
            ],
        )


class _Part:
    """A family of calls on one library (lib.tags, lib.albums, lib.events)."""

    def __init__(self, lib: Library):
        self._lib = lib

    def _files(self, files, skip_missing: bool):
        return self._lib.resolve(files, skip_missing=skip_missing)

    def _change(self, files, skip_missing: bool, change_files):
        """`change_files(file ids)` on the files named, noting those skipped as unknown."""
        found = self._files(files, skip_missing)
        change = change_files(found.ids)
        change.skipped = found.missing
        return change


class Tags(_Part):
    """`lib.tags`: tag files, list, rename and delete tags (luna.ops.tags)."""

    def add(self, names, files, *, skip_missing: bool = False, dry_run: bool = False):
        """Tag every file (paths, ids, id prefixes, folders) with every name."""
        from luna.ops import tags

        return self._change(
            files,
            skip_missing,
            lambda ids: tags.add_tags(self._lib, _listed(names), ids, dry_run=dry_run),
        )

    def remove(self, names, files, *, skip_missing: bool = False, dry_run: bool = False):
        from luna.ops import tags

        return self._change(
            files,
            skip_missing,
            lambda ids: tags.remove_tags(self._lib, _listed(names), ids, dry_run=dry_run),
        )

    def list(self) -> Rows:
        """Every tag with how many files carry it."""
        from luna.ops import tags

        return Rows("tags", tags.list_tags(self._lib))

    def of(self, files) -> Rows:
        """Each file's tags, with where each came from ("user" or "metadata")."""
        from luna.ops import tags

        return Rows("files", tags.tags_of(self._lib, self._files(files, False).ids))

    def rename(self, old: str, new: str) -> Record:
        """Rename a tag and the tags below it; into an existing tag, merge."""
        from luna.ops import tags

        return Record(tags.rename_tag(self._lib, old, new))

    def delete(self, name: str) -> Record:
        from luna.ops import tags

        return Record(tags.delete_tag(self._lib, name))


class Albums(_Part):
    """`lib.albums`: albums with an owner, editors and viewers (luna.ops.albums). `user` is
    who acts (default: $LUNA_USER, else the login name)."""

    def create(self, name: str, *, description: str = "", user: str | None = None) -> Record:
        from luna.ops import albums

        return Record(
            albums.create_album(
                self._lib, name, user=self._lib.acting_user(user), description=description
            )
        )

    def add(self, name: str, files, *, user=None, skip_missing=False, dry_run=False):
        """Add files after the ones already in the album (owner and editors only)."""
        return self._album_change("add", name, files, user, skip_missing, dry_run)

    def remove(self, name: str, files, *, user=None, skip_missing=False, dry_run=False):
        return self._album_change("remove", name, files, user, skip_missing, dry_run)

    def _album_change(self, action, name, files, user, skip_missing, dry_run):
        from luna.ops import albums

        acting = self._lib.acting_user(user)
        albums.check_access(self._lib, name, user=acting, action=action)  # before FILEs
        change_files = albums.add_files if action == "add" else albums.remove_files
        return self._change(
            files, skip_missing,
            lambda ids: change_files(self._lib, name, ids, user=acting, dry_run=dry_run),
        )  # fmt: skip

    def access(self, name: str, action: str, *, user: str | None = None):
        """The album as `user` may act on it; refused (PermissionDenied) otherwise."""
        from luna.ops import albums

        return albums.check_access(self._lib, name, user=self._lib.acting_user(user), action=action)

    def list(self, *, user: str | None = None) -> Rows:
        """The albums `user` owns, edits or views, with their role and file counts."""
        from luna.ops import albums

        return Rows("albums", albums.list_albums(self._lib, user=self._lib.acting_user(user)))

    def show(self, name: str, *, order: str = "date", user: str | None = None) -> Rows:
        """The album's files (rows) and the album itself (`about`)."""
        from luna.ops import albums

        album = albums.show_album(self._lib, name, user=self._lib.acting_user(user), order=order)
        files = album.pop("files")
        return Rows("files", files, album)

    def rename(self, old: str, new: str, *, user: str | None = None) -> Record:
        from luna.ops import albums

        return Record(albums.rename_album(self._lib, old, new, user=self._lib.acting_user(user)))

    def delete(self, name: str, *, user: str | None = None) -> Record:
        from luna.ops import albums

        return Record(albums.delete_album(self._lib, name, user=self._lib.acting_user(user)))

    def share(self, name: str, other: str, *, role: str = "viewer", user=None) -> Record:
        """Let `other` view (role "viewer") or change ("editor") the album."""
        from luna.ops import albums

        return Record(
            albums.share_album(self._lib, name, other, role=role, user=self._lib.acting_user(user))
        )

    def unshare(self, name: str, other: str, *, user: str | None = None) -> Record:
        from luna.ops import albums

        return Record(
            albums.unshare_album(self._lib, name, other, user=self._lib.acting_user(user))
        )


class Events(_Part):
    """`lib.events`: spans of time with their files (luna.ops.events)."""

    def create(self, name: str, start, end=None, *, description: str = "") -> Record:
        from luna.ops import events

        return Record(events.create_event(self._lib, name, start, end, description))

    def add(self, name: str, files, *, skip_missing=False, dry_run=False):
        from luna.ops import events

        return self._change(
            files, skip_missing, lambda ids: events.add_files(self._lib, name, ids, dry_run=dry_run)
        )

    def remove(self, name: str, files, *, skip_missing=False, dry_run=False):
        from luna.ops import events

        return self._change(
            files, skip_missing,
            lambda ids: events.remove_files(self._lib, name, ids, dry_run=dry_run),
        )  # fmt: skip

    def attach(self, name: str, *, dry_run: bool = False):
        """Add every file taken within the event's span."""
        from luna.ops import events

        return events.attach_files(self._lib, name, dry_run=dry_run)

    def list(self) -> Rows:
        from luna.ops import events

        return Rows("events", events.list_events(self._lib))

    def show(self, name: str) -> Rows:
        """The event's files (rows) and the event itself (`about`)."""
        from luna.ops import events

        event = events.show_event(self._lib, name)
        files = event.pop("files")
        return Rows("files", files, event)

    def get(self, name: str):
        """The event called `name` (luna.ops.events.EventRecord); NotFound if none."""
        from luna.ops import events

        return events.find_event(self._lib, name)

    def rename(self, old: str, new: str) -> Record:
        from luna.ops import events

        return Record(events.rename_event(self._lib, old, new))

    def delete(self, name: str) -> Record:
        from luna.ops import events

        return Record(events.delete_event(self._lib, name))

    def detect(self, *, gap="6h", min_files: int = 5, dry_run: bool = False):
        """Split the time line where files are more than `gap` apart; each group of at
        least `min_files` not yet covered becomes an event."""
        from luna.ops import events

        return events.detect_events(self._lib, gap, min_files, dry_run=dry_run)


class Marks(_Part):
    """`lib.marks`: stars, colour labels, picks and rejects, titles and descriptions given
    in luna (luna.ops.marks). Each wins over what the file itself says; the file is never
    changed. Files are paths, ids, id prefixes or folders, as for tags."""

    def rate(self, stars: int, files, *, skip_missing=False, dry_run=False):
        """0-5 stars (0: unrated)."""
        from luna.ops import marks

        value = marks.rating_value(stars)
        return self._mark("rating", value, files, skip_missing, dry_run)

    def label(self, colour: str | None, files, *, skip_missing=False, dry_run=False):
        """red, yellow, green, blue or purple; "none" or None takes the label off."""
        from luna.ops import marks

        value = marks.label_value(colour)
        return self._mark("label", value, files, skip_missing, dry_run)

    def flag(self, flag: str | None, files, *, skip_missing=False, dry_run=False):
        """ "pick", "reject", or None for neither."""
        from luna.errors import BadValue
        from luna.ops import marks

        if flag not in marks.FLAGS:
            raise BadValue(f"flag: {flag!r} is not pick, reject or None")
        return self._mark("flag", marks.FLAGS[flag], files, skip_missing, dry_run)

    def describe(self, files, *, title=None, description=None, skip_missing=False, dry_run=False):
        """Set the title and/or the description ('' clears one); a list of changes."""
        from luna.errors import BadValue
        from luna.ops import marks

        given = {"title": title, "description": description}
        if all(value is None for value in given.values()):
            raise BadValue("give --title or --description (or both)")
        values = {k: marks.text_value(v, k) for k, v in given.items() if v is not None}
        found = self._files(files, skip_missing)
        changes = []
        for column, value in values.items():
            change = marks.set_mark(self._lib, column, value, found.ids, dry_run=dry_run)
            change.skipped = found.missing
            changes.append(change)
        return changes

    def _mark(self, column, value, files, skip_missing, dry_run):
        from luna.ops import marks

        return self._change(
            files,
            skip_missing,
            lambda ids: marks.set_mark(self._lib, column, value, ids, dry_run=dry_run),
        )


class Sidecars(_Part):
    """`lib.sidecars`: XMP sidecars beside the photos holding what the library says of them
    (luna.ops.sidecars)."""

    def write(self, files=None, *, naming: str = "file", skip_missing=False, dry_run=False):
        """Bring the sidecars of the files (all photos and videos when None) up to date;
        `naming` for new ones: "file" (IMG_1.CR2.xmp) or "stem" (IMG_1.xmp)."""
        from luna.ops import sidecars

        ids, missing = self._media_ids(files, skip_missing)
        report = sidecars.write_sidecars(self._lib, ids, naming=naming, dry_run=dry_run)
        report.skipped = missing
        return report

    def read(self, files=None, *, skip_missing=False):
        """Take what other programs wrote in the sidecars of the files (all when None):
        their stars, labels, flags, titles and descriptions over luna's, and the tags they
        added or removed since luna last wrote them. Sidecars changed since luna last read
        them are read again first, with their media (an import of them)."""
        from luna.ops import sidecars

        ids, missing = self._media_ids(files, skip_missing)
        paths = sorted({p for i in ids for p in self._lib.store.sidecars.of(i)})
        if paths:  # their rows up to date, without taking them twice
            self._lib.import_paths(paths, take_sidecars=False)
        report = sidecars.take_changed(self._lib, paths)
        report.skipped = missing
        return report

    def rebuild(self, paths, *, user: str | None = None):
        """After `import_paths(paths)`: put back what the sidecars below `paths` keep of a
        lost library (luna.ops.sidecars.rebuild_from_sidecars): stars, labels, flags,
        titles, descriptions, albums (owned as they say, else by `user`) and events."""
        from luna.ops import sidecars

        found = self._lib.store.sidecars
        below = sorted({s for p in paths for s in found.below(os.path.abspath(p))})
        return sidecars.rebuild_from_sidecars(self._lib, below, self._lib.acting_user(user))

    def note_changed(self, file_ids) -> None:
        """What the library says of these files changed (tags, stars, albums...): with
        sidecar writing on, their sidecars are brought up to date by flush()."""
        if self._lib.sidecar_naming is not None:
            import uuid

            # As stored (32 hex digits), whichever form the caller had: dashed, a UUID...
            self._lib._changed.update(uuid.UUID(str(i)).hex for i in file_ids)

    def flush(self):
        """Write the sidecars of the files changed since the last flush (when on); the
        report (luna.ops.sidecars.SidecarsWritten) is also kept in lib.sidecar_report."""
        lib = self._lib
        if lib.sidecar_naming is None or not lib._changed:
            return None  # (before any import: every `luna find` closes a library)
        from luna.ops import sidecars

        ids, lib._changed = sorted(lib._changed), set()
        lib.sidecar_report = sidecars.write_sidecars(lib, ids, naming=lib.sidecar_naming)
        return lib.sidecar_report

    def _media_ids(self, files, skip_missing):
        if files is None:
            return self._lib.store.sidecars.every_media_id(), []
        found = self._files(files, skip_missing)
        return found.ids, found.missing


class Thumbs(_Part):
    """`lib.thumbs`: thumbnails (256 px) and previews (1,440 px) of the photos and videos,
    in the user's cache folder, by content SHA-256 (luna.ops.thumbs)."""

    def build(self, files=None, *, preview=False, fmt="webp", progress=None, query=None):
        """Make the thumbnails not made yet (with `preview`, the previews too) of the files
        named (paths, ids, id prefixes, folders), or found by `query`, else of every photo
        and video present. `progress(done, total)`. A ThumbsReport, also when interrupted;
        its exit_status is 3 when some files failed (`failed`: path and reason)."""
        from luna.ops import thumbs

        ids = self._chosen(files, query)
        return thumbs.build(self._lib, ids, preview=preview, fmt=fmt, progress=progress)

    def contact_sheet(self, out, files=None, *, query=None, columns=6, progress=None):
        """Write a contact sheet (a JPEG grid of thumbnails, each with its file name and
        date) of the files named, in that order, or found by `query`, in its order, to the
        path `out` (luna.ops.contact_sheet). Missing thumbnails are built first. A
        SheetReport: the path, the grid, and the files shown without a thumbnail."""
        from luna.ops.contact_sheet import make_sheet

        ids = self._chosen(files, query)
        if ids is None:
            raise BadValue("name the files (or a search) for the contact sheet")
        return make_sheet(self._lib, ids, os.fspath(out), columns=columns, progress=progress)

    def _chosen(self, files, query) -> list[str] | None:
        """The ids of the files named, or found by `query`, or both; None for neither."""
        ids = None if files is None else self._files(files, False).ids
        if query is not None:
            found = [hit.id for hit in self._lib.find(query, with_tags=False)]
            ids = found if ids is None else [i for i in ids if i in set(found)]
        return ids

    def path(self, content_sha: str, *, preview: bool = False, fmt: str = "webp"):
        """The cached thumbnail (or preview) of this content as a pathlib.Path, or None
        when it is not made yet."""
        from luna.ops import thumbs

        return thumbs.path(content_sha, preview=preview, fmt=fmt)

    def prune(self, *, dry_run: bool = False):
        """Remove the thumbnails of contents no file in the library has any more
        (PruneReport); only ever files inside the thumbnails folder."""
        from luna.ops import thumbs

        return thumbs.prune(self._lib, dry_run=dry_run)

    def stats(self) -> Record:
        """count, bytes, contents, placeholders and by_size ({"256": {count, bytes}})."""
        from luna.ops import thumbs

        return thumbs.stats()


def _listed(names) -> list[str]:
    return [names] if isinstance(names, str) else list(names)


def _clock_offset(offset) -> dt.timedelta:
    """A camera clock's error: "+1m30s", a timedelta, or None (none)."""
    from luna import values

    if isinstance(offset, str):
        return values.clock_offset(offset)
    return offset or dt.timedelta(0)
