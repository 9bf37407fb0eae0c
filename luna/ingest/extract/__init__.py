"""Reading one file: its bytes are read once, and that one read serves the SHA-256, the
MIME sniff and the metadata parsers. Runs in the import's worker processes.
"""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import stat
import warnings

from luna.ingest.extract.dates import local_from_timestamp
from luna.ingest.extract.facts import Extracted, FileFacts, FileFailed, Skipped
from luna.ingest.extract.filename import date_from_filename
from luna.ingest.extract.window import Window
from luna.ingest.sniff import (
    MEDIA_EXTENSIONS,
    PHOTO,
    SIDECAR,
    SNIFF_BYTES,
    VIDEO,
    classify,
    extension,
    is_raw,
    sniff_mime,
)
from luna.store.rows import encode_json
from luna.version import __version__

__all__ = ["read_file", "FileFacts", "FileFailed", "Skipped", "Extracted"]

# Files up to this size are memory-mapped: the hash and the parsers then read the page
# cache directly. Larger ones (videos) are hashed in chunks and parsed from their headers.
MMAP_LIMIT = 512 * 1024 * 1024
CHUNK = 1024 * 1024

PSD = "image/vnd.adobe.photoshop"  # read by luna itself (luna.ingest.extract.containers)

# Formats whose header Pillow (with pillow-heif) must be able to read; if it cannot, the
# file is damaged and is reported rather than recorded with nothing known about it.
PILLOW_FORMATS = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/tiff",
    "image/bmp",
    "image/x-ms-bmp",
    "image/heic",
    "image/heif",
    "image/heic-sequence",
    "image/heif-sequence",
    "image/avif",
    "image/jp2",
    "image/x-portable-pixmap",
    "image/x-portable-greymap",
    "image/x-portable-bitmap",
}


