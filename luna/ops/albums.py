"""Albums: named collections of files with an owner, editors and viewers.

An album is found by the slug of its name, so "Summer 2019" and "summer 2019" name the same
album. It keeps the order in which files were added (the `album_file` row ids) as well as
the files' own dates, so it can be shown either way.

Who may do what to an album:

    see its files (show)             the owner, editors and viewers
    add, remove files, rename it     the owner and editors
    share, unshare, delete it        the owner

The acting user is whoever the caller says it is (`--user`, `$LUNA_USER`, else the login
name), and the library is one SQLite file. So these roles guard a shared library against
mistakes, such as adding to someone else's album; they do not guard it against someone who
can write the database file, who can change anything in it.

Used from Python::

    from luna import Library

    from luna.ops import albums
    with Library.open() as lib:
        albums.create_album(lib, "Holidays", user="alice")
        albums.share_album(lib, "Holidays", "bob", role="viewer", user="alice")
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from peewee import JOIN, chunked, fn

from luna.errors import LunaError, NotFound, PermissionDenied
from luna.names import slugify, tidy_name
from luna.store.models import Album, AlbumEditor, AlbumFile, AlbumViewer, File, User, utcnow
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

_BATCH = 400  # rows per statement, well under SQLite's limit on bound variables


@dataclass
class AlbumAccess:
    """An album as one user may act on it, checked before a command goes further."""

    name: str
    slug: str
    role: str
    files: int


@dataclass
class FilesChange:
    album: str  # the album's name as stored
    changed: list[str]  # hex ids of the files added (or removed)
    unchanged: list[str]  # hex ids already in it (add) or not in it (remove)
    dry_run: bool = False


# -- finding albums and roles ----------------------------------------------------------------


def find_album(name: str) -> Album:
    """The album whose slug is the slug of `name`."""
    slug = slugify(tidy_name(name, "album"))
    album = Album.get_or_none(Album.slug == slug)
    if album is None:
        raise NotFound(f"no album {name!r} (see `luna album list`)")
    return album


def _user_id(name: str) -> int | None:
    """The id of an existing user; reading never creates one."""
    user = User.get_or_none(User.name == name)
    return user.id if user else None


def _new_or_existing_user_id(lib, name: str) -> int:
    return lib.user_id(tidy_name(name, "user"), create=True)


def role_of(album: Album, user: str) -> str | None:
    """The role: "owner", "editor" or "viewer"; None when `user` has no part in the album."""
    user_id = _user_id(user)
    if user_id is None:
        return None
    if album.owner_id == user_id:
        return OWNER
    if AlbumEditor.select().where(_link(AlbumEditor, album, user_id)).exists():
        return EDITOR
    if AlbumViewer.select().where(_link(AlbumViewer, album, user_id)).exists():
        return VIEWER
    return None


def _link(model, album: Album, user_id: int):
    return (model.album == album.id) & (model.user == user_id)


def _owner_name(album: Album) -> str | None:
    return album.owner.name if album.owner_id else None


def _names(model, album: Album) -> list[str]:
    query = User.select(User.name).join(model).where(model.album == album.id).order_by(User.name)
    return [u.name for u in query]


def _who_may(album: Album, allowed: frozenset) -> str:
    owner = f"{_owner_name(album) or 'nobody'} (the owner)"
    if allowed == _MANAGE:
        return owner
    editors = _names(AlbumEditor, album)
    editor = f"an editor ({', '.join(editors)})" if editors else "an editor"
    if allowed == _CHANGE:
        return f"{owner} or {editor}"
    return f"{owner}, {editor} or a viewer"


def _require(album: Album, user: str, action: str) -> str:
    """The user's role, if it allows `action`; PermissionDenied saying who may otherwise."""
    allowed, verb = ACTIONS[action]
    role = role_of(album, user)
    if role not in allowed:
        raise PermissionDenied(
            f"only {_who_may(album, allowed)} may {verb} album {album.name!r}; "
            f"you are {user} ({role or 'no role'})"
        )
    return role


def _file_count(album: Album) -> int:
    return AlbumFile.select().where(AlbumFile.album == album.id).count()


def check_access(lib, name: str, *, user: str, action: str) -> AlbumAccess:
    """Whether `user` may do `action` to the album, before a command reads files or asks
    for confirmation. The mutation checks again inside its own transaction."""
    album = find_album(name)
    role = _require(album, user, action)
    return AlbumAccess(album.name, album.slug, role, _file_count(album))


# -- creating, listing, showing --------------------------------------------------------------


