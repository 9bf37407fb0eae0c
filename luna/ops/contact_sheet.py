"""A contact sheet: the thumbnails of some files in a grid, each with its file name and
date under it, as one JPEG, for a quick look or an email.

The thumbnails come from the cache (luna.ops.thumbs builds those missing first); a file
without one (damaged, or a RAW without a preview) gets a grey cell, still named, so the
sheet shows every file asked for. The text is drawn with Pillow's default font: no font
file, nothing fetched.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from luna.errors import BadValue
from luna.ops import thumbs
from luna.ops.thumbnail import THUMB_SIZE
from luna.results import Result

COLUMNS = 6  # cells across: 6 x 256 px fits a mail reader and a laptop screen
MAX_FILES = 1000  # a sheet is for a look: more cells than that make a poster
MARGIN = 8
TEXT_HEIGHT = 30  # two lines of the default font under each thumbnail
BACKGROUND, CELL, INK, FAINT = (255, 255, 255), (230, 230, 230), (20, 20, 20), (110, 110, 110)
QUALITY = 85


@dataclass
class SheetReport(Result):
    """The sheet written: where, how many files, its grid and pixel size, and the files
    shown without a thumbnail ({path, reason})."""

    path: str = ""
    files: int = 0
    columns: int = 0
    rows: int = 0
    width: int = 0
    height: int = 0
    without_thumbnail: list[dict] = field(default_factory=list)

    @property
    def problems(self) -> list[dict]:  # type: ignore[override]
        return self.without_thumbnail


@dataclass(frozen=True)
class Cell:
    """One file on the sheet: its name and date as shown, and its thumbnail (or None)."""

    name: str
    date: str
    thumbnail: Path | None


def make_sheet(lib, file_ids: list[str], out: str, *, columns: int = COLUMNS, progress=None):
    """Write the contact sheet of these files, in this order, to `out` (replaced whole
    if it exists); their missing thumbnails are built first. A SheetReport."""
    from luna.files.replace import file_state, replace_file

    if not file_ids:
        raise BadValue("no files for the contact sheet")
    if len(file_ids) > MAX_FILES:
        raise BadValue(
            f"a contact sheet takes at most {MAX_FILES:,} files, not {len(file_ids):,}: "
            "choose fewer (--limit)"
        )
    if columns < 1:
        raise BadValue(f"--columns: {columns} is not a number of columns (1 or more)")
    built = thumbs.build(lib, file_ids, progress=progress)
    failed = {f["path"]: f["reason"] for f in built.failed}
    cells, without = [], []
    for name, path, sha, when in lib.store.thumbs.about(file_ids):
        thumbnail = thumbs.path(sha)
        if thumbnail is None:
            without.append({"path": path, "reason": failed.get(path, "no thumbnail")})
        cells.append(Cell(name, when.strftime("%Y-%m-%d %H:%M") if when else "", thumbnail))
    data, (across, down, width, height) = draw_sheet(cells, columns)
    target = os.path.abspath(out)
    replace_file(target, data, expected=file_state(target))
    return SheetReport(target, len(cells), across, down, width, height, without)


def grid_size(count: int, columns: int = COLUMNS) -> tuple[int, int, int, int]:
    """(columns, rows, width, height) of the sheet of `count` files."""
    across = max(1, min(columns, count))
    down = max(1, -(-count // across))
    cell_w, cell_h = THUMB_SIZE + MARGIN, THUMB_SIZE + TEXT_HEIGHT + MARGIN
    return across, down, MARGIN + across * cell_w, MARGIN + down * cell_h


def draw_sheet(cells: list[Cell], columns: int = COLUMNS) -> tuple[bytes, tuple]:
    """The sheet as JPEG bytes, and its grid_size."""
    from PIL import Image, ImageDraw, ImageFont

    grid = grid_size(len(cells), columns)
    across, _, width, height = grid
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for n, cell in enumerate(cells):
        left = MARGIN + (n % across) * (THUMB_SIZE + MARGIN)
        top = MARGIN + (n // across) * (THUMB_SIZE + TEXT_HEIGHT + MARGIN)
        _paste_thumbnail(sheet, draw, cell.thumbnail, left, top)
        text_top = top + THUMB_SIZE + 2
        draw.text((left, text_top), _fitted(draw, font, cell.name), fill=INK, font=font)
        draw.text((left, text_top + 14), cell.date, fill=FAINT, font=font)
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=QUALITY)
    return out.getvalue(), grid


def _paste_thumbnail(sheet, draw, thumbnail: Path | None, left: int, top: int) -> None:
    """Centred across its square, standing on its name; a grey square when there is none."""
    from PIL import Image

    if thumbnail is None:
        draw.rectangle([left, top, left + THUMB_SIZE - 1, top + THUMB_SIZE - 1], fill=CELL)
        draw.text((left + 8, top + THUMB_SIZE // 2 - 6), "no thumbnail", fill=FAINT)
        return
    with Image.open(thumbnail) as im:
        picture = im.convert("RGB")
    x = left + (THUMB_SIZE - picture.width) // 2
    y = top + THUMB_SIZE - picture.height  # on the line of its name
    sheet.paste(picture, (x, y))


def _fitted(draw, font, text: str) -> str:
    """The name cut with an ellipsis to fit the cell's width."""
    if draw.textlength(text, font=font) <= THUMB_SIZE:
        return text
    while text and draw.textlength(text + "...", font=font) > THUMB_SIZE:
        text = text[:-1]
    return text + "..."
