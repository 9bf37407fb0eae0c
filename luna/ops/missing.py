"""Missing and moved files: list them, point their rows at a new place, or let them go.

A library outlives the disks and computers its photos sit on. When a path vanishes, an
import marks its row missing and never deletes it, because the row holds what the file
itself does not: the tags, albums and events a person spent time on. This module is what
comes next:

- `missing_files` lists those rows, with what they carry, so a person (or a script) can see
  what is at stake;
- `relink` handles the common cause, a whole folder or disk that now lives elsewhere (a
  remount at another mount point, a new computer with another home folder). Importing the
  new place would also find the files, but reads every byte of them; relink only changes
  the rows' paths, after checking that each file really is at the new place (its size, and
  its SHA-256 with `verify`). A file that was imported at the new place before the relink
  has two rows; when their content is the same they are merged into the older one, whose
  id scripts may hold, so nothing the user added is lost;
- `prune` is the only way a missing file's row leaves the library, and it reports what went
  with it. It re-checks each path just before deleting its row, since a disk may have been
  mounted again since the file was marked missing, and never removes a present file.

Everything here changes library rows only: no user file is ever written, moved or deleted
(relink's `verify` reads files, nothing more). Writes happen in small transactions, so an
interrupted relink keeps what it did and running it again finishes the job.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field

from luna.errors import ExitStatus, Interrupted, LunaError, NotFound
from luna.files.place import sha256_of
from luna.fsnames import for_humans
from luna.names import uuid_text
from luna.results import Result
from luna.store.organization import names_by_file
from luna.store.sql import chunks, write_transaction
from luna.store.writes import merge_rows
from luna.timefmt import iso_utc

BATCH_FILES = 200  # rows written per transaction at most...
BATCH_SECONDS = 1.0  # ...and at least this often, so an interrupted relink loses little
CHUNK = 1 << 20  # bytes read at a time when hashing (--verify)

# Why a file could not be relinked (RelinkProblem.reason).
NOT_FOUND = "not found"  # nothing (or not a regular file) at the new path
UNREADABLE = "unreadable"  # there, but stat or reading it failed (permissions, I/O error)
SIZE_DIFFERS = "size differs"
CONTENT_DIFFERS = "content differs"  # same size, another SHA-256 (only with verify)
CONFLICT = "already in the library"  # another row, with other content, has the new path
CHANGED = "changed meanwhile"  # another luna moved or removed the row during the relink
REASONS = (NOT_FOUND, UNREADABLE, SIZE_DIFFERS, CONTENT_DIFFERS, CONFLICT, CHANGED)


# -- listing ---------------------------------------------------------------------------------


def missing_files(lib, under: str | None = None) -> list[dict]:
    """Every file marked missing (below the folder `under` if given), ordered by path, with
    the tags, albums and events it carries."""
    folders = None
    if under is not None:  # as typed, and its real path if different
        folders = list(dict.fromkeys([_absolute(under), os.path.realpath(_absolute(under))]))
    return _records(lib, lib.store.files.missing(folders))


def _records(lib, rows) -> list[dict]:
    """File records (as `missing_files` returns them) for summary rows (store.files)."""
    ids = [row[0] for row in rows]
    con = lib.db.connection()
    tags, albums, events = (names_by_file(con, ids, what) for what in ("tags", "albums", "events"))
    records = [
        {
            "id": uuid_text(file_id),
            "path": path,
            "filename": filename,
            "kind": kind,
            "size_bytes": size,
            "content_sha": sha,
            "missing_since": iso_utc(missing_since),
            "tags": tags.get(file_id, []),
            "albums": albums.get(file_id, []),
            "events": events.get(file_id, []),
        }
        for file_id, path, filename, kind, size, sha, missing_since in rows
    ]
    # By the name's bytes: SQLite would sort the names stored as BLOBs after all the others.
    records.sort(key=lambda r: os.fsencode(r["path"]))
    return records


# -- relinking -------------------------------------------------------------------------------


@dataclass
class RelinkProblem:
    """A file under OLD that was not relinked, and why."""

    id: str
    path: str  # the row's path, under OLD
    new_path: str  # where it was looked for, under NEW
    reason: str  # one of REASONS
    detail: str  # for people: what was found

    def to_json(self) -> dict:
        return {
            "id": uuid_text(self.id),
            "path": self.path,
            "new_path": self.new_path,
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass
class RelinkReport(Result):
    """What a relink did (or, with dry_run, would do)."""

    old: str
    new: str
    verify: bool = False
    dry_run: bool = False
    matched: int = 0  # library files under OLD
    relinked: int = 0  # rows now pointing under NEW (merged ones included)
    merged: int = 0  # ...of which were merged with a row already at the new path
    problems: list[RelinkProblem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many files were not relinked, by reason (reasons that occurred only)."""
        out: dict[str, int] = {}
        for problem in self.problems:
            out[problem.reason] = out.get(problem.reason, 0) + 1
        return {reason: out[reason] for reason in REASONS if reason in out}

    @property
    def exit_status(self) -> ExitStatus:
        return ExitStatus.PARTIAL if self.problems else ExitStatus.OK

    def data(self) -> dict:
        return {
            "old": self.old,
            "new": self.new,
            "verify": self.verify,
            "dry_run": self.dry_run,
            "matched": self.matched,
            "relinked": self.relinked,
            "merged": self.merged,
            "not_relinked": len(self.problems),
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass
class _Row:
    id: str
    path: str
    size: int
    sha: str
    mtime_ns: int


@dataclass
class _Checked:
    """A row whose file was found at its new path (and matched)."""

    row: _Row
    new_path: str
    mtime_ns: int  # the new file's
    verified: bool  # its SHA-256 was read and matched


def relink(
    lib, old_prefix: str, new_prefix: str, *, verify: bool = False, dry_run: bool = False
) -> RelinkReport:
    """Point the rows of every file below OLD at the same place below NEW, for a folder or
    a disk that moved. Each file must be at its new path with the row's size (and SHA-256
    with `verify`); those that are not are reported and their rows left as they were.

    Every row below OLD is considered, missing or not: a disk remounted elsewhere may not
    have been noticed by an import yet. Running it again is harmless: relinked rows are no
    longer below OLD, and the others are checked again."""
    olds, new = _relink_folders(old_prefix, new_prefix)
    for old in olds:
        rows = _rows_under(lib, old)
        if rows:
            break
    else:
        raise NotFound(_nothing_under(lib, olds[0], new))
    report = RelinkReport(old=old, new=new, verify=verify, dry_run=dry_run, matched=len(rows))
    batch: list[_Checked] = []
    last_write = time.monotonic()
    try:
        for row in rows:
            checked = _check_new_place(row, new + row.path[len(old) :], verify)
            if isinstance(checked, RelinkProblem):
                report.problems.append(checked)
                continue
            batch.append(checked)
            if len(batch) >= BATCH_FILES or time.monotonic() - last_write > BATCH_SECONDS:
                _write(lib, lambda b=batch: _relink_batch(lib, b, report), dry_run)
                batch, last_write = [], time.monotonic()
        if batch:
            _write(lib, lambda: _relink_batch(lib, batch, report), dry_run)
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted after relinking {report.relinked} files; they stay relinked, run "
            "the same command again to finish"
        ) from None
    return report


