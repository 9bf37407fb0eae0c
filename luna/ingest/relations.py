"""Which files belong together: RAW+JPEG pairs, Live Photos, edited copies, sidecars.

Relations are derived from names (and Apple's ContentIdentifier), so they are recomputed
for every folder an import touched: rename a file and its links follow. Each link is
directed from the secondary file to the main one:

    raw+jpeg    the RAW file -> the JPEG/HEIC rendering shot with it (same folder and name)
    live-photo  the video of a Live Photo -> its still: the same ContentIdentifier (anywhere),
                or, in a file lacking one, the same name and times a few seconds apart
    edited      an edited copy (IMG_1-edited.jpg, IMG_1_edit.jpg, IMG_E0001.HEIC) -> original
    sidecar     IMG_1.xmp, IMG_1.jpg.xmp, IMG_1.AAE -> the media they describe
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import defaultdict

from luna.ingest.sniff import is_raw
from luna.store.writes import Member

RELATION_KINDS = ("raw+jpeg", "live-photo", "edited", "sidecar")

# "-edited" (Google Photos, Apple exports), "_edit"/"-edit" (many editors), "_edited".
_EDITED_SUFFIX = re.compile(r"^(?P<base>.+?)[-_ ](?:edited|edit)$", re.IGNORECASE)
# Apple keeps an edited rendering next to the original as IMG_E1234.HEIC for IMG_1234.HEIC.
_APPLE_EDITED = re.compile(r"^(?P<prefix>IMG_)E(?P<number>\d{4,})$", re.IGNORECASE)


def base_name(name: str) -> str:
    """The name without its extension(s), lower case: IMG_1.jpg.xmp -> img_1."""
    stem, ext = os.path.splitext(name)
    if ext.lower() in (".xmp", ".aae") and os.path.splitext(stem)[1]:
        stem = os.path.splitext(stem)[0]
    return stem.lower()


def original_base(base: str) -> str | None:
    """The base name an edited copy was made from, or None if it is not an edited copy."""
    m = _EDITED_SUFFIX.match(base)
    if m:
        return m.group("base")
    m = _APPLE_EDITED.match(base)
    if m:
        return f"{m.group('prefix')}{m.group('number')}".lower()
    return None


def relations_in_folder(members: list[Member]) -> set[tuple[str, str, str]]:
    """(from id, to id, kind) for the files of one folder."""
    by_base: dict[str, list[Member]] = defaultdict(list)
    for m in members:
        by_base[base_name(m.name)].append(m)
    links: set[tuple[str, str, str]] = set()
    for base, group in by_base.items():
        if len(group) > 1:  # a file alone with its name has nothing to pair with
            links |= _links_within(group)
        original = original_base(base)
        if original and original in by_base:
            for edited in group:
                if edited.kind == "sidecar":
                    continue
                for target in _main_media(by_base[original], like=edited):
                    links.add((edited.id, target.id, "edited"))
    return links


def _links_within(group: list[Member]) -> set[tuple[str, str, str]]:
    """Links between files sharing one base name."""
    links = set()
    sidecars = [m for m in group if m.kind == "sidecar"]
    media = [m for m in group if m.kind != "sidecar"]
    raws = [m for m in media if m.kind == "photo" and is_raw(m.mime)]
    stills = [m for m in media if m.kind == "photo" and not is_raw(m.mime)]
    videos = [m for m in media if m.kind == "video"]
    for raw in raws:
        for still in stills:
            links.add((raw.id, still.id, "raw+jpeg"))
    for video in videos:
        for still in stills:
            if _could_be_live_photo(still, video):
                links.add((video.id, still.id, "live-photo"))
    for sidecar in sidecars:
        for target in _sidecar_targets(sidecar, media):
            links.add((sidecar.id, target.id, "sidecar"))
    return links


# A Live Photo's video starts about 1.5 s before its still; both carry the same capture time
# to the second in practice. Two shoots that reuse a name (IMG_0001 after a counter reset,
# QuickTime.mov beside QuickTime.heic) are minutes to years apart.
LIVE_PHOTO_SECONDS = 5
# Dates that are guesses say nothing about the shoot: copies made together share mtimes,
# and files sharing a name share a date read from that name.
_GUESSED_DATES = (None, "file:mtime", "filename")


def _could_be_live_photo(still: Member, video: Member) -> bool:
    """A still and a video of one name are a Live Photo when Apple's ContentIdentifier
    says so (an iPhone writes it into both) or, when either lacks one, when both were
    taken within a few seconds of each other. The name alone is not enough."""
    if video.mime not in ("video/quicktime", "video/mp4"):
        return False
    if still.content_identifier and video.content_identifier:
        return still.content_identifier == video.content_identifier
    apart = seconds_apart(still, video)
    return apart is not None and apart <= LIVE_PHOTO_SECONDS


def seconds_apart(a: Member, b: Member) -> float | None:
    """How far apart two files were taken: as instants when both name their zone, else as
    wall-clock times. None when either date is missing or only a guess."""
    if a.date_source in _GUESSED_DATES or b.date_source in _GUESSED_DATES:
        return None
    try:
        start_a = dt.datetime.fromisoformat(str(a.start))
        start_b = dt.datetime.fromisoformat(str(b.start))
    except ValueError:
        return None
    if a.utc_offset is not None and b.utc_offset is not None:
        start_a -= dt.timedelta(minutes=a.utc_offset)
        start_b -= dt.timedelta(minutes=b.utc_offset)
    return abs((start_a - start_b).total_seconds())


def _sidecar_targets(sidecar: Member, media: list[Member]) -> list[Member]:
    """IMG_1.jpg.xmp describes IMG_1.jpg only; IMG_1.xmp and IMG_1.AAE describe every
    medium named IMG_1 (the RAW and the JPEG of a pair share one sidecar)."""
    inner = os.path.splitext(sidecar.name)[0]
    if os.path.splitext(inner)[1]:
        return [m for m in media if m.name.lower() == inner.lower()]
    return media


def _main_media(group: list[Member], like: Member) -> list[Member]:
    same_kind = [m for m in group if m.kind == like.kind]
    return same_kind or [m for m in group if m.kind != "sidecar"]


def live_photo_pairs(members: list[Member]) -> set[tuple[str, str, str]]:
    """Stills and videos anywhere that share an Apple ContentIdentifier."""
    by_identifier: dict[str, list[Member]] = defaultdict(list)
    for m in members:
        if m.content_identifier:
            by_identifier[m.content_identifier].append(m)
    links = set()
    for group in by_identifier.values():
        stills = [m for m in group if m.kind == "photo"]
        for video in (m for m in group if m.kind == "video"):
            for still in stills:
                links.add((video.id, still.id, "live-photo"))
    return links
