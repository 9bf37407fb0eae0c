"""Writing a contact sheet for `luna show --thumb` and `--contact-sheet`, and for `luna
find --contact-sheet`: to a file, or (--thumb) as JPEG bytes on stdout."""

from __future__ import annotations

import os
import sys

from luna.cli.output import error, note
from luna.errors import BadValue, EmptyPath
from luna.fsnames import for_humans


def write_sheet(lib, out: str | None, *, files=None, query=None):
    """The sheet of the files named (or found by `query`) to `out`, or on stdout when
    `out` is None; the files without a thumbnail named on stderr."""
    if out == "":
        raise EmptyPath("--contact-sheet")
    if out is None and sys.stdout.isatty():
        raise BadValue(
            "--thumb writes a JPEG on stdout: redirect it (> sheet.jpg), "
            "or give --contact-sheet SHEET.jpg"
        )
    from luna.cli.progress import CountProgress

    progress = CountProgress("Thumbnails")
    try:
        if out is not None:
            report = lib.thumbs.contact_sheet(out, files, query=query, progress=progress)
        else:
            report = _to_stdout(lib, files, query, progress)
    finally:
        progress.finished()
    for problem in report.without_thumbnail:
        error(f"{for_humans(problem['path'])}: no thumbnail ({problem['reason']})")
    where = for_humans(report.path) if out is not None else "stdout"
    note(f"Contact sheet of {report.files:,} files ({report.columns}x{report.rows}) on {where}")
    return report


def _to_stdout(lib, files, query, progress):
    import tempfile

    with tempfile.TemporaryDirectory(prefix="luna-sheet-") as folder:
        path = os.path.join(folder, "sheet.jpg")
        report = lib.thumbs.contact_sheet(path, files, query=query, progress=progress)
        with open(path, "rb") as sheet:
            sys.stdout.buffer.write(sheet.read())
        sys.stdout.flush()
    return report
