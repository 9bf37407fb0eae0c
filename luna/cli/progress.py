"""A rich progress bar on stderr for imports (only when stderr is a terminal)."""

from __future__ import annotations


class RichImportProgress:
    def __init__(self):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        self._scan = self._progress.add_task("Scanning", total=None)
        self._read = None

    def scanning(self, seen: int) -> None:
        self._progress.update(self._scan, description=f"Scanning ({seen:,} files)")

    def reading(self, files: int, total_bytes: int) -> None:
        self._progress.remove_task(self._scan)
        self._files, self._done = files, 0
        self._read = self._progress.add_task(self._label(), total=total_bytes)

    def advance(self, nbytes: int) -> None:
        self._done += 1
        self._progress.update(self._read, advance=nbytes, description=self._label())

    def _label(self) -> str:
        return f"Reading {self._done:,}/{self._files:,} files"

    def finished(self) -> None:
        self._progress.stop()


def make_progress(enabled: bool):
    import sys

    if enabled and sys.stderr.isatty():
        return RichImportProgress()
    return None
