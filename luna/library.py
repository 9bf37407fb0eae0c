"""The library as a Python object: open it, import into it, look files up, count them.

Every CLI command is a thin layer over one of these methods::

    from luna import Library
    with Library.open() as lib:          # the default library
        report = lib.import_paths(["/photos"])
        print(lib.stats()["files"])
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

from luna.config import default_library_path
from luna.errors import Ambiguous, LibraryError, NeedsUpgrade, NotFound
from luna.names import uuid_text
from luna.store import db as dbmod
from luna.store import libfile
from luna.timefmt import iso_local, iso_utc


def _library_file(path: str | os.PathLike | None) -> Path:
    chosen = Path(path).expanduser() if path else default_library_path()
    return chosen.absolute()


class Library:
    def __init__(self, path: Path, database, backup: Path | None = None):
        from luna.store.store import Store

        self.path = path
        self.db = database
        self.store = Store(database)  # every read and write of the library's data
        self.backup_path = backup  # set when opening migrated the schema
        self.recovered: list = []  # transfers a crash left, finished or rolled back on open

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls, path: str | os.PathLike | None = None, *, create: bool = True, readonly: bool = False
    ) -> Library:
        """Open the library at `path` (default: `default_library_path()`).

        create=False refuses a library that does not exist yet; only where no file exists is
        one created. readonly=True never writes (a library that does not exist yet, and may
        be created, is then an empty one in memory: what `import --dry-run` compares against).
        A file that is not a luna library this luna can use, or that luna may not write
        (unless readonly), is refused (LibraryError) and left as it was.
        """
        lib_path = _library_file(path)
        if lib_path.is_dir():
            raise LibraryError(f"library path {lib_path} is a folder, not a file")
        if not lib_path.exists():
            if not create:
                raise NotFound(f"no library at {lib_path} (run `luna import PATH` to create it)")
            if readonly:
                return cls(lib_path, dbmod.open_memory())
            dbmod.create(lib_path)
        database, backup = dbmod.connect(lib_path, readonly=readonly)
        library = cls(lib_path, database, backup)
        if not readonly:
            with contextlib.ExitStack() as on_failure:
                on_failure.push(library)  # closes it, and says what an SQLite error means
                library._finish_interrupted_transfers()
                on_failure.pop_all()
        return library

    @classmethod
    def open_for_reading(cls, path: str | os.PathLike | None = None) -> Library:
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
    def upgrade_to_read(cls, path: str | os.PathLike) -> None:
        """Upgrade an older luna's library (after a backup) so that it can be read."""
        dbmod.upgrade_to_read(_library_file(path))

    def _finish_interrupted_transfers(self) -> None:
        from luna.ops import transfer

        if self.store.transfers.has_pending():
            from luna import notices

            with transfer.alone(self.path) as no_other_luna_is_transferring:
                if not no_other_luna_is_transferring:
                    return  # its rows are its work in progress, not a crash's leftovers
                self.recovered = transfer.recover(self)
            notices.recovered(self.recovered)

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()
        # The safety net for every command: an SQLite error that escaped (a write refused
        # on a full or read-only disk, a damaged page) becomes one line saying what it means.
        if libfile.is_about_the_file(exc):
            raise libfile.unusable(self.path, exc) from None

    # -- importing ----------------------------------------------------------------------
    def import_paths(self, paths, options=None, progress=None):
        """Import files and folders; returns an ImportReport. See luna.ingest.importer."""
        from luna.ingest.importer import Importer, ImportOptions

        return Importer(self, options or ImportOptions(), progress).run(paths)

    def user_id(self, name: str, *, create: bool = True) -> int | None:
        """The id of user `name`, created if new (unless create=False: then None)."""
        return self.store.users.ensure(name) if create else self.store.users.id_of(name)

    def tag_id(self, name: str) -> int:
        """The id of the tag called `name` (any case), created if new."""
        return self.store.tags.ensure(name)

    # -- looking files up ---------------------------------------------------------------
    def resolve(self, refs: list[str], *, skip_missing: bool = False):
        """The file ids FILE arguments name (luna.ops.targets.Resolved): a path (a folder:
        every library file below it), a file id, or a unique prefix of one (4 hex digits or
        more). Every command that takes FILE resolves it here."""
        from luna.ops.targets import resolve

        return resolve(self, refs, skip_missing=skip_missing)

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
            }
        return {
            "id": uuid_text(file.id),
            "path": file.path,
            "filename": file.filename,
            "kind": file.kind,
            "mime_type": file.mime_type,
            "size_bytes": file.size_bytes,
            "mtime": iso_utc(dt.datetime.fromtimestamp(file.mtime, dt.UTC)),
            "content_sha": file.content_sha,
            "start": iso_local(file.start, file.utc_offset),
            "end": iso_local(file.end, file.utc_offset),
            "utc_offset_minutes": file.utc_offset,
            "width": file.width,
            "height": file.height,
            "location": location,
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
            "metadata": file.metadata or {},
            "processor_metadata": file.processor_metadata or {},
        }

    # -- counting -----------------------------------------------------------------------
    def stats(self) -> dict:
        """Counts by kind, year and camera; size; located, missing and failed files."""
        counts = self.store.files.counts()
        return {
            "version": 1,
            "library": str(self.path),
            "files": counts["files"],
            "total_bytes": counts["total_bytes"],
            "by_kind": counts["by_kind"],
            "by_year": counts["by_year"],
            "by_camera": self._files_by_camera(),
            # How each file's date was found: "filename" and "file:mtime" are guesses.
            "by_date_source": counts["by_date_source"],
            "with_location": counts["with_location"],
            "missing": counts["missing"],
            "failed": counts["failed"],
            "tags": counts["tags"],
            "albums": counts["albums"],
            "events": counts["events"],
        }

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

    def failures(self) -> list[dict]:
        """Files that could not be imported, with the reason, most recent first."""
        return [
            {"path": path, "reason": reason, "failed_at": iso_utc(at)}
            for path, reason, at in self.store.files.failures()
        ]
