"""Videos through MediaInfo (pymediainfo): dates, duration, dimensions, camera and position,
completed by luna's own readers where MediaInfo is silent: the metadata boxes of QuickTime
and MP4 movies (luna.ingest.extract.isobmff: 3GPP positions, XMP, keywords) and AVCHD
camcorder data in transport streams (luna.ingest.extract.avchd).

MediaInfo parses the container itself; this module interprets what it reports. Dates
need the most care: QuickTime/MP4 creation times, Matroska's DateUTC and ASF's creation date
are UTC instants that say nothing of the zone the video was shot in, while Apple's
creationdate, camcorders (AVCHD, DV) and AVI files store the local wall clock, sometimes with
its offset.
"""

from __future__ import annotations

import datetime as dt
import math
import mmap
import re
from itertools import pairwise

from luna.ingest.extract.avchd import is_transport_stream, read_camcorder_data
from luna.ingest.extract.dates import local_from_timestamp, parse_exif_datetime
from luna.ingest.extract.facts import Extracted
from luna.ingest.extract.image import safely
from luna.ingest.extract.isobmff import MovieTags, read_movie_tags
from luna.ingest.extract.xmp import apply_xmp, parse_xmp

# MediaInfo's ParseSpeed runs from 0 (fewest bytes read) to 1 (whole file); its default, 0.5,
# also samples frames for GOP and caption details luna never uses. At 0 it still reads every
# header luna needs: the corpus videos give the same fields at 0 as at 0.5.
PARSE_SPEED = 0
# A transport stream (MTS, M2TS) has no index: MediaInfo scans packets at both ends of the
# file, 64 MiB each by default. 16 MiB is about 5 s of 24 Mbit/s AVCHD, which holds the
# first I-frame with the dimensions (SPS) and the camcorder's recording date (MDPM).
MPEGTS_SCAN_BYTES = 16 * 1024 * 1024

# MediaInfo's General "format" for QuickTime and the ISO media files derived from it (MP4,
# M4V, 3GP): their "encoded date" is the mvhd creation time.
QUICKTIME_FORMATS = {"MPEG-4", "QuickTime"}

# MediaInfo marks dates the container stores as UTC: "2019-06-01 10:00:00 UTC" (and
# "UTC 2019-06-01 10:00:00" before MediaInfo 17.10).
_UTC_LABEL = re.compile(r"^\s*UTC\s+|\s+UTC\s*$")
_UNIX_EPOCH = dt.datetime(1970, 1, 1)
# Zero in a 1904-based (QuickTime) or 1970-based counter: the device wrote no date.
ZERO_DATES = {dt.datetime(1904, 1, 1), _UNIX_EPOCH}

# Where MediaInfo puts each field (pymediainfo attribute names: MediaInfo's names lowercased,
# an Apple key "com.apple.quicktime.make" loses its dots), best first.
MAKE_FIELDS = ("comapplequicktimemake", "comandroidmanufacturer", "make")
MODEL_FIELDS = ("comapplequicktimemodel", "comandroidmodel", "model")
# ISO 6709 strings: Apple's key, the udta ©xyz atom (Android, Apple), older MediaInfo's name.
LOCATION_FIELDS = ("comapplequicktimelocationiso6709", "xyz", "recorded_location")
# A container's own recording date: AVCHD MDPM, DV, Matroska DATE_RECORDED, MP4 ©day
# ("recorded"); AVI IDIT ("mastered").
RECORDED_FIELDS = ("recorded_date", "mastered_date")

# The first box of a QuickTime or ISO media file (old QuickTime files may start with any).
MOVIE_TOP_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"uuid"}
LOCI_SOURCE = "3gpp:LocationInformation"

# "+48.8584-002.2945+035.000/": latitude, longitude, optional altitude, each signed.
_ISO6709 = re.compile(r"^\s*([+-][\d.]+)([+-][\d.]+)([+-][\d.]+)?")


def extract_video(path: str, out: Extracted) -> None:
    """Fill `out` from a video container (MP4, MOV, M4V, 3GP, AVI, MKV, MTS/M2TS, WMV, DV)
    using pymediainfo, then from what luna reads itself where MediaInfo is silent."""
    info = _parse_with_mediainfo(path, out)
    if info is not None:
        _read_report(info, out)
    safely(out, "container", lambda: _read_container_itself(path, out))
    out.end_from_duration()


def _read_report(info, out: Extracted) -> None:
    general = info.general_tracks[0] if info.general_tracks else None
    if general is None or not _text(general.format):
        out.errors.append("not a video MediaInfo can read (damaged, or an unknown container)")
        return
    out.metadata["format"] = _text(general.format)
    _note_damage(general, out)
    video = _main_video_track(info)
    if video is None:
        out.errors.append("no video track found")
    else:
        safely(out, "video track", lambda: _read_picture(video, general, out))
    safely(out, "camera", lambda: _read_camera(general, out))
    safely(out, "dates", lambda: _read_dates(general, video, out))
    safely(out, "location", lambda: _read_location(general, out))
    safely(out, "duration", lambda: _read_duration(general, video, out))


