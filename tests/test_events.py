"""`luna event`: creating events, filling them by hand or by time, and finding them in the
time line. Every check reads the --json listings, so they are what a script would see."""

from __future__ import annotations

import datetime as dt
import json
import os
import struct

import pytest
from conftest import make_photo, run_cli

from luna.ops.events import EVENT_KEYS, FILE_KEYS, covered_range
from luna.values import duration, when

# -- a library with a time line ------------------------------------------------------------

PARIS = [  # (file, EXIF time, IPTC city): two days, nights under 12 hours apart
    ("paris1.jpg", "2019:06:01 09:00:00", "Paris"),
    ("paris2.jpg", "2019:06:01 12:00:00", "Paris"),
    ("paris3.jpg", "2019:06:01 20:00:00", "Versailles"),
    ("paris4.jpg", "2019:06:02 07:00:00", "Paris"),
    ("paris5.jpg", "2019:06:02 10:00:00", None),
    ("paris6.jpg", "2019:06:02 15:00:00", "Paris"),
]
LONE = [("lone1.jpg", "2019:06:10 12:00:00"), ("lone2.jpg", "2019:06:20 12:00:00")]
JULY = [(f"july{i}.jpg", f"2019:07:05 {10 + i // 2}:{30 * (i % 2):02d}:00") for i in range(6)]


def _iptc_city(city: str) -> bytes:
    """An APP13 segment with IPTC 2:90 City (UTF-8), which luna stores as metadata.city."""
    data = city.encode("utf-8")
    records = b"\x1c\x01\x5a\x00\x03\x1b\x25\x47"  # 1:90 coded character set = UTF-8
    records += b"\x1c\x02\x5a" + struct.pack(">H", len(data)) + data
    if len(records) % 2:
        records += b"\x00"
    irb = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(records))
    payload = b"Photoshop 3.0\x00" + irb + records
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def photo(path, taken, *, offset=None, city=None, shade=0):
    make_photo(path, taken=taken, offset=offset, color=(shade % 256, shade // 256, 90))
    if city:
        data = path.read_bytes()
        path.write_bytes(data[:2] + _iptc_city(city) + data[2:])
    return path


@pytest.fixture
def timeline(photos, cli):
    """Six photos in Paris (+02:00) over two days, two lone ones, six on 2019-07-05 of
    which one has since vanished, and one dated only by its mtime (on 2019-06-01 11:00)."""
    shade = 0
    for name, taken, city in PARIS:
        shade += 1
        photo(photos / name, taken, offset="+02:00", city=city, shade=shade)
    for name, taken in LONE + JULY:
        shade += 1
        photo(photos / name, taken, shade=shade)
    undated = photo(photos / "scan.jpg", None, shade=999)
    when = dt.datetime(2019, 6, 1, 11, 0).timestamp()
    os.utime(undated, (when, when))
    code, _, err = cli("import", "-q", photos)
    assert code == 0, err
    (photos / "july5.jpg").unlink()
    code, _, err = cli("import", "-q", photos)
    assert code == 0, err
    return photos


def events(cli_json) -> dict[str, dict]:
    code, listed, err = cli_json("event", "list")
    assert code == 0, err
    assert list(listed) == ["version", "count", "events"]
    rows = listed["events"]
    for row in rows:
        assert list(row) == EVENT_KEYS
    return {row["name"]: row for row in rows}


def detect(cli_json, *args) -> tuple[int, list[dict], str]:
    """`event detect --json`: the events made (or, with --dry-run, that would be)."""
    code, document, err = cli_json("event", "detect", *args)
    assert list(document) == ["version", "count", "events"]
    return code, document["events"], err


def files_of(cli_json, name) -> list[str]:
    code, event, err = cli_json("event", "show", name)
    assert code == 0, err
    for f in event["files"]:
        assert list(f) == FILE_KEYS
    return [f["filename"] for f in event["files"]]


def ok(*args, input=None) -> str:
    code, out, err = run_cli("event", *args, input=input)
    assert code == 0, err
    return err.strip()


# -- create ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # A date alone is a whole day, as a start without an end or as an end.
        ("2019-06-01", None, ("2019-06-01T00:00:00", "2019-06-01T23:59:59", None)),
        ("2019-06-01T14:00", None, ("2019-06-01T14:00:00", None, None)),
        ("2019-06-01 14:00:00", "2019-06-03", ("2019-06-01T14:00:00", "2019-06-03T23:59:59", None)),
        (
            "2019-06-01T14:00+02:00",
            "2019-06-01T18:30:15+02:00",
            ("2019-06-01T14:00:00+02:00", "2019-06-01T18:30:15+02:00", 120),
        ),
        ("2019-06-01T14:00Z", None, ("2019-06-01T14:00:00+00:00", None, 0)),
        (
            "2019-06-01T09:15:30",
            "2019-06-02 -0500",
            ("2019-06-01T09:15:30-05:00", "2019-06-02T23:59:59-05:00", -300),
        ),
    ],
)
def test_create_reads_every_form_of_when(timeline, cli, cli_json, start, end, expected):
    args = ["event", "create", "Trip", "--start", start] + (["--end", end] if end else [])
    code, row, err = cli_json(*args)
    assert code == 0, err
    assert row.pop("version") == 1
    assert "created event Trip" in err
    assert (row["start"], row["end"], row["utc_offset"]) == expected
    assert events(cli_json) == {"Trip": row}
    assert row["slug"] == "trip" and row["files"] == 0 and row["description"] == ""


