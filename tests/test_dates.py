"""When a photo was taken: the documented fallback order, zones, and invalid dates."""

from __future__ import annotations

import os

from conftest import make_photo

from luna.ingest.importer import ImportOptions


def taken(lib, path):
    rec = lib.serialize(lib.get_file(str(path)))
    pm = rec["processor_metadata"]
    return rec["start"], pm["date_source"], pm.get("offset_source")


def imp(lib, folder):
    return lib.import_paths([str(folder)], ImportOptions())


def test_offset_time_original_is_kept(lib, photos):
    p = make_photo(photos / "a.jpg", taken="2019:06:01 12:00:00", offset="-05:00")
    imp(lib, photos)
    assert taken(lib, p) == (
        "2019-06-01T12:00:00-05:00",
        "exif:DateTimeOriginal",
        "exif:DateTimeOriginal",
    )


def test_gps_time_gives_the_zone(lib, photos):
    # Local 14:00:05 while the GPS clock said 12:00:00 UTC: the camera was at UTC+2.
    p = make_photo(
        photos / "a.jpg",
        taken="2019:06:01 14:00:05",
        gps=(48.85, 2.35),
        gps_utc="2019:06:01 12:00:00",
    )
    imp(lib, photos)
    assert taken(lib, p) == (
        "2019-06-01T14:00:05+02:00",
        "exif:DateTimeOriginal",
        "gps:DateTimeStamp",
    )


def test_gps_time_across_midnight_and_half_hour_zones(lib, photos):
    # India is UTC+5:30: 01:10 local on the 2nd is 19:40 UTC on the 1st.
    p = make_photo(
        photos / "a.jpg",
        taken="2019:06:02 01:10:00",
        gps=(19.07, 72.87),
        gps_utc="2019:06:01 19:40:00",
    )
    imp(lib, photos)
    assert taken(lib, p)[0] == "2019-06-02T01:10:00+05:30"


def test_a_stopped_gps_clock_gives_no_zone(lib, photos):
    p = make_photo(
        photos / "a.jpg",
        taken="2019:06:01 14:00:00",
        gps=(48.85, 2.35),
        gps_utc="2017:01:01 00:00:00",
    )
    imp(lib, photos)
    assert taken(lib, p) == ("2019-06-01T14:00:00", "exif:DateTimeOriginal", None)


def test_new_year_photo_stays_in_the_new_year(lib, photos, cli_json):
    make_photo(photos / "a.jpg", taken="2020:01:01 00:30:00", offset="+01:00")
    imp(lib, photos)
    assert lib.stats()["by_year"] == {"2020": 1}


def test_create_date_when_there_is_no_original(lib, photos):
    p = make_photo(photos / "a.jpg", taken=None, digitized="2018:03:04 05:06:07")
    imp(lib, photos)
    assert taken(lib, p)[:2] == ("2018-03-04T05:06:07", "exif:CreateDate")


def test_invalid_original_falls_back_to_the_next_source(lib, photos):
    p = make_photo(photos / "a.jpg", taken="2019:13:01 12:00:00", digitized="2019:01:02 03:04:05")
    q = make_photo(
        photos / "b.jpg",
        taken="\x01\x02garbage\xff",
        modified="2017:05:06 07:08:09",
        color=(1, 2, 3),
    )
    imp(lib, photos)
    assert taken(lib, p)[:2] == ("2019-01-02T03:04:05", "exif:CreateDate")
    assert taken(lib, q)[:2] == ("2017-05-06T07:08:09", "exif:ModifyDate")


def test_whatsapp_photo_without_exif_is_dated_from_its_name(lib, photos):
    p = make_photo(photos / "IMG-20190601-WA0007.jpg", taken=None, make=None, model=None)
    imp(lib, photos)
    assert taken(lib, p)[:2] == ("2019-06-01T00:00:00", "filename")


def test_exif_date_beats_the_name(lib, photos):
    p = make_photo(photos / "IMG_20190601_123456.jpg", taken="2020:02:02 02:02:02")
    imp(lib, photos)
    assert taken(lib, p)[:2] == ("2020-02-02T02:02:02", "exif:DateTimeOriginal")


def test_screenshot_name_with_time(lib, photos):
    p = make_photo(photos / "Screenshot_2019-06-01-12-34-56.png", taken=None, fmt="PNG")
    imp(lib, photos)
    assert taken(lib, p)[:2] == ("2019-06-01T12:34:56", "filename")


def test_mtime_is_the_last_resort_and_is_marked(lib, photos, cli):
    p = make_photo(photos / "holiday.jpg", taken=None)
    os.utime(p, (1_560_000_000, 1_560_000_000))
    imp(lib, photos)
    start, source, offset_source = taken(lib, p)
    assert source == "file:mtime" and "time zone" in offset_source
    code, out, _ = cli("show", p)
    assert "file:mtime" in out


def test_iptc_date_created_with_its_zone(lib, photos):
    # Photo Mechanic and news agencies write the capture time only in IPTC.
    p = make_photo(photos / "a.jpg", taken=None, iptc_date=("20061029", "062751-0500"))
    imp(lib, photos)
    assert taken(lib, p) == ("2006-10-29T06:27:51-05:00", "iptc:DateCreated", "iptc:DateCreated")


def test_capture_dates_outrank_the_software_modify_date(lib, photos):
    p = make_photo(
        photos / "a.jpg", taken=None, modified="2010:08:15 13:58:09", iptc_date=("20100711", None)
    )
    imp(lib, photos)
    assert taken(lib, p)[:2] == ("2010-07-11T00:00:00", "iptc:DateCreated")


def test_png_text_chunks_give_title_and_creation_time(lib, photos):
    from PIL import Image, PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Title", "Harbour at dawn")
    text.add_text("Creation Time", "Sat, 01 Jun 2019 12:34:56 +0200")
    path = photos / "scan.png"
    Image.new("RGB", (20, 10)).save(path, pnginfo=text)
    imp(lib, photos)
    rec = lib.serialize(lib.get_file(str(path)))
    assert rec["metadata"]["title"] == "Harbour at dawn"
    assert (rec["start"], rec["processor_metadata"]["date_source"]) == (
        "2019-06-01T12:34:56+02:00",
        "png:CreationTime",
    )


def test_stats_count_how_dates_were_found(lib, photos):
    make_photo(photos / "a.jpg")
    make_photo(photos / "IMG-20190601-WA0001.jpg", taken=None, color=(1, 1, 1))
    make_photo(photos / "holiday.jpg", taken=None, color=(2, 2, 2))
    imp(lib, photos)
    assert lib.stats()["by_date_source"] == {
        "exif:DateTimeOriginal": 1,
        "file:mtime": 1,
        "filename": 1,
    }
