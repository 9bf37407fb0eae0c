"""luna.ops.transfer's steps one by one: a copy is only ever accepted when it reads back equal
to the content the library knows, and nothing is ever overwritten."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from luna.files import place


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "IMG_1.jpg"
    path.write_bytes(os.urandom(3 * place.CHUNK + 123))
    os.utime(path, (1_500_000_000, 1_500_000_000))
    return path


def test_a_verified_copy_has_the_same_bytes_and_dates(source, tmp_path):
    temporary = tmp_path / "dest" / ".luna-partial-x"
    temporary.parent.mkdir()
    place.copy_verified(str(source), str(temporary), _sha(source.read_bytes()))
    assert temporary.read_bytes() == source.read_bytes()
    assert temporary.stat().st_mtime == 1_500_000_000


def test_the_copy_works_where_the_kernel_cannot_copy(source, tmp_path, monkeypatch):
    def refuse(*args):
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    temporary = tmp_path / "copy"
    place.copy_verified(str(source), str(temporary), _sha(source.read_bytes()))
    assert temporary.read_bytes() == source.read_bytes()


def test_a_source_edited_since_it_was_hashed_is_refused(source, tmp_path):
    expected = _sha(source.read_bytes())
    known = (source.stat().st_size, source.stat().st_mtime)
    source.write_bytes(b"edited")
    temporary = tmp_path / "copy"
    with pytest.raises(place.TransferFailed, match="changed since it was read"):
        place.copy_verified(str(source), str(temporary), expected, known)
    assert not temporary.exists()
    assert source.read_bytes() == b"edited"


def test_a_copy_that_reads_back_different_is_removed(source, tmp_path):
    temporary = tmp_path / "copy"
    with pytest.raises(place.TransferFailed, match="reads back different"):
        place.copy_verified(str(source), str(temporary), "0" * 64)
    assert not temporary.exists() and source.exists()


def test_placing_never_replaces_an_existing_file(source, tmp_path):
    temporary, dest = tmp_path / "tmp", tmp_path / "taken.jpg"
    temporary.write_bytes(b"new")
    dest.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        place.place_no_replace(str(temporary), str(dest))
    assert dest.read_bytes() == b"old"
    assert not temporary.exists()  # the copy has no use left: no partial file stays behind


@pytest.mark.parametrize("renameat2", [True, False], ids=["renameat2", "no renameat2"])
def test_placing_without_hard_links_still_never_replaces(tmp_path, monkeypatch, renameat2):
    def no_links(*args):
        raise OSError(errno.EPERM, "no hard links here")

    monkeypatch.setattr(os, "link", no_links)
    if not renameat2:  # not Linux, or a file system without RENAME_NOREPLACE
        monkeypatch.setattr(place, "_renameat2", lambda: None)
    temporary, dest = tmp_path / "tmp", tmp_path / "taken.jpg"
    temporary.write_bytes(b"new")
    dest.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        place.place_no_replace(str(temporary), str(dest))
    assert dest.read_bytes() == b"old" and not temporary.exists()
    temporary.write_bytes(b"new")
    free = tmp_path / "free.jpg"
    place.place_no_replace(str(temporary), str(free))
    assert free.read_bytes() == b"new" and not temporary.exists()


def test_a_move_source_is_only_removed_when_the_destination_holds_it(source, tmp_path):
    dest = tmp_path / "dest.jpg"
    dest.write_bytes(b"something else")
    with pytest.raises(place.TransferFailed, match="no longer matches"):
        place.remove_source(str(source), _sha(source.read_bytes()), str(dest))
    assert source.exists()
    dest.write_bytes(source.read_bytes())
    place.remove_source(str(source), _sha(dest.read_bytes()), str(dest))
    assert not source.exists() and dest.exists()
