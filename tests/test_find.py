"""`luna find`: every filter and format, on a small generated library."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_photo, run_cli


@pytest.fixture(scope="module")
def world(tmp_path_factory, _server_for_libraries):
    """Photos around the world, at chosen times, with tags, an album and an event: built
    once for the module (the tests only read it), beside a photos folder, in library.db
    there, or in a library of its own on the test server. Returns the folder and the
    library's location."""
    folder = tmp_path_factory.mktemp("world")
    server = _server_for_libraries
    location = str(folder / "library.db") if server is None else server.new_library()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(folder))
        env.setenv("XDG_CONFIG_HOME", str(folder / ".config"))
        env.delenv("LUNA_CONFIG", raising=False)
        env.delenv("LUNA_USER", raising=False)
        env.setenv("LUNA_LIBRARY", location)
        photos = folder / "photos"
        photos.mkdir()
        _build_world(photos, run_cli)
    return folder, location


@pytest.fixture
def library(world, library_path):
    """A copy of the world's library for this test (at $LUNA_LIBRARY); its photos folder."""
    folder, location = world
    if isinstance(library_path, Path):
        for suffix in ("", "-wal"):  # every luna closed, so the log is empty or gone: to be sure
            if (folder / f"library.db{suffix}").exists():
                shutil.copyfile(folder / f"library.db{suffix}", f"{library_path}{suffix}")
    else:  # a library on the server: luna copies it whole, row for row
        code, _, err = run_cli("library", "copy", location, str(library_path))
        assert code == 0, err
    return folder / "photos"


def _build_world(photos, cli):
    spec = {
        "nice_beach.jpg": ("2019:06:01 10:00:00", (43.70, 7.26), ["beach", "Places/France/Nice"]),
        "nice_old_town.jpg": ("2019:06:02 18:00:00", (43.697, 7.276), ["Places/France/Nice"]),
        "paris.jpg": ("2020:03:15 12:00:00", (48.8566, 2.3522), ["Places/France/Paris"]),
        "fiji_west.jpg": ("2021:01:01 09:00:00", (-17.70, 179.95), ["beach"]),
        "fiji_east.jpg": ("2021:01:02 09:00:00", (-17.70, -179.95), []),
        "north_pole.jpg": ("2018:04:01 00:00:00", (89.99, 45.0), []),
        "near_pole.jpg": ("2018:04:02 00:00:00", (89.95, -135.0), []),
        "no_place.jpg": ("2019:05:31 23:59:59", None, []),
        "new year.jpg": ("2020:01:01 00:30:00", None, ["party"]),
        'quote"and,comma.jpg': ("2017:07:07 07:07:07", None, []),
        "line\nbreak.jpg": ("2016:06:06 06:06:06", None, []),
    }
    for i, (name, (taken, gps, _)) in enumerate(spec.items()):
        make_photo(
            photos / name,
            taken=taken,
            gps=gps,
            color=(i * 20, 5, 5),
            make="Apple" if "fiji" in name else "Canon",
            model="iPhone 12" if "fiji" in name else "Canon EOS 5D",
        )
    assert cli("import", photos)[0] == 0
    for name, (_, _, tags) in spec.items():
        for t in tags:
            assert cli("tag", "add", t, photos / name)[0] == 0
    cli("album", "create", "Best", env=None)
    cli("album", "add", "Best", photos / "paris.jpg", photos / "fiji_west.jpg")
    cli("event", "create", "Nice weekend", "--start", "2019-06-01", "--end", "2019-06-02")
    cli("event", "attach", "Nice weekend")


def names(*args) -> list[str]:
    code, out, err = run_cli("find", *args, "--json")
    assert code == 0, err
    return [f["filename"] for f in json.loads(out)["files"]]


def test_no_filter_lists_everything_by_date(library):
    assert names()[:3] == ["line\nbreak.jpg", 'quote"and,comma.jpg', "north_pole.jpg"]
    assert len(names()) == 11


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--after", "2020"], ["new year.jpg", "paris.jpg", "fiji_west.jpg", "fiji_east.jpg"]),
        (
            ["--before", "2019-06"],
            [
                "line\nbreak.jpg",
                'quote"and,comma.jpg',
                "north_pole.jpg",
                "near_pole.jpg",
                "no_place.jpg",
            ],
        ),
        (["--after", "2019-06", "--before", "2019-07"], ["nice_beach.jpg", "nice_old_town.jpg"]),
        (["--on", "2019-06-02"], ["nice_old_town.jpg"]),
        (["--after", "2019-06-01T18:00", "--before", "2020"], ["nice_old_town.jpg"]),
        (["--after", "2020-01-01T00:30", "--before", "2020-01-01T00:31"], ["new year.jpg"]),
    ],
)
def test_time_filters_with_partial_dates(library, args, expected):
    assert names(*args) == expected


