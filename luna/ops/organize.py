"""`luna organize`: move files already in the library to where a (new) template says, within
the library folder, so a user can change their mind about the layout.

Rows keep their ids, tags, albums and events: only `path`, `filename` and `mtime` change.
Each move goes through luna.ops.transfer's journal; on one file system it is a hard link then
an unlink (no data copied), across file systems a verified copy then a delete. Files
outside the library folder are only taken in with `include_outside` (that moves a user's
file from where they put it, so it must be asked for). Families (a photo with its
sidecars, Live Photo video and RAW) travel together, as they do on import.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from luna import interrupts
from luna.errors import LunaError, NotFound
from luna.files import place
from luna.files.place import FullDisks
from luna.fsnames import for_humans
from luna.ops import transfer
from luna.ops.families import families_in_folder, family_destinations, layout_facts
from luna.ops.gather import GatherReport, Step
from luna.store.transfers import Journal


@dataclass
class OrganizeOptions:
    into: str
    template: str | None = None
    include_outside: bool = False
    dry_run: bool = False


@dataclass
class Row:
    """A library file, with the attribute names luna.ops.gather's family helpers read."""

    id: str
    path: str
    kind: str
    mime_type: str
    content_sha: str
    size: int
    start: dt.datetime | None
    date_source: str | None
    metadata: dict
    place: tuple  # city, region, country, country_code
    tags: list


@dataclass
class OrganizeReport(GatherReport):
    unchanged: int = 0
    outside: int = 0


