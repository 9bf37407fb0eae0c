"""Is a file there, gone, or only out of reach? And are two paths one file?

Two questions every command that forgets or deletes something must get right, because the
wrong answer loses photos or the work people put into them:

- A path that cannot be looked at is not a path that is gone. A folder without permission,
  a disk returning I/O errors, or a disk that is not mounted (its mount point an empty
  folder) make files *unavailable*: luna keeps their rows as they are and never marks them
  missing, so their tags and albums are still there when the disk comes back.
- One file can be reached by two paths: a symbolic link to a folder, a bind mount, a
  case-insensitive card (FAT and exFAT: `IMG_1.JPG` is `img_1.jpg`), a Unicode form a file
  system folds. Deleting "the other copy" must never delete the only one. Inode numbers
  cannot tell: FUSE file systems (exFAT on Linux) give one file a new inode per spelling.
  Directory listings can: an entry exists under the names its folder lists, and a folder
  is the same as another when a file made in one appears in the other.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass

from luna.fsnames import root_of

PRESENT, GONE, UNAVAILABLE = "present", "gone", "unavailable"

# Where removable disks are mounted: when one is unmounted its own folder usually goes
# too, leaving its parent (an empty folder, or one holding other disks).
_MOUNT_PARENTS = ("/media", "/run/media", "/mnt", "/Volumes")


@dataclass(frozen=True)
class Presence:
    state: str  # PRESENT, GONE or UNAVAILABLE
    reason: str | None = None  # why a file is unavailable, for people

    @property
    def gone(self) -> bool:
        return self.state == GONE


class Lookout:
    """Judges paths, remembering what it found out about their folders: a run that finds
    100,000 files vanished looks at each folder once."""

    def __init__(self, *, trust_empty_folders: bool = False):
        # With trust_empty_folders (`--accept-vanished`), an empty folder is taken at its
        # word: what was below it is gone, not on a disk that is not mounted.
        self.trust_empty_folders = trust_empty_folders
        self._folders: dict[str, Presence] = {}

    def presence(self, path: str) -> Presence:
        root = root_of(path)
        if root is not None:
            blocked = self._root_presence(*root)
            if blocked is not None:
                return blocked
        try:
            os.lstat(path)
            return Presence(PRESENT)
        except (FileNotFoundError, NotADirectoryError):
            return self._folder_presence(os.path.dirname(path))
        except OSError as exc:
            return Presence(UNAVAILABLE, _cause(exc))

    def _root_presence(self, name: str, folder: str) -> Presence | None:
        """UNAVAILABLE for every file below a root this computer does not map, or whose
        folder is not there or empty (a share not mounted); None when the root is there."""
        key = f"root:{name}"
        if key not in self._folders:
            self._folders[key] = _judge_root(name, folder)
        verdict = self._folders[key]
        return verdict if verdict.state == UNAVAILABLE else None

    def _folder_presence(self, folder: str) -> Presence:
        """Whether a file that is not in `folder` is really gone: yes when the folder is
        there to say so; when the folder itself vanished, it depends on what is left."""
        known = self._folders.get(folder)
        if known is None:
            known = self._folders[folder] = self._judge_folder(folder)
        return known

    def _judge_folder(self, folder: str) -> Presence:
        try:
            os.stat(folder)
            return Presence(GONE)  # the folder is there to say the file is not
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as exc:
            return Presence(UNAVAILABLE, _reason(exc, folder))
        parent = os.path.dirname(folder)
        if parent == folder:
            return Presence(GONE)
        above = self._folder_presence(parent)
        if above.state == UNAVAILABLE or not os.path.isdir(parent):
            return above  # the parent vanished too: judged as a folder missing from its own
        return self._vanished_below(parent)

    def _vanished_below(self, parent: str) -> Presence:
        """A folder vanished from `parent`, which exists: a disk unmounted there, or the
        folder deleted. An empty `parent` (a mount point without its disk) or the usual
        parent of removable disks means the former, unless told to trust empty folders."""
        if self.trust_empty_folders:
            return Presence(GONE)
        try:
            empty = not os.listdir(parent)
        except OSError as exc:
            return Presence(UNAVAILABLE, _reason(exc, parent))
        if empty or parent.rstrip("/") in _MOUNT_PARENTS or _is_user_media(parent):
            where = f"{parent} is empty" if empty else f"nothing is mounted below {parent}"
            return Presence(UNAVAILABLE, f"{where}: is the disk mounted?")
        return Presence(GONE)


def _judge_root(name: str, folder: str) -> Presence:
    if not folder:
        return Presence(
            UNAVAILABLE,
            f"the root {name!r} is not mapped on this computer (add it under [roots] in the "
            "config file)",
        )
    try:
        empty = not os.listdir(folder)
    except OSError as exc:
        return Presence(UNAVAILABLE, f"the root {name!r} ({folder}) cannot be read: {_cause(exc)}")
    if empty:
        return Presence(UNAVAILABLE, f"the root {name!r} ({folder}) is empty: is it mounted?")
    return Presence(PRESENT)


def _is_user_media(folder: str) -> bool:
    """/media/USER and /run/media/USER, where desktops mount a user's disks."""
    return os.path.dirname(folder.rstrip("/")) in ("/media", "/run/media")


def _cause(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


def _reason(exc: OSError, path: str) -> str:
    from luna.fsnames import for_humans

    return f"{_cause(exc)}: {for_humans(exc.filename or path)}"


def presence(path: str) -> Presence:
    """One path judged on its own (see Lookout for many)."""
    return Lookout().presence(path)


# -- one file, two paths ---------------------------------------------------------------------


class CannotTell(Exception):
    """The two paths could not be compared (a folder that cannot be listed or written)."""


def same_entry(a: str, b: str, folders: dict | None = None) -> bool:
    """Whether paths `a` and `b` name one directory entry, so that deleting `a` deletes `b`.

    Two hard links are two entries (deleting one leaves the other); a symbolic link is an
    entry of its own. `b` is followed through symbolic links to the entry holding its data.
    `folders` caches what same_folder found out, for a run comparing many pairs. Raises
    CannotTell when the folders cannot be compared: the caller keeps the file."""
    b = os.path.realpath(b)
    folder_a, name_a = os.path.split(os.path.abspath(a))
    folder_b, name_b = os.path.split(b)
    if not same_folder(folder_a, folder_b, folders):
        return False
    if name_a == name_b:
        return True
    # One folder, two spellings: two entries only if the folder lists both. On a
    # case-insensitive card it lists the one spelling it stores.
    try:
        listed = set(os.listdir(folder_a))
    except OSError as exc:
        raise CannotTell(_reason(exc, folder_a)) from None
    return not (name_a in listed and name_b in listed)


def same_folder(a: str, b: str, cache: dict | None = None) -> bool:
    """Whether folders `a` and `b` are one folder: by path, by device and inode (symbolic
    links, bind mounts), and otherwise by making a file in `a` and looking for it in `b`
    (what a FUSE or network file system, reached by two spellings, cannot hide)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    key = (a, b)
    if cache is not None and key in cache:
        return cache[key]
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError as exc:
        raise CannotTell(_reason(exc, a)) from None
    found = (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino) or _probe_appears(a, b)
    if cache is not None:
        cache[key] = found
    return found


def _probe_appears(a: str, b: str) -> bool:
    probe_name = f".luna-probe-{uuid.uuid4().hex[:12]}"  # hidden: no import picks it up
    probe = os.path.join(a, probe_name)
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise CannotTell(_reason(exc, a)) from None
    try:
        return probe_name in os.listdir(b)
    except OSError as exc:
        raise CannotTell(_reason(exc, b)) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)