def _relink_folders(old_prefix: str, new_prefix: str) -> tuple[list[str], str]:
    """The forms OLD may be known by (absolute; also its real path when it still exists
    and differs) and NEW (absolute, symbolic links resolved as an import records paths),
    without trailing "/"; refuses pairs that make no sense."""
    if not old_prefix or not new_prefix:
        raise LunaError("give OLD_PREFIX and NEW_PREFIX, two folders")
    new_given = os.path.expanduser(new_prefix)
    if not os.path.exists(new_given):
        raise NotFound(f"no such folder: {for_humans(new_prefix)} (NEW_PREFIX must exist)")
    if not os.path.isdir(new_given):
        raise LunaError(f"not a folder: {for_humans(new_prefix)} (NEW_PREFIX must be a folder)")
    new = _real(new_given)
    olds = [_absolute(old_prefix)]
    if os.path.exists(olds[0]) and _real(olds[0]) != olds[0]:
        olds.append(_real(olds[0]))
    news = {new, _absolute(new_prefix)}
    if any(old in news for old in olds):
        raise LunaError(f"OLD_PREFIX and NEW_PREFIX are the same folder ({for_humans(new)})")
    if any(_inside(n, o) or _inside(o, n) for o in olds for n in news):
        raise LunaError(
            f"{for_humans(olds[0])} and {for_humans(new)} are inside one another; relink "
            "between two separate folders"
        )
    return olds, new


