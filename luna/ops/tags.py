"""Tags: add, remove, list, rename (merging), delete, and matching with implied parents.

A tag's `key` (trimmed, case-folded) is its identity: "Beach" and "beach" are one tag,
named as first spelled. "Places/France/Paris" is one tag; its parents are implied, so a
search for "Places/France" matches it (`keys_matching`), and renaming "Places/France"
renames it. The tables are luna.store.tags'.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from luna.errors import LunaError, NotFound
from luna.names import tag_key, tidy_name, uuid_text
from luna.results import Result


@dataclass
class TagChange(Result):
    """What tag add or remove did (or would do)."""

    tags: list[str]  # the tags' names as stored
    changed: int  # links added or removed
    unchanged: int  # links that were already so
    files: int
    dry_run: bool = False
    skipped: list[str] = field(default_factory=list)  # FILEs not in the library (skipped)


def keys_matching(lib, name: str) -> list[int]:
    """Ids of the tag `name` and of every tag below it (Places/France -> .../Paris)."""
    return [tag_id for tag_id, _ in lib.store.tags.with_children(name)]


def _existing_tag(lib, name: str) -> tuple[int, str]:
    row = lib.store.tags.find(name)
    if row is None:
        raise NotFound(f"no tag {tidy_name(name, 'tag')!r}")
    return row


def _tidy(names: list[str]) -> list[str]:
    return list(dict.fromkeys(tidy_name(n, "tag") for n in names))


def add_tags(lib, names: list[str], file_ids: list[str], *, dry_run: bool = False) -> TagChange:
    """Tag every file with every name; tags are created on first use."""
    tidy = _tidy(names)
    if not tidy:
        raise LunaError("no tag given")
    tags = lib.store.tags
    with lib.db.atomic("IMMEDIATE"):
        if dry_run:  # only the tags that exist already: a dry run creates none
            tag_ids = [row[0] for row in map(tags.find, tidy) if row is not None]
        else:
            tag_ids = [tags.ensure(n) for n in tidy]
        present = tags.links_present(tag_ids, file_ids) if tag_ids else set()
        wanted = [(t, f) for t in tag_ids for f in file_ids if (t, f) not in present]
        missing_tags = len(tidy) - len(tag_ids)  # dry run: tags that do not exist yet
        added = len(wanted) + missing_tags * len(file_ids)
        if not dry_run:
            tags.link(wanted)
            lib.sidecars.note_changed({f for _, f in wanted})
        stored = [_stored_name(lib, n) for n in tidy]
    return TagChange(stored, added, len(present), len(file_ids), dry_run)


def _stored_name(lib, name: str) -> str:
    row = lib.store.tags.find(name)
    return row[1] if row else name


def remove_tags(lib, names: list[str], file_ids: list[str], *, dry_run: bool = False) -> TagChange:
    """Untag the files; a tag no file carries any more stays until deleted."""
    rows = [_existing_tag(lib, n) for n in _tidy(names)]
    tag_ids = [r[0] for r in rows]
    with lib.db.atomic("IMMEDIATE"):
        present = lib.store.tags.links_present(tag_ids, file_ids)
        if not dry_run:
            lib.store.tags.unlink(present)
            lib.sidecars.note_changed({f for _, f in present})
    unchanged = len(tag_ids) * len(file_ids) - len(present)
    return TagChange([r[1] for r in rows], len(present), unchanged, len(file_ids), dry_run)


def list_tags(lib) -> list[dict]:
    """Every tag with how many files carry it (itself, not its children)."""
    return [
        {
            "name": name,
            "files": count,
            "from_metadata": from_metadata,
            "parent": name.rsplit("/", 1)[0] if "/" in name else None,
        }
        for name, count, from_metadata in lib.store.tags.counts()
    ]


def rename_tag(lib, old: str, new: str) -> dict:
    """Rename OLD (and the tags below it) to NEW; where NEW exists, merge into it."""
    new_name = tidy_name(new, "tag")
    with lib.db.atomic("IMMEDIATE"):
        old_name, family = _tag_or_implied_parent(lib, old)
        # Merging into an existing tag keeps its first spelling, for its children too.
        existing = _stored_name(lib, new_name)
        if tag_key(existing) != tag_key(old_name):  # not a new spelling of the same tag
            new_name = existing
        depth = old_name.count("/") + 1
        lib.sidecars.note_changed(lib.store.sidecars.files_tagged([t for t, _ in family]))
        renamed, merged = 0, 0
        for tag_id, name in family:
            below = name.split("/")[depth:]  # by levels: case folding may change lengths
            r, m = _rename_one(lib, tag_id, "/".join([new_name, *below]))
            renamed, merged = renamed + r, merged + m
    return {"old": old_name, "new": new_name, "renamed": renamed, "merged": merged}


def _tag_or_implied_parent(lib, name: str) -> tuple[str, list[tuple[int, str]]]:
    """The stored spelling of a tag and its rows, itself first, then the tags below it. A
    parent that only exists as the start of its children's names (Places/France, of
    Places/France/Paris) is a tag too: renaming it renames them."""
    family = lib.store.tags.with_children(name)
    if not family:
        raise NotFound(f"no tag {tidy_name(name, 'tag')!r}")
    depth = tidy_name(name, "tag").count("/") + 1
    return "/".join(family[0][1].split("/")[:depth]), family


def _rename_one(lib, tag_id: int, target: str) -> tuple[int, int]:
    """(1, 0) when renamed in place, (0, 1) when merged into an existing tag."""
    existing = lib.store.tags.find(target)
    if existing is None or existing[0] == tag_id:
        lib.store.tags.rename(tag_id, target)
        return 1, 0
    lib.store.tags.merge(tag_id, into=existing[0])
    return 0, 1


def delete_tag(lib, name: str) -> dict:
    """Delete the tag itself (not the tags below it) and untag its files."""
    with lib.db.atomic("IMMEDIATE"):
        tag_id, stored = _existing_tag(lib, name)
        count = lib.store.tags.file_count(tag_id)
        lib.sidecars.note_changed(lib.store.sidecars.files_tagged([tag_id]))
        lib.store.tags.delete(tag_id)
    return {"name": stored, "files": count}


def tags_of(lib, file_ids: list[str]) -> list[dict]:
    """Each file's tags, with where each came from ("user" or "metadata")."""
    out = []
    for file_id in file_ids:
        path, rows = lib.store.tags.of_file(file_id)
        out.append(
            {
                "id": uuid_text(file_id),
                "path": path,
                "tags": [{"name": n, "source": s} for n, s in rows],
            }
        )
    return out