def test_near_sorted_by_distance(library):
    assert names("--near", "43.70,7.26", "--radius", "5km", "--sort", "distance") == [
        "nice_beach.jpg",
        "nice_old_town.jpg",
    ]
    assert names("--near", "43.70,7.26", "--radius", "500m") == ["nice_beach.jpg"]
    assert names("--near", "43.70,7.26", "--radius", "1000km") == [
        "nice_beach.jpg",
        "nice_old_town.jpg",
        "paris.jpg",
    ]


def test_near_across_the_antimeridian(library):
    assert names("--near", "-17.7,179.9", "--radius", "50km") == ["fiji_west.jpg", "fiji_east.jpg"]


def test_near_the_pole(library):
    assert names("--near", "90,0", "--radius", "20km") == ["north_pole.jpg", "near_pole.jpg"]


def test_a_radius_larger_than_half_the_earth_finds_every_located_file(library):
    assert len(names("--near", "0,0", "--radius", "30000km")) == 7


def test_bbox_and_location_presence(library):
    assert names("--bbox", "40,0,50,10") == ["nice_beach.jpg", "nice_old_town.jpg", "paris.jpg"]
    assert names("--bbox", "-20,179,-15,-179") == ["fiji_west.jpg", "fiji_east.jpg"]
    assert len(names("--has-location")) == 7
    assert len(names("--no-location")) == 4


def test_tags_albums_events(library):
    assert names("--tag", "Places/France") == ["nice_beach.jpg", "nice_old_town.jpg", "paris.jpg"]
    assert names("--tag", "places/france", "--tag", "beach") == ["nice_beach.jpg"]
    assert names("--any-tag", "party", "--any-tag", "Places/France/Paris") == [
        "new year.jpg",
        "paris.jpg",
    ]
    assert "nice_beach.jpg" not in names("--not-tag", "beach")
    assert len(names("--untagged")) == 6
    assert names("--album", "best") == ["paris.jpg", "fiji_west.jpg"]
    assert names("--event", "Nice weekend") == ["nice_beach.jpg", "nice_old_town.jpg"]


def test_file_filters(library):
    photos = library
    assert names("--camera", "IPHONE") == ["fiji_west.jpg", "fiji_east.jpg"]
    assert names("--name", "nice_*") == ["nice_beach.jpg", "nice_old_town.jpg"]
    assert len(names("--kind", "photo")) == 11
    assert names("--kind", "video") == []
    assert len(names("--mime", "image/")) == 11
    assert len(names("--mime", "image/jpeg")) == 11
    assert len(names("--path", photos)) == 11
    assert names("--min-size", "1GB") == []
    assert len(names("--max-size", "1GB")) == 11
    sha = json.loads(run_cli("find", "--name", "paris.jpg", "--json")[1])["files"][0]
    assert names("--sha", sha["content_sha"][:10]) == ["paris.jpg"]
    assert names("--duplicates") == []
    assert names("--missing") == []


def test_sort_limit_offset_count(library):
    assert names("--sort", "-date", "--limit", "2") == ["fiji_east.jpg", "fiji_west.jpg"]
    assert names("--sort", "name", "--limit", "1", "--offset", "1") == ["fiji_west.jpg"]
    assert run_cli("find", "--count")[1] == "11\n"
    assert run_cli("find", "--tag", "beach", "--count")[1] == "2\n"
    assert run_cli("find", "--tag", "no-such-tag", "--count")[1] == "0\n"


def test_no_match_is_empty_output_and_exit_0(library):
    assert run_cli("find", "--after", "2030")[:2] == (0, "")


@pytest.mark.parametrize(
    "args,option",
    [
        (["--near", "95,10"], "--near"),
        (["--near", "1,1", "--radius", "-3km"], "--radius"),
        (["--after", "2019-13"], "--after"),
        (["--bbox", "50,0,40,10"], "--bbox"),
        (["--min-size", "lots"], "--min-size"),
        (["--sort", "distance"], "--sort"),
        (["--kind", "song"], "--kind"),
    ],
)
def test_bad_filter_values_are_one_line_exit_2(library, args, option):
    code, out, err = run_cli("find", *args)
    assert code == 2 and out == ""
    assert err.startswith("Error: ") and option in err and len(err.strip().splitlines()) == 1


def test_paths_print0_and_odd_names(library):
    photos = library
    code, out, _ = run_cli("find", "--print0")
    files = out.split("\0")[:-1]
    assert str(photos / "line\nbreak.jpg") in files and len(files) == 11
    code, out, _ = run_cli("find", "--paths", "--name", "new*")
    assert out == f"{photos / 'new year.jpg'}\n"
    # Not a terminal: plain paths by default.
    assert run_cli("find", "--name", "paris.jpg")[1] == f"{photos / 'paris.jpg'}\n"


