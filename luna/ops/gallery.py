"""`luna gallery`: a folder that shows photos in any browser, from a USB stick (file://) or
any static web host, with no server and no network.

    DIR/index.html           the page (luna/gallery/index.html, its title filled in)
    DIR/data.js              what the page shows of each photo (window.LUNA_GALLERY)
    DIR/assets/              gallery.js, gallery.css; with a map, Leaflet and the countries
    DIR/thumbs/SHA.webp      256 px, from the thumbnail cache (lib.thumbs)
    DIR/previews/SHA.webp    1,440 px, for the viewer
    DIR/originals/SHA.ext    only with `originals`: copied or hard-linked, never moved
    DIR/.luna-gallery.json   the manifest: every file the gallery wrote, and from what

Privacy: without `keep_location` no position is written anywhere in DIR: data.js has none
(and no map), the thumbnails and previews carry no metadata (luna.ops.thumbnail), and an
original is exported only when its position can be removed with certainty (a JPEG:
luna.ops.location_strip); HEIC, RAW, videos and the rest are left out, and said so.

Incremental: a file is written again only when what it is made from changed (its `key` in
the manifest) or it is no longer as written (size, mtime). The files of photos no longer
chosen are removed: only files the manifest lists, so nothing the gallery did not write is
ever touched, and a folder with files but no manifest is refused. Every file is written
under a temporary name and renamed into place, never opened in place: a name may be a hard
link to an original.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from luna.errors import LunaError
from luna.files.place import (
    fsync_folder,
    link_no_replace,
    make_folders,
    remove_quietly,
    temporary_name,
)
from luna.fsnames import for_humans
from luna.results import Result

MANIFEST = ".luna-gallery.json"
MANIFEST_FORMAT = "luna gallery"
MANIFEST_VERSION = 1
KINDS = ("photo", "video")
# Page files, from luna/gallery/ (package data) to DIR/assets/; the map's only with one.
PAGE_ASSETS = ("gallery.js", "gallery.css")
MAP_ASSETS = (
    "countries.js",
    "leaflet/leaflet.js",
    "leaflet/leaflet.css",
    "leaflet/LICENSE",
    "leaflet/images/layers.png",
    "leaflet/images/layers-2x.png",
    "leaflet/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png",
)
JPEG_TYPES = frozenset({"image/jpeg", "image/jpg", "image/pjpeg"})
# What Chromium, Firefox and Safari all play in <video>: H.264 in MP4 or QuickTime, VP8,
# VP9 or AV1 in WebM (and AV1 in MP4). HEVC plays in some browsers only: offered as a
# download instead.
PLAYABLE_CONTAINERS = frozenset({"video/mp4", "video/quicktime", "video/x-m4v", "video/webm"})
PLAYABLE_CODECS = frozenset({"AVC", "H264", "H.264", "AVC1", "VP8", "VP9", "AV1"})


class GalleryRefused(LunaError):
    """DIR cannot be (re)written as a gallery: not a folder, or a folder with files in it
    that no luna gallery wrote (it has no manifest)."""


@dataclass
class GalleryOptions:
    out: str  # the gallery's folder
    title: str | None = None  # default: the album's or event's name, else "Photos"
    originals: bool = False
    keep_location: bool = False
    dry_run: bool = False


@dataclass
class GalleryReport(Result):
    """What `luna gallery` wrote (or would write, with dry_run)."""

    out: str
    title: str
    photos: int = 0
    videos: int = 0
    on_map: int = 0  # photos and videos with a position on the map (keep_location only)
    written: int = 0  # files written (again)
    unchanged: int = 0  # files already as they should be
    removed: int = 0  # files of an earlier run no longer needed
    originals: int = 0  # originals exported (copied, linked or stripped)
    originals_linked: int = 0  # ... of which hard links to the library's file
    originals_stripped: int = 0  # ... of which copies without their position
    left_out: list[dict] = field(default_factory=list)  # {"path", "reason"}: not exported
    no_thumbnail: list[dict] = field(default_factory=list)  # {"path", "reason"}
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def problems(self):  # type: ignore[override]
        # An original left out for privacy is what was asked for, not a failure.
        return self.no_thumbnail


@dataclass
class _Photo:
    """One photo or video of the gallery: what the library says of it."""

    id: str
    path: str
    record: dict  # luna.search.query.hit_record's fields


@dataclass
class _File:
    """A file the gallery is to hold: `key` says what it is made from (the manifest keeps
    it), `write(temporary)` makes it under a temporary name and returns how ("copied",
    "linked", "stripped", "written")."""

    key: str
    write: Callable[[str], str]
    source: str = ""  # the library file it is made from, if any (for the report)


# -- choosing ---------------------------------------------------------------------------------


def choose(lib, files, query) -> list[_Photo]:
    """The photos and videos of the gallery, in date order, each content once: those the
    FILEs name, those the search finds, or both (the files named that it finds)."""
    from luna.search.query import Query, hit_record

    q = query if query is not None else Query()
    q.sort = "date"
    found = lib.find(q, with_tags=False)
    wanted = None if files is None else set(lib.resolve(files).ids)
    photos, seen = [], set()
    for hit in found.hits:
        if hit.kind not in KINDS or (wanted is not None and hit.id not in wanted):
            continue
        if hit.content_sha in seen:
            continue  # a copy shows the same picture: once is enough
        seen.add(hit.content_sha)
        photos.append(_Photo(hit.id, hit.path, hit_record(hit, None)))
    return photos


# -- writing ----------------------------------------------------------------------------------


def write_gallery(lib, photos: list[_Photo], options: GalleryOptions, progress=None):
    """Write (or with dry_run, weigh) the gallery of `photos` in options.out."""
    started = time.monotonic()
    out = os.path.abspath(options.out)
    old = read_manifest(out)
    report = GalleryReport(out=out, title=options.title or "Photos", dry_run=options.dry_run)
    report.photos = sum(p.record["kind"] == "photo" for p in photos)
    report.videos = len(photos) - report.photos
    exported = _originals(photos, options, report)
    if options.dry_run:
        planned = _names(photos, exported, options)
        report.removed = len(set(old) - planned)
        report.originals = len(exported)
        report.seconds = time.monotonic() - started
        return report

    _make_folder(out)  # before any thumbnail is made: a folder that cannot be is one line
    thumbs = _thumbnails(lib, photos, report, progress)
    plan: dict[str, _File] = {}
    for photo in photos:
        for rel, source in thumbs.get(photo.id, {}).items():
            plan[rel] = _cache_copy(source)
        if photo.id in exported:
            plan[exported[photo.id]] = _original(photo, options.keep_location)
    manifest = Manifest(out, old)
    manifest.expect(plan)  # before anything is written: every file is listed, even if cut short
    done = _put_all(manifest, plan, report)
    # An original that could not be stripped after all stays out: also an older copy of
    # it (one made with --keep-location) is removed below.
    exported = {i: name for i, name in exported.items() if name in done}
    page = _page_files(photos, thumbs, exported, options, report)
    done |= _put_all(manifest, page, report)
    report.removed = manifest.remove_others(done)
    manifest.save()
    report.originals = len(exported)
    report.seconds = time.monotonic() - started
    return report


def _make_folder(out: str) -> None:
    from luna.files.place import TransferFailed

    try:
        make_folders(out)
    except TransferFailed as exc:
        raise LunaError(f"cannot make the gallery folder {for_humans(out)}: {exc}") from None


def _originals(photos, options: GalleryOptions, report: GalleryReport) -> dict[str, str]:
    """{photo id: its original's name in DIR} for the originals to export; those left
    out for privacy are noted in the report."""
    exported = {}
    for photo in photos:
        name, reason = _original_name(photo, options)
        if reason is not None:
            report.left_out.append({"path": photo.path, "reason": reason})
        elif name is not None:
            exported[photo.id] = name
    return exported


def _names(photos, exported, options) -> set[str]:
    """The names a gallery of `photos` holds, without building anything (a dry run)."""
    names = {"index.html", "data.js", *(f"assets/{a}" for a in PAGE_ASSETS)}
    if options.keep_location:
        names |= {f"assets/{a}" for a in MAP_ASSETS}
    for photo in photos:
        sha = photo.record["content_sha"]
        names |= {f"thumbs/{sha}.webp", f"previews/{sha}.webp"}
    return names | set(exported.values())


def _thumbnails(lib, photos, report, progress) -> dict[str, dict[str, str]]:
    """Each photo's thumbnail and preview, built into the cache when missing (lib.thumbs):
    {photo id: {name in DIR: cache path}}. Those that cannot be made are reported; the
    page shows the file's name in their place."""
    from luna.errors import Interrupted

    ids = [p.id for p in photos]
    reasons: dict[str, str] = {}
    for half, preview in enumerate((False, True)):
        if not ids:
            break
        built = lib.thumbs.build(ids, preview=preview, progress=_half(progress, half))
        if built.interrupted:
            raise Interrupted("interrupted while making thumbnails; run it again to go on")
        reasons.update((f["path"], f["reason"]) for f in built.failed)
    found: dict[str, dict[str, str]] = {}
    for photo in photos:
        sha = photo.record["content_sha"]
        small = lib.thumbs.path(sha)
        large = lib.thumbs.path(sha, preview=True)
        if small is None:
            reason = reasons.get(photo.path, "no thumbnail could be made")
            report.no_thumbnail.append({"path": photo.path, "reason": reason})
            continue
        found[photo.id] = {f"thumbs/{sha}.webp": str(small)}
        if large is not None:
            found[photo.id][f"previews/{sha}.webp"] = str(large)
    return found


def _half(progress, half: int):
    """progress(done, total) over both builds (thumbnails, then previews) as one count."""
    if progress is None:
        return None
    return lambda done, total: progress(done + half * total, 2 * total)


def _original_name(photo: _Photo, options: GalleryOptions) -> tuple[str | None, str | None]:
    """The original's name in DIR (None: not exported) and, when it is left out for
    privacy, why."""
    if not options.originals:
        return None, None
    record = photo.record
    mime = record["mime_type"] or ""
    if not options.keep_location and mime not in JPEG_TYPES:
        return None, (
            f"luna cannot remove the position from a {mime or 'file of unknown type'} file "
            "(--keep-location exports it as it is)"
        )
    extension = os.path.splitext(os.fsencode(record["filename"]))[1].decode("ascii", "replace")
    extension = extension.lower() if extension.isascii() and len(extension) <= 6 else ""
    # Named by content: the same for every run, and no file name (which may not be UTF-8,
    # or may say more than the picture) in a URL. The viewer's link offers the real name.
    return f"originals/{record['content_sha'][:32]}{extension}", None


def _cache_copy(source: str) -> _File:
    st = os.stat(source)

    def write(temporary: str) -> str:
        _copy_file(source, temporary)
        return "written"

    return _File(f"cache:{st.st_size}:{st.st_mtime_ns}", write)


def _original(photo: _Photo, keep_location: bool) -> _File:
    """The original, as it is (a hard link when the disk allows, else a copy), or with
    its position removed (a copy); never the library's file itself changed."""
    source, sha = photo.path, photo.record["content_sha"]

    def write(temporary: str) -> str:
        from luna.ops.location_strip import jpeg_without_location

        if not keep_location:
            with open(source, "rb") as fp:
                data = fp.read()
            stripped = jpeg_without_location(data)  # CannotStrip: left out
            if stripped is not data:
                _write_bytes(temporary, stripped)
                return "stripped"
        # Unchanged: a second name for the same file costs no space (never written
        # through: the gallery only ever renames over its names).
        if link_no_replace(source, temporary):
            return "linked"
        _copy_file(source, temporary)
        return "copied"

    return _File(f"original:{sha}:{'as-is' if keep_location else 'no-position'}", write, source)


def _put_all(manifest: Manifest, plan: dict[str, _File], report: GalleryReport) -> set[str]:
    """Write each planned file that is not already as it should be; the names in place."""
    from luna.ops.location_strip import CannotStrip

    done = set()
    for rel, planned in plan.items():
        try:
            how = manifest.put(rel, planned)
        except CannotStrip as exc:
            report.left_out.append({"path": planned.source, "reason": str(exc)})
            continue
        except OSError as exc:
            if planned.source and exc.filename == planned.source:  # gone since imported...
                reason = f"it cannot be read: {exc.strerror or exc}"
                report.left_out.append({"path": planned.source, "reason": reason})
                continue
            raise LunaError(f"cannot write {for_humans(os.path.join(manifest.out, rel))}: "
                            f"{exc.strerror or exc}") from None  # fmt: skip
        done.add(rel)
        if how == "unchanged":
            report.unchanged += 1
            continue
        report.written += 1
        report.originals_linked += how == "linked"
        report.originals_stripped += how == "stripped"
    return done


# -- the page ---------------------------------------------------------------------------------


def _page_files(photos, thumbs, exported, options: GalleryOptions, report) -> dict[str, _File]:
    items = [_item(p, thumbs.get(p.id, {}), exported.get(p.id), options) for p in photos]
    with_map = options.keep_location
    report.on_map = sum("lat" in item for item in items) if with_map else 0
    files = {
        "data.js": _text_file(
            data_script({"title": report.title, "map": with_map, "items": items})
        ),
        "index.html": _text_file(index_html(report.title, with_map)),
    }
    for name in (*PAGE_ASSETS, *(MAP_ASSETS if with_map else ())):
        files[f"assets/{name}"] = _asset(name)
    return files


def _item(photo: _Photo, thumbs: dict[str, str], original: str | None, options) -> dict:
    """What the page shows of one photo: every text as data, put in the page as text."""
    r = photo.record
    sha = r["content_sha"]
    item: dict[str, Any] = {
        "kind": r["kind"],
        "name": for_humans(r["filename"]),
        "date": r["start"],
        "w": r["width"],
        "h": r["height"],
        "thumb": f"thumbs/{sha}.webp" if f"thumbs/{sha}.webp" in thumbs else None,
        "preview": f"previews/{sha}.webp" if f"previews/{sha}.webp" in thumbs else None,
    }
    optional = {
        "original": original,
        "playable": r["kind"] == "video" and _playable(r),
        "camera": r.get("camera"),
        "title": r.get("title"),
        "description": r.get("description"),
        "city": r.get("city"),
        "region": r.get("region"),
        "country": r.get("country"),
    }
    item.update({k: v for k, v in optional.items() if v})
    if options.keep_location and r["latitude"] is not None and r["longitude"] is not None:
        item["lat"], item["lon"] = round(r["latitude"], 6), round(r["longitude"], 6)
    return item


def _playable(record: dict) -> bool:
    codec = (record.get("video_codec") or "").upper().replace("-", "")
    return record["mime_type"] in PLAYABLE_CONTAINERS and (not codec or codec in PLAYABLE_CODECS)


def data_script(data: dict) -> str:
    """data.js: `window.LUNA_GALLERY = {...};`. JSON is JavaScript, but not every JSON text
    is safe to load as a script: `<`, `>` and `&` are escaped so that no text (a
    description holding `</script>` or `<!--`) can end or change the script where it is
    inlined, and ensure_ascii escapes U+2028/U+2029 (line ends to older JavaScript) and a
    file name's stray bytes (lone surrogates), which UTF-8 cannot hold."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.LUNA_GALLERY = {text};\n"


def index_html(title: str, with_map: bool) -> str:
    import html
    import string

    template = string.Template(_asset_bytes("index.html").decode("utf-8"))
    head = '<link rel="stylesheet" href="assets/leaflet/leaflet.css">\n' if with_map else ""
    scripts = (
        '<script src="assets/leaflet/leaflet.js"></script>\n'
        '<script src="assets/countries.js"></script>\n'
        if with_map
        else ""
    )
    return template.substitute(title=html.escape(title), map_head=head, map_scripts=scripts)


def _text_file(text: str) -> _File:
    return _bytes_file(text.encode("utf-8"))


def _asset(name: str) -> _File:
    return _bytes_file(_asset_bytes(name))


def _bytes_file(data: bytes) -> _File:
    def write(temporary: str) -> str:
        _write_bytes(temporary, data)
        return "written"

    return _File("sha256:" + hashlib.sha256(data).hexdigest(), write)


def _asset_bytes(name: str) -> bytes:
    return resources.files("luna.gallery").joinpath(name).read_bytes()


# -- files ------------------------------------------------------------------------------------


def _write_bytes(path: str, data: bytes) -> None:
    with open(path, "xb") as fp:
        fp.write(data)


def _copy_file(source: str, destination: str) -> None:
    import shutil

    with open(source, "rb") as src, open(destination, "xb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    # The original's dates, as cp -p keeps them: a file manager sorts copies as it would.
    st = os.stat(source)
    os.utime(destination, ns=(st.st_atime_ns, st.st_mtime_ns))


class Manifest:
    """DIR/.luna-gallery.json: every file the gallery wrote (relative to DIR), with what it
    was made from (`key`) and the size and mtime it had once written."""

    def __init__(self, out: str, entries: dict[str, dict]):
        self.out = out
        self.old = entries
        self.entries: dict[str, dict] = {}

    def expect(self, plan: dict[str, _File]) -> None:
        """List the files about to be written before writing them: if the run is cut
        short, the next one still knows them as its own."""
        make_folders(self.out)
        pending = {**{rel: {"key": None} for rel in plan}, **self.old}
        self._write(pending)

    def put(self, rel: str, planned: _File) -> str:
        """Write one file unless it is already as planned: "unchanged", or how it was made."""
        path = os.path.join(self.out, rel)
        before = self.old.get(rel)
        if before is not None and before.get("key") == planned.key and _as_written(path, before):
            self.entries[rel] = before
            return "unchanged"
        make_folders(os.path.dirname(path))
        temporary = temporary_name(path)
        try:
            how = planned.write(temporary)
            os.replace(temporary, path)  # never written through: `path` may be a link
        except BaseException:
            remove_quietly(temporary)
            raise
        # Two names of one file (a link to the original, again): rename() then does
        # nothing at all (POSIX), and the temporary name would stay.
        remove_quietly(temporary)
        st = os.stat(path)
        self.entries[rel] = {"key": planned.key, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        return how

    def remove_others(self, keep: set[str]) -> int:
        """Remove the files of earlier runs that this one does not hold (only names the
        manifest lists, each a plain name inside DIR), and the folders left empty."""
        removed = 0
        for rel in sorted(set(self.old) - keep - {MANIFEST}):
            if not _inside(rel):
                continue
            path = os.path.join(self.out, rel)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                removed += 1
            folder = os.path.dirname(path)
            while folder != self.out:
                try:
                    os.rmdir(folder)  # only when empty
                except OSError:
                    break
                folder = os.path.dirname(folder)
        return removed

    def save(self) -> None:
        self._write(self.entries)

    def _write(self, entries: dict) -> None:
        document = {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "files": entries}
        path = os.path.join(self.out, MANIFEST)
        temporary = temporary_name(path)
        try:
            _write_bytes(temporary, json.dumps(document, indent=1, sort_keys=True).encode())
            os.replace(temporary, path)
        except BaseException:
            remove_quietly(temporary)
            raise
        fsync_folder(self.out)


def _as_written(path: str, entry: dict) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns) == (entry.get("size"), entry.get("mtime_ns"))


def _inside(rel: str) -> bool:
    """A manifest's name that stays inside DIR (a manifest edited by hand cannot make the
    gallery remove a file elsewhere)."""
    return (
        isinstance(rel, str)
        and bool(rel)
        and not os.path.isabs(rel)
        and os.path.normpath(rel) == rel
        and not rel.startswith("..")
        and "\\" not in rel
    )


def read_manifest(out: str) -> dict[str, dict]:
    """The files an earlier run wrote in `out` ({} for a new or empty folder); refused
    (GalleryRefused) when `out` is a file, or a folder with files but no manifest."""
    if os.path.lexists(out) and not os.path.isdir(out):
        raise GalleryRefused(f"{for_humans(out)} is not a folder")
    try:
        present = os.listdir(out)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise GalleryRefused(f"cannot read {for_humans(out)}: {exc.strerror or exc}") from None
    if not present:
        return {}
    refusal = (
        f"{for_humans(out)} is not empty and is not a gallery luna wrote (no {MANIFEST} "
        "in it): choose a new or empty folder"
    )
    try:
        with open(os.path.join(out, MANIFEST), "rb") as fp:
            document = json.load(fp)
    except FileNotFoundError:
        raise GalleryRefused(refusal) from None
    except (OSError, ValueError):
        raise GalleryRefused(f"{for_humans(out)}: its {MANIFEST} cannot be read") from None
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise GalleryRefused(refusal)
    files = document.get("files")
    if not isinstance(files, dict):
        raise GalleryRefused(f"{for_humans(out)}: its {MANIFEST} cannot be read")
    return {rel: entry for rel, entry in files.items() if isinstance(entry, dict) and _inside(rel)}