def test_create_with_a_description_and_list_every_format(timeline, cli, cli_json):
    ok("create", "Paris trip", "-s", "2019-06-01", "-e", "2019-06-02", "-d", "Summer")
    ok("create", "Birthday", "--start", "2019-05-20T18:00")
    listed = events(cli_json)
    assert list(listed) == ["Birthday", "Paris trip"]  # earliest first
    assert listed["Paris trip"]["description"] == "Summer"
    code, out, _ = cli("event", "list", "--jsonl")
    assert [json.loads(line)["name"] for line in out.splitlines()] == ["Birthday", "Paris trip"]
    code, out, _ = cli("event", "list", "--csv")
    assert out.splitlines()[0] == ",".join(EVENT_KEYS)
    assert out.splitlines()[2].startswith("Paris trip,paris-trip,2019-06-01T00:00:00,")
    code, out, _ = cli("event", "list")
    assert code == 0 and "Birthday" in out


@pytest.mark.parametrize(
    "when", ["yesterday", "2019-13-01", "2019-02-30", "2019-06-01T25:00", "2019/06/01", "+02:00"]
)
def test_a_bad_when_is_one_clear_line(timeline, cli, cli_json, when):
    code, out, err = cli("event", "create", "Trip", "--start", when)
    assert code == 2 and out == ""  # a usage error, as a bad --after is to find
    assert err.startswith(f"Error: --start: {when!r} is not a date (use 2019, 2019-06, ")
    assert "2019-06-01T14:00" in err and "+02:00" in err
    assert len(err.strip().splitlines()) == 1
    assert events(cli_json) == {}


def test_end_before_start_and_two_zones_are_errors(timeline, cli, cli_json):
    code, _, err = cli("event", "create", "Trip", "--start", "2019-06-02", "--end", "2019-06-01")
    assert code == 1 and err.strip() == "Error: end 2019-06-01 is before start 2019-06-02"
    code, _, err = cli(
        "event", "create", "Trip", "-s", "2019-06-01T10:00+02:00", "-e", "2019-06-01T12:00Z"
    )
    assert code == 1 and "different UTC offsets" in err
    code, _, err = cli("event", "create", "Trip", "-s", "2019-06-01T10:00+15:30")
    assert code == 2 and "impossible UTC offset" in err
    assert events(cli_json) == {}


def test_a_name_whose_slug_exists_is_an_error_naming_it(timeline, cli, cli_json):
    ok("create", "Paris trip", "--start", "2019-06-01")
    code, _, err = cli("event", "create", "  paris TRIP! ", "--start", "2020-01-01")
    assert code == 1
    assert "an event named 'Paris trip' already exists (slug 'paris-trip')" in err
    code, _, err = cli("event", "create", " ", "--start", "2020-01-01")
    assert code == 1 and "event name is empty" in err
    assert list(events(cli_json)) == ["Paris trip"]


