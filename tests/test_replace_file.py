"""luna.files.replace: a file luna writes beside a photo (an XMP sidecar) is replaced whole or
not at all, never over another program's change, and never leaves a temporary file behind."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import _without_override_prefix

from luna.errors import ChangedSinceRead, NoSpaceToWrite, WriteFailed
from luna.files import replace as replace_module
from luna.files.place import TEMP_PREFIX
from luna.files.replace import FileState, file_state, read_with_state, replace_file


def leftovers(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(TEMP_PREFIX)]


def test_a_new_file_is_created_with_the_usual_permissions(tmp_path):
    path = tmp_path / "IMG_1.jpg.xmp"
    umask = os.umask(0o022)
    try:
        state = replace_file(str(path), b"<x/>\n", expected=None)
    finally:
        os.umask(umask)
    assert path.read_bytes() == b"<x/>\n"
    assert path.stat().st_mode & 0o777 == 0o644
    assert state == FileState.of(path.stat()) == file_state(str(path))
    assert leftovers(tmp_path) == []


def test_a_file_is_replaced_keeping_its_permissions(tmp_path):
    path = tmp_path / "IMG_1.xmp"
    path.write_bytes(b"old")
    path.chmod(0o640)
    _, state = read_with_state(str(path))
    new_state = replace_file(str(path), b"new content", expected=state)
    assert path.read_bytes() == b"new content"
    assert path.stat().st_mode & 0o777 == 0o640
    assert new_state == FileState.of(path.stat())
    # The returned state is what the next write expects.
    replace_file(str(path), b"newer", expected=new_state)
    assert path.read_bytes() == b"newer"
    assert leftovers(tmp_path) == []


def test_a_state_from_the_library_size_and_mtime_is_enough(tmp_path):
    path = tmp_path / "IMG_1.xmp"
    path.write_bytes(b"old")
    st = path.stat()
    replace_file(str(path), b"new", expected=FileState(st.st_size, st.st_mtime_ns))
    assert path.read_bytes() == b"new"


def test_a_file_changed_since_it_was_read_is_left_as_it_is(tmp_path):
    path = tmp_path / "IMG_1.xmp"
    path.write_bytes(b"darktable 1")
    _, state = read_with_state(str(path))
    # Same size, and the mtime put back: only the ctime tells.
    st = path.stat()
    path.write_bytes(b"darktable 2")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(ChangedSinceRead, match="changed by another program"):
        replace_file(str(path), b"luna", expected=state)
    assert path.read_bytes() == b"darktable 2"
    assert leftovers(tmp_path) == []


def test_a_file_saved_by_renaming_a_new_one_into_place_is_a_change(tmp_path):
    path = tmp_path / "IMG_1.xmp"
    path.write_bytes(b"one")
    _, state = read_with_state(str(path))
    other = tmp_path / "other"
    other.write_bytes(b"two")
    os.utime(other, ns=(state.mtime_ns, state.mtime_ns))
    os.replace(other, path)  # same size, same mtime: a new inode
    with pytest.raises(ChangedSinceRead):
        replace_file(str(path), b"luna", expected=state)
    assert path.read_bytes() == b"two"


def test_a_file_that_appeared_is_not_overwritten(tmp_path):
    path = tmp_path / "IMG_1.xmp"
    path.write_bytes(b"Lightroom's")
    with pytest.raises(ChangedSinceRead, match="created by another program"):
        replace_file(str(path), b"luna", expected=None)
    assert path.read_bytes() == b"Lightroom's"
    assert leftovers(tmp_path) == []


def test_a_file_removed_since_it_was_read_is_not_written_again(tmp_path):
    path = tmp_path / "IMG_1.xmp"
    path.write_bytes(b"x")
    _, state = read_with_state(str(path))
    path.unlink()
    with pytest.raises(ChangedSinceRead, match="removed"):
        replace_file(str(path), b"luna", expected=state)
    assert not path.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("existed", [False, True])
def test_a_change_while_luna_writes_is_seen_right_before_the_rename(tmp_path, monkeypatch, existed):
    path = tmp_path / "IMG_1.xmp"
    state = None
    if existed:
        path.write_bytes(b"before")
        _, state = read_with_state(str(path))
    real_write = replace_module._write

    def write_then_someone_else_saves(temporary, data, old):
        real_write(temporary, data, old)
        path.write_bytes(b"someone else's edit")

    monkeypatch.setattr(replace_module, "_write", write_then_someone_else_saves)
    with pytest.raises(ChangedSinceRead):
        replace_file(str(path), b"luna", expected=state)
    assert path.read_bytes() == b"someone else's edit"
    assert leftovers(tmp_path) == []


def test_a_symbolic_link_is_followed_and_kept(tmp_path):
    real = tmp_path / "real.xmp"
    real.write_bytes(b"old")
    link = tmp_path / "IMG_1.xmp"
    link.symlink_to(real.name)
    _, state = read_with_state(str(link))
    replace_file(str(link), b"new", expected=state)
    assert link.is_symlink() and real.read_bytes() == b"new"


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EIO])
def test_a_failing_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, error):
    path = tmp_path / "IMG_1.xmp"
    path.write_bytes(b"old")
    _, state = read_with_state(str(path))

    def fsync(fd):
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(replace_module.os, "fsync", fsync)
    expected = NoSpaceToWrite if error == errno.ENOSPC else WriteFailed
    with pytest.raises(expected) as caught:
        replace_file(str(path), b"new", expected=state)
    monkeypatch.undo()
    message = str(caught.value)
    assert "\n" not in message and TEMP_PREFIX not in message and "IMG_1.xmp" in message
    assert path.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_ctrl_c_while_writing_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "IMG_1.xmp"

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(replace_module.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        replace_file(str(path), b"new", expected=None)
    monkeypatch.undo()
    assert not path.exists() and leftovers(tmp_path) == []


def test_a_missing_folder_is_one_line(tmp_path):
    with pytest.raises(WriteFailed, match="No such file or directory") as caught:
        replace_file(str(tmp_path / "gone" / "IMG_1.xmp"), b"x", expected=None)
    assert "\n" not in str(caught.value)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 kB filesystem (tmpfs), where the tests may mount one (root on Linux)."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a small filesystem here")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_a_really_full_disk(small_disk):
    path = small_disk / "IMG_1.xmp"
    path.write_bytes(b"old")
    _, state = read_with_state(str(path))
    with pytest.raises(NoSpaceToWrite, match="no space left on the disk of"):
        replace_file(str(path), b"x" * 256 * 1024, expected=state)
    assert path.read_bytes() == b"old" and leftovers(small_disk) == []


def test_a_read_only_disk(small_disk):
    path = small_disk / "IMG_1.xmp"
    path.write_bytes(b"old")
    _, state = read_with_state(str(path))
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(WriteFailed, match="read-only file system") as caught:
        replace_file(str(path), b"new", expected=state)
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == b"old" and leftovers(small_disk) == []


def test_a_read_only_folder(tmp_path):
    """Permissions, as an ordinary user meets them (root overrides them: the write then runs
    in a user namespace where it cannot)."""
    prefix = _without_override_prefix()
    if prefix is None:
        pytest.skip("as root, with no user namespace to give up overriding permissions")
    folder = tmp_path / "photos"
    folder.mkdir()
    path = folder / "IMG_1.xmp"
    path.write_bytes(b"old")
    _, state = read_with_state(str(path))
    script = textwrap.dedent(
        f"""
        from luna.errors import WriteFailed
        from luna.files.replace import FileState, replace_file
        try:
            replace_file({str(path)!r}, b"new", expected=FileState{state.size, state.mtime_ns})
        except WriteFailed as exc:
            print(exc)
        """
    )
    folder.chmod(0o555)
    try:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        done = subprocess.run(
            [*prefix, sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    finally:
        folder.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("cannot write") and "permission denied" in done.stdout
    assert done.stdout.count("\n") == 1 and TEMP_PREFIX not in done.stdout
    assert path.read_bytes() == b"old" and leftovers(folder) == []
