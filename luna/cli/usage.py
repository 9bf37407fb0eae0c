"""Reading a command line beyond one option: the filters `luna find` and `luna organize`
share, and options that cannot go together (a usage error, never one silently winning
over the other). Each value itself is read by luna.values."""

from __future__ import annotations

from luna import values
from luna.errors import BadValue

# The filters of luna.search.query.Query, by field: the option that sets it, and how its
# value is read. Both commands that choose files this way read them alike.
FILTER_OPTIONS = {
    "after": ("--after", values.when),
    "before": ("--before", values.when),
    "on": ("--on", values.when),
    "near": ("--near", values.point),
    "bbox": ("--bbox", values.bbox),
    "place": ("--place", values.nonempty),
    "country": ("--country", values.nonempty),
    "tags": ("--tag", values.nonempty),
    "any_tags": ("--any-tag", values.nonempty),
    "not_tags": ("--not-tag", values.nonempty),
    "album": ("--album", values.nonempty),
    "event": ("--event", values.nonempty),
    "kinds": ("--kind", values.kind),
    "mime": ("--mime", values.nonempty),
    "camera": ("--camera", values.nonempty),
    "lens": ("--lens", values.nonempty),
    "iso": ("--iso", values.iso_range),
    "focal": ("--focal", values.focal_range),
    "aperture": ("--aperture", values.aperture_range),
    "rating": ("--rating", values.rating_range),
    "label": ("--label", values.label),
    "duration": ("--duration", values.duration_range),
    "date_source": ("--date-source", values.date_source),
    "location_source": ("--location-source", values.location_source),
    "text": ("--text", values.words),
    "name": ("--name", values.nonempty),
    "path": ("--path", values.nonempty),
    "min_size": ("--min-size", values.size),
    "max_size": ("--max-size", values.size),
    "sha": ("--sha", values.nonempty),
    "user": ("--owner", values.nonempty),
    "limit": ("--limit", values.count),
}
REPEATABLE = frozenset({"tags", "any_tags", "not_tags", "kinds"})


def read_filters(given: dict) -> dict:
    """Query fields from the filter options as typed: None when not given (a repeatable
    one, an empty list), else read by luna.values, which refuses a bad or empty value."""
    read = {}
    for field, text in given.items():
        option, parse = FILTER_OPTIONS[field]
        many = field in REPEATABLE
        read[field] = (
            values.each(parse, text, option) if many else values.optional(parse, text, option)
        )
    return read


def filter_query(lib, filters: dict):
    """The search (luna.search.query.Query) the filters read by read_filters ask for, as
    `lib`'s acting user sees albums; None when no filter was given."""
    if not any(filters.values()):
        return None
    from luna.search.query import Query

    acting = lib.acting_user() if filters.get("album") else None
    return Query(**filters, acting_user=acting)


def one_output_mode(chosen: dict[str, bool]) -> None:
    """Refuse two output options at once (`--json --csv`, `--paths --json`): the output
    options of a listing command with whether each was given."""
    given = [option for option, on in chosen.items() if on]
    if len(given) > 1:
        listed = ", ".join(given[:-1]) + " and " + given[-1]
        raise BadValue(f"{listed} cannot be used together: choose one output")