def create_album(lib, name: str, *, user: str, description: str = "") -> dict:
    """A new, empty album owned by `user`; refused when its slug is taken."""
    name = tidy_name(name, "album")
    slug = slugify(name)
    # IMMEDIATE takes the write lock first, so no one can take the slug between the check
    # and the insert.
    with lib.db.atomic("IMMEDIATE"):
        _refuse_taken_slug(slug)
        owner_id = _new_or_existing_user_id(lib, user)
        album = Album.create(name=name, slug=slug, description=description, owner=owner_id)
    return _album_row(album, OWNER, files=0)


def _refuse_taken_slug(slug: str, *, besides: int | None = None) -> None:
    taken = Album.get_or_none(Album.slug == slug)
    if taken is not None and taken.id != besides:
        raise LunaError(f"album {taken.name!r} already exists (its slug is {slug!r})")


def _album_row(album: Album, role: str, *, files: int) -> dict:
    return {
        "name": album.name,
        "slug": album.slug,
        "description": album.description,
        "owner": _owner_name(album),
        "role": role,
        "files": files,
        "created": iso_utc(album.created),
    }


def list_albums(lib, *, user: str) -> list[dict]:
    """The albums `user` owns, edits or views, by slug, with their role and file count."""
    user_id = _user_id(user)
    if user_id is None:
        return []
    editing = AlbumEditor.select(AlbumEditor.album).where(AlbumEditor.user == user_id)
    viewing = AlbumViewer.select(AlbumViewer.album).where(AlbumViewer.user == user_id)
    file_count = AlbumFile.select(fn.COUNT(AlbumFile.id)).where(AlbumFile.album == Album.id)
    query = (
        Album.select(Album, User, file_count.alias("file_count"))
        .join(User, JOIN.LEFT_OUTER, on=(Album.owner == User.id))
        .where((Album.owner == user_id) | Album.id.in_(editing) | Album.id.in_(viewing))
        .order_by(Album.slug)
    )
    with lib.db.atomic():
        edited_ids = {row.album_id for row in editing}
        return [
            _album_row(album, _listed_role(album, user_id, edited_ids), files=album.file_count)
            for album in query
        ]


def _listed_role(album: Album, user_id: int, edited_ids: set[int]) -> str:
    if album.owner_id == user_id:
        return OWNER
    return EDITOR if album.id in edited_ids else VIEWER


def show_album(lib, name: str, *, user: str, order: str = "date") -> dict:
    """The album, its editors and viewers, and its files by date (undated last) or in
    the order they were added."""
    if order not in ORDERS:
        raise LunaError(f"unknown order {order!r}; use one of: {', '.join(ORDERS)}")
    with lib.db.atomic():  # one read transaction: a consistent picture while others write
        album = find_album(name)
        role = _require(album, user, "show")
        record = _album_row(album, role, files=0)
        del record["files"]  # a count in listings; here, the files themselves, last
        record["editors"] = _names(AlbumEditor, album)
        record["viewers"] = _names(AlbumViewer, album)
        record["files"] = _album_files(album, order)
    return record


def _album_files(album: Album, order: str) -> list[dict]:
    query = (
        File.select(
            File.id,
            File.path,
            File.filename,
            File.start,
            File.utc_offset,
            File.kind,
            AlbumFile.added,
        )
        .join(AlbumFile)
        .where(AlbumFile.album == album.id)
    )
    if order == "date":
        # Same dates keep the order they were added in.
        query = query.order_by(File.start.is_null(), File.start, AlbumFile.id)
    else:
        query = query.order_by(AlbumFile.id)
    return [
        {
            "id": str(f.id),
            "path": f.path,
            "filename": f.filename,
            "start": iso_local(f.start, f.utc_offset),
            "kind": f.kind,
            "added": iso_utc(f.albumfile.added),
        }
        for f in query
    ]


# -- changing an album's files ---------------------------------------------------------------


def add_files(
    lib, name: str, file_ids: list[str], *, user: str, dry_run: bool = False
) -> FilesChange:
    """Add files (hex ids, as luna.ops.targets resolves them) at the end of the album, in the
    order given; files already in it keep their place."""
    file_ids = _distinct_hex(file_ids)
    with lib.db.atomic("IMMEDIATE"):
        album = find_album(name)
        _require(album, user, "add")
        present = _present(lib.db, album, file_ids)
        new = [f for f in file_ids if f not in present]
        if new and not dry_run:
            now = utcnow()
            for batch in chunked(new, _BATCH):
                AlbumFile.insert_many(
                    [{"album": album.id, "file": f, "added": now} for f in batch]
                ).execute()
            _touch(album)
    return FilesChange(album.name, new, [f for f in file_ids if f in present], dry_run)