def test_csv_quotes_what_needs_quoting(library):
    code, out, _ = run_cli("find", "--csv", "--name", "*,*")
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [r["filename"] for r in rows] == ['quote"and,comma.jpg']
    code, out, _ = run_cli("find", "--csv", "--name", "line*")
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert rows[0]["filename"] == "line\nbreak.jpg"


def test_jsonl_and_geojson(library):
    code, out, _ = run_cli("find", "--jsonl", "--tag", "beach")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["filename"] for r in lines] == ["nice_beach.jpg", "fiji_west.jpg"]
    assert lines[0]["tags"] == ["beach", "Places/France/Nice"]  # sorted without case
    code, out, _ = run_cli("find", "--geojson")
    collection = json.loads(out)
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 7
    point = collection["features"][0]["geometry"]
    assert point["type"] == "Point" and len(point["coordinates"]) == 2


def test_format_template(library):
    code, out, err = run_cli(
        "find",
        "--tag",
        "Places/France/Paris",
        "--format",
        "{start:%Y-%m-%d}\\t{filename}\\t{tags}\\t{latitude:.2f}",
    )
    assert out == "2020-03-15\tparis.jpg\tPlaces/France/Paris\t48.86\n"
    code, out, err = run_cli("find", "--name", "no_place.jpg", "--format", "{latitude:.2f}|")
    assert out == "|\n"
    code, _, err = run_cli("find", "--format", "{nope}")
    assert code == 2 and "--format" in err


def test_search_is_an_alias(library):
    assert run_cli("search", "--count")[1] == "11\n"