def _real(path: str) -> str:
    return os.path.realpath(path).rstrip("/") or "/"


def _absolute(path: str) -> str:
    return os.path.abspath(os.path.expanduser(path)).rstrip("/") or "/"


def _inside(path: str, folder: str) -> bool:
    """`path` is `folder` or below it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _rows_under(lib, old: str) -> list[_Row]:
    """Rows strictly below OLD (a row *at* OLD would be a file, not a folder's content)."""
    rows = [_Row(*row) for row in lib.store.files.below(old)]
    if old == "/":
        return rows
    rows = [r for r in rows if r.path.startswith(old + "/")]
    rows.sort(key=lambda r: os.fsencode(r.path))
    return rows


def _nothing_under(lib, old: str, new: str) -> str:
    message = f"no library files under {for_humans(old)}"
    already = lib.store.files.count_below(new)
    if already:
        message += (
            f" ({already} are under {for_humans(new)}: if they were relinked before, there is "
            "nothing left to do)"
        )
    return message


def _check_new_place(row: _Row, new_path: str, verify: bool) -> _Checked | RelinkProblem:
    def problem(reason: str, detail: str) -> RelinkProblem:
        return RelinkProblem(row.id, row.path, new_path, reason, detail)

    try:
        st = os.stat(new_path)
    except (FileNotFoundError, NotADirectoryError):
        return problem(NOT_FOUND, "no such file")
    except OSError as exc:
        return problem(UNREADABLE, exc.strerror or str(exc))
    if not stat.S_ISREG(st.st_mode):
        return problem(NOT_FOUND, "not a regular file")
    if st.st_size != row.size:
        return problem(SIZE_DIFFERS, f"{st.st_size:,} bytes there, {row.size:,} in the library")
    if verify:
        try:
            sha = sha256_of(new_path)
        except OSError as exc:
            return problem(UNREADABLE, exc.strerror or str(exc))
        if sha != row.sha:
            return problem(
                CONTENT_DIFFERS, f"SHA-256 {sha[:12]}... there, {row.sha[:12]}... in the library"
            )
    return _Checked(row, new_path, st.st_mtime_ns, verified=verify)


def _relink_batch(lib, batch: list[_Checked], report: RelinkReport) -> None:
    """Apply one batch, deciding inside the write transaction (another luna may have
    changed the rows since they were read)."""
    files = lib.store.files
    for item in batch:
        row = item.row
        if files.identity(row.id) != (row.path, row.size, row.sha):
            report.problems.append(
                RelinkProblem(row.id, row.path, item.new_path, CHANGED, "run the same relink again")
            )
            continue
        # The importer trusts an unchanged size and mtime and does not read the file again,
        # so the new mtime is recorded only when the content is known to be the row's: it
        # was hashed, or it kept its mtime (mv, a remount, rsync -a). Otherwise the next
        # import reads the file once and records what it finds, keeping the row's id.
        trusted = item.verified or item.mtime_ns == row.mtime_ns
        other = files.at_path(item.new_path)
        if other is not None:
            other_id, other_sha, other_size, other_mtime = other
            if (other_sha, other_size) != (row.sha, row.size):
                report.problems.append(
                    RelinkProblem(
                        row.id,
                        row.path,
                        item.new_path,
                        CONFLICT,
                        "with other content; both rows were left as they are",
                    )
                )
                continue
            # That row was made by importing the file where it is now, so its hash is as
            # fresh as its mtime.
            trusted = trusted or other_mtime == item.mtime_ns
            if not report.dry_run:
                merge_rows(lib.db, keep=row.id, drop=other_id)
            report.merged += 1
        report.relinked += 1
        if report.dry_run:
            continue
        files.relink(
            row.id, item.new_path, item.mtime_ns if trusted else None, verified=item.verified
        )


# -- pruning ---------------------------------------------------------------------------------


@dataclass
class PruneReport(Result):
    """What a prune removed (or, with dry_run, would remove), and what it left alone."""

    dry_run: bool = False
    files: list[dict] = field(default_factory=list)  # records, as missing_files gives them
    reappeared: list[dict] = field(default_factory=list)  # {id, path}: the path exists again
    not_missing: list[dict] = field(default_factory=list)  # {id, path}: named, but present
    # {id, path, reason}: marked missing, but only out of reach (no permission, an I/O
    # error, a disk not mounted): kept, since the file may well be there.
    unavailable: list[dict] = field(default_factory=list)

    @property
    def removed(self) -> int:
        return len(self.files)

    @property
    def ids(self) -> list[str]:
        return [f["id"] for f in self.files]

    def data(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "removed": self.removed,
            "files": self.files,
            "reappeared": self.reappeared,
            "not_missing": self.not_missing,
            "unavailable": self.unavailable,
        }


def prune(
    lib,
    file_ids: list[str] | None = None,
    *,
    dry_run: bool = False,
    accept_vanished: bool = False,
) -> PruneReport:
    """Remove from the library the rows of files marked missing: all of them, or those of
    `file_ids` (hex or dashed). Named files that are not missing are left alone and listed
    in `not_missing`; a missing file whose path exists again (a disk mounted again) is left
    alone and listed in `reappeared`; one only out of reach (see luna.files.presence) is left
    alone and listed in `unavailable` (`accept_vanished` takes an empty folder where the
    file's folder was at its word). Tags, albums and events themselves stay; only the
    files' links to them go, and the report lists them."""
    from luna.files.presence import Lookout

    report = PruneReport(dry_run=dry_run)
    lookout = Lookout(trust_empty_folders=accept_vanished)
    if file_ids is None:
        ids = lib.store.files.missing_ids()
    else:
        ids = list(dict.fromkeys(i.replace("-", "").lower() for i in file_ids))
    try:
        for chunk in chunks(ids):
            _write(lib, lambda c=chunk: _prune_batch(lib, c, report, lookout), dry_run)
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted after removing {report.removed} files from the library; run the "
            "same command again to finish"
        ) from None
    report.files.sort(key=lambda r: os.fsencode(r["path"]))
    return report


def _prune_batch(lib, ids: list[str], report: PruneReport, lookout) -> None:
    doomed = []
    for row in lib.store.files.summaries(ids):
        file_id, path = row[0], row[1]
        if row[6] is None:
            report.not_missing.append({"id": uuid_text(file_id), "path": path})
            continue
        found = lookout.presence(path)  # now, not when the file was marked missing
        if found.gone:
            doomed.append(row)
        elif found.state == "present":
            report.reappeared.append({"id": uuid_text(file_id), "path": path})
        else:
            report.unavailable.append(
                {"id": uuid_text(file_id), "path": path, "reason": found.reason}
            )
    records = _records(lib, doomed)
    if doomed and not report.dry_run:
        lib.store.files.forget_missing([row[0] for row in doomed])
    report.files += records


# -- shared ----------------------------------------------------------------------------------


def _write(lib, fn, dry_run: bool):
    return write_transaction(
        lib, fn, dry_run=dry_run,
        then="; what was written before stays, run the same command again once this is fixed",
    )  # fmt: skip
