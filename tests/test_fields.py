"""Readable and searchable fields (issue 15): `luna show` and `find --format` say a file's
camera and video facts as photographers do, --json keeps the numbers, and `find` filters
by lens, ISO, focal length, aperture, rating, duration, date source and words."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import run_cli

from luna import readable, values

# The library's files: name -> (metadata, date source, tags, kind).
SHOTS = {
    "canon.jpg": (
        {"make": "Canon", "model": "Canon EOS 5D", "lens": "EF24-70mm f/2.8L USM", "iso": 100,
         "exposure_time": 1 / 15, "f_number": 2.8, "focal_length": 35.0, "flash_fired": False,
         "rating": 5, "title": "Sunset at the BEACH", "description": "Golden hour",
         "city": "Nice"},
        "exif:DateTimeOriginal", ["Holiday"], "photo",
    ),
    "phone.jpg": (
        {"make": "Apple", "model": "iPhone 12", "lens": "iPhone 12 back camera 4.2mm f/1.6",
         "iso": 800, "exposure_time": 2.5, "f_number": 1.6, "focal_length": 4.2,
         "focal_length_35mm": 26, "flash_fired": True, "rating": 3},
        "filename", ["Places/Beach"], "photo",
    ),
    "plain.jpg": ({}, "file:mtime", [], "photo"),
    "clip.mp4": (
        {"duration_s": 133.4, "frame_rate": 29.97, "video_codec": "AVC", "title": "Café ride"},
        "quicktime:CreationDate", [], "video",
    ),
    "long.mp4": ({"duration_s": 600.0}, "video:RecordedDate", [], "video"),
    # What a damaged file may leave: texts and lists where numbers belong.
    "odd.jpg": (
        {"iso": "abc", "f_number": [1, 2], "focal_length": "35", "rating": "5", "lens": 7},
        "xmp:CreateDate", [], "photo",
    ),
    "undated.jpg": ({}, None, [], "photo"),
}  # fmt: skip


@pytest.fixture(scope="module")
def shots_library(tmp_path_factory, _server_for_libraries):
    import datetime as dt

    from luna.library import Library
    from luna.locations import library_location
    from luna.store.bulk import bulk_insert_files

    rows = []
    for i, (name, (metadata, source, tags, kind)) in enumerate(SHOTS.items()):
        rows.append({
            "path": f"/shots/{name}", "kind": kind, "size_bytes": 1000 + i, "mtime": 0.0,
            "content_sha": f"{i:064x}",
            "mime_type": "video/mp4" if kind == "video" else "image/jpeg",
            "start": None if source is None else dt.datetime(2020, 1, i + 1, 12),
            "owner": "alice", "tags": tags, "metadata": metadata,
            "processor_metadata": {} if source is None else {"date_source": source},
        })  # fmt: skip
    server = _server_for_libraries
    folder = tmp_path_factory.mktemp("shots")
    location = folder / "library.db" if server is None else library_location(server.new_library())
    with Library.open(location) as lib:
        bulk_insert_files(lib, rows, batch=100)
    return location


@pytest.fixture
def shots(shots_library, monkeypatch, isolated_home):
    monkeypatch.setenv("LUNA_LIBRARY", str(shots_library))
    monkeypatch.setenv("LUNA_USER", "alice")
    return shots_library


def found(*args) -> set[str]:
    code, out, err = run_cli("find", *args, "--json")
    assert code == 0, err
    return {f["filename"] for f in json.loads(out)["files"]}


def record(name: str) -> dict:
    code, out, err = run_cli("find", "--name", name, "--json")
    assert code == 0, err
    return json.loads(out)["files"][0]


# -- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--lens", "ef24"], {"canon.jpg"}),
        (["--lens", "BACK CAMERA"], {"phone.jpg"}),
        (["--iso", "100"], {"canon.jpg"}),
        (["--iso", "400-"], {"phone.jpg"}),
        (["--iso", "-800"], {"canon.jpg", "phone.jpg"}),
        (["--iso", "101-799"], set()),
        # The 35 mm equivalent where known (the phone's 4.2 mm is 26 mm), else the lens's own.
        (["--focal", "24-30"], {"phone.jpg"}),
        (["--focal", "35mm"], {"canon.jpg"}),
        (["--focal", "-10"], set()),
        (["--aperture", "1.4-2.8"], {"canon.jpg", "phone.jpg"}),
        (["--aperture", "f/2.8"], {"canon.jpg"}),
        (["--aperture", "2-"], {"canon.jpg"}),
        (["--rating", "5"], {"canon.jpg"}),
        (["--rating", "3-5"], {"canon.jpg", "phone.jpg"}),
        (["--rating", "-4"], {"phone.jpg"}),
        (["--duration", "30s-2m"], set()),
        (["--duration", "2m-3m"], {"clip.mp4"}),
        (["--duration", "5m-"], {"long.mp4"}),
        (["--duration", "-10m"], {"clip.mp4", "long.mp4"}),
        (["--date-source", "exif"], {"canon.jpg"}),
        (["--date-source", "EXIF:DateTimeOriginal"], {"canon.jpg"}),
        (["--date-source", "guessed"], {"phone.jpg", "plain.jpg"}),
        (["--date-source", "mtime"], {"plain.jpg"}),
        (["--date-source", "filename"], {"phone.jpg"}),
        (["--date-source", "quicktime"], {"clip.mp4"}),
        (["--date-source", "video"], {"long.mp4"}),
        (["--date-source", "none"], {"undated.jpg"}),
        (["--date-source", "iptc"], set()),
        (["--text", "beach"], {"canon.jpg", "phone.jpg"}),  # a title; a tag (a keyword)
        (["--text", "golden SUNSET"], {"canon.jpg"}),  # every word, any case
        (["--text", "golden ride"], set()),
        (["--text", "café"], {"clip.mp4"}),
        (["--text", "holiday"], {"canon.jpg"}),
        (["--iso", "100-800", "--rating", "4-"], {"canon.jpg"}),  # filters combine
    ],
)
def test_each_filter_keeps_its_matches_in_and_the_rest_out(shots, args, expected):
    assert found(*args) == expected


def test_count_and_paths_agree_with_the_records(shots):
    for args in (["--iso", "100-"], ["--date-source", "guessed"], ["--text", "beach"]):
        _, number, _ = run_cli("find", *args, "--count")
        _, paths, _ = run_cli("find", *args, "--paths")
        assert int(number) == len(found(*args)) == len(paths.splitlines()), args


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--iso", "fast"], "--iso"),
        (["--iso", "800-100"], "--iso"),
        (["--iso", "-"], "--iso"),
        (["--iso", "1-2-3"], "--iso"),
        (["--focal", "wide"], "--focal"),
        (["--aperture", "f/"], "--aperture"),
        (["--rating", "6"], "--rating"),
        (["--rating", "x"], "--rating"),
        (["--duration", "2x"], "--duration"),
        (["--duration", "2m-30s"], "--duration"),
        (["--date-source", "camera"], "--date-source"),
        (["--date-source", "exif:bad name"], "--date-source"),
        (["--lens", " "], "--lens"),
        (["--text", ""], "--text"),
        (["--fields", "date,,path"], "--fields"),
        (["--fields", "date,nope"], "--fields"),
        (["--fields", "path", "--json"], "--fields"),
    ],
)
def test_bad_values_are_one_line_and_exit_2(shots, args, option):
    code, out, err = run_cli("find", *args)
    assert code == 2 and out == ""
    assert option in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    "command",
    [
        ["find", "--name", "no such file", "--fields", "date,camra"],
        ["find", "--name", "no such file", "--format", "{date} {camra}"],
        ["tag", "list", "--fields", "name,camra"],
    ],
)
def test_a_misspelt_field_is_refused_even_when_nothing_matches(shots, command):
    """A script's typo shows on its first run, not on the day a file first matches."""
    code, out, err = run_cli(*command)
    assert code == 2 and out == ""
    assert "'camra'" in err and len(err.strip().splitlines()) == 1, err


