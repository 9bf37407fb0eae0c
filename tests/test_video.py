"""Video metadata through MediaInfo, on QuickTime movies written byte by byte (no encoder is
needed: MediaInfo reads the boxes that luna uses without decoding a frame)."""

from __future__ import annotations

import datetime as dt
import struct
import time

import pytest

from luna.ingest.extract.facts import Extracted
from luna.ingest.extract.video import extract_video, parse_iso6709

UTC = dt.UTC
MAC_EPOCH = dt.datetime(1904, 1, 1, tzinfo=UTC)
TIMESCALE = 600  # QuickTime's customary movie time scale
FRAME_TICKS = 20  # 30 frames per second
# tkhd matrices (16.16 fixed point, w in 2.30): upright, and turned 90 degrees clockwise.
IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
ROTATE_90 = (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, flags: int, *payload: bytes) -> bytes:
    """A box with version 0 and these flags before its payload."""
    return box(kind, struct.pack(">I", flags), *payload)


def mac_time(when: dt.datetime | None) -> int:
    return int((when - MAC_EPOCH).total_seconds()) if when else 0


def video_track(created: int, ticks: int, width: int, height: int, matrix) -> bytes:
    times = struct.pack(">II", created, created)
    tkhd = full_box(
        b"tkhd",
        3,  # enabled, in movie
        times,
        struct.pack(">I4xI8x", 1, ticks),  # track id, duration
        struct.pack(">hhhh", 0, 0, 0, 0),  # layer, group, volume, reserved
        struct.pack(">9i", *matrix),
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = full_box(b"mdhd", 0, times, struct.pack(">IIHH", TIMESCALE, ticks, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, struct.pack(">I4s12x", 0, b"vide"), b"\x00")
    # MediaInfo takes the dimensions from the sample description, not from tkhd.
    avc1 = box(
        b"avc1",
        struct.pack(">6xH16xHHII4xH32sHh", 1, width, height, 0x480000, 0x480000, 1, b"", 24, -1),
    )
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, struct.pack(">I", 1), avc1),
        full_box(b"stts", 0, struct.pack(">III", 1, ticks // FRAME_TICKS, FRAME_TICKS)),
        full_box(b"stsc", 0, struct.pack(">I", 0)),
        full_box(b"stsz", 0, struct.pack(">II", 0, 0)),
        full_box(b"stco", 0, struct.pack(">I", 0)),
    )
    dinf = box(b"dinf", full_box(b"dref", 0, struct.pack(">I", 1), full_box(b"url ", 1)))
    minf = box(b"minf", full_box(b"vmhd", 1, bytes(8)), dinf, stbl)
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))


def apple_metadata(keys: dict[str, str]) -> bytes:
    """moov/meta with mdta keys and their UTF-8 values, as iPhones write them."""
    names = b"".join(box(b"mdta", name.encode()) for name in keys)
    items = b"".join(
        box(struct.pack(">I", index), box(b"data", struct.pack(">II", 1, 0), value.encode()))
        for index, value in enumerate(keys.values(), start=1)
    )
    return box(
        b"meta",  # QuickTime's meta box has no version and flags, unlike ISO's
        full_box(b"hdlr", 0, struct.pack(">I4s12x", 0, b"mdta"), b"\x00"),
        full_box(b"keys", 0, struct.pack(">I", len(keys)), names),
        box(b"ilst", items),
    )


def user_data_string(kind: bytes, text: str) -> bytes:
    raw = text.encode()
    return box(kind, struct.pack(">HH", len(raw), 0x15C7), raw)  # length, language


def movie(
    path,
    created: dt.datetime | None = None,
    seconds: float = 10.0,
    width: int = 640,
    height: int = 480,
    matrix=IDENTITY,
    xyz: str | None = None,
    keys: dict[str, str] | None = None,
):
    """Write a minimal QuickTime movie (one video track, no media data) and return its path."""
    created_at, ticks = mac_time(created), round(seconds * TIMESCALE)
    mvhd = full_box(
        b"mvhd",
        0,
        struct.pack(">IIII", created_at, created_at, TIMESCALE, ticks),
        struct.pack(">IH10x", 0x10000, 0x100),  # rate 1.0, volume 1.0
        struct.pack(">9i", *IDENTITY),
        bytes(24),
        struct.pack(">I", 2),  # next track id
    )
    parts = [mvhd, video_track(created_at, ticks, width, height, matrix)]
    if xyz:
        parts.append(box(b"udta", user_data_string(b"\xa9xyz", xyz)))
    if keys:
        parts.append(apple_metadata(keys))
    path.write_bytes(box(b"ftyp", b"qt  ", bytes(4), b"qt  ") + box(b"moov", *parts))
    return path


