"""Tags: add, remove, list, rename (merging), delete, and matching with implied parents.

A tag's `key` (trimmed, case-folded) is its identity: "Beach" and "beach" are one tag,
named as first spelled. "Places/France/Paris" is one tag; its parents are implied, so a
search for "Places/France" matches it (`keys_matching`).
"""

from __future__ import annotations

from dataclasses import dataclass

from luna.errors import LunaError, NotFound
from luna.fsnames import from_db
from luna.names import tag_key, tidy_name, uuid_text

TAG_TABLE, LINK_TABLE = "tag", "file_tag"


@dataclass
class TagChange:
    tags: list[str]  # the tags' names as stored
    changed: int  # links added or removed
    unchanged: int  # links that were already so
    files: int
    dry_run: bool = False


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def keys_matching(db, name: str) -> list[int]:
    """Ids of the tag `name` and of every tag below it (Places/France -> .../Paris)."""
    key = tag_key(name)
    rows = db.execute_sql(
        f"SELECT id FROM {TAG_TABLE} WHERE key = ? OR key LIKE ? ESCAPE '\\'",
        (key, _like_escape(key) + "/%"),
    ).fetchall()
    return [r[0] for r in rows]


def _existing_tag(db, name: str):
    row = db.execute_sql(
        f"SELECT id, name FROM {TAG_TABLE} WHERE key = ?", (tag_key(name),)
    ).fetchone()
    if row is None:
        raise NotFound(f"no tag {tidy_name(name, 'tag')!r}")
    return row


def _pairs_present(db, tag_ids: list[int], file_ids: list[str]) -> set[tuple[int, str]]:
    present = set()
    for i in range(0, len(file_ids), 400):
        chunk = file_ids[i : i + 400]
        present |= set(
            db.execute_sql(
                f"SELECT tag_id, file_id FROM {LINK_TABLE} WHERE tag_id IN ({_marks(tag_ids)}) "
                f"AND file_id IN ({_marks(chunk)})",
                (*tag_ids, *chunk),
            ).fetchall()
        )
    return present


def add_tags(lib, names: list[str], file_ids: list[str], *, dry_run: bool = False) -> TagChange:
    """Tag every file with every name; tags are created on first use."""
    tidy = list(dict.fromkeys(tidy_name(n, "tag") for n in names))
    if not tidy:
        raise LunaError("no tag given")
    with lib.db.atomic("IMMEDIATE"):
        tag_ids = [lib.tag_id(n) for n in tidy] if not dry_run else _ids_if_any(lib.db, tidy)
        present = _pairs_present(lib.db, tag_ids, file_ids) if tag_ids else set()
        wanted = [(t, f) for t in tag_ids for f in file_ids if (t, f) not in present]
        missing_tags = len(tidy) - len(tag_ids)  # dry run: tags that do not exist yet
        added = len(wanted) + missing_tags * len(file_ids)
        if not dry_run:
            lib.db.cursor().executemany(
                f"INSERT OR IGNORE INTO {LINK_TABLE} (file_id, tag_id, source) "
                "VALUES (?, ?, 'user')",
                [(f, t) for t, f in wanted],
            )
        stored = _stored_names(lib.db, tidy)
    return TagChange(stored, added, len(present), len(file_ids), dry_run)


def _ids_if_any(db, names: list[str]) -> list[int]:
    ids = []
    for n in names:
        row = db.execute_sql(f"SELECT id FROM {TAG_TABLE} WHERE key = ?", (tag_key(n),)).fetchone()
        if row:
            ids.append(row[0])
    return ids


def _stored_names(db, names: list[str]) -> list[str]:
    out = []
    for n in names:
        row = db.execute_sql(
            f"SELECT name FROM {TAG_TABLE} WHERE key = ?", (tag_key(n),)
        ).fetchone()
        out.append(row[0] if row else n)
    return out


def remove_tags(lib, names: list[str], file_ids: list[str], *, dry_run: bool = False) -> TagChange:
    """Untag the files; a tag no file carries any more stays until deleted."""
    tidy = list(dict.fromkeys(tidy_name(n, "tag") for n in names))
    rows = [_existing_tag(lib.db, n) for n in tidy]
    tag_ids = [r[0] for r in rows]
    with lib.db.atomic("IMMEDIATE"):
        present = _pairs_present(lib.db, tag_ids, file_ids)
        if not dry_run:
            lib.db.cursor().executemany(
                f"DELETE FROM {LINK_TABLE} WHERE tag_id = ? AND file_id = ?", sorted(present)
            )
    unchanged = len(tag_ids) * len(file_ids) - len(present)
    return TagChange([r[1] for r in rows], len(present), unchanged, len(file_ids), dry_run)


