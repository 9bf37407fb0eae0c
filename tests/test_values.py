"""One parser for what users type after an option (luna.values): each kind of value is read
the same way by every command, and the same mistake gets the same line and exit code 2,
never a traceback, an "internal error" or a filter quietly dropped."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from luna import values
from luna.cli.usage import one_output_mode
from luna.errors import BadValue, ExitStatus
from tests.conftest import make_photo

BIG = "99999999999999999999"  # past 2^63: SQLite and C ints overflow on it
MAX = values.MAX_INTEGER
DATE_FORMS = values.WHEN_FORMS
DURATION_FORMS = values.DURATION_FORMS


def refused(parse, text: str, *args) -> str:
    """The message `parse` refuses `text` with, checked to be one usage-error line."""
    with pytest.raises(BadValue) as caught:
        parse(text, *args)
    assert caught.value.exit_status == ExitStatus.USAGE
    message = str(caught.value)
    assert "\n" not in message
    return message


# -- the parts, from Python ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moment", "after"),
    [
        ("2019", dt.datetime(2019, 1, 1), dt.datetime(2020, 1, 1)),
        ("2019-06", dt.datetime(2019, 6, 1), dt.datetime(2019, 7, 1)),
        ("2019-12", dt.datetime(2019, 12, 1), dt.datetime(2020, 1, 1)),
        ("2019-6-1", dt.datetime(2019, 6, 1), dt.datetime(2019, 6, 2)),
        ("2019-06-01", dt.datetime(2019, 6, 1), dt.datetime(2019, 6, 2)),
        ("2019-06-01T14:00", dt.datetime(2019, 6, 1, 14), dt.datetime(2019, 6, 1, 14, 1)),
        (
            " 2019-06-01 14:00:05 ",
            dt.datetime(2019, 6, 1, 14, 0, 5),
            dt.datetime(2019, 6, 1, 14, 0, 6),
        ),
    ],
)
def test_a_date_names_a_span_to_its_precision(text, moment, after):
    when = values.when(text, "--after")
    assert (when.moment, when.after, when.utc_offset) == (moment, after, None)
    assert when.date_only == (len(text.strip()) <= 10)


@pytest.mark.parametrize(
    ("text", "offset"), [("Z", 0), ("+02:00", 120), ("-0500", -300), ("+14:00", 840)]
)
def test_a_time_keeps_the_utc_offset_it_was_given(text, offset):
    when = values.when(f"2019-06-01T14:00{text}", "--start")
    assert when.utc_offset == offset and when.moment == dt.datetime(2019, 6, 1, 14)


@pytest.mark.parametrize(
    "text",
    [
        "2019-13",
        "2019-02-30",
        "2019-06-01T25:00",
        "2019/06/01",
        "yesterday",
        "+02:00",
        "2019+02:00",
        "19-06-01",
        "9999-12-31",
    ],
)
def test_what_is_not_a_date(text):
    assert (
        refused(values.when, text, "--after")
        == f"--after: {text!r} is not a date (use {DATE_FORMS})"
    )


def test_an_impossible_offset_says_so():
    message = refused(values.when, "2019-06-01T10:00+15:30", "--start")
    assert (
        message
        == "--start: '2019-06-01T10:00+15:30' has an impossible UTC offset (use -14:00 to +14:00)"
    )


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("90s", dt.timedelta(seconds=90)),
        ("30m", dt.timedelta(minutes=30)),
        ("2h", dt.timedelta(hours=2)),
        ("1.5h", dt.timedelta(minutes=90)),
        ("30D", dt.timedelta(days=30)),
        (" 2 w ", dt.timedelta(weeks=2)),
        ("36500d", dt.timedelta(days=36500)),
    ],
)
def test_durations(text, length):
    assert values.duration(text, "--gap") == length


@pytest.mark.parametrize("text", ["5x", "30", "-1d", "d", "1h30m", "2 days"])
def test_what_is_not_a_duration(text):
    assert (
        refused(values.duration, text, "--gap")
        == f"--gap: {text!r} is not a duration (use {DURATION_FORMS})"
    )


@pytest.mark.parametrize("text", ["0m", "0.0h", "36501d", BIG + "d", "5300w"])
def test_a_duration_out_of_range(text):
    assert refused(values.duration, text, "--older-than") == (
        f"--older-than: {text!r} is out of range (use more than 0s, up to 36500d)"
    )


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("1024", 1024),
        ("500k", 500_000),
        ("2MB", 2_000_000),
        ("2MiB", 2 * 2**20),
        ("1.5GiB", int(1.5 * 2**30)),
        ("1 tb", 10**12),
        ("9007199254740993", 9007199254740993),  # exact, not rounded through a float
        (str(MAX), MAX),
    ],
)
def test_sizes(text, size):
    assert values.size(text, "--min-size") == size


@pytest.mark.parametrize("text", ["5x", "-1", "1e3", "2 MBs", "MB"])
def test_what_is_not_a_size(text):
    assert refused(values.size, text, "--min-size") == (
        f"--min-size: {text!r} is not a size (use 500k, 2MB, 1.5GiB or a number of bytes)"
    )


@pytest.mark.parametrize("text", [BIG, str(MAX + 1), "10000000TB"])
def test_a_size_past_what_sqlite_stores_is_out_of_range(text):
    assert refused(values.size, text, "--max-size") == (
        f"--max-size: {text!r} is out of range (use 0 to {MAX} bytes)"
    )


def test_counts_and_their_ranges():
    assert values.count("0", "--offset") == 0
    assert values.count(" 7 ", "--limit", low=1) == 7
    assert values.count(str(MAX), "--offset") == MAX
    assert values.count("32", "--threshold", high=32) == 32
    assert (
        refused(values.count, "1e20", "--offset")
        == f"--offset: '1e20' is not a whole number (use 0 to {MAX})"
    )
    assert (
        refused(values.count, "2.5", "--limit")
        == f"--limit: '2.5' is not a whole number (use 0 to {MAX})"
    )
    assert (
        refused(values.count, BIG, "--offset")
        == f"--offset: {BIG!r} is out of range (use 0 to {MAX})"
    )
    assert (
        refused(values.count, "-1", "--limit") == f"--limit: '-1' is out of range (use 0 to {MAX})"
    )
    assert (
        refused(values.count, "0", "--limit", 1) == f"--limit: '0' is out of range (use 1 to {MAX})"
    )
    assert (
        refused(values.count, "33", "--threshold", 0, 32)
        == "--threshold: '33' is out of range (use 0 to 32)"
    )


def test_numbers_and_their_ranges():
    assert values.number("60", "--timeout", 1, 86400) == 60.0
    assert values.number("1.5", "--timeout", 1, 86400) == 1.5
    assert values.number("1e3", "--timeout", 1, 86400) == 1000.0
    for text in ("1e308", "inf", "0.5", "-1"):
        assert refused(values.number, text, "--timeout", 1, 86400) == (
            f"--timeout: {text!r} is out of range (use 1 to 86400)"
        )
    for text in ("x", "nan", "1,5"):
        assert refused(values.number, text, "--timeout", 1, 86400) == (
            f"--timeout: {text!r} is not a number (use 1 to 86400)"
        )


def test_kinds():
    assert [values.kind(k) for k in ("photo", "video", "sidecar")] == ["photo", "video", "sidecar"]
    assert (
        refused(values.kind, "photos")
        == "--kind: 'photos' is not a kind (use photo, video or sidecar)"
    )


@pytest.mark.parametrize(
    ("parse", "args"),
    [
        (values.nonempty, ()),
        (values.kind, ()),
        (values.count, ()),
        (values.when, ()),
        (values.duration, ()),
        (values.size, ()),
        (values.point, ()),
        (values.bbox, ()),
        (values.distance, ()),
        (values.number, (1, 10)),
    ],
)
@pytest.mark.parametrize("text", ["", "  "])
def test_an_empty_value_is_refused_by_every_parser(parse, args, text):
    assert refused(parse, text, "--x", *args) == "--x: empty value"


def test_one_output_mode():
    one_output_mode({"--json": True, "--csv": False})
    one_output_mode({"--json": False, "--csv": False})
    with pytest.raises(
        BadValue, match=r"^--json and --csv cannot be used together: choose one output$"
    ):
        one_output_mode({"--paths": False, "--json": True, "--csv": True})
    with pytest.raises(BadValue, match=r"^--paths, --json and --csv cannot be used together"):
        one_output_mode({"--paths": True, "--json": True, "--csv": True})


# -- the same mistake, every command ---------------------------------------------------------


@pytest.fixture(scope="module")
def library(tmp_path_factory, _server_for_libraries):
    """A library with one photo, so that each command gets as far as it can: a file, or a
    library on the test server."""
    from luna.library import Library
    from luna.locations import library_location

    folder = tmp_path_factory.mktemp("values")
    make_photo(folder / "photos" / "IMG_1.jpg")
    server = _server_for_libraries
    path = folder / "library.db" if server is None else library_location(server.new_library())
    with Library.open(path) as lib:
        lib.import_paths([str(folder / "photos")])
    return path


def luna(library, *args) -> subprocess.CompletedProcess:
    """`python -m luna`, as a user runs it: an escaping exception would show here as the
    "internal error" line, which an in-process run would not print."""
    return subprocess.run(
        [sys.executable, "-m", "luna", "-L", str(library), *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def same_answer(library, commands, expected: str) -> None:
    """Each command line gets exactly `expected` (with its option's name) on stderr, exit 2,
    and nothing on stdout."""
    for args, option in commands:
        done = luna(library, *args)
        where = " ".join(args)
        assert done.returncode == 2, f"{where}: exit {done.returncode}: {done.stderr}"
        assert done.stdout == "", where
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr, where
        assert done.stderr == f"Error: {expected.format(option=option)}\n", where


def _dates(value):
    return [
        (["find", "--after", value], "--after"),
        (["find", "--before", value], "--before"),
        (["find", "--on", value], "--on"),
        (["organize", "--into", "/nonexistent", "--after", value], "--after"),
        (["event", "create", "Trip", "--start", value], "--start"),
        (["event", "create", "Trip", "--start", "2019-06-01", "--end", value], "--end"),
    ]


@pytest.mark.parametrize("value", ["2019-13", "2019-13-01", "2019-02-30", "yesterday"])
def test_a_bad_date_gets_one_answer_everywhere(library, value):
    same_answer(library, _dates(value), f"{{option}}: {value!r} is not a date (use {DATE_FORMS})")


def _durations(value):
    return [
        (["verify", "--older-than", value], "--older-than"),
        (["event", "detect", "--gap", value], "--gap"),
    ]


@pytest.mark.parametrize("value", ["5x", "30", "-1d"])
def test_a_bad_duration_gets_one_answer_everywhere(library, value):
    same_answer(
        library,
        _durations(value),
        f"{{option}}: {value!r} is not a duration (use {DURATION_FORMS})",
    )


@pytest.mark.parametrize("value", ["0m", BIG + "d"])
def test_a_duration_out_of_range_gets_one_answer_everywhere(library, value):
    same_answer(
        library,
        _durations(value),
        f"{{option}}: {value!r} is out of range (use more than 0s, up to 36500d)",
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("5x", "is not a size (use 500k, 2MB, 1.5GiB or a number of bytes)"),
        (BIG, f"is out of range (use 0 to {MAX} bytes)"),
    ],
)
def test_a_bad_size_gets_one_answer_everywhere(library, value, problem):
    commands = [
        (["find", "--min-size", value], "--min-size"),
        (["find", "--max-size", value], "--max-size"),
    ]
    same_answer(library, commands, f"{{option}}: {value!r} {problem}")


# (command line before the value, option, lowest, highest)
COUNTS = [
    (["find", "--limit"], "--limit", 0, MAX),
    (["find", "--offset"], "--offset", 0, MAX),
    (["verify", "--limit"], "--limit", 1, MAX),
    (["event", "detect", "--min-files"], "--min-files", 1, MAX),
    (["import", "--jobs"], "--jobs", 0, 1024),
    (["dupes", "--similar", "--threshold"], "--threshold", 0, 32),
]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1e20", "is not a whole number"),
        ("5x", "is not a whole number"),
        (BIG, "is out of range"),
        ("-1", "is out of range"),
    ],
)
@pytest.mark.parametrize(("before", "option", "low", "high"), COUNTS)
def test_a_bad_count_gets_one_answer_everywhere(
    library, tmp_path, before, option, low, high, value, problem
):
    args = [*before, value] + ([str(tmp_path)] if before[0] == "import" else [])
    same_answer(library, [(args, option)], f"{{option}}: {value!r} {problem} (use {low} to {high})")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1e308", "is out of range"),
        ("inf", "is out of range"),
        ("0", "is out of range"),
        ("x", "is not a number"),
    ],
)
def test_a_bad_timeout_is_a_usage_error(library, tmp_path, value, problem):
    same_answer(
        library,
        [(["import", str(tmp_path), "--timeout", value], "--timeout")],
        f"{{option}}: {value!r} {problem} (use 1 to 86400)",
    )


EMPTY_FILTERS = [
    "--after", "--before", "--on", "--near", "--bbox", "--tag", "--any-tag", "--not-tag",
    "--album", "--event", "--kind", "--mime", "--camera", "--name", "--path", "--min-size",
    "--max-size", "--sha", "--owner", "--sort", "--limit", "--offset", "--format",
]  # fmt: skip


def test_an_empty_value_is_a_usage_error_everywhere(library, tmp_path):
    commands = [(["find", option, ""], option) for option in EMPTY_FILTERS]
    commands += [
        (["find", "--near", "1,1", "--radius", ""], "--radius"),
        (["organize", "--into", "/nonexistent", "--tag", ""], "--tag"),
        (["organize", "--into", "/nonexistent", "--album", " "], "--album"),
        (["verify", "--older-than", ""], "--older-than"),
        (["verify", "--limit", ""], "--limit"),
        (["event", "detect", "--gap", ""], "--gap"),
        (["event", "create", "Trip", "--start", ""], "--start"),
        (["import", str(tmp_path), "--timeout", ""], "--timeout"),
        (["import", str(tmp_path), "--owner", ""], "--owner"),
        (["import", str(tmp_path), "--exclude", ""], "--exclude"),
        (["album", "list", "--as", ""], "--as"),
        (["dupes", "--keep", ""], "--keep"),
        (["dupes", "--merge-metadata", "--as", ""], "--as"),
    ]
    same_answer(library, commands, "{option}: empty value")


def test_an_empty_folder_is_an_empty_path_as_for_every_path_option(library):
    expected = "{option}: an empty path was given (an unset variable?)"
    same_answer(library, [(["missing", "--under", ""], "--under")], expected)


def test_radius_without_near_is_a_usage_error(library):
    same_answer(library, [(["find", "--radius", "2km"], None)], "--radius needs --near")
    same_answer(
        library, [(["find", "--bbox", "0,0,1,1", "--radius", "2km"], None)], "--radius needs --near"
    )


@pytest.mark.parametrize(
    ("args", "conflict"),
    [
        (["find", "--json", "--csv"], "--json and --csv"),
        (["find", "--paths", "--json"], "--paths and --json"),
        (["find", "-0", "--jsonl"], "--print0 and --jsonl"),
        (["find", "--geojson", "--format", "{path}"], "--geojson and --format"),
        (["find", "--count", "--csv"], "--count and --csv"),
        (["find", "--count", "--paths"], "--count and --paths"),
        (["missing", "--json", "--csv"], "--json and --csv"),
        (["missing", "--paths", "-0"], "--paths and --print0"),
        (["dupes", "--jsonl", "--csv"], "--jsonl and --csv"),
        (["dupes", "--extras", "--json"], "--extras and --json"),
        (["tag", "list", "--json", "--jsonl"], "--json and --jsonl"),
        (["album", "list", "--json", "--csv"], "--json and --csv"),
        (["event", "list", "--jsonl", "--csv"], "--jsonl and --csv"),
        (["event", "show", "Trip", "--json", "--csv"], "--json and --csv"),
        (["event", "detect", "--json", "--csv", "--dry-run"], "--json and --csv"),
        (["show", "--json", "--jsonl", "IMG_1.jpg"], "--json and --jsonl"),
    ],
)
def test_two_outputs_at_once_are_a_usage_error(library, args, conflict):
    same_answer(library, [(args, None)], f"{conflict} cannot be used together: choose one output")


def test_count_with_json_is_a_versioned_document(library):
    done = luna(library, "find", "--count", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"version": 1, "count": 1}
    plain = luna(library, "find", "--count")
    assert plain.stdout == "1\n"


def test_a_month_names_a_whole_event(tmp_path):
    """The dates find takes are the dates events take: a month alone is all of it."""
    from luna.library import Library

    Library.open(tmp_path / "events.db").close()
    done = luna(tmp_path / "events.db", "event", "create", "June", "--start", "2019-06", "--json")
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)
    assert (row["start"], row["end"]) == ("2019-06-01T00:00:00", "2019-06-30T23:59:59")