def _parse_with_mediainfo(path: str, out: Extracted):
    try:
        from pymediainfo import MediaInfo

        # An open file rather than its path: libmediainfo converts a path through the C
        # locale, and fails to open names that are not ASCII under LANG=C, or not UTF-8.
        with open(path, "rb") as fp:
            return MediaInfo.parse(
                fp,
                parse_speed=PARSE_SPEED,
                encoding_errors="replace",
                mediainfo_options={"MpegTs_MaximumOffset": str(MPEGTS_SCAN_BYTES)},
            )
    except Exception as exc:  # noqa: BLE001 - a library failure costs this file's metadata only
        out.errors.append(f"mediainfo: {_short(exc)}")
        return None


def _note_damage(general, out: Extracted) -> None:
    """MediaInfo still reports what it read from a cut-off file; say that it is cut off."""
    if _text(general.istruncated) == "Yes":
        detail = _text(general.general_compliance)
        out.errors.append(f"truncated: {_short_text(detail)}" if detail else "truncated")


def _main_video_track(info):
    """The first video track with dimensions (an iPhone's cinematic or spatial videos have
    further video tracks, the main picture comes first), else the first one at all."""
    tracks = info.video_tracks
    return next((t for t in tracks if t.width and t.height), tracks[0] if tracks else None)


def _read_picture(video, general, out: Extracted) -> None:
    md = out.metadata
    codec = _text(video.format)
    if codec:
        md["video_codec"] = codec
    frame_rate = _number(video.frame_rate) or _number(general.frame_rate)
    if frame_rate and frame_rate > 0:
        md["frame_rate"] = round(frame_rate, 3)
    rotation = _rotation(video.rotation)
    if rotation is not None:
        md["rotation"] = rotation
    width, height = _positive_int(video.width), _positive_int(video.height)
    if width and height:
        # Phones store the sensor's landscape frame and a rotation for the player.
        if rotation in (90, 270):
            width, height = height, width
        out.width, out.height = width, height


def _rotation(value) -> int | None:
    """Degrees clockwise, 0-359, from MediaInfo's "90.000" or "-90.000"."""
    degrees = _number(value)
    if degrees is None:
        return None
    return round(degrees) % 360


def _read_camera(general, out: Extracted) -> None:
    for key, fields in (("make", MAKE_FIELDS), ("model", MODEL_FIELDS)):
        value = next(filter(None, (_printable(getattr(general, f)) for f in fields)), None)
        if value:
            out.metadata[key] = value
    # A Live Photo's video carries the same identifier as the still's Apple maker note.
    identifier = _printable(general.comapplequicktimecontentidentifier)
    if identifier:
        out.metadata["content_identifier"] = identifier


def _read_dates(general, video, out: Extracted) -> None:
    apple = _parse_media_date(general.comapplequicktimecreationdate)
    if apple:
        out.offer_date(*apple, "quicktime:CreationDate")
    for field in RECORDED_FIELDS:
        recorded = _parse_media_date(getattr(general, field))
        if recorded:
            out.offer_date(*recorded, "video:RecordedDate")
            break
    encoded = _parse_media_date(general.encoded_date)
    if encoded is None and video is not None:
        encoded = _parse_media_date(video.encoded_date)  # the track's tkhd/mdhd time
    if encoded:
        # MediaInfo's "encoded date" is QuickTime's mvhd creation time, but Matroska's
        # DateUTC and ASF's creation date in those containers: their own recording date.
        if _text(general.format) in QUICKTIME_FORMATS:
            out.offer_date(*encoded, "quicktime:CreateDate")
        else:
            out.offer_date(*encoded, "video:RecordedDate")


def _parse_media_date(value) -> tuple[dt.datetime, int | None] | None:
    """(naive local datetime, UTC offset in minutes or None) from a date MediaInfo reports,
    or None if absent or invalid.

    A date MediaInfo marks as UTC is an instant: it becomes this computer's wall clock and
    offset at that instant, as ExifTool's -api QuickTimeUTC does. Any other date is a wall
    clock, with the offset it carries ("2008-12-31 23:16:24+01:00") if any.
    """
    text = _text(value)
    if text is None:
        return None
    unlabelled = _UTC_LABEL.sub("", text)
    if unlabelled == text:
        return parse_exif_datetime(text)
    parsed = parse_exif_datetime(unlabelled)
    if parsed is None:
        return None
    when, offset = parsed
    if when.replace(microsecond=0) in ZERO_DATES:
        return None
    return _utc_to_local(when - dt.timedelta(minutes=offset or 0))


def _utc_to_local(when: dt.datetime) -> tuple[dt.datetime, int] | None:
    try:
        return local_from_timestamp((when - _UNIX_EPOCH).total_seconds())
    except (OverflowError, OSError, ValueError):  # beyond what the C library can convert
        return None