class Organizer:
    def __init__(self, library, options: OrganizeOptions):
        from luna.files import layout

        self.library = library
        self.db = library.db
        self.options = options
        self.template = layout.parse_template(options.template or layout.DEFAULT_TEMPLATE)
        self.into = os.path.realpath(os.path.expanduser(options.into))
        self.report = OrganizeReport(mode="move", dry_run=options.dry_run)
        self.journal = Journal(library.db)
        self._planned: set[str] = set()
        self._left: set[str] = set()  # folders inside the library folder files moved out of
        self._folders: dict = {}  # what presence.same_entry found out about folders
        self._full_disks = FullDisks()

    def run(self, file_ids: list[str] | None) -> OrganizeReport:
        import time

        started = time.monotonic()
        self._require_library_folder()
        with transfer.transferring(self.library, dry_run=self.options.dry_run):
            try:
                for family in self._families(file_ids):
                    self._organize_family(family)
            except KeyboardInterrupt:
                self.report.interrupted = True
        self._remove_emptied_folders()
        self.report.seconds = time.monotonic() - started
        return self.report

    def _require_library_folder(self) -> None:
        """organize only rearranges a library folder that exists: a missing one is a typo
        (or a disk not mounted), never a reason to start a new tree."""
        if os.path.isdir(self.into):
            return
        given = for_humans(self.options.into)
        if os.path.lexists(self.into):
            raise LunaError(f"not a folder: {given}")
        raise NotFound(f"no such folder: {given}")

    # -- which files, in which families ------------------------------------------------------
    def _families(self, file_ids: list[str] | None) -> list[list[Row]]:
        files = self.library.store.files
        if file_ids is None:
            rows = self._rows(files.placements_below(self.into))
        else:
            rows = self._rows(files.placements(file_ids))
        # A family travels whole, even when only its photo was named.
        by_folder: dict[str, dict[str, Row]] = {}
        for row in rows:
            by_folder.setdefault(os.path.dirname(row.path), {})[row.id] = row
        families = []
        for folder, chosen in sorted(by_folder.items()):
            everyone = {r.id: r for r in self._folder_rows(folder)}
            everyone.update(chosen)
            for members in families_in_folder(list(everyone.values())).values():
                if not any(m.id in chosen for m in members):
                    continue
                if members[0].kind == "sidecar":
                    families += [[m] for m in members if m.id in chosen]
                elif members[0].id in chosen:
                    families.append(members)
                else:  # a sidecar or video chosen without its photo stays with the photo
                    for m in members:
                        if m.id in chosen:
                            self.report.steps.append(
                                Step(m.path, None, "stays", "travels with its photo, not chosen")
                            )
        return sorted(families, key=lambda f: f[0].path)

    def _rows(self, placements: list[tuple]) -> list[Row]:
        found = [Row(*placement, tags=[]) for placement in placements]  # type: ignore[misc]
        self._attach_tags(found)
        return found

    def _folder_rows(self, folder: str) -> list[Row]:
        base = folder.rstrip("/") + "/"
        rows = self._rows(self.library.store.files.placements_below(folder))
        return [r for r in rows if "/" not in r.path[len(base) :]]

    def _attach_tags(self, rows: list[Row]) -> None:
        from luna.store.organization import names_by_file

        by_id = {r.id: r for r in rows}
        for file_id, names in names_by_file(self.db.connection(), list(by_id), "tags").items():
            by_id[file_id].tags.extend(names)

    # -- one family ----------------------------------------------------------------------
    def _inside(self, path: str) -> bool:
        return path.startswith(self.into.rstrip("/") + "/")

    def _organize_family(self, family: list[Row]) -> None:
        lead = family[0]
        if not self._inside(lead.path) and not self.options.include_outside:
            self.report.outside += len(family)
            for r in family:
                self.report.steps.append(
                    Step(r.path, None, "outside", "outside the library folder")
                )
            return
        plan = self._destinations(lead, family)
        for row in family:
            dest = plan.get(row.path)
            if dest is None:
                continue
            if dest == row.path:
                self.report.unchanged += 1
                continue
            self._move(row, dest)

    def _destinations(self, lead: Row, family: list[Row]) -> dict[str, str]:
        relative = self.template.render(
            layout_facts(lead.path, lead.kind, lead.content_sha, lead.start,
                         lead.date_source, lead.metadata, lead.tags, lead.place)
        )  # fmt: skip
        free, same = family_destinations(self.into, relative, lead.path, family, self._planned)
        for path, dest in same.items():
            self.report.duplicates += 1
            self.report.steps.append(
                Step(path, dest, "duplicate", "the same content is already there")
            )
        return free

    def _move(self, row: Row, dest: str) -> None:
        from luna.files.place import NoSpace, TransferFailed

        if self.options.dry_run:
            self.report.steps.append(Step(row.path, dest, "move"))
            self.report.moved += 1
            return
        full = self._full_disks.full_folder(dest)
        if full is not None:
            self.report.no_space(row.path, dest, row.size, full)
            return
        try:
            self._transfer(row, dest)
        except NoSpace:
            self._full_disks.mark_full(dest)
            full = self._full_disks.full_folder(dest) or os.path.dirname(dest)
            self.report.no_space(row.path, dest, row.size, full)
            return
        except TransferFailed as exc:
            self.report.fail(row.path, str(exc), dest)
            return
        if self._inside(row.path):
            self._left.add(os.path.dirname(row.path))
        self.report.steps.append(Step(row.path, dest, "move"))
        self.report.moved += 1
        self.report.bytes_copied += row.size

    def _transfer(self, row: Row, dest: str) -> None:
        place.make_folders(os.path.dirname(dest))
        # From its journal entry on, a Ctrl-C or SIGTERM waits for this one file (a link, or
        # one verified copy): it ends in place and recorded, or where it was, and nothing is
        # left half-way for the next command's recovery.
        with interrupts.interrupts_deferred():
            entry = self.journal.begin(
                "organize", row.path, dest, row.content_sha, row.size, file_id=row.id
            )
            self._place(row, dest, entry)
            self._finish_move(row, dest, entry)

    def _place(self, row: Row, dest: str, entry) -> None:
        """Give the file its new name: a hard link, or a verified copy. If that fails, the
        journal entry is closed and the file is where it was."""
        try:
            transfer.put_in_place(entry, may_link=True)
        except FileExistsError:
            self.journal.finish(entry)
            raise place.TransferFailed(
                f"{for_humans(dest)} appeared meanwhile; nothing was overwritten"
            ) from None
        except (place.TransferFailed, OSError) as exc:
            self.journal.finish(entry)
            if isinstance(exc, OSError):
                raise place.failure(exc, os.path.dirname(dest)) from None
            raise

    def _finish_move(self, row: Row, dest: str, entry) -> None:
        """The row follows its file (same id, tags, albums, events), then the old name goes."""

        def record():
            self.library.store.files.moved(row.id, dest)

        transfer.complete(self.journal, entry, record, self._in_transaction, self._folders)

    def _in_transaction(self, fn) -> None:
        with self.db.atomic("IMMEDIATE"):
            fn()

    def _remove_emptied_folders(self) -> None:
        """Folders inside the library folder that moves left empty (never the library
        folder itself, never a folder with anything left in it)."""
        for folder in sorted(self._left, key=len, reverse=True):
            while self._inside(folder):
                try:
                    os.rmdir(folder)
                except OSError:
                    break
                folder = os.path.dirname(folder)
