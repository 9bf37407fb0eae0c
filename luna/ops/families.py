"""What travels together when luna copies or moves files into the library folder, and under
which names: `luna import --copy/--move` (luna.ops.gather) and `luna organize`
(luna.ops.organize) both place whole families.

A family is the files of one folder that share a name: a photo, its RAW, its Live Photo
video, its sidecars (IMG_1.HEIC, IMG_1.DNG, IMG_1.MOV, IMG_1.HEIC.xmp, IMG_1.AAE). A Live
Photo's video named unlike its still (an export's Beach.jpg and clip.mov) joins the still's
family by the Apple ContentIdentifier both carry. The lead (the photo, else the RAW, the
video, a sidecar) goes where the template says; every other member goes beside it under
the lead's new name with its own ending, so that it keeps matching the photo.

Members are import facts (luna.ingest.extract.FileFacts) or library rows: anything with
.path, .kind, .mime_type, .size, .content_sha and metadata.
"""

from __future__ import annotations

import datetime as dt
import os

from luna.files import layout, place
from luna.ingest.relations import base_name


def families_in_folder(files: list) -> dict[str, list]:
    """Files of one folder by family, each with its lead first."""
    families: dict[str, list] = {}
    for f in files:
        families.setdefault(base_name(os.path.basename(f.path)), []).append(f)
    _join_live_photo_videos(families)
    for members in families.values():
        members.sort(key=_lead_rank)
    return families


def travel_groups(files: list) -> list[list]:
    """Files of one folder grouped by family, the lead first; sidecars with no photo here
    travel each on its own."""
    groups: list[list] = []
    for members in families_in_folder(files).values():
        if members[0].kind == "sidecar":
            groups.extend([m] for m in members)
        else:
            groups.append(members)
    return sorted(groups, key=lambda g: g[0].path)


def _lead_rank(member) -> tuple:
    from luna.ingest.sniff import is_raw

    if member.kind == "photo":
        rank = 1 if is_raw(member.mime_type) else 0
    else:
        rank = 2 if member.kind == "video" else 3
    return (rank, member.path)


def _join_live_photo_videos(families: dict[str, list]) -> None:
    still_family: dict[str, str] = {}
    for stem, members in families.items():
        for m in members:
            identifier = _content_identifier(m)
            if identifier and m.kind == "photo":
                still_family.setdefault(identifier, stem)
    if not still_family:
        return
    for stem in list(families):
        members = families[stem]
        if any(m.kind == "photo" for m in members):
            continue  # a family with its own photo keeps its video
        for m in members:
            target = still_family.get(_content_identifier(m) or "") if m.kind == "video" else None
            if target is not None and target != stem:
                families[target].extend(families.pop(stem))  # with the video's sidecars
                break


def _content_identifier(member) -> str | None:
    found = getattr(member, "found", None)  # import facts carry it in .found, rows in .metadata
    metadata = found.metadata if found is not None else getattr(member, "metadata", None)
    identifier = (metadata or {}).get("content_identifier")
    return identifier if isinstance(identifier, str) and identifier else None


# -- where a family goes ---------------------------------------------------------------------


def layout_facts(
    path: str,
    kind: str,
    content_sha: str,
    start: dt.datetime | None,
    date_source: str | None,
    metadata: dict,
    tags: list[str],
    place: tuple = (),
) -> layout.LayoutFacts:
    """What a template may use of a file. A date that only comes from the file's mtime is
    a guess (a copy, a download): such a file goes to the undated folder rather than under
    the day it happened to be copied."""
    known = start if date_source not in (None, "file:mtime") else None
    return layout.facts_from_row(
        os.path.basename(path), known, kind, metadata, content_sha, tags, place
    )


def family_destinations(
    into: str, relative: str, lead_path: str, members: list, planned: set[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Where a family goes: the lead at `relative` (numbered until every member's name is
    free), each member under the lead's new name. Returns (free, same): path ->
    destination to put it at (possibly where it already is), and path -> destination
    already holding its very content. The free names join `planned`, so no other file of
    the run takes them."""
    for n in range(10_000):
        lead_relative = relative if n == 0 else layout.numbered(relative, n)
        lead_dest = os.path.join(into, lead_relative)
        free: dict[str, str] = {}
        same: dict[str, str] = {}
        for member in members:
            dest = member_destination(member.path, lead_path, lead_dest)
            if dest == member.path:
                free[member.path] = dest
                continue
            taken = name_taken(dest, member.size, member.content_sha, planned)
            if taken == "other":
                break
            (same if taken == "same" else free)[member.path] = dest
        else:
            planned.update(free.values())
            return free, same
    raise OSError(0, "no free name after 10,000 tries")


def member_destination(path: str, lead_path: str, lead_dest: str) -> str:
    """Where a member goes when its lead goes to `lead_dest`: beside it, under the lead's
    new name with the member's own ending (IMG_1.xmp beside "IMG_1 (1).jpg" becomes
    "IMG_1 (1).xmp"). A member named otherwise (a Live Photo video joined by its
    ContentIdentifier) keeps its own name. Names are cleaned and kept within the file
    system's limits as every name luna makes (luna.files.layout)."""
    if path == lead_path:
        return lead_dest
    name, lead_name = os.path.basename(path), os.path.basename(lead_path)
    if base_name(name) == base_name(lead_name):
        return layout.sidecar_name(lead_dest, name, lead_name)
    return layout.name_in(os.path.dirname(lead_dest), name)


def name_taken(dest: str, size: int, sha: str, planned: set[str]) -> str | None:
    """None when `dest` is free; "same" when it already holds this content; "other" when
    other content has it (or another file of this run will)."""
    if dest in planned:
        return "other"
    if not os.path.lexists(dest):
        return None
    same_size = os.path.isfile(dest) and os.path.getsize(dest) == size
    return "same" if same_size and place.sha256_of(dest) == sha else "other"