def _read_location(general, out: Extracted) -> None:
    for field in LOCATION_FIELDS:
        position = parse_iso6709(getattr(general, field))
        if position:
            _offer_position(*position, "quicktime:GPS", out)
            return


def _offer_position(lat: float, lon: float, alt: float | None, source: str, out: Extracted):
    """Take a position unless it is 0, 0: what a device writes when it has no fix, never
    a video shot in the Gulf of Guinea."""
    if lat == 0 and lon == 0:
        note = f"{source}: position 0, 0 ignored (no GPS fix)"
        if note not in out.errors:
            out.errors.append(note)
        return
    out.offer_location(lat, lon, alt, source)


def parse_iso6709(value) -> tuple[float, float, float | None] | None:
    """(latitude, longitude, altitude or None) from an ISO 6709 string, or None if invalid.

    Phones write decimal degrees ("+48.8584+002.2945+035.000/"); the standard also allows
    degrees and minutes (+DDMM.M) or degrees, minutes and seconds (+DDMMSS.S).
    """
    text = _text(value)
    m = _ISO6709.match(text) if text else None
    if not m:
        return None
    lat, lon = _iso6709_angle(m.group(1), 2), _iso6709_angle(m.group(2), 3)
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    alt = _number(m.group(3)) if m.group(3) else None
    return round(lat, 8), round(lon, 8), round(alt, 3) if alt is not None else None


def _iso6709_angle(part: str, degree_digits: int) -> float | None:
    """Signed degrees from "+48.8584", "+4851.50" or "+485130.2" (2 or 3 degree digits)."""
    whole, _, fraction = part[1:].partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        return None
    extra = len(whole) - degree_digits  # 0: degrees, 2: and minutes, 4: and seconds
    if extra not in (0, 2, 4):
        return None
    bounds = [0, degree_digits, degree_digits + 2][: extra // 2 + 1] + [len(whole)]
    units = [whole[start:end] for start, end in pairwise(bounds)]
    units[-1] += f".{fraction}" if fraction else ""  # the fraction belongs to the last unit
    degrees = sum(float(unit) / 60**i for i, unit in enumerate(units))
    return -degrees if part[0] == "-" else degrees


def _read_duration(general, video, out: Extracted) -> None:
    ms = _number(general.duration)
    if not ms or ms <= 0:
        ms = _number(video.duration) if video is not None else None
    if ms and ms > 0:
        out.metadata["duration_s"] = round(ms / 1000, 6)


# -- what luna reads itself: metadata boxes, camcorder data ---------------------------------


def _read_container_itself(path: str, out: Extracted) -> None:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if is_transport_stream(data):
            if out.date_source is None or "make" not in out.metadata:
                _read_camcorder_data(data, out)
        elif bytes(data[4:8]) in MOVIE_TOP_BOXES:
            _read_movie_tags(read_movie_tags(data), out)


def _read_movie_tags(tags: MovieTags, out: Extracted) -> None:
    """What the movie header holds beyond MediaInfo's report: positions (if MediaInfo gave
    none), keywords, and embedded XMP (ranked as a photo's embedded XMP)."""
    for text in tags.iso6709:
        position = parse_iso6709(text)
        if position:
            _offer_position(*position, "quicktime:GPS", out)
    for lat, lon, alt in tags.loci:
        if abs(lat) <= 90 and abs(lon) <= 180:  # ExifTool writes 999 for "unknown"
            _offer_position(round(lat, 8), round(lon, 8), round(alt, 3), LOCI_SOURCE, out)
    for keyword in tags.keywords:
        out.add_keyword(keyword)
    for packet in tags.xmp:
        info = parse_xmp(packet, out.errors)
        if info is not None:
            if info.latitude == 0 and info.longitude == 0:
                info.latitude = info.longitude = None
                out.errors.append("xmp:GPS: position 0, 0 ignored (no GPS fix)")
            apply_xmp(info, out, "xmp")


def _read_camcorder_data(data, out: Extracted) -> None:
    camcorder = read_camcorder_data(data)
    if camcorder is None:
        return
    if camcorder.recorded is not None:
        out.offer_date(*camcorder.recorded, "video:RecordedDate")
    for key in ("make", "model"):
        value = getattr(camcorder, key)
        if value and key not in out.metadata:
            out.metadata[key] = value
    if camcorder.latitude is not None and camcorder.longitude is not None:
        position = camcorder.latitude, camcorder.longitude, camcorder.altitude
        _offer_position(*position, "avchd:GPS", out)


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    return text or None


def _printable(value) -> str | None:
    text = _text(value)
    return text if text and text.isprintable() else None


def _number(value) -> float | None:
    """A finite float from MediaInfo's text ("30.000", "4966.667"), or None."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _positive_int(value) -> int | None:
    f = _number(value)
    return int(f) if f is not None and 0 < f < 2**31 else None


def _short(exc: BaseException) -> str:
    return _short_text(str(exc) or type(exc).__name__)


def _short_text(text: str) -> str:
    return text if len(text) < 200 else text[:197] + "..."