# -- attach ----------------------------------------------------------------------------------


def test_attach_takes_exactly_the_files_in_the_span(timeline, cli, cli_json):
    ok("create", "Day one", "--start", "2019-06-01T10:00", "--end", "2019-06-01T20:00")
    # Dry run first: says what it would do, changes nothing.
    assert ok("attach", "day one", "--dry-run").startswith("would attach 2 files to Day one")
    assert events(cli_json)["Day one"]["files"] == 0
    # 12:00 and 20:00 (the end's second is in), not 09:00, nor the scan dated by its mtime.
    assert ok("attach", "Day one") == (
        "attached 2 files to Day one (1 left out: dated only by their file's mtime)"
    )
    assert files_of(cli_json, "Day one") == ["paris2.jpg", "paris3.jpg"]
    assert ok("attach", "Day one").startswith("attached 0 files to Day one (2 already in it")
    assert events(cli_json)["Day one"]["files"] == 2


def test_attach_compares_wall_clock_times_whatever_the_zone(timeline, cli, cli_json):
    # The photos say +02:00; the event was typed as New York time. 12:00 is 12:00.
    ok("create", "Noon", "-s", "2019-06-01T11:00-04:00", "-e", "2019-06-01T13:00-04:00")
    ok("attach", "Noon")
    assert files_of(cli_json, "Noon") == ["paris2.jpg"]


def test_a_point_event_covers_its_minute_and_a_date_its_day(timeline, cli, cli_json):
    ok("create", "Lunch", "--start", "2019-06-01T12:00:30")
    ok("attach", "Lunch")
    assert files_of(cli_json, "Lunch") == ["paris2.jpg"]
    ok("create", "Sunday", "--start", "2019-06-02")
    ok("attach", "Sunday")
    assert files_of(cli_json, "Sunday") == ["paris4.jpg", "paris5.jpg", "paris6.jpg"]
    ok("create", "Quiet", "--start", "2019-06-01T12:01")
    assert ok("attach", "Quiet") == "attached 0 files to Quiet"


# -- add, remove, show ------------------------------------------------------------------------


def test_add_and_remove_by_path_stdin_and_nul(timeline, cli, cli_json):
    p = timeline
    ok("create", "Mix", "--start", "2019-06-01")
    assert ok("add", "Mix", p / "july0.jpg") == "added 1 file to Mix"
    assert ok("add", "Mix", "-", input=f"{p / 'lone1.jpg'}\n{p / 'july0.jpg'}\n") == (
        "added 1 file to Mix (1 already in it)"
    )
    assert ok("add", "Mix", "-z", "-", input=f"{p / 'paris1.jpg'}\0{p / 'lone2.jpg'}\0") == (
        "added 2 files to Mix"
    )
    # In the order taken, not the order added.
    assert files_of(cli_json, "Mix") == ["paris1.jpg", "lone1.jpg", "lone2.jpg", "july0.jpg"]
    assert ok("remove", "Mix", "--dry-run", p / "lone1.jpg") == "would remove 1 file from Mix"
    assert len(files_of(cli_json, "Mix")) == 4
    assert ok("remove", "Mix", "-z", "-", input=f"{p / 'lone1.jpg'}\0{p / 'paris2.jpg'}\0") == (
        "removed 1 file from Mix (1 were not in it)"
    )
    assert files_of(cli_json, "Mix") == ["paris1.jpg", "lone2.jpg", "july0.jpg"]
    assert ok("add", "Mix", "-n", p / "paris2.jpg") == "would add 1 file to Mix"
    assert events(cli_json)["Mix"]["files"] == 3