def test_every_date_source_has_a_family_to_find_it_by():
    from luna.ingest.extract.facts import DATE_SOURCES

    for source in DATE_SOURCES:
        family = source.partition(":")[0]
        assert family in values.DATE_SOURCE_FAMILIES, source
        assert values.date_source(source) == source.lower()


# -- output --------------------------------------------------------------------------------


def test_json_keeps_the_numbers_and_carries_the_camera(shots):
    canon, phone, odd = record("canon.jpg"), record("phone.jpg"), record("odd.jpg")
    assert canon["camera"] == "Canon EOS 5D" and phone["camera"] == "Apple iPhone 12"
    assert canon["exposure_time"] == pytest.approx(1 / 15)
    assert isinstance(canon["exposure_time"], float)
    assert (canon["iso"], canon["f_number"], canon["focal_length"]) == (100, 2.8, 35.0)
    assert (phone["focal_length_35mm"], phone["rating"]) == (26, 3)
    assert canon["date_source"] == "exif:DateTimeOriginal"
    assert (canon["title"], canon["description"], canon["city"]) == (
        "Sunset at the BEACH", "Golden hour", "Nice",
    )  # fmt: skip
    clip = record("clip.mp4")
    assert (clip["duration_s"], clip["frame_rate"], clip["video_codec"]) == (133.4, 29.97, "AVC")
    # A value of the wrong type is no number: null, never a text passed off as one.
    assert (odd["iso"], odd["f_number"], odd["rating"], odd["lens"]) == (None, None, None, "7")
    assert record("undated.jpg")["date_source"] is None


