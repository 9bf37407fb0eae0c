"""The one codec between a file row's Python values and what the `file` table stores, used
by the importer's writes (luna.store.writes) and the bulk insert (luna.store.bulk) alike.

A row is a dict keyed by ROW_COLUMNS: paths as `str` (luna.fsnames turns a name that is not
UTF-8 into a BLOB), dates as naive datetimes (local wall-clock time for start/end, UTC for
the row timestamps), metadata as dicts, the owner as a user id. What is stored is what
peewee's fields store, so rows written either way, or by the models, read alike.
"""

from __future__ import annotations

import datetime as dt
import json

from luna.fsnames import to_db
from luna.store.dialect import json_field

# How a file's date was found ("exif", "filename", "file:mtime"...), kept in its JSON.
DATE_SOURCE = json_field("processor_metadata", "date_source")

# The columns an import writes, in one fixed order.
ROW_COLUMNS = (
    "path",
    "filename",
    "kind",
    "mime_type",
    "size_bytes",
    "mtime_ns",
    "content_sha",
    "start",
    "end",
    "utc_offset",
    "latitude",
    "longitude",
    "altitude",
    "width",
    "height",
    "metadata",
    "processor_metadata",
    "owner",
    "missing_since",
    "modified",
    "verified_at",  # reading a file to import it checks it: its hash is fresh
)
# As named in the table (owner -> owner_id), for statements.
ROW_COLUMN_NAMES = tuple("owner_id" if c == "owner" else c for c in ROW_COLUMNS)

# One encoder made once: json.dumps with options builds a new one on every call.
encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def file_values(row: dict) -> list:
    """The stored values of ROW_COLUMNS for `row`, in that order."""
    return [
        to_db(row["path"]),
        to_db(row["filename"]),
        row["kind"],
        row["mime_type"] or "",
        int(row["size_bytes"] or 0),
        int(row["mtime_ns"] or 0),
        row["content_sha"] or "",
        time_text(row["start"]),
        time_text(row["end"]),
        _int(row["utc_offset"]),
        _float(row["latitude"]),
        _float(row["longitude"]),
        _float(row["altitude"]),
        _int(row["width"]),
        _int(row["height"]),
        json_text(row["metadata"]),
        json_text(row["processor_metadata"]),
        row["owner"],
        time_text(row["missing_since"]),
        time_text(row["modified"]),
        time_text(row["verified_at"]),
    ]


def time_text(value: dt.datetime | None) -> str | None:
    """A naive datetime as stored: what sqlite3's adapter makes of the datetimes peewee's
    DateTimeField hands it, so that SQL text comparisons order every row alike."""
    return None if value is None else value.isoformat(sep=" ")


def time_value(text: str | None) -> dt.datetime | None:
    """A stored time back as a naive datetime (what time_text wrote, or peewee)."""
    return None if text is None else dt.datetime.fromisoformat(text)


def json_text(value) -> str | None:
    """The stored JSON of a dict; a str is JSON already encoded (by an import's worker)."""
    if value is None or isinstance(value, str):
        return value
    return encode_json(value)


def _int(value) -> int | None:
    return None if value is None else int(value)


def _float(value) -> float | None:
    return None if value is None else float(value)


def as_dict(value) -> dict:
    """A JSON column's value, as the importer hands it (encoded text) or as a dict."""
    if isinstance(value, dict):
        return dict(value)
    try:
        decoded = json.loads(value) if value else {}
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def end_after(start: dt.datetime | None, metadata) -> dt.datetime | None:
    """A video's end, its duration (metadata's duration_s) after `start`; None for a photo
    or a video that does not say its duration."""
    seconds = as_dict(metadata).get("duration_s")
    if start is None or isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    if not seconds > 0:
        return None
    try:
        return start + dt.timedelta(seconds=seconds)
    except OverflowError:
        return None