def extracted(path) -> Extracted:
    out = Extracted()
    extract_video(str(path), out)
    return out


@pytest.fixture
def paris():
    """This computer's zone is Paris (UTC+2 in June) for the test, and is restored after."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "Europe/Paris")
        time.tzset()
        yield
    time.tzset()


def test_quicktime_creation_time_is_utc_and_shown_in_local_time(tmp_path, paris):
    out = extracted(movie(tmp_path / "a.mov", created=dt.datetime(2019, 6, 1, 10, tzinfo=UTC)))
    assert out.start == dt.datetime(2019, 6, 1, 12, 0, 0)
    assert out.utc_offset == 120
    assert out.date_source == "quicktime:CreateDate"
    assert out.errors == []


def test_winter_creation_time_takes_the_winter_offset(tmp_path, paris):
    out = extracted(movie(tmp_path / "a.mp4", created=dt.datetime(2019, 1, 5, 23, tzinfo=UTC)))
    assert (out.start, out.utc_offset) == (dt.datetime(2019, 1, 6, 0, 0, 0), 60)


def test_apple_creationdate_with_its_own_zone_wins_over_mvhd(tmp_path, paris):
    keys = {
        "com.apple.quicktime.creationdate": "2019-06-01T06:34:56-0400",
        "com.apple.quicktime.make": "Apple",
        "com.apple.quicktime.model": "iPhone 8",
    }
    path = movie(
        tmp_path / "IMG_0001.MOV", created=dt.datetime(2019, 6, 1, 10, 35, tzinfo=UTC), keys=keys
    )
    out = extracted(path)
    # Shot in New York: its wall clock and offset, not Paris's.
    assert out.start == dt.datetime(2019, 6, 1, 6, 34, 56)
    assert out.utc_offset == -240
    assert out.date_source == "quicktime:CreationDate"
    assert out.metadata["make"] == "Apple"
    assert out.metadata["model"] == "iPhone 8"


def test_end_is_start_plus_duration(tmp_path, paris):
    keys = {"com.apple.quicktime.creationdate": "2019-06-01T12:34:56+0200"}
    out = extracted(
        movie(
            tmp_path / "a.mov", created=dt.datetime(2019, 6, 1, tzinfo=UTC), seconds=7.5, keys=keys
        )
    )
    assert out.metadata["duration_s"] == 7.5
    assert out.end == dt.datetime(2019, 6, 1, 12, 35, 3, 500000)
    assert out.end - out.start == dt.timedelta(seconds=7.5)


def test_video_facts(tmp_path):
    out = extracted(movie(tmp_path / "a.mov", seconds=4, width=640, height=480))
    assert (out.width, out.height) == (640, 480)
    assert out.metadata["format"] == "MPEG-4"
    assert out.metadata["video_codec"] == "AVC"
    assert out.metadata["frame_rate"] == 30.0
    assert out.metadata["rotation"] == 0
    assert out.metadata["duration_s"] == 4.0


def test_rotation_90_swaps_width_and_height(tmp_path):
    path = movie(tmp_path / "portrait.mov", width=1920, height=1080, matrix=ROTATE_90)
    out = extracted(path)
    assert out.metadata["rotation"] == 90
    assert (out.width, out.height) == (1080, 1920)


@pytest.mark.parametrize("where", ["keys", "xyz"])
def test_gps_from_iso6709_with_negative_longitude(tmp_path, where):
    position = "+40.6892-074.0445+010.000/"  # the Statue of Liberty
    if where == "keys":
        path = movie(tmp_path / "a.mov", keys={"com.apple.quicktime.location.ISO6709": position})
    else:
        path = movie(tmp_path / "a.mp4", xyz=position)
    out = extracted(path)
    assert (out.latitude, out.longitude, out.altitude) == (40.6892, -74.0445, 10.0)
    assert out.location_source == "quicktime:GPS"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+48.8584+002.2945/", (48.8584, 2.2945, None)),
        ("-33.8688+151.2093-012.5/", (-33.8688, 151.2093, -12.5)),
        ("+4851.504+00217.67/", (48.8584, 2.2945, None)),  # degrees and minutes
        ("+485130.24-0021740.2/", (48.8584, -2.2945, None)),  # and seconds
        ("+91.0+000.0/", None),
        ("garbage", None),
        ("", None),
    ],
)
def test_iso6709(text, expected):
    assert parse_iso6709(text) == expected


def test_zero_creation_time_means_no_date(tmp_path):
    unix_zero = dt.datetime(1970, 1, 1, tzinfo=UTC)
    out = extracted(movie(tmp_path / "a.mp4", created=unix_zero))
    assert out.start is None
    assert out.end is None  # no start, so no end either
    assert out.metadata["duration_s"] == 10.0


def test_truncated_movie_keeps_what_was_read_and_says_so(tmp_path):
    whole = movie(tmp_path / "whole.mp4", created=dt.datetime(2019, 6, 1, 10, tzinfo=UTC))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[:200])
    out = extracted(cut)
    assert any(error.startswith("truncated") for error in out.errors)
    assert out.date_source == "quicktime:CreateDate"


@pytest.mark.parametrize(
    "content", [bytes(range(256)) * 8, b"<html>not a video</html>\n" * 20, b"\x00\x00\x00\x08"]
)
def test_garbage_records_an_error_and_does_not_raise(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    out = extracted(path)
    assert out.errors
    assert (out.start, out.width, out.height) == (None, None, None)


def test_missing_file_records_an_error(tmp_path):
    out = extracted(tmp_path / "gone.mp4")
    assert out.errors and out.errors[0].startswith("mediainfo:")


# -- through the importer, as a user runs it ----------------------------------------------


def test_iphone_movie_through_import_and_show(tmp_path, paris, cli, cli_json):
    """`luna show` on an iPhone MOV: its own date and zone, its place, its Live Photo."""
    folder = tmp_path / "phone"
    folder.mkdir()
    movie(
        folder / "IMG_0042.MOV",
        created=dt.datetime(2019, 6, 1, 10, 0, 0, tzinfo=dt.UTC),
        seconds=3.0,
        keys={
            "com.apple.quicktime.creationdate": "2019-06-01T12:00:00+0200",
            "com.apple.quicktime.location.ISO6709": "+48.8584+002.2945+035.000/",
        },
    )
    from conftest import make_photo

    make_photo(folder / "IMG_0042.JPG", taken="2019:06:01 12:00:00", offset="+02:00")
    code, _, err = cli("import", folder)
    assert code == 0, err
    records = cli_json("show", folder / "IMG_0042.MOV")[1]["files"]
    rec = records[0]
    assert rec["kind"] == "video" and rec["mime_type"] == "video/quicktime"
    assert rec["start"] == "2019-06-01T12:00:00+02:00"
    assert rec["end"] == "2019-06-01T12:00:03+02:00"
    assert rec["processor_metadata"]["date_source"] == "quicktime:CreationDate"
    assert round(rec["location"]["latitude"], 4) == 48.8584
    assert [r["relation"] for r in rec["related_files"]] == ["live-photo"]


def test_a_parser_that_hangs_is_given_up_and_the_video_still_recorded(lib, tmp_path, monkeypatch):
    import luna.ingest.extract as extract
    from luna.ingest.importer import ImportOptions

    def hang(path, out):
        time.sleep(60)

    monkeypatch.setattr("luna.ingest.extract.video.extract_video", hang)
    monkeypatch.setattr(extract, "VIDEO_PARSE_SECONDS", 1)
    folder = tmp_path / "v"
    folder.mkdir()
    movie(folder / "VID_20190601_123456.mov")
    started = time.monotonic()
    report = lib.import_paths([str(folder)], ImportOptions())
    assert time.monotonic() - started < 20
    assert (report.added, report.failed) == (1, 0)
    rec = lib.serialize(lib.get_file(str(folder / "VID_20190601_123456.mov")))
    assert "gave up after 1 s" in rec["processor_metadata"]["errors"][0]
    assert rec["processor_metadata"]["date_source"] == "filename"


def test_live_photo_parts_are_paired_by_content_identifier_across_names(tmp_path, cli, cli_json):
    """An exported Live Photo often loses the shared name; Apple's identifier remains."""
    import piexif
    from conftest import make_photo
    from test_related import apple_maker_note

    folder = tmp_path / "export"
    folder.mkdir()
    still = make_photo(folder / "Beach.jpg", make="Apple", model="iPhone 12")
    exif = piexif.load(str(still))
    exif["Exif"][piexif.ExifIFD.MakerNote] = apple_maker_note("6F1A-LIVE")
    piexif.insert(piexif.dump(exif), str(still))
    other = tmp_path / "videos"
    other.mkdir()
    movie(other / "clip.mov", keys={"com.apple.quicktime.content.identifier": "6F1A-LIVE"})
    assert cli("import", folder, other)[0] == 0
    records = cli_json("show", other / "clip.mov")[1]["files"]
    assert records[0]["metadata"]["content_identifier"] == "6F1A-LIVE"
    assert [(r["relation"], r["path"]) for r in records[0]["related_files"]] == [
        ("live-photo", str(still))
    ]
