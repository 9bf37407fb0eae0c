"""The files of a Google Takeout, read in place: from its zip parts (never extracted to a
temporary copy) or from the folders they were extracted to, or a mix.

A Takeout of a large library comes as dozens of parts (`takeout-20240101T000000Z-001.zip`,
`-002.zip`, ...), each a slice of one tree: a folder's photos may be spread over several
parts, a photo's JSON may be in another part than the photo, and the same file is now and
then in two parts. list_takeout merges the parts into one tree of folders, each file once.
luna.ingest.takeout says which JSON is whose.
"""

from __future__ import annotations

import os
import posixpath
import zipfile
from dataclasses import dataclass, field

from luna.errors import LunaError

MAX_JSON_BYTES = 16 * 1024 * 1024  # a photo's JSON is a few kB; an album's a few more


class BadTakeout(LunaError):
    """A part that cannot be read as a Takeout (not a zip, a damaged one): one line."""


@dataclass(frozen=True, slots=True)
class Member:
    """One file of the Takeout: in which part, under which path inside it ("/"-separated,
    "Takeout/Google Photos/Photos from 2019/IMG_1.jpg"), and its size."""

    part: str  # the zip file's path, or the folder given
    name: str
    size: int

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.name)

    @property
    def filename(self) -> str:
        return posixpath.basename(self.name)

    @property
    def zipped(self) -> bool:
        return not os.path.isdir(self.part)

    def where(self) -> str:
        """How people are told where it is: "takeout-001.zip: Takeout/.../IMG_1.jpg"."""
        if self.zipped:
            return f"{os.path.basename(self.part)}: {self.name}"
        return os.path.join(self.part, self.name)


@dataclass
class Folder:
    """A folder of the Takeout, all parts merged: its files by name."""

    path: str
    media: dict[str, Member] = field(default_factory=dict)
    jsons: dict[str, Member] = field(default_factory=dict)


@dataclass
class Listing:
    folders: dict[str, Folder] = field(default_factory=dict)
    parts: list[str] = field(default_factory=list)
    repeated: int = 0  # files found in more than one part (kept once)


def list_takeout(paths: list[str]) -> Listing:
    """Every file of the Takeout parts and folders given, by folder. BadTakeout for a path
    that is neither a folder nor a readable zip."""
    listing = Listing()
    for path in paths:
        path = os.path.abspath(os.path.expanduser(path))
        listing.parts.append(path)
        for member in _members_of(path):
            _add(listing, member)
    return listing


def _members_of(path: str):
    if os.path.isdir(path):
        yield from _folder_members(path)
        return
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except FileNotFoundError:
        raise BadTakeout(f"no such file or folder: {path}") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadTakeout(f"{path} is not a readable zip file ({exc})") from None
    for info in infos:
        if not info.is_dir():
            yield Member(path, info.filename.lstrip("/"), info.file_size)


def _folder_members(root: str):
    for folder, folders, names in os.walk(root):
        folders.sort()
        relative = os.path.relpath(folder, root)
        for name in sorted(names):
            full = os.path.join(folder, name)
            if not os.path.isfile(full) or os.path.islink(full):
                continue
            inside = (
                name if relative == "." else posixpath.join(relative.replace(os.sep, "/"), name)
            )
            yield Member(root, inside, os.path.getsize(full))


def _add(listing: Listing, member: Member) -> None:
    if member.filename.startswith("._") or member.filename == ".DS_Store":
        return  # what a Mac leaves when it extracts or copies
    folder = listing.folders.setdefault(member.folder, Folder(member.folder))
    kind = folder.jsons if member.filename.lower().endswith(".json") else folder.media
    if member.filename in kind:
        listing.repeated += 1  # the same file in two parts: the first is kept
        return
    kind[member.filename] = member


class Parts:
    """The zip parts, each opened once and kept open while the Takeout is read."""

    def __init__(self) -> None:
        self._open: dict[str, zipfile.ZipFile] = {}

    def open(self, member: Member):
        """A binary file object reading the member (a stream for a zip member)."""
        if not member.zipped:
            return open(os.path.join(member.part, member.name), "rb")  # noqa: SIM115
        archive = self._open.get(member.part)
        if archive is None:
            archive = self._open[member.part] = zipfile.ZipFile(member.part)
        return archive.open(member.name)

    def read_json(self, member: Member) -> bytes:
        """A JSON member's bytes; BadTakeout past MAX_JSON_BYTES (a JSON that large is no
        Takeout's, and is not read into memory)."""
        if member.size > MAX_JSON_BYTES:
            raise BadTakeout(f"{member.where()} is {member.size:,} bytes: too large for a JSON")
        with self.open(member) as stream:
            return stream.read(MAX_JSON_BYTES + 1)[:MAX_JSON_BYTES]

    def close(self) -> None:
        for archive in self._open.values():
            archive.close()
        self._open.clear()

    def __enter__(self) -> Parts:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
