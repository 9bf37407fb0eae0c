"""Albums: named collections of files with an owner, editors and viewers.

An album is found by the slug of its name, so "Summer 2019" and "summer 2019" name the same
album. It keeps the order in which files were added (the `album_file` row ids) as well as
the files' own dates, so it can be shown either way.

Who may do what to an album:

    see its files (show)             the owner, editors and viewers
    add, remove files, rename it     the owner and editors
    share, unshare, delete it        the owner

In a library file, the acting user is whoever the caller says it is (`--user`, `$LUNA_USER`,
else the login name): these roles guard it against mistakes, such as adding to someone
else's album, not against someone who can write the file. On a PostgreSQL server the acting
user is the database login, and the server enforces the same roles itself (row-level
security, luna.store.postgres), against luna and psql alike.

Used from Python::

    from luna import Library

    from luna.ops import albums
    with Library.open() as lib:
        albums.create_album(lib, "Holidays", user="alice")
        albums.share_album(lib, "Holidays", "bob", role="viewer", user="alice")
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from luna.errors import LunaError, NotFound, PermissionDenied
from luna.names import slugify, tidy_name
from luna.results import Result
from luna.store.albums import AlbumRow
from luna.timefmt import iso_local, iso_utc

OWNER, EDITOR, VIEWER = "owner", "editor", "viewer"
SHARE_ROLES = (VIEWER, EDITOR)
ORDERS = ("date", "added")

_SEE = frozenset({OWNER, EDITOR, VIEWER})
_CHANGE = frozenset({OWNER, EDITOR})
_MANAGE = frozenset({OWNER})

# What each action needs, and the words a refusal uses for it.
ACTIONS: dict[str, tuple[frozenset, str]] = {
    "show": (_SEE, "see"),
    "add": (_CHANGE, "add to"),
    "remove": (_CHANGE, "remove from"),
    "rename": (_CHANGE, "rename"),
    "share": (_MANAGE, "share"),
    "unshare": (_MANAGE, "unshare"),
    "delete": (_MANAGE, "delete"),
}


@dataclass
class AlbumAccess:
    """An album as one user may act on it, checked before a command goes further."""

    name: str
    slug: str
    role: str
    files: int


@dataclass
class FilesChange(Result):
    """What album add or remove did (or would do)."""

    album: str  # the album's name as stored
    changed: list[str]  # hex ids of the files added (or removed)
    unchanged: list[str]  # hex ids already in it (add) or not in it (remove)
    dry_run: bool = False
    skipped: list[str] = field(default_factory=list)  # FILEs not in the library (skipped)


# -- finding albums and roles ----------------------------------------------------------------


def find_album(lib, name: str) -> AlbumRow:
    """The album whose slug is the slug of `name`."""
    album = lib.store.albums.by_slug(slugify(tidy_name(name, "album")))
    if album is None:
        raise NotFound(f"no album {name!r} (see `luna album list`)")
    return album


def role_of(lib, album: AlbumRow, user: str) -> str | None:
    """The role: "owner", "editor" or "viewer"; None when `user` has no part in the album."""
    user_id = lib.store.users.id_of(user)  # reading never creates a user
    if user_id is None:
        return None
    if album.owner_id == user_id:
        return OWNER
    for role in (EDITOR, VIEWER):
        if lib.store.albums.has_share(album.id, user_id, role):
            return role
    return None


def _who_may(lib, album: AlbumRow, allowed: frozenset) -> str:
    owner = f"{album.owner or 'nobody'} (the owner)"
    if allowed == _MANAGE:
        return owner
    editors = lib.store.albums.shares(album.id, EDITOR)
    editor = f"an editor ({', '.join(editors)})" if editors else "an editor"
    if allowed == _CHANGE:
        return f"{owner} or {editor}"
    return f"{owner}, {editor} or a viewer"


def _require(lib, album: AlbumRow, user: str, action: str) -> str:
    """The user's role, if it allows `action`; PermissionDenied saying who may otherwise."""
    allowed, verb = ACTIONS[action]
    role = role_of(lib, album, user)
    if role not in allowed:
        raise PermissionDenied(
            f"only {_who_may(lib, album, allowed)} may {verb} album {album.name!r}; "
            f"you are {user} ({role or 'no role'})"
        )
    assert role is not None  # every action needs a role
    return role


