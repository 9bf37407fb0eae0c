"""`luna doctor`: is the library sound, and did a crash leave anything behind?

Opening the library for writing already finishes or rolls back interrupted copies and
moves (luna.transfer.recover); the doctor reports what that did, what it could not do,
partial copies no journal entry accounts for, and SQLite's own integrity check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from luna.transfer import TEMP_PREFIX, Journal


@dataclass
class Checkup:
    recovered: list[dict] = field(default_factory=list)  # what opening the library did
    pending: list[dict] = field(default_factory=list)  # journal entries still unresolved
    stray_partials: list[str] = field(default_factory=list)  # .luna-partial-* files
    removed_partials: list[str] = field(default_factory=list)
    integrity: str = "ok"

    @property
    def healthy(self) -> bool:
        return not (self.pending or self.stray_partials) and self.integrity == "ok"

    def to_json(self) -> dict:
        return {
            "version": 1,
            "healthy": self.healthy,
            "integrity": self.integrity,
            "recovered": self.recovered,
            "pending": self.pending,
            "stray_partials": self.stray_partials,
            "removed_partials": self.removed_partials,
        }


def checkup(library, *, folder: str | None = None, clean: bool = False) -> Checkup:
    """Look the library (and its library folder, when there is one) over."""
    result = Checkup()
    result.recovered = [_entry_dict(r.entry, r.outcome, r.detail) for r in library.recovered]
    journal = Journal(library.db)
    pending = journal.pending()
    result.pending = [_entry_dict(e, "pending", "") for e in pending]
    if folder and os.path.isdir(folder):
        in_use = {e.temporary for e in pending}
        for path in _partials(folder):
            if path in in_use:
                continue
            if clean:
                os.unlink(path)
                result.removed_partials.append(path)
            else:
                result.stray_partials.append(path)
    rows = library.db.execute_sql("PRAGMA quick_check").fetchall()
    result.integrity = "; ".join(r[0] for r in rows)
    return result


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
