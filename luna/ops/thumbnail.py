"""Making one thumbnail: the picture as displayed (EXIF orientation applied, colours in
sRGB), scaled to fit a square, encoded as WebP or JPEG with no metadata at all.

Decoding is the cost, so each source is read the cheapest way that still covers the size
(the ideas of luna.ops.similar, whose helpers this shares):
- JPEG: ``draft`` makes libjpeg decode at 1/2, 1/4 or 1/8 scale, the smallest at least
  as large as the thumbnail.
- HEIC/AVIF: ``draft`` makes pillow-heif decode the embedded thumbnail, when it is a
  scaled copy of the picture and large enough.
- RAW: the camera's embedded JPEG preview (luna.ingest.extract.previews), never a
  demosaic. A RAW without one fails with that reason.
- Video: a frame about one second in, through PyAV (the `luna-photos[video]` extra),
  else a system `ffmpeg`; with neither, a placeholder picture (`placeholder=True`).
- Other formats (PNG, TIFF, WebP, GIF...): Pillow, reduced with `reduce` as it scales.

No metadata leaves: the encoder is given the pixels only (no EXIF, XMP, ICC profile or
comment), so a thumbnail never carries a position. The gallery relies on it.

Pillow and PyAV are imported here only, on first use.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import warnings
from dataclasses import dataclass

from luna.ops.similar import DECODE_ERRORS, decode_failure, first_line, orientation_of
from luna.ops.similar import transposition as _transposition

THUMB_SIZE = 256  # the long side of a thumbnail, in pixels
PREVIEW_SIZE = 1440  # the long side of a preview (luna thumbs --preview; the gallery)
FORMATS = {"webp": ("WEBP", "webp"), "jpeg": ("JPEG", "jpg")}  # name: (Pillow's, extension)
# Quality: 256 px WebP photos of about 5 KB (1,000 thumbnails well under 20 MB: see
# benchmarks/bench_thumbs.py) that a person cannot tell from 90 at that size; JPEG needs
# a little more for the same look.
QUALITY = {"webp": 78, "jpeg": 82}
# Larger pictures are refused as likely decompression bombs (Pillow raises past twice
# its MAX_IMAGE_PIXELS): 200 MP, above any camera's sensor, at most ~800 MB decoded.
MAX_PIXELS = 100_000_000
VIDEO_SECONDS = 1.0  # how far into a video its frame is taken
VIDEO_FRAMES = 240  # decoded at most to reach it (a stream without timestamps)
FFMPEG_TIMEOUT = 60  # seconds


class CannotThumbnail(Exception):
    """The file cannot give a picture; the message says why, in one line."""


@dataclass
class Made:
    """A thumbnail's encoded bytes, by long side; placeholder when a video gave none."""

    images: dict[int, bytes]
    placeholder: bool = False


def make(path: str, *, kind: str, mime: str, sizes: tuple[int, ...], fmt: str = "webp") -> Made:
    """The thumbnails of the file at `path` at each size (long side, pixels), encoded as
    `fmt`. Raises CannotThumbnail (why, in one line) or OSError (the file cannot be read)."""
    from PIL import Image

    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: use webp or jpeg")
    largest = max(sizes)
    before = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # odd EXIF, large images: the pixels are fine
            picture, placeholder = _displayed(path, kind, mime, largest)
    except Image.DecompressionBombError as exc:
        reason = f"refused as a likely decompression bomb: {first_line(exc)}"
        raise CannotThumbnail(reason) from None
    except DECODE_ERRORS as exc:
        if isinstance(exc, OSError) and exc.filename:  # the file itself: missing, unreadable
            raise
        raise CannotThumbnail(decode_failure(exc)) from None
    finally:
        Image.MAX_IMAGE_PIXELS = before
    images = {}
    for size in sorted(sizes, reverse=True):  # each from the larger one: one decode
        picture = _fit(picture, size)
        images[size] = _encode(picture, fmt)
    picture.close()
    return Made(images, placeholder)


def _displayed(path: str, kind: str, mime: str, longest: int):
    """(RGB picture in sRGB, turned as displayed, at least `longest` on its long side or
    as large as the source gives; whether it is a placeholder)."""
    if kind == "video":
        frame = video_frame(path)
        if frame is None:
            return placeholder_picture(longest), True
        return _fit(frame.convert("RGB"), longest), False
    from luna.ingest.sniff import is_raw

    if is_raw(mime):
        return _from_raw_preview(path, longest), False
    with open(path, "rb") as fp:
        return _decode(fp, longest, orientation=None), False


def _decode(fp, longest: int, orientation: int | None):
    """Decode at the smallest scale covering `longest`; `orientation` overrides the
    picture's own (a RAW's, for its preview)."""
    from PIL import Image

    from luna.ingest.extract.heif import register

    register()
    with Image.open(fp) as im:
        im.draft("RGB", _box_covering(im.size, longest))
        im.load()
        # Read after decoding: Pillow's TIFF reader turns the pixels itself and drops the
        # tag; pillow-heif turns HEIC pixels and resets it to 1 (see luna.ops.similar).
        turn = orientation_of(im) if orientation in (None, 1) else orientation
        icc = im.info.get("icc_profile")
        # Within the block: closing an image frees its pixels.
        picture = _to_srgb(_fit(im, longest), icc)
    transpose = _transposition(turn)
    return picture.transpose(transpose) if transpose is not None else picture


