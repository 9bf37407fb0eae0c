"""Stars, colour labels, picks and rejects, titles and descriptions given in luna.

Each is kept apart from what the file itself says (luna.store.marks), and wins over it:
`luna rate 0` on a photo whose XMP says 3 stars makes it unrated in luna, and the file
is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from luna.errors import BadValue
from luna.results import Result
from luna.store.sql import write_transaction
from luna.values import LABELS

FLAGS = {"pick": 1, "reject": -1, None: 0}  # stored values; 0 is "said: neither"
FLAG_NAMES = {1: "pick", -1: "reject"}
MAX_TEXT = 10_000  # characters of a title or description


@dataclass
class MarkChange(Result):
    """What rate, label, pick, reject, unflag or describe did (or would do)."""

    mark: str  # rating, label, flag, title, description
    value: object  # as stored: 4, "red", "pick", "Harbour at dawn"; None for none
    changed: int  # files that did not have it
    unchanged: int  # files that had it already
    files: int  # photos and videos among the files named (sidecars are not marked)
    dry_run: bool = False
    skipped: list[str] = field(default_factory=list)  # FILEs not in the library


def rating_value(stars) -> int:
    """0-5 stars (0: unrated)."""
    if isinstance(stars, bool) or not isinstance(stars, int) or not 0 <= stars <= 5:
        raise BadValue(f"rating: {stars!r} is not a number of stars from 0 to 5")
    return stars


def label_value(colour: str | None) -> str:
    """A colour of LABELS, or '' for none ("none" or None)."""
    if colour is None or colour.strip().lower() == "none":
        return ""
    name = colour.strip().lower()
    if name not in LABELS:
        raise BadValue(f"label: {colour!r} is not one of {', '.join(LABELS)}, none")
    return name


def text_value(text: str | None, what: str) -> str:
    """A title or description: '' clears it."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise BadValue(f"{what}: longer than {MAX_TEXT:,} characters")
    return text


def set_mark(lib, column: str, value, file_ids: list[str], *, dry_run: bool = False):
    """Give the files `value` in `column` (luna.store.marks), in one transaction."""
    changed, media = write_transaction(
        lib,
        lambda: lib.store.marks.set(column, value, file_ids, dry_run=dry_run),
        then="nothing was changed",
        dry_run=dry_run,
    )
    if changed and not dry_run:
        lib.sidecars.note_changed(file_ids)
    shown = FLAG_NAMES.get(value) if column == "flag" else value
    return MarkChange(
        column, shown if shown != "" else None, changed, media - changed, media, dry_run
    )