def read_file(path: str, mime: str | None = None) -> FileFacts | Skipped:
    """Hash, sniff and extract one file. Raises FileFailed with a short reason. `mime`,
    when the caller knows the content (luna wrote it), spares the sniffing."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
    except FileNotFoundError:
        # Gone since the folder was listed (deleted, or moved by another luna): nothing
        # failed, there is just nothing left to import.
        return Skipped(path, "vanished since the folder was listed")
    except PermissionError:
        try:  # O_NOATIME is refused for files we do not own; it only saves a disk write
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise FileFailed(f"cannot read: {_os_reason(exc)}") from None
    except OSError as exc:
        raise FileFailed(f"cannot read: {_os_reason(exc)}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileFailed("not a regular file")
        if st.st_size == 0:
            raise FileFailed("empty file (0 bytes)")
        with _open_content(fd, st.st_size) as content:
            return _read_content(path, st, content, mime)
    except OSError as exc:
        raise FileFailed(f"cannot read: {_os_reason(exc)}") from None
    finally:
        os.close(fd)


def _open_content(fd: int, size: int):
    if size <= MMAP_LIMIT:
        return MappedFile(mmap.mmap(fd, 0, access=mmap.ACCESS_READ))
    return open(fd, "rb", buffering=CHUNK, closefd=False)


class MappedFile(io.BufferedReader):
    """A complete read-only binary file object over a memory map of the whole file."""

    def __init__(self, mm: mmap.mmap):
        # Window allows seeking past the end, as files do and Pillow's parsers expect
        # when probing damaged files (an mmap itself refuses).
        super().__init__(Window(mm, 0, len(mm)), buffer_size=64 * 1024)
        self.mm = mm

    def close(self) -> None:
        super().close()
        self.mm.close()


# In an import's worker processes, every warning goes to this list (record_warnings_here,
# run once by each worker), and each file takes those of its own reading: one filter for
# the process instead of a catch_warnings per file, a twentieth of a phone photo's cost.
_warned: list | None = None


def record_warnings_here() -> None:
    """Record every warning of this process (a worker's) for the file being read."""
    global _warned
    _warned = []
    warnings.simplefilter("always")
    warnings.showwarning = lambda message, *_args, **_kwargs: _warned.append(message)


def _read_content(path: str, st: os.stat_result, content, mime=None) -> FileFacts | Skipped:
    mapped = isinstance(content, MappedFile)
    head = content.mm[:SNIFF_BYTES] if mapped else content.read(SNIFF_BYTES)
    kind, mime = classify(path, mime or sniff_mime(head))
    if kind is None:
        if extension(path) in MEDIA_EXTENSIONS:
            raise FileFailed(f"damaged: named like a photo or video, but its content is {mime}")
        return Skipped(path, f"not a photo or video ({mime})")
    sha = _sha256(content)
    found = Extracted()
    # Pillow warns about damaged metadata; those notes belong to the file's record.
    if _warned is None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _extract(path, content, mime, kind, found)
        notes = [w.message for w in caught]
    else:
        _warned.clear()
        _extract(path, content, mime, kind, found)
        notes = _warned
    for note in notes[:10]:
        message = str(note).strip()
        if message and message not in found.errors:
            found.errors.append(message)
    if kind != SIDECAR:
        _apply_sidecars(path, found)
    _fall_back_dates(path, st, found)
    found.end_from_duration()  # from the start that won, whoever gave it
    metadata = dict(found.metadata)
    if found.date_precision:
        metadata["date_precision"] = found.date_precision
    if found.keywords:
        metadata["keywords"] = found.keywords
    return FileFacts(
        metadata_json=encode_json(metadata),
        processor_json=encode_json(processor_metadata(found)),
        path=path,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        uid=st.st_uid,
        content_sha=sha,
        mime_type=mime,
        kind=kind,
        found=found,
    )


MAX_SIDECAR = 4 * 1024 * 1024  # an XMP sidecar larger than this is not one
# Reads take one byte more, so that parse_xmp sees a sidecar over the limit (and says so)
# rather than a truncated packet that would fail silently as broken XML.
_SIDECAR_READ = MAX_SIDECAR + 1


def _extract_sidecar(content, found: Extracted) -> None:
    """A sidecar's own record: what its XMP says (an AAE edit list says nothing we use).
    Its keywords stay in its metadata; as tags they belong to the media it describes."""
    found.extractors.append("sidecar")
    packet = content.read(_SIDECAR_READ)
    from luna.ingest.extract.xmp import apply_xmp, parse_xmp

    is_xmp = b"xmpmeta" in packet or b"rdf:RDF" in packet
    info = parse_xmp(packet, found.errors) if is_xmp else None
    if info is None:
        return
    found.extractors.append("xmp")
    apply_xmp(info, found, "xmp")
    if found.keywords:
        found.metadata["keywords"] = found.keywords
        found.keywords = []


def sidecar_paths(path: str) -> list[str]:
    """The XMP sidecars that may describe `path`: IMG_1.jpg.xmp, then IMG_1.xmp (and the
    upper-case spellings cameras and Windows tools produce)."""
    stem = os.path.splitext(path)[0]
    names = (path + ".xmp", path + ".XMP", stem + ".xmp", stem + ".XMP")
    folder = os.path.dirname(path)
    listed = _lowered_names_in(folder)
    if listed is not None and not any(
        os.path.basename(n).lower() in listed for n in (names[0], names[2])
    ):
        return []  # the usual case, told by one stat of the folder instead of four lookups
    return [p for p in dict.fromkeys(names) if os.path.isfile(p)]


# The folder whose names were listed last: (path, inode, mtime in ns, lower-cased names).
# A worker reads a folder's files one after another, so one listing serves them all; the
# folder's mtime changes when an entry is added, removed or renamed, so it is never stale.
_listing: tuple[str, int, int, frozenset[str]] | None = None


def _lowered_names_in(folder: str) -> frozenset[str] | None:
    """The lower-cased names in `folder` (lower-cased: a case-insensitive disk finds
    IMG_1.JPG.XMP for IMG_1.jpg.xmp), or None if it cannot be listed."""
    global _listing
    try:
        st = os.stat(folder or ".")
        if _listing is not None and _listing[:3] == (folder, st.st_ino, st.st_mtime_ns):
            return _listing[3]
        names = frozenset(name.lower() for name in os.listdir(folder or "."))
    except OSError:
        return None
    _listing = (folder, st.st_ino, st.st_mtime_ns, names)
    return names


def _apply_sidecars(path: str, found: Extracted) -> None:
    """What the sidecars say fills what the file itself lacks (facts.DATE_SOURCES ranks
    sidecar dates below the file's own)."""
    for sidecar in sidecar_paths(path):
        from luna.ingest.extract.xmp import apply_xmp, parse_xmp

        name = os.path.basename(sidecar)
        problems: list[str] = []
        try:
            with open(sidecar, "rb") as f:
                info = parse_xmp(f.read(_SIDECAR_READ), problems)
        except OSError as exc:
            found.errors.append(f"sidecar {name}: {_os_reason(exc)}")
            continue
        found.errors.extend(f"sidecar {name}: {problem}" for problem in problems)
        if info is not None:
            apply_xmp(info, found, "sidecar")
            found.sidecars.append(sidecar)


def _fall_back_dates(path: str, st: os.stat_result, found: Extracted) -> None:
    """The later steps of the documented date order, and the zone from GPS time."""
    if found.gps_utc is not None:
        # With no capture date, the GPS fix's time is when it was taken: in UTC.
        found.offer_date(found.gps_utc, 0, "gps:DateTime")
    named = date_from_filename(os.path.basename(path))
    if named is not None:
        found.offer_date(named[0], None, "filename")
    if found.start is None:
        when, offset = local_from_timestamp(st.st_mtime)
        found.offer_date(when, offset, "file:mtime")
        found.offset_source = "file:mtime (this computer's time zone)"
    if found.utc_offset is None and found.gps_utc is not None and found.date_source:
        _offset_from_gps_time(found)


def _offset_from_gps_time(found: Extracted) -> None:
    """A camera's local time minus the GPS clock's UTC time is the zone it was in.

    Zones are whole quarter hours, and the two clocks are taken a moment apart, so the
    difference is rounded; more than 14 hours apart means one of the clocks is wrong."""
    if found.date_source in ("filename", "file:mtime"):
        return
    if found.start is None or found.gps_utc is None:
        return
    minutes = (found.start - found.gps_utc).total_seconds() / 60
    offset = round(minutes / 15) * 15
    if abs(offset) <= 14 * 60 and abs(minutes - offset) <= 10:
        found.utc_offset = int(offset)
        found.offset_source = "gps:DateTimeStamp"


def _sha256(content) -> str:
    if isinstance(content, MappedFile):  # hashes straight from the page cache, no copy
        return hashlib.sha256(content.mm).hexdigest()
    content.seek(0)
    return hashlib.file_digest(content, "sha256").hexdigest()


def _extract(path: str, content, mime: str, kind: str, found: Extracted) -> None:
    content.seek(0)
    if kind == PHOTO and isinstance(content, MappedFile) and is_raw(mime):
        from luna.ingest.extract.raw import extract_raw

        found.extractors.append("luna-raw")
        extract_raw(content.mm, mime, found)
        return
    if kind == PHOTO and isinstance(content, MappedFile) and mime == "image/jxl":
        from luna.ingest.extract.jxl import extract_jxl

        found.extractors.append("luna-jxl")
        extract_jxl(content.mm, found)
        return
    if kind == PHOTO and mime == "image/jpeg" and isinstance(content, MappedFile):
        from luna.ingest.extract.image import extract_jpeg

        if extract_jpeg(content.mm, found, _read_ciff):
            found.extractors.append("luna-jpeg")
            return
        content.seek(0)
    if kind == PHOTO and mime == PSD and isinstance(content, MappedFile):
        # Pillow parses every layer of a PSD to open it, and reads none of its metadata:
        # luna's reader reads the header and the image resources only.
        from luna.ingest.extract.containers import extract_psd

        found.extractors.append("luna-psd")
        extract_psd(content.mm, found)
        return
    if kind == PHOTO and (mime in PILLOW_FORMATS or mime.startswith("image/")):
        _register_heif_if_needed(mime)
        from luna.ingest.extract.containers import read_png_profiles
        from luna.ingest.extract.image import extract_image

        found.extractors.append("pillow")
        try:
            extract_image(content, found, read_png_profiles)
        except FileFailed as exc:
            # A decompression bomb stays refused (image.open_image), whatever its metadata.
            bomb = str(exc).startswith("refused as a likely decompression bomb")
            if not bomb and _read_without_pillow(content, found):
                found.errors.append(str(exc))
                return
            # A RAW that Pillow cannot read is still recorded with what is known
            # (its hash, type and date); a damaged JPEG or PNG is reported.
            if mime in PILLOW_FORMATS and not is_raw(mime):
                raise
            found.errors.append(str(exc))
            if mime == PSD:
                _read_psd_header(content, found)
    elif kind == VIDEO:
        found.extractors.append("mediainfo")
        _extract_video(path, found)
    elif kind == SIDECAR:
        _extract_sidecar(content, found)


def _read_without_pillow(content, found: Extracted) -> bool:
    """A file Pillow cannot open whose metadata luna can still read (a big-endian BigTIFF,
    a TIFF of a pixel layout Pillow does not know, a WebP, GIF or PNG whose image is damaged)
    is recorded with that metadata and Pillow's complaint among its errors. True if
    anything about the file was read; a file that tells nothing (a truncated or garbage
    JPEG) stays a failure."""
    if not isinstance(content, MappedFile):
        return False
    from luna.ingest.extract.containers import read_without_pillow

    return read_without_pillow(content.mm, found)


VIDEO_PARSE_SECONDS = 20  # MediaInfo may loop on a damaged file; see luna.ingest.extract.deadline


def _extract_video(path: str, found: Extracted) -> None:
    """The container's dates, size, duration and place, parsed under its own deadline."""
    from luna.ingest.extract.deadline import DeadlineExceeded, call_with_deadline
    from luna.ingest.extract.video import extract_video

    def parse() -> Extracted:
        parsed = Extracted()
        extract_video(path, parsed)
        return parsed

    try:
        parsed = call_with_deadline(parse, VIDEO_PARSE_SECONDS)
    except DeadlineExceeded as exc:
        found.errors.append(f"video container: {exc} (damaged?); recorded without it")
        return
    except RuntimeError as exc:
        found.errors.append(f"video container: {exc}")
        return
    for name in Extracted.__slots__:
        setattr(found, name, getattr(parsed, name))
    found.extractors = ["mediainfo"]


def _read_psd_header(content, found: Extracted) -> None:
    """A Photoshop file whose layers Pillow refuses still states its size up front:
    "8BPS", version, 6 reserved bytes, channels, then height and width (big-endian)."""
    content.seek(0)
    header = content.read(26)
    if len(header) == 26 and header[:4] == b"8BPS":
        found.height = int.from_bytes(header[14:18], "big") or None
        found.width = int.from_bytes(header[18:22], "big") or None


def _register_heif_if_needed(mime: str) -> None:
    if mime in (
        "image/heic",
        "image/heif",
        "image/avif",
        "image/heic-sequence",
        "image/heif-sequence",
    ):
        from luna.ingest.extract.heif import register

        register()


def processor_metadata(found: Extracted) -> dict:
    """The `processor_metadata` column: how this row's metadata was obtained."""
    import PIL

    return {
        "luna_version": __version__,
        "extractors": found.extractors,
        "pillow_version": PIL.__version__,
        "date_source": found.date_source,
        "offset_source": found.offset_source,
        "location_source": found.location_source,
        "sidecars": found.sidecars,
        "errors": found.errors,
    }


def _os_reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


def _read_ciff(block: bytes, out: Extracted) -> None:
    from luna.ingest.extract.raw import read_ciff  # only for the rare JPEG that has one

    read_ciff(block, out)