def _found_and_allowed(lib, name: str, user: str, action: str) -> tuple[AlbumRow, str]:
    album = find_album(lib, name)
    return album, _require(lib, album, user, action)


def check_access(lib, name: str, *, user: str, action: str) -> AlbumAccess:
    """Whether `user` may do `action` to the album, before a command reads files or asks
    for confirmation. The mutation checks again inside its own transaction."""
    album, role = _found_and_allowed(lib, name, user, action)
    return AlbumAccess(album.name, album.slug, role, lib.store.albums.file_count(album.id))


# -- creating, listing, showing --------------------------------------------------------------


def create_album(lib, name: str, *, user: str, description: str = "") -> dict:
    """A new, empty album owned by `user`; refused when its slug is taken."""
    name = tidy_name(name, "album")
    slug = slugify(name)
    # IMMEDIATE takes the write lock first, so no one can take the slug between the check
    # and the insert.
    with lib.db.atomic("IMMEDIATE"):
        _refuse_taken_slug(lib, slug)
        owner_id = lib.store.users.ensure(tidy_name(user, "user"))
        album = lib.store.albums.create(name, slug, description, owner_id)
    return _album_row(album, OWNER, files=0)


def _refuse_taken_slug(lib, slug: str, *, besides: int | None = None) -> None:
    taken = lib.store.albums.by_slug(slug)
    if taken is not None and taken.id != besides:
        raise LunaError(f"album {taken.name!r} already exists (its slug is {slug!r})")


def _album_row(album: AlbumRow, role: str, *, files: int) -> dict:
    return {
        "name": album.name,
        "slug": album.slug,
        "description": album.description,
        "owner": album.owner,
        "role": role,
        "files": files,
        "created": iso_utc(album.created),
    }


def list_albums(lib, *, user: str) -> list[dict]:
    """The albums `user` owns, edits or views, by slug, with their role and file count."""
    user_id = lib.store.users.id_of(user)
    if user_id is None:
        return []
    with lib.db.atomic():
        listed = lib.store.albums.of_user(user_id)
    return [
        _album_row(album, OWNER if album.owner_id == user_id else EDITOR if edits else VIEWER,
                   files=count)
        for album, count, edits in listed
    ]  # fmt: skip


def show_album(lib, name: str, *, user: str, order: str = "date") -> dict:
    """The album, its editors and viewers, and its files by date (undated last) or in
    the order they were added."""
    if order not in ORDERS:
        raise LunaError(f"unknown order {order!r}; use one of: {', '.join(ORDERS)}")
    with lib.db.atomic():  # one read transaction: a consistent picture while others write
        album, role = _found_and_allowed(lib, name, user, "show")
        record = _album_row(album, role, files=0)
        del record["files"]  # a count in listings; here, the files themselves, last
        record["editors"] = lib.store.albums.shares(album.id, EDITOR)
        record["viewers"] = lib.store.albums.shares(album.id, VIEWER)
        record["files"] = [
            {
                "id": f.id,
                "path": f.path,
                "filename": f.filename,
                "start": iso_local(f.start, f.utc_offset),
                "kind": f.kind,
                "added": iso_utc(f.added),
            }
            for f in lib.store.albums.files(album.id, by_date=order == "date")
        ]
    return record


# -- changing an album's files ---------------------------------------------------------------


def add_files(
    lib, name: str, file_ids: list[str], *, user: str, dry_run: bool = False
) -> FilesChange:
    """Add files (hex ids, as luna.ops.targets resolves them) at the end of the album, in the
    order given; files already in it keep their place."""
    file_ids = _distinct_hex(file_ids)
    with lib.db.atomic("IMMEDIATE"):
        album, _ = _found_and_allowed(lib, name, user, "add")
        present = lib.store.albums.present(album.id, file_ids)
        new = [f for f in file_ids if f not in present]
        if new and not dry_run:
            lib.store.albums.add_files(album.id, new)
            lib.store.albums.touch(album.id)
            lib.sidecars.note_changed(new)
    return FilesChange(album.name, new, [f for f in file_ids if f in present], dry_run)


