"""`luna doctor`: is the library sound, and did a crash leave anything behind?

Opening the library for writing already finishes or rolls back interrupted copies and
moves (luna.ops.transfer.recover); the doctor reports what that did, what it could not do,
partial copies no journal entry accounts for, and SQLite's own integrity check. While
another luna is copying or moving files, its journal rows and partial copies are its work
in progress: the doctor says so and judges none of them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from luna.errors import ExitStatus
from luna.files.place import TEMP_PREFIX
from luna.ops.transfer import alone
from luna.results import Result
from luna.store.db import integrity
from luna.store.transfers import Journal


@dataclass
class Checkup(Result):
    recovered: list[dict] = field(default_factory=list)  # what opening the library did
    pending: list[dict] = field(default_factory=list)  # journal entries still unresolved
    # Another luna is copying or moving files right now: its journal entries and partial
    # copies are its work in progress, so none of them is judged (or cleaned) this time.
    others_transferring: bool = False
    in_progress: list[dict] = field(default_factory=list)
    stray_partials: list[str] = field(default_factory=list)  # .luna-partial-* files
    removed_partials: list[str] = field(default_factory=list)
    integrity: str = "ok"

    @property
    def healthy(self) -> bool:
        return not (self.pending or self.stray_partials) and self.integrity == "ok"

    @property
    def exit_status(self) -> ExitStatus:
        return ExitStatus.OK if self.healthy else ExitStatus.PARTIAL

    def data(self) -> dict:
        return {
            "healthy": self.healthy,
            "integrity": self.integrity,
            "recovered": self.recovered,
            "pending": self.pending,
            "others_transferring": self.others_transferring,
            "in_progress": self.in_progress,
            "stray_partials": self.stray_partials,
            "removed_partials": self.removed_partials,
        }


def checkup(library, *, folder: str | None = None, clean: bool = False) -> Checkup:
    """Look the library (and its library folder, when there is one) over."""
    result = Checkup()
    result.recovered = [_entry_dict(r.entry, r.outcome, r.detail) for r in library.recovered]
    journal = Journal(library.db)
    with alone(library) as no_other_luna_is_transferring:
        pending = journal.pending()
        if not no_other_luna_is_transferring:
            result.others_transferring = True
            result.in_progress = [_entry_dict(e, "in progress", "") for e in pending]
        else:
            result.pending = [_entry_dict(e, "pending", "") for e in pending]
            if folder and os.path.isdir(folder):
                _look_for_partials(result, folder, {e.temporary for e in pending}, clean)
    result.integrity = integrity(library.db)
    return result


def _look_for_partials(result: Checkup, folder: str, in_use: set[str], clean: bool) -> None:
    for path in _partials(folder):
        if path in in_use:
            continue
        if clean:
            os.unlink(path)
            result.removed_partials.append(path)
        else:
            result.stray_partials.append(path)


def _partials(folder: str):
    """luna's temporary copies: hidden files named .luna-partial-*, which only luna makes."""
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            if name.startswith(TEMP_PREFIX):
                yield os.path.join(dirpath, name)


def _entry_dict(entry, outcome: str, detail: str) -> dict:
    return {
        "operation": entry.operation,
        "source": entry.source,
        "destination": entry.destination,
        "state": entry.state,
        "outcome": outcome,
        "detail": detail,
    }
