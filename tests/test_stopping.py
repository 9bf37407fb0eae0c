"""SIGTERM (systemd, `docker stop`, `kill`) stops luna as Ctrl-C does: the files in flight
are finished or rolled back, what was recorded stays, nothing is left for the next
command's recovery, and the exit code is 143. LUNA_CRASH_AT=STEP:TERM sends the signal at
a chosen step, so no test depends on timing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import library_rows, make_photo

from luna.files.place import TransferFailed
from luna.interrupts import interrupts_deferred


def _luna(library: Path, *args, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"LUNA_CRASH_AT": crash_at} if crash_at else {})}
    return subprocess.run(
        [sys.executable, "-m", "luna", "-L", str(library), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _contents(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _journal_rows(library: Path) -> int:
    return library_rows(library, "SELECT COUNT(*) FROM transfer")[0][0]


def _library_paths(library: Path) -> set[str]:
    return {
        p for (p,) in library_rows(library, "SELECT path FROM file WHERE missing_since IS NULL")
    }


def _stopped_cleanly(done: subprocess.CompletedProcess, library: Path, into: Path) -> None:
    """Exit 143 with a message, no traceback; no journal row, no partial copy; and the
    library agrees with the library folder."""
    assert done.returncode == 143, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert _journal_rows(library) == 0
    assert not list(into.rglob(".luna-partial-*"))
    inside = {p for p in _library_paths(library) if p.startswith(f"{into}/")}
    assert inside == {str(p) for p in into.rglob("*") if p.is_file()}


def _each_in_exactly_one_place(before: dict[Path, bytes], into: Path) -> None:
    placed = list(_contents(into).values()) if into.exists() else []
    for path, data in before.items():
        assert path.exists() + placed.count(data) == 1, path


@pytest.fixture
def card(tmp_path: Path) -> Path:
    card = tmp_path / "card"
    make_photo(card / "IMG_0001.JPG", taken="2019:06:01 12:00:00", color=(200, 10, 10))
    make_photo(card / "IMG_0002.JPG", taken="2019:06:02 08:30:00", color=(10, 200, 10))
    (card / "IMG_0002.JPG.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    make_photo(card / "IMG_0003.JPG", taken="2020:01:01 00:00:05", color=(10, 10, 200))
    return card


@pytest.mark.parametrize(
    ("mode", "step"),
    [
        ("copy", "copied"),
        ("copy", "placed"),
        ("copy", "recorded"),
        ("move", "placed"),
        ("move", "recorded"),
    ],
)
def test_sigterm_during_import_copy_or_move_leaves_nothing_half_done(
    card, tmp_path, library_path, mode, step
):
    before = _contents(card)
    into = tmp_path / "Library"
    stopped = _luna(library_path, "import", card, f"--{mode}", "--into", into, "-j", "1",
                    crash_at=f"{step}:TERM")  # fmt: skip
    _stopped_cleanly(stopped, library_path, into)
    assert "Run the same import again to finish it" in stopped.stderr
    if mode == "copy":
        assert _contents(card) == before  # a copy never touches its sources
    else:
        _each_in_exactly_one_place(before, into)
    # Nothing to recover; the same command does the rest.
    again = _luna(library_path, "import", card, f"--{mode}", "--into", into, "--json")
    assert again.returncode == 0, again.stderr
    assert "interrupted" not in again.stderr
    assert sorted(_contents(into).values()) == sorted(before.values())


@pytest.mark.parametrize("step", ["placed", "recorded"])
def test_sigterm_during_organize_leaves_nothing_half_done(card, tmp_path, library_path, step):
    into = tmp_path / "Library"
    assert _luna(library_path, "import", card, "--copy", "--into", into).returncode == 0
    before = _contents(into)
    stopped = _luna(library_path, "organize", "--into", into, "--template", "new/{filename}",
                    crash_at=f"{step}:TERM")  # fmt: skip
    _stopped_cleanly(stopped, library_path, into)
    assert sorted(_contents(into).values()) == sorted(before.values())
    done = _luna(library_path, "organize", "--into", into, "--template", "new/{filename}")
    assert done.returncode == 0, done.stderr
    assert {p.parent.name for p in _contents(into)} == {"new"}


@pytest.fixture
def other_disk(tmp_path):
    """A second file system, so that organize copies instead of linking."""
    mount_point = tmp_path / "other-disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("cannot mount a file system here")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_sigterm_while_organize_copies_across_disks_finishes_that_file(
    card, other_disk, library_path
):
    before = _contents(card)
    assert _luna(library_path, "import", card).returncode == 0
    into = other_disk / "Library"
    into.mkdir()
    stopped = _luna(library_path, "organize", card, "--include-outside", "--into", into,
                    crash_at="copied:TERM")  # fmt: skip
    _stopped_cleanly(stopped, library_path, into)
    _each_in_exactly_one_place(before, into)
    assert _contents(into)  # the file being copied was finished, not thrown away


def test_sigterm_during_an_in_place_import_keeps_what_was_recorded(photos, library_path):
    for i in range(3):
        make_photo(photos / f"IMG_{i}.jpg", color=(i, 0, 0))
    before = _contents(photos)
    stopped = _luna(library_path, "import", photos, "-j", "1", crash_at="batch:TERM")
    assert stopped.returncode == 143, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert "Interrupted after recording: 3 added" in stopped.stderr
    assert _library_paths(library_path) == {str(p) for p in before}
    assert _contents(photos) == before  # an in-place import never touches a file
    again = _luna(library_path, "import", photos, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["unchanged"] == 3


def test_a_stop_asked_during_a_deferred_step_comes_after_it_even_when_it_failed():
    steps = []
    with pytest.raises(KeyboardInterrupt), interrupts_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        steps.append("finished")  # the step goes on to its end
        raise TransferFailed("this file could not be placed")
    assert steps == ["finished"]


def test_exit_code_143_is_documented(cli):
    from luna.errors import ExitStatus

    assert ExitStatus.TERMINATED == 143
    code, out, _ = cli("--help")
    assert "143 stopped by SIGTERM" in " ".join(out.split())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "| 143 | stopped by SIGTERM" in readme
