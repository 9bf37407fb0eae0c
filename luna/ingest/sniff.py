"""What a file is, from its content: the MIME type (libmagic) and luna's `kind`.

The extension is only a hint for the cases where libmagic answers with a generic type,
as it does for several camera RAW formats.
"""

from __future__ import annotations

import os

PHOTO, VIDEO, SIDECAR = "photo", "video", "sidecar"

# How many bytes libmagic needs to recognise every format we care about.
SNIFF_BYTES = 4096

# Not photos even though libmagic calls them image/*.
NOT_PHOTOS = {
    "image/svg+xml",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "image/x-xpixmap",
    "image/x-xbitmap",
    "image/x-tga",  # libmagic's guess for many unrelated binary blobs
}

# RAW formats libmagic reports as image/tiff or application/octet-stream; the extension
# decides which RAW it is. MIME names follow the shared-mime-info database.
RAW_MIME_BY_EXTENSION = {
    ".3fr": "image/x-hasselblad-3fr",
    ".arw": "image/x-sony-arw",
    ".cr2": "image/x-canon-cr2",
    ".cr3": "image/x-canon-cr3",
    ".crw": "image/x-canon-crw",
    ".dcr": "image/x-kodak-dcr",
    ".dng": "image/x-adobe-dng",
    ".erf": "image/x-epson-erf",
    ".iiq": "image/x-phaseone-iiq",
    ".k25": "image/x-kodak-k25",
    ".kdc": "image/x-kodak-kdc",
    ".mef": "image/x-mamiya-mef",
    ".mos": "image/x-leaf-mos",
    ".mrw": "image/x-minolta-mrw",
    ".nef": "image/x-nikon-nef",
    ".nrw": "image/x-nikon-nrw",
    ".orf": "image/x-olympus-orf",
    ".pef": "image/x-pentax-pef",
    ".raf": "image/x-fuji-raf",
    ".raw": "image/x-panasonic-raw",
    ".rw2": "image/x-panasonic-rw2",
    ".rwl": "image/x-leica-rwl",
    ".sr2": "image/x-sony-sr2",
    ".srf": "image/x-sony-srf",
    ".srw": "image/x-samsung-srw",
    ".x3f": "image/x-sigma-x3f",
}

VIDEO_MIME_BY_EXTENSION = {
    ".mts": "video/mp2t",
    ".m2ts": "video/mp2t",
    ".mp4": "video/mp4",
    ".m4v": "video/x-m4v",
    ".mov": "video/quicktime",
    ".3gp": "video/3gpp",
    ".avi": "video/x-msvideo",
    ".mkv": "video/x-matroska",
    ".wmv": "video/x-ms-wmv",
    ".dv": "video/x-dv",
}

# Generic answers from libmagic that mean "I could not tell": then the extension decides.
GENERIC_MIMES = {"application/octet-stream", "image/tiff", "text/plain", "application/x-riff"}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Files that are certainly not media; they are skipped without being opened.
NOT_MEDIA_EXTENSIONS = _words(
    """
    .txt .md .rst .json .jsonl .csv .tsv .log .ini .cfg .conf .toml .yaml .yml .xml .html .htm
    .css .js .ts .py .pyc .sh .c .h .cpp .java .go .rs .rb .pl .php .sql .db .sqlite .pdf .doc
    .docx .xls .xlsx .ppt .pptx .odt .ods .odp .rtf .epub .zip .gz .bz2 .xz .zst .tar .tgz .7z
    .rar .iso .dmg .exe .dll .so .dylib .bin .o .a .class .jar .lock .ttf .otf .woff .woff2 .mp3
    .wav .flac .aac .ogg .m4a .opus .wma .mid .gpx .kml .kmz .url .lnk .torrent
    """
)

# Extensions that promise a photo or video: such a file whose content is not one is
# reported as damaged rather than skipped as "not media".
MEDIA_EXTENSIONS = (
    _words(".jpg .jpeg .jpe .png .gif .webp .tif .tiff .heic .heif .hif .avif .bmp .jxl .jp2 .mpo")
    | _words(".psd")
    | frozenset(RAW_MIME_BY_EXTENSION)
    | frozenset(VIDEO_MIME_BY_EXTENSION)
)


def extension(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def is_certainly_not_media(path: str) -> bool:
    return extension(path) in NOT_MEDIA_EXTENSIONS


def not_media_reason(path: str) -> str:
    """Why a file is_certainly_not_media skips is skipped, for the report."""
    return f"not a photo or video (a {extension(path)} file)"


# Every JPEG starts with a start-of-image marker and the first marker segment's 0xFF, and
# libmagic calls any such content image/jpeg once a byte follows (tests/test_sniff checks it
# against libmagic). Answering that case directly saves a phone photo's import a tenth of
# its CPU: libmagic runs its whole test list for each buffer.
JPEG_START = b"\xff\xd8\xff"


def sniff_mime(head: bytes) -> str:
    """libmagic's MIME type for the first bytes of a file."""
    if head.startswith(JPEG_START) and len(head) > len(JPEG_START):
        return "image/jpeg"
    import magic  # loaded in the worker only: about 60 ms that `luna find` should not pay

    return magic.from_buffer(head[:SNIFF_BYTES], mime=True)


# Sidecars describe a photo or video beside them: XMP (Lightroom, darktable, digiKam...)
# and Apple's AAE edit lists. libmagic often calls them plain text.
SIDECAR_MIME_BY_EXTENSION = {".xmp": "application/rdf+xml", ".aae": "application/xml"}
GENERIC_TEXT = {"text/plain", "application/octet-stream", "text/xml"}


def classify(path: str, sniffed: str) -> tuple[str | None, str]:
    """(kind, mime type) for a file, or (None, mime) when it is not a photo, video or
    sidecar."""
    ext = extension(path)
    mime = sniffed
    if ext in SIDECAR_MIME_BY_EXTENSION and not sniffed.startswith(("image/", "video/")):
        if sniffed in GENERIC_TEXT:
            mime = SIDECAR_MIME_BY_EXTENSION[ext]
        return SIDECAR, mime
    if sniffed in GENERIC_MIMES or sniffed.startswith("image/x-"):
        mime = RAW_MIME_BY_EXTENSION.get(ext) or _generic_video(sniffed, ext) or sniffed
    if mime.startswith("video/"):
        return VIDEO, mime
    if mime.startswith("image/") and mime not in NOT_PHOTOS:
        return PHOTO, mime
    return None, mime


def _generic_video(sniffed: str, ext: str) -> str | None:
    if sniffed in ("application/octet-stream", "application/x-riff"):
        return VIDEO_MIME_BY_EXTENSION.get(ext)
    return None


def is_raw(mime: str) -> bool:
    return mime in RAW_MIME_BY_EXTENSION.values()
