"""The progress bars: rich, on stderr, and only when stderr is a terminal (a log or a pipe
gets no bar). Every long command uses one of the two below, built by `_bar`."""

from __future__ import annotations

import sys
from typing import Any


def _bar(*columns):
    from rich.console import Console
    from rich.progress import Progress

    return Progress(*columns, console=Console(stderr=True), transient=True)


class RichImportProgress:
    """Scanning, then bytes read: for import and verify."""

    def __init__(self):
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            SpinnerColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = _bar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        self._progress.start()
        self._scan = self._progress.add_task("Scanning", total=None)
        self._read = None

    def scanning(self, seen: int) -> None:
        if self._read is None:
            self._progress.update(self._scan, description=f"Scanning ({seen:,} files)")

    def reading(self, files: int, total_bytes: int) -> None:
        """Called again as the walk finds more files to read: the totals grow."""
        self._files = files
        if self._read is None:
            self._progress.remove_task(self._scan)
            self._done = 0
            self._read = self._progress.add_task(self._label(), total=total_bytes)
        else:
            self._progress.update(self._read, total=total_bytes, description=self._label())

    def advance(self, nbytes: int) -> None:
        self._done += 1
        self._progress.update(self._read, advance=nbytes, description=self._label())

    def _label(self) -> str:
        return f"Reading {self._done:,}/{self._files:,} files"

    def finished(self) -> None:
        self._progress.stop()


def make_progress(enabled: bool):
    if enabled and sys.stderr.isatty():
        return RichImportProgress()
    return None


class CountProgress:
    """`done` of `total` things (photos hashed, say), called as progress(done, total)."""

    def __init__(self, label: str):
        self._label = label
        self._bar: Any = None  # a rich Progress, made on the first call on a terminal
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if self._bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

            bar = _bar(TextColumn(self._label), BarColumn(), MofNCompleteColumn())
            bar.start()
            self._bar, self._task = bar, bar.add_task(self._label, total=total)
        self._bar.update(self._task, completed=done)

    def finished(self) -> None:
        if self._bar is not None:
            self._bar.stop()