def test_jsonl_and_csv_have_the_same_fields(shots):
    _, out, _ = run_cli("find", "--name", "canon.jpg", "--jsonl")
    line = json.loads(out)
    assert line == record("canon.jpg")
    _, out, _ = run_cli("find", "--name", "canon.jpg", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["camera"] == "Canon EOS 5D" and rows[0]["iso"] == "100"
    assert rows[0]["lens"] == "EF24-70mm f/2.8L USM" and rows[0]["rating"] == "5"
    assert rows[0]["date_source"] == "exif:DateTimeOriginal"


def test_show_csv_has_the_camera_columns_of_find(shots):
    _, found, _ = run_cli("find", "--name", "canon.jpg", "--csv")
    _, shown, _ = run_cli("show", "/shots/canon.jpg", "/shots/undated.jpg", "--csv")
    find_row = next(csv.DictReader(io.StringIO(found)))
    canon, undated = csv.DictReader(io.StringIO(shown))
    for column in ("camera", "lens", "iso", "exposure_time", "rating", "title", "date_source"):
        assert canon[column] == find_row[column], column
    assert canon["camera"] == "Canon EOS 5D"
    assert undated["camera"] == "" and undated["date_source"] == ""


def test_format_speaks_as_photographers_do(shots):
    template = (
        "{filename}|{camera}|{make}|{model}|{lens}|ISO {iso}|{exposure}|{aperture}|"
        "{focal_length}|{duration}|{frame_rate}|{date_source}|{rating}|{title}|"
        "{description}|{city}"
    )
    code, out, err = run_cli("find", "--sort", "name", "--format", template)
    assert code == 0, err
    lines = dict((line.split("|", 1)[0], line) for line in out.splitlines())
    assert lines["canon.jpg"] == (
        "canon.jpg|Canon EOS 5D|Canon|Canon EOS 5D|EF24-70mm f/2.8L USM|ISO 100|1/15 s|f/2.8|"
        "35 mm|||exif:DateTimeOriginal|5|Sunset at the BEACH|Golden hour|Nice"
    )
    assert lines["phone.jpg"] == (
        "phone.jpg|Apple iPhone 12|Apple|iPhone 12|iPhone 12 back camera 4.2mm f/1.6|ISO 800|"
        "2.5 s|f/1.6|4.2 mm (26 mm equiv.)|||filename|3|||"
    )
    assert lines["clip.mp4"] == (
        "clip.mp4|||||ISO ||||0:02:13|29.97 fps|quicktime:CreationDate||Café ride||"
    )
    assert lines["odd.jpg"] == "odd.jpg||||7|ISO ||||||xmp:CreateDate||||"


def test_a_template_without_camera_fields_does_not_read_them(shots, monkeypatch):
    """A template of paths and dates, as shell loops use, skips the camera fields' cost;
    one that names any gets them all."""
    from luna.search import query

    def refuse(hit):
        raise AssertionError("read the camera fields")

    original = query.shot_fields
    monkeypatch.setattr(query, "shot_fields", refuse)
    code, out, err = run_cli("find", "--name", "canon.jpg", "--format", "{path}|{start:%Y}|{date}")
    assert (code, out) == (0, "/shots/canon.jpg|2020|2020-01-01 12:00:00\n"), err
    assert run_cli("find", "--fields", "path,size,sha,distance,tags", "--name", "canon.jpg")[0] == 0
    monkeypatch.setattr(query, "shot_fields", original)
    assert run_cli("find", "--name", "canon.jpg", "--format", "{path}|{iso}")[1] == (
        "/shots/canon.jpg|100\n"
    )


def test_fields_prints_the_chosen_columns(shots):
    """Tab-separated for a program (no header, as ExifTool's -T), the --format names."""
    code, out, err = run_cli(
        "find", "--sort", "name", "--fields", "date, camera,exposure,tags,path", "--kind", "photo"
    )
    assert code == 0, err
    lines = [line.split("\t") for line in out.splitlines()]
    assert lines[0] == ["2020-01-01 12:00:00", "Canon EOS 5D", "1/15 s", "Holiday",
                        "/shots/canon.jpg"]  # fmt: skip
    assert lines[-1] == ["", "", "", "", "/shots/undated.jpg"]
    assert len(lines) == 5


def test_fields_on_a_terminal_is_a_table_under_the_names(shots, monkeypatch):
    import sys

    from luna.cli.render import write_fields

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stdout", buffer)
    monkeypatch.setattr(buffer, "isatty", lambda: True, raising=False)
    write_fields(
        "name,iso",
        [{"name": "a.jpg", "iso": 100}, {"name": "long name.jpg", "iso": None}],
        {"name", "iso"},
    )
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", buffer.getvalue())  # bold names
    header, first, second = text.splitlines()
    assert header.split() == ["name", "iso"]
    assert first.split() == ["a.jpg", "100"] and second.split() == ["long", "name.jpg"]
    assert header.index("iso") == first.index("100")  # aligned


def test_show_speaks_as_photographers_do(shots):
    code, out, err = run_cli("show", "/shots/phone.jpg", "/shots/clip.mp4", "/shots/odd.jpg")
    assert code == 0, err
    lines = out.splitlines()
    for expected in (
        "camera\tApple iPhone 12",
        "lens\tiPhone 12 back camera 4.2mm f/1.6",
        "exposure\t2.5 s",
        "aperture\tf/1.6",
        "focal length\t4.2 mm (26 mm equiv.)",
        "ISO\tISO 800",
        "flash\tfired",
        "duration\t0:02:13",
        "frame rate\t29.97 fps",
        "codec\tAVC",
        "rating\t3 stars",
        # A value that cannot be said in words is shown as it is, never hidden.
        "iso\tabc",
        "f_number\t1; 2",
    ):
        assert expected in lines, expected
    for hidden in ("exposure_time\t2.5", "make\tApple", "iso\t800", "duration_s\t133.4"):
        assert hidden not in lines
    code, out, _ = run_cli("show", "/shots/canon.jpg")
    assert "exposure\t1/15 s" in out and "flash\tdid not fire" in out
    assert "focal length\t35 mm\n" in out


def test_show_json_keeps_the_numbers(shots):
    code, out, err = run_cli("show", "/shots/phone.jpg", "--json")
    assert code == 0, err
    metadata = json.loads(out)["files"][0]["metadata"]
    assert metadata == SHOTS["phone.jpg"][0]


# -- the words themselves ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(1 / 15, "1/15 s"), (1 / 8000, "1/8000 s"), (0.5, "1/2 s"), (1 / 3, "1/3 s"),
     (0.3, "3/10 s"), (0.8, "4/5 s"), (1, "1 s"), (2.5, "2.5 s"), (30, "30 s"),
     (0, None), (-1, None), ("1/15", None), (True, None), (float("nan"), None), (None, None)],
)  # fmt: skip
def test_exposure(seconds, said):
    assert readable.exposure(seconds) == said