def test_pipeline_into_xargs(library, library_path):
    """luna find --tag beach --near 43.7,7.26 --radius 20km -0 | xargs -0 ls -l"""
    done = subprocess.run(
        f"'{sys.executable}' -m luna -L '{library_path}' find --tag beach --near 43.7,7.26 "
        "--radius 20km -0 | xargs -0 ls -l",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "nice_beach.jpg" in done.stdout and "paris" not in done.stdout


def test_paths_and_json_agree_under_every_kind_of_filter(library):
    for args in (
        ["--tag", "Places/France"],
        ["--any-tag", "beach", "--any-tag", "party"],
        ["--untagged"],
        ["--near", "43.7,7.26", "--radius", "20km"],
        # By distance, --paths reads only each row's path and place: the same files, in
        # the same order, with the same offset and limit as the records.
        ["--near", "43.7,7.26", "--radius", "20000km", "--sort", "distance"],
        ["--near", "43.7,7.26", "--radius", "20000km", "--sort", "-name", "--offset", "1"],
        ["--near", "43.7,7.26", "--radius", "20000km", "--limit", "2", "--offset", "1"],
        ["--tag", "beach", "--after", "2020"],
        ["--sort", "-size", "--limit", "3"],
    ):
        _, out, _ = run_cli("find", *args, "-0")  # -0: one name has a newline in it
        _, doc, _ = run_cli("find", *args, "--json")
        assert out.split("\0")[:-1] == [f["path"] for f in json.loads(doc)["files"]], args
        _, number, _ = run_cli("find", *args, "--count")
        assert int(number) == json.loads(doc)["count"], args


@pytest.mark.parametrize(
    "stored",
    [
        "2019-06-01 12:00:00",
        "2019-06-01 12:00:00.123456",
        "2019-06-01 12:00:00.000000",  # no microseconds: isoformat leaves them out
        "2019-06-01T12:00:00",
        "2019-06-01 12:00",
        "2019-06-01 12:00:00+02:00",
        "2019-06-01 12:00:00,123456",
        "2019-W05-3 12:00:00",
        "20190601T120000",
        "2019-06-01 24:00:00",
        "garbage",
        "",
        None,
        12,
    ],
)
@pytest.mark.parametrize("offset", [None, 120, -330])
def test_a_stored_time_reads_as_iso_local_made_it(stored, offset):
    """Records take the stored text's shortcut only where the datetime's own isoformat
    would write the same text; anything else (or unreadable, None) reads as before."""
    from luna.search.query import as_datetime, local_time
    from luna.timefmt import iso_local

    assert local_time(stored, offset) == iso_local(as_datetime(stored), offset)


def _hit(**changes):
    from luna.search.query import Hit

    fields = dict(
        id="0123456789abcdef0123456789abcdef", path="/p/a.jpg", filename="a.jpg",
        kind="photo", mime_type="image/jpeg", size_bytes=12, start="2019-06-01 12:00:00",
        end=None, utc_offset=None, latitude=None, longitude=None, altitude=None, width=None,
        height=None, content_sha="ab" * 32, missing_since=None, owner_id=1,
    )  # fmt: skip
    return Hit(**{**fields, **changes})


ODD_HITS = [
    ({}, []),
    ({}, None),
    ({}, ["x", 'q"t', "ünï", "a\\b", "tab\there"]),
    ({"path": '/é/quo"te\\back\nline\x01\x7f😀.jpg', "filename": "\u2028\t.jpg"}, []),
    ({"latitude": 48.855000000000004, "longitude": -2.5e-07, "altitude": 1e16}, []),
    ({"latitude": 0.0, "longitude": -0.0, "altitude": 35}, []),
    ({"width": 4032, "height": 3024, "size_bytes": 2**63 - 1}, []),
    ({"start": "2019-06-01 12:00:00.5", "end": "2019-06-01 12:05:00", "utc_offset": -330}, []),
    ({"start": "garbage", "end": "2019-06-01T12:00:00+02:00", "utc_offset": 60}, []),
    ({"missing_since": "2020-01-01 00:00:00", "distance_m": 1234.5678}, []),
    ({"distance_m": 0.04}, []),
    ({"latitude": float("inf"), "altitude": float("nan"), "width": True}, []),
]


@pytest.mark.parametrize(("changes", "tags"), ODD_HITS)
def test_find_json_writes_each_record_as_the_encoder_would(changes, tags):
    """`find --json` writes the files' records straight from the hits (luna.cli.find_run):
    byte for byte what encoding hit_record's dict gives."""
    from luna.cli.find_run import files_json
    from luna.cli.output import _ENCODE
    from luna.search.query import hit_record

    hit = _hit(**changes)
    assert files_json([hit], [tags]) == [_ENCODE(hit_record(hit, tags))]


def test_find_json_writes_a_listing_of_every_kind_of_record_as_the_encoder_would():
    from luna.cli.find_run import files_json
    from luna.cli.output import _ENCODE
    from luna.search.query import hit_record

    hits = [_hit(**changes) for changes, _ in ODD_HITS]
    tags = [names for _, names in ODD_HITS]
    expected = [_ENCODE(hit_record(h, t)) for h, t in zip(hits, tags, strict=True)]
    assert files_json(hits, tags) == expected


@pytest.mark.parametrize("changes", [{"size_bytes": "12"}, {"kind": None}, {"path": b"/p"}])
def test_a_value_of_another_type_is_left_to_the_encoder(changes):
    """Values SQLite could hold but luna never writes: the records go through the
    encoder, never out as wrong JSON."""
    from luna.cli.find_run import _json_records
    from luna.cli.output import _ENCODE, Encoded
    from luna.search.query import Found, hit_record

    hits = [_hit(), _hit(**changes)]
    records = _json_records(Found(hits, {}))
    assert not any(isinstance(r, Encoded) for r in records)
    assert [_ENCODE(r) for r in records] == [_ENCODE(hit_record(h, [])) for h in hits]


@pytest.mark.parametrize("what", ["tags", "albums", "events"])
def test_names_read_in_one_pass_are_those_looked_up_file_by_file(library, library_path, what,
                                                                 monkeypatch):  # fmt: skip
    """A listing of most of the library reads every link once instead of looking each
    file up: the same names, in the same order, and only for the files asked about."""
    from luna.library import Library
    from luna.store import organization

    with Library.open_for_reading(library_path) as lib:
        con = lib.db.connection()  # the DB-API side: sqlite3's, or the server's
        ids = [row[0] for row in con.execute("SELECT id FROM file ORDER BY path")]
        for asked in (ids, ids[::2], ids[:1], []):
            monkeypatch.setattr(organization, "_SCAN_FROM", 10**9)
            looked_up = organization.names_by_file(con, asked, what)
            monkeypatch.setattr(organization, "_SCAN_FROM", 0)
            assert organization.names_by_file(con, asked, what) == looked_up
        assert looked_up == {} and organization.names_by_file(con, ids, what)


def test_the_cycle_collector_is_back_on_after_a_listing(library):
    """A listing pauses the cycle collector while it is built (luna.cli.find_run); a
    program that runs find in its own process gets it back, after an error too."""
    import gc

    assert run_cli("find", "--json")[0] == 0
    assert gc.isenabled()
    assert run_cli("find", "--format", "{nope}")[0] != 0
    assert gc.isenabled()


def test_a_query_compares_by_its_filters_and_owns_its_lists():
    from luna.search.query import Query

    assert Query() == Query(sort="date") != Query(tags=["beach"])
    a, b = Query(), Query()
    a.tags.append("x")
    assert b.tags == [] and Query().tags == []
    assert "tags=['x']" in repr(a)
    with pytest.raises(TypeError):
        Query(tag=["x"])
