"""How luna writes times: UTC row timestamps with a Z, taken-at times with their offset."""

from __future__ import annotations

import datetime as dt


def iso_utc(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def iso_local(value: dt.datetime | None, offset_minutes: int | None) -> str | None:
    """Wall-clock time, with its zone when known (`2019-06-01T12:00:00+02:00`)."""
    if value is None:
        return None
    if isinstance(value, str):  # peewee returns text it cannot parse as-is
        return value
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return with_offset(text, offset_minutes)


def with_offset(text: str, offset_minutes: int | None) -> str:
    """A wall-clock time's text, with its zone when known: `...T12:00:00+02:00`."""
    if offset_minutes is None:
        return text
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"