def test_the_other_words():
    assert readable.aperture(2.8) == "f/2.8" and readable.aperture(11.0) == "f/11"
    assert readable.aperture(2.80000001) == "f/2.8" and readable.aperture("2.8") is None
    assert readable.focal_length(35) == "35 mm"
    assert readable.focal_length(35.0, 52) == "35 mm (52 mm equiv.)"
    assert readable.focal_length(50, 50) == "50 mm"  # full frame: said once
    assert readable.focal_length(None, 28) == "28 mm equiv."
    assert readable.iso(400) == "ISO 400" and readable.iso(0) is None
    assert readable.flash(True) == "fired" and readable.flash(False) == "did not fire"
    assert readable.flash(1) is None
    assert readable.duration(133.4) == "0:02:13" and readable.duration(3600 * 25 + 1) == "25:00:01"
    assert readable.duration(0) == "0:00:00" and readable.duration(-1) is None
    assert readable.frame_rate(29.97) == "29.97 fps" and readable.frame_rate(25.0) == "25 fps"
    assert readable.frame_rate(23.976) == "23.98 fps"


def test_ranges_are_read_in_every_form():
    assert values.iso_range("400") == (400, 400)
    assert values.iso_range(" 400- ") == (400, None)
    assert values.iso_range("-800") == (None, 800)
    assert values.focal_range("24mm-70 mm") == (24, 70)
    assert values.aperture_range("f/1.4-f/2.8") == (1.4, 2.8)
    assert values.rating_range("0") == (0, 0)
    assert values.duration_range("30s-2m") == (30, 120)
    assert values.duration_range("1.5h") == (5400, 5400)
    assert values.iso_range("100\u2013200") == (100, 200)  # an en dash, as pasted