def remove_files(
    lib, name: str, file_ids: list[str], *, user: str, dry_run: bool = False
) -> FilesChange:
    """Take files out of the album; the files themselves stay in the library."""
    file_ids = _distinct_hex(file_ids)
    with lib.db.atomic("IMMEDIATE"):
        album = find_album(name)
        _require(album, user, "remove")
        present = _present(lib.db, album, file_ids)
        gone = [f for f in file_ids if f in present]
        if gone and not dry_run:
            for batch in chunked(gone, _BATCH):
                AlbumFile.delete().where(
                    (AlbumFile.album == album.id) & AlbumFile.file.in_(batch)
                ).execute()
            _touch(album)
    return FilesChange(album.name, gone, [f for f in file_ids if f not in present], dry_run)


def _distinct_hex(file_ids) -> list[str]:
    """Ids as stored (32 hex digits), first mention kept: callers from Python may pass
    UUIDs or their dashed form, and a repeat must not break the insert."""
    return list(dict.fromkeys(uuid.UUID(str(f)).hex for f in file_ids))


def _present(db, album: Album, file_ids: list[str]) -> set[str]:
    """Which of these hex file ids are in the album already."""
    present: set[str] = set()
    for batch in chunked(file_ids, _BATCH):
        marks = ", ".join("?" for _ in batch)
        rows = db.execute_sql(
            f"SELECT file_id FROM album_file WHERE album_id = ? AND file_id IN ({marks})",
            (album.id, *batch),
        ).fetchall()
        present.update(r[0] for r in rows)
    return present


def _touch(album: Album) -> None:
    Album.update(modified=utcnow()).where(Album.id == album.id).execute()


# -- renaming, deleting, sharing -------------------------------------------------------------


def rename_album(lib, old: str, new: str, *, user: str) -> dict:
    """Give the album a new name (and slug); refused when another album has that slug."""
    new_name = tidy_name(new, "album")
    new_slug = slugify(new_name)
    with lib.db.atomic("IMMEDIATE"):
        album = find_album(old)
        _require(album, user, "rename")
        _refuse_taken_slug(new_slug, besides=album.id)
        old_name = album.name
        Album.update(name=new_name, slug=new_slug, modified=utcnow()).where(
            Album.id == album.id
        ).execute()
    return {"old": old_name, "new": new_name, "slug": new_slug}


def delete_album(lib, name: str, *, user: str) -> dict:
    """Delete the album and its links to files and users; never a file."""
    with lib.db.atomic("IMMEDIATE"):
        album = find_album(name)
        _require(album, user, "delete")
        count = _file_count(album)
        # album_file, album_editor and album_viewer rows go with it (ON DELETE CASCADE).
        Album.delete().where(Album.id == album.id).execute()
    return {"name": album.name, "files": count}


def share_album(lib, name: str, other: str, *, role: str, user: str) -> dict:
    """Make `other` a viewer or an editor of the album (replacing any role it had)."""
    if role not in SHARE_ROLES:
        raise LunaError(f"unknown role {role!r}; use one of: {', '.join(SHARE_ROLES)}")
    other = tidy_name(other, "user")
    with lib.db.atomic("IMMEDIATE"):
        album = find_album(name)
        _require(album, user, "share")
        other_id = _new_or_existing_user_id(lib, other)
        if other_id == album.owner_id:
            raise LunaError(f"{other} owns album {album.name!r}; share it with someone else")
        was = _drop_shares(album, other_id)
        model = AlbumEditor if role == EDITOR else AlbumViewer
        model.create(album=album.id, user=other_id)
        if was != role:
            _touch(album)
    return {"album": album.name, "user": other, "role": role, "was": was}


def unshare_album(lib, name: str, other: str, *, user: str) -> dict:
    """Take away whatever role `other` had on the album; "was" is None if it had none."""
    other = tidy_name(other, "user")
    with lib.db.atomic("IMMEDIATE"):
        album = find_album(name)
        _require(album, user, "unshare")
        other_id = _user_id(other)
        if other_id is not None and other_id == album.owner_id:
            raise LunaError(f"{other} owns album {album.name!r}; an owner cannot be unshared")
        was = _drop_shares(album, other_id) if other_id is not None else None
        if was:
            _touch(album)
    return {"album": album.name, "user": other, "was": was}


def _drop_shares(album: Album, user_id: int) -> str | None:
    """Remove the user's editor and viewer rows; returns the role it had."""
    was = None
    for model, role in ((AlbumViewer, VIEWER), (AlbumEditor, EDITOR)):
        if model.delete().where(_link(model, album, user_id)).execute():
            was = role
    return was