def list_tags(lib) -> list[dict]:
    """Every tag with how many files carry it (itself, not its children)."""
    rows = lib.db.execute_sql(
        f"SELECT t.name, COUNT(l.file_id), SUM(l.source = 'metadata') FROM {TAG_TABLE} t "
        f"LEFT JOIN {LINK_TABLE} l ON l.tag_id = t.id GROUP BY t.id ORDER BY t.key"
    ).fetchall()
    return [
        {
            "name": name,
            "files": count,
            "from_metadata": int(from_metadata or 0),
            "parent": name.rsplit("/", 1)[0] if "/" in name else None,
        }
        for name, count, from_metadata in rows
    ]


def rename_tag(lib, old: str, new: str) -> dict:
    """Rename OLD (and the tags below it) to NEW; where NEW exists, merge into it."""
    new_name = tidy_name(new, "tag")
    with lib.db.atomic("IMMEDIATE"):
        old_name, family = _tag_or_implied_parent(lib.db, old)
        # Merging into an existing tag keeps its first spelling, for its children too.
        existing = _stored_names(lib.db, [new_name])[0]
        if tag_key(existing) != tag_key(old_name):
            new_name = existing
        depth = old_name.count("/") + 1
        renamed, merged = 0, 0
        for tag_id, name in family:
            below = name.split("/")[depth:]  # by levels: case folding may change lengths
            r, m = _rename_one(lib, tag_id, "/".join([new_name, *below]))
            renamed, merged = renamed + r, merged + m
    return {"old": old_name, "new": new_name, "renamed": renamed, "merged": merged}


def _tag_or_implied_parent(db, name: str) -> tuple[str, list[tuple[int, str]]]:
    """The stored spelling of a tag and its rows, itself first, then the tags below it. A
    parent that only exists as the start of its children's names (Places/France, of
    Places/France/Paris) is a tag too: renaming it renames them."""
    family = _tag_and_children(db, name)
    if not family:
        raise NotFound(f"no tag {tidy_name(name, 'tag')!r}")
    first_id, first_name = family[0]
    depth = tidy_name(name, "tag").count("/") + 1
    return "/".join(first_name.split("/")[:depth]), family


def _tag_and_children(db, name: str) -> list[tuple[int, str]]:
    key = tag_key(name)
    return db.execute_sql(
        f"SELECT id, name FROM {TAG_TABLE} WHERE key = ? OR key LIKE ? ESCAPE '\\' "
        "ORDER BY length(key)",
        (key, _like_escape(key) + "/%"),
    ).fetchall()


def _rename_one(lib, tag_id: int, target: str) -> tuple[int, int]:
    """(1, 0) when renamed in place, (0, 1) when merged into an existing tag."""
    db = lib.db
    existing = db.execute_sql(
        f"SELECT id FROM {TAG_TABLE} WHERE key = ?", (tag_key(target),)
    ).fetchone()
    if existing is None or existing[0] == tag_id:
        db.execute_sql(
            f"UPDATE {TAG_TABLE} SET name = ?, key = ? WHERE id = ?",
            (target, tag_key(target), tag_id),
        )
        return 1, 0
    db.execute_sql(
        f"INSERT OR IGNORE INTO {LINK_TABLE} (file_id, tag_id, source) "
        f"SELECT file_id, ?, source FROM {LINK_TABLE} WHERE tag_id = ?",
        (existing[0], tag_id),
    )
    db.execute_sql(f"DELETE FROM {TAG_TABLE} WHERE id = ?", (tag_id,))
    return 0, 1


def delete_tag(lib, name: str) -> dict:
    """Delete the tag itself (not the tags below it) and untag its files."""
    with lib.db.atomic("IMMEDIATE"):
        tag_id, stored = _existing_tag(lib.db, name)
        count = lib.db.execute_sql(
            f"SELECT COUNT(*) FROM {LINK_TABLE} WHERE tag_id = ?", (tag_id,)
        ).fetchone()[0]
        # file_tag rows go with the tag (ON DELETE CASCADE).
        lib.db.execute_sql(f"DELETE FROM {TAG_TABLE} WHERE id = ?", (tag_id,))
    return {"name": stored, "files": count}


def tags_of(lib, file_ids: list[str]) -> list[dict]:
    """Each file's tags, with where each came from ("user" or "metadata")."""
    out = []
    for file_id in file_ids:
        path = lib.db.execute_sql("SELECT path FROM file WHERE id = ?", (file_id,)).fetchone()
        rows = lib.db.execute_sql(
            f"SELECT t.name, l.source FROM {LINK_TABLE} l JOIN {TAG_TABLE} t ON t.id = l.tag_id "
            "WHERE l.file_id = ? ORDER BY t.key",
            (file_id,),
        ).fetchall()
        out.append(
            {
                "id": uuid_text(file_id),
                "path": from_db(path[0]) if path else None,
                "tags": [{"name": n, "source": s} for n, s in rows],
            }
        )
    return out