def remove_files(
    lib, name: str, file_ids: list[str], *, user: str, dry_run: bool = False
) -> FilesChange:
    """Take files out of the album; the files themselves stay in the library."""
    file_ids = _distinct_hex(file_ids)
    with lib.db.atomic("IMMEDIATE"):
        album, _ = _found_and_allowed(lib, name, user, "remove")
        present = lib.store.albums.present(album.id, file_ids)
        gone = [f for f in file_ids if f in present]
        if gone and not dry_run:
            lib.store.albums.remove_files(album.id, gone)
            lib.store.albums.touch(album.id)
            lib.sidecars.note_changed(gone)
    return FilesChange(album.name, gone, [f for f in file_ids if f not in present], dry_run)


def _distinct_hex(file_ids) -> list[str]:
    """Ids as stored (32 hex digits), first mention kept: callers from Python may pass
    UUIDs or their dashed form, and a repeat must not break the insert."""
    return list(dict.fromkeys(uuid.UUID(str(f)).hex for f in file_ids))


# -- renaming, deleting, sharing -------------------------------------------------------------


def rename_album(lib, old: str, new: str, *, user: str) -> dict:
    """Give the album a new name (and slug); refused when another album has that slug."""
    new_name = tidy_name(new, "album")
    new_slug = slugify(new_name)
    with lib.db.atomic("IMMEDIATE"):
        album, _ = _found_and_allowed(lib, old, user, "rename")
        _refuse_taken_slug(lib, new_slug, besides=album.id)
        lib.store.albums.rename(album.id, new_name, new_slug)
        lib.sidecars.note_changed(lib.store.sidecars.files_in("album", album.id))
    return {"old": album.name, "new": new_name, "slug": new_slug}


def delete_album(lib, name: str, *, user: str) -> dict:
    """Delete the album and its links to files and users; never a file."""
    with lib.db.atomic("IMMEDIATE"):
        album, _ = _found_and_allowed(lib, name, user, "delete")
        count = lib.store.albums.file_count(album.id)
        lib.sidecars.note_changed(lib.store.sidecars.files_in("album", album.id))
        lib.store.albums.delete(album.id)
    return {"name": album.name, "files": count}


def share_album(lib, name: str, other: str, *, role: str, user: str) -> dict:
    """Make `other` a viewer or an editor of the album (replacing any role it had)."""
    if role not in SHARE_ROLES:
        raise LunaError(f"unknown role {role!r}; use one of: {', '.join(SHARE_ROLES)}")
    other = tidy_name(other, "user")
    with lib.db.atomic("IMMEDIATE"):
        album, _ = _found_and_allowed(lib, name, user, "share")
        other_id = lib.store.users.ensure(other)
        if other_id == album.owner_id:
            raise LunaError(f"{other} owns album {album.name!r}; share it with someone else")
        was = _drop_shares(lib, album, other_id)
        lib.store.albums.share(album.id, other_id, role)
        if was != role:
            lib.store.albums.touch(album.id)
    return {"album": album.name, "user": other, "role": role, "was": was}


def unshare_album(lib, name: str, other: str, *, user: str) -> dict:
    """Take away whatever role `other` had on the album; "was" is None if it had none."""
    other = tidy_name(other, "user")
    with lib.db.atomic("IMMEDIATE"):
        album, _ = _found_and_allowed(lib, name, user, "unshare")
        other_id = lib.store.users.id_of(other)
        if other_id is not None and other_id == album.owner_id:
            raise LunaError(f"{other} owns album {album.name!r}; an owner cannot be unshared")
        was = _drop_shares(lib, album, other_id) if other_id is not None else None
        if was:
            lib.store.albums.touch(album.id)
    return {"album": album.name, "user": other, "was": was}


def _drop_shares(lib, album: AlbumRow, user_id: int) -> str | None:
    """Remove the user's editor and viewer rows; returns the role it had."""
    was = None
    for role in (VIEWER, EDITOR):
        if lib.store.albums.unshare(album.id, user_id, role):
            was = role
    return was