def _box_covering(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """The smallest size of the picture's shape whose long side is `longest` (never larger
    than the picture): what draft must at least give."""
    width, height = size
    scale = min(1.0, longest / max(width, height, 1))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _fit(im, longest: int):
    """The picture no larger than `longest` on its long side (Pillow's thumbnail: `reduce`
    by whole factors first, then a Lanczos resample), shrunk in place when it can be."""
    from PIL import Image

    if im.mode in ("P", "PA", "1"):  # palettes resize by nearest neighbour only
        im = im.convert("RGBA" if im.mode == "PA" or "transparency" in im.info else "RGB")
    # reducing_gap 1.5: a box reduce by whole factors down to 1.5x the size, then Lanczos:
    # half the time of 2.0 (measured 2.6 against 5 ms from a 1/8 draft of 12 MP), and
    # nothing a 256 px picture shows.
    im.thumbnail((longest, longest), Image.Resampling.LANCZOS, reducing_gap=1.5)
    return im


def _to_srgb(im, icc: bytes | None):
    """RGB pixels in sRGB: through the picture's ICC profile when it has one (Adobe RGB,
    Display P3...), transparency flattened onto white, 16-bit and float scaled down."""
    from PIL import Image, ImageCms

    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if im.mode in ("RGBA", "LA", "La", "RGBa", "PA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        im = flat
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                im, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a damaged or unusable profile: the pixels as they are
    return im.convert("RGB")


def _encode(picture, fmt: str) -> bytes:
    """The pixels alone: with its info emptied, Pillow writes no EXIF, XMP, ICC profile
    or comment that the source had."""
    bare = picture if picture.mode == "RGB" else picture.convert("RGB")
    bare.info = {}
    out = io.BytesIO()
    pillow_format, _ = FORMATS[fmt]
    if fmt == "webp":
        # method 2: 1.6 ms a thumbnail against 4.5 for the default 4, and 5% larger.
        bare.save(out, pillow_format, quality=QUALITY[fmt], method=2)
    else:
        bare.save(out, pillow_format, quality=QUALITY[fmt], optimize=True)
    return out.getvalue()


# -- RAW -------------------------------------------------------------------------------------


def _from_raw_preview(path: str, longest: int):
    import mmap

    from luna.ingest.extract.previews import embedded_jpeg

    with open(path, "rb") as fp:
        try:
            data = mmap.mmap(fp.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file
            raise CannotThumbnail("empty file") from None
        with data:
            found = embedded_jpeg(data)
            if found is None:
                raise CannotThumbnail("RAW without an embedded preview (luna never demosaics)")
            start, end, orientation = found
            return _decode(io.BytesIO(data[start:end]), longest, orientation)


# -- video -----------------------------------------------------------------------------------


def video_backend() -> str | None:
    """What can take a frame out of a video here: "pyav", "ffmpeg" or None."""
    import importlib.util

    if importlib.util.find_spec("av") is not None:
        return "pyav"
    return "ffmpeg" if shutil.which("ffmpeg") else None


def video_frame(path: str):
    """A PIL image of the frame about VIDEO_SECONDS in (earlier in a shorter video), or
    None when neither PyAV nor ffmpeg is available."""
    backend = video_backend()
    if backend == "pyav":
        return _pyav_frame(path)
    if backend == "ffmpeg":
        return _ffmpeg_frame(path)
    return None


def _pyav_frame(path: str):
    import av

    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise CannotThumbnail("a video without a picture track")
            stream = container.streams.video[0]
            target = _frame_time(container.duration)
            if target > 0:
                container.seek(int(target * av.time_base))  # the key frame before it
            frame = None
            for n, decoded in enumerate(container.decode(stream)):
                frame = decoded
                if n >= VIDEO_FRAMES or decoded.time is None or decoded.time >= target:
                    break
            if frame is None:
                raise CannotThumbnail("no frame could be decoded")
            picture = frame.to_image()
            rotation = getattr(frame, "rotation", 0) or 0  # a phone held upright
            return picture.rotate(rotation, expand=True) if rotation % 360 else picture
    except av.FFmpegError as exc:
        raise CannotThumbnail(f"cannot decode the video: {first_line(exc)}") from None


def _frame_time(duration_us: int | None) -> float:
    """VIDEO_SECONDS in, or halfway through a shorter video (duration in AV_TIME_BASE)."""
    if not duration_us or duration_us <= 0:
        return 0.0
    return min(VIDEO_SECONDS, duration_us / 1_000_000 / 2)


def _ffmpeg_frame(path: str):
    from PIL import Image

    for start in (VIDEO_SECONDS, 0.0):  # a video shorter than a second has no frame at 1 s
        command = ["ffmpeg", "-nostdin", "-v", "error", "-ss", str(start), "-i", path,
                   "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise CannotThumbnail("ffmpeg took too long") from None
        if done.stdout:
            return Image.open(io.BytesIO(done.stdout))
    reason = done.stderr.decode(errors="replace").strip().splitlines()
    raise CannotThumbnail(f"ffmpeg: {reason[-1] if reason else 'no frame'}")


def placeholder_picture(longest: int):
    """A dark 4:3 frame with a play sign: a video luna could not take a frame from."""
    from PIL import Image, ImageDraw

    width, height = longest, longest * 3 // 4
    picture = Image.new("RGB", (width, height), (48, 48, 56))
    draw = ImageDraw.Draw(picture)
    side = height // 3
    left, top = (width - side) // 2, (height - side) // 2
    draw.polygon([(left, top), (left, top + side), (left + side, top + side // 2)], (220,) * 3)
    draw.text((8, height - 20), "video", fill=(200, 200, 200))
    return picture