# -- from a real file ----------------------------------------------------------------------


def test_an_imported_photos_exif_reads_aloud_and_is_found(tmp_path, library_path):
    """The keys the photo readers store are those the fields and filters read: a JPEG with
    its exposure in EXIF, imported, then shown and found."""
    import piexif
    from PIL import Image

    exif = {
        piexif.ExifIFD.DateTimeOriginal: b"2019:06:01 12:00:00",
        piexif.ExifIFD.ExposureTime: (1, 15),
        piexif.ExifIFD.FNumber: (28, 10),
        piexif.ExifIFD.FocalLength: (35, 1),
        piexif.ExifIFD.FocalLengthIn35mmFilm: 52,
        piexif.ExifIFD.ISOSpeedRatings: 400,
        piexif.ExifIFD.Flash: 1,
        piexif.ExifIFD.LensModel: b"XF35mmF2 R WR",
    }
    zeroth = {piexif.ImageIFD.Make: b"FUJIFILM", piexif.ImageIFD.Model: b"X-T3"}
    photo = tmp_path / "photos" / "fuji.jpg"
    photo.parent.mkdir()
    Image.new("RGB", (32, 24)).save(photo, exif=piexif.dump({"0th": zeroth, "Exif": exif}))
    assert run_cli("import", photo.parent)[0] == 0

    code, out, err = run_cli("show", photo)
    assert code == 0, err
    for line in ("camera\tFUJIFILM X-T3", "lens\tXF35mmF2 R WR", "exposure\t1/15 s",
                 "aperture\tf/2.8", "focal length\t35 mm (52 mm equiv.)", "ISO\tISO 400",
                 "flash\tfired"):  # fmt: skip
        assert line in out.splitlines(), line
    assert found("--iso", "400", "--focal", "50-55", "--aperture", "2.8", "--lens", "xf35") == {
        "fuji.jpg"
    }
    assert found("--focal", "35") == set()  # the 35 mm equivalent is what --focal compares
    assert found("--date-source", "exif") == {"fuji.jpg"} == found("--date-source", "exif:")
    fuji = record("fuji.jpg")
    assert (fuji["iso"], fuji["f_number"], fuji["focal_length_35mm"]) == (400, 2.8, 52)
    assert fuji["exposure_time"] == pytest.approx(1 / 15)