def test_add_is_all_or_nothing_and_leaves_sidecars_out(timeline, cli, cli_json, tmp_path):
    p = timeline
    ok("create", "Mix", "--start", "2019-06-01")
    code, _, err = cli("event", "add", "Mix", p / "paris1.jpg", tmp_path / "nope.jpg")
    assert code == 1 and "nothing was changed" in err
    assert events(cli_json)["Mix"]["files"] == 0
    code, _, err = cli("event", "add", "Nope", p / "paris1.jpg")
    assert code == 1 and "no event named 'Nope'" in err
    (p / "paris1.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    assert cli("import", "-q", p)[0] == 0
    assert ok("add", "Mix", p) == "added 15 files to Mix (1 sidecar left out)"


def test_show_lists_the_event_and_its_files(timeline, cli, cli_json):
    ok("create", "Paris trip", "-s", "2019-06-02T00:00+02:00", "-e", "2019-06-02+02:00")
    ok("attach", "paris-trip")
    code, event, _ = cli_json("event", "show", "PARIS TRIP")
    assert code == 0
    assert list(event) == ["version", *EVENT_KEYS[:-1], "count", "files"]
    assert event["start"] == "2019-06-02T00:00:00+02:00"
    assert event["end"] == "2019-06-02T23:59:59+02:00"
    assert [f["start"] for f in event["files"]] == [
        "2019-06-02T07:00:00+02:00",
        "2019-06-02T10:00:00+02:00",
        "2019-06-02T15:00:00+02:00",
    ]
    first = event["files"][0]
    assert first["path"] == str(timeline / "paris4.jpg") and first["kind"] == "photo"
    # The same id `luna show` reports, and `luna show` lists the event too.
    shown = cli_json("show", first["id"])[1]["files"]
    assert shown[0]["id"] == first["id"]
    assert [e["name"] for e in shown[0]["events"]] == ["Paris trip"]
    code, out, _ = cli("event", "show", "Paris trip", "--csv")
    assert out.splitlines()[0] == ",".join(FILE_KEYS) and len(out.splitlines()) == 4
    code, out, _ = cli("event", "show", "Paris trip")
    assert code == 0 and "paris4.jpg" in out
    code, _, err = cli("event", "show", "Rome")
    assert code == 1 and "no event named 'Rome'" in err


# -- rename, delete --------------------------------------------------------------------------


def test_rename(timeline, cli, cli_json):
    ok("create", "Paris trip", "--start", "2019-06-01")
    ok("create", "Rome", "--start", "2019-07-01")
    assert ok("rename", "paris trip", "Paris, June") == "renamed event Paris trip to Paris, June"
    assert events(cli_json)["Paris, June"]["slug"] == "paris-june"
    ok("rename", "paris june", "PARIS JUNE")  # same slug: only the spelling changes
    code, _, err = cli("event", "rename", "PARIS JUNE", "rome")
    assert code == 1 and "an event named 'Rome' already exists" in err
    assert sorted(events(cli_json)) == ["PARIS JUNE", "Rome"]


def test_delete_needs_yes_without_a_terminal_and_keeps_the_files(timeline, cli, cli_json):
    ok("create", "Paris trip", "--start", "2019-06-01")
    ok("attach", "Paris trip")
    code, out, err = cli("event", "delete", "Paris trip")
    assert code == 1 and out == ""
    assert "refusing to delete event 'Paris trip' without --yes" in err
    assert list(events(cli_json)) == ["Paris trip"]
    assert ok("delete", "paris trip", "--yes") == ("deleted event Paris trip (its 3 files stay)")
    assert events(cli_json) == {}
    assert cli_json("stats")[1]["files"] == 15
    code, _, err = cli("event", "delete", "Paris trip", "--yes")
    assert code == 1 and "no event named" in err


# -- detect ----------------------------------------------------------------------------------

PARIS_EVENT = {
    "name": "Paris, 2019-06-01 to 2019-06-02",
    "slug": "paris-2019-06-01-to-2019-06-02",
    "start": "2019-06-01T09:00:00+02:00",
    "end": "2019-06-02T15:00:00+02:00",
    "utc_offset": 120,
    "description": "",
    "files": 6,
}
JULY_EVENT = {  # six photos, one missing: five; no place names, no zone
    "name": "2019-07-05",
    "slug": "2019-07-05",
    "start": "2019-07-05T10:00:00",
    "end": "2019-07-05T12:00:00",
    "utc_offset": None,
    "description": "",
    "files": 5,
}


def test_detect_dry_run_creates_nothing(timeline, cli, cli_json):
    code, rows, err = detect(cli_json, "--gap", "12h", "--min-files", "5", "--dry-run")
    assert code == 0, err
    assert rows == [PARIS_EVENT, JULY_EVENT]
    assert "would create 2 events" in err
    assert "2 groups of fewer than 5 files left out" in err
    assert events(cli_json) == {}


def test_detect_creates_events_with_their_files_and_never_twice(timeline, cli, cli_json):
    code, rows, err = detect(cli_json, "--gap", "12h", "--min-files", "5")
    assert code == 0, err
    assert rows == [PARIS_EVENT, JULY_EVENT]
    assert "created 2 events" in err
    assert events(cli_json) == {row["name"]: row for row in rows}
    # Not the scan dated by its mtime, not the missing july5.
    assert files_of(cli_json, PARIS_EVENT["name"]) == [name for name, _, _ in PARIS]
    assert files_of(cli_json, "2019-07-05") == [f"july{i}.jpg" for i in range(5)]

    code, rows, err = detect(cli_json, "--gap", "12h", "--min-files", "5")
    assert code == 0 and rows == []
    assert f"skipped {PARIS_EVENT['name']} (6 files): already covered by event" in err
    assert "created 0 events" in err
    assert len(events(cli_json)) == 2


def test_detect_skips_groups_an_event_already_covers(timeline, cli, cli_json):
    # July by span; Paris because "Paris trip" holds its files (its span is only a day).
    ok("create", "Summer", "--start", "2019-07-01", "--end", "2019-07-31")
    ok("create", "Paris trip", "--start", "2019-06-01")
    ok("add", "Paris trip", *[timeline / name for name, _, _ in PARIS])
    code, rows, err = detect(cli_json, "--gap", "12h")
    assert code == 0 and rows == []
    assert "skipped 2019-07-05 (5 files): already covered by event Summer" in err
    assert "already covered by event Paris trip" in err


def test_detect_gap_splits_and_names_are_unique(timeline, cli, cli_json):
    # A 6-hour gap cuts Paris into 09:00-12:00, 20:00, 07:00-15:00 and July stays whole.
    ok("create", "2019-06-10", "--start", "2019-01-01")  # a name detect would pick
    code, rows, err = detect(cli_json, "--gap", "6h", "--min-files", "1")
    assert code == 0, err
    assert [(r["name"], r["files"]) for r in rows] == [
        ("Paris, 2019-06-01", 2),
        ("Versailles, 2019-06-01", 1),
        ("Paris, 2019-06-02", 3),
        ("2019-06-10 (2)", 1),
        ("2019-06-20", 1),
        ("2019-07-05", 5),
    ]
    code, rows, err = detect(cli_json, "--gap", "90m", "--min-files", "1", "-n")
    assert rows == [] and "would create 0 events" in err


@pytest.mark.parametrize("gap", ["6", "6x", "-1h", "0m", "h"])
def test_detect_refuses_a_bad_gap(timeline, cli, cli_json, gap):
    code, out, err = cli("event", "detect", "--gap", gap)
    assert code == 2 and out == "" and err.startswith("Error: --gap: ")
    assert events(cli_json) == {}


# -- the parts, from Python ----------------------------------------------------------------


def test_when_gap_and_range_from_python():
    assert when("2019-06-01", "--start").date_only
    moment = when("2019-06-01 14:00:00.5Z", "--start").moment
    assert moment == dt.datetime(2019, 6, 1, 14, 0, 0, 500000)
    assert duration("90m", "--gap") == dt.timedelta(minutes=90)
    assert duration("2d", "--gap") == dt.timedelta(days=2)
    start = dt.datetime(2019, 6, 1, 14, 0, 30)
    assert covered_range(start, None) == (
        start.replace(second=0),
        start.replace(minute=1, second=0),
    )
    assert covered_range(start, start)[1] == dt.datetime(2019, 6, 1, 14, 0, 31)


def test_every_event_command_has_help_with_an_example(cli):
    from luna.cli.event import event_app

    names = [command.name for command in event_app.registered_commands]
    assert set(names) == {
        "create", "add", "remove", "attach", "list", "show", "rename", "delete", "detect"
    }  # fmt: skip
    for name in names:
        code, text, _ = cli("event", name, "--help")
        assert code == 0 and "Example" in text, name
