"""Rasters of alert areas: most point queries answered by one array read, exactly. Pure (numpy, scipy, shapely).

Each polygon of an area gets a grid of about ``cells`` cells over its bounding box (slightly widened), every
cell marked OUTSIDE, INSIDE or EDGE:

- EDGE: a cell that some edge of the polygon passes through or comes near (within ``_EPS_CELLS`` of a cell
  plus a micrometre in degrees, orders of magnitude above the rounding of the lon/lat -> cell mapping). A point
  in such a cell is asked of GEOS (``intersects_xy``: exact, the boundary inside), as before this raster.
- Every other cell holds no boundary point, nor does any cell 4-connected to it through non-EDGE cells (two
  such cells share a side that no edge comes near), so a whole connected region of them is either inside or
  outside: one GEOS test of one cell centre per region decides it (``scipy.ndimage.label``).

A point is mapped to its cell with the same arithmetic that mapped the edges, so a point whose cell is not EDGE
is farther than the margin from every edge, and has its region's answer: exact, whatever the point. A point
outside the widened box is outside the polygon. Polygons of a MultiPolygon get rasters of their own (an area
split at the antimeridian would otherwise have a box around the world).

Why: a prepared point-in-polygon test costs GEOS little, but each call through shapely costs several µs of
Python and a walk through a large index held far from the cache; with about 11 candidate areas per point in a
crowded region that was most of an answer's time (bench/bench_alerts.py).
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy import ndimage
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

OUTSIDE, INSIDE, EDGE = 0, 1, 2
DEFAULT_CELLS = 16_384  # cells per polygon (128 x 128 for a square box): 16 KB; ~4 % EDGE for a wobbly star
_EPS_CELLS = 1e-6  # margin around every edge, in cells
_EPS_DEG = 1e-11  # and in degrees (about 1 µm): far above the ~4e-14° rounding of a subtraction near 180
_PAD = 1e-6  # the box is widened by this fraction of its size (and _EPS_DEG) on every side

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PolygonRaster:
    """The raster of one polygon: cell (i, j) covers x0 + [i, i+1)/sx by y0 + [j, j+1)/sy."""

    x0: float
    y0: float
    sx: float  # cells per degree of longitude
    sy: float
    nx: int
    ny: int
    codes: bytes  # row-major (j * nx + i): OUTSIDE, INSIDE or EDGE

    def code_at(self, lon: float, lat: float) -> int:
        u = (lon - self.x0) * self.sx
        v = (lat - self.y0) * self.sy
        if not (0.0 <= u < self.nx and 0.0 <= v < self.ny):
            return OUTSIDE
        return self.codes[int(v) * self.nx + int(u)]


def _edge_cells(marked: npt.NDArray[np.bool_], xs: FloatArray, ys: FloatArray, eps: float) -> None:
    """Mark the cells within ``eps`` (cells) of a segment between consecutive positions (one ring's, in cell
    units).

    Each edge is cut into pieces no longer than half a cell a side; a piece's box widened by ``eps`` then
    spans at most two cells a side, and its four corner cells cover it: a superset of the cells it comes near.
    """
    ny, nx = marked.shape
    x1, y1, x2, y2 = xs[:-1], ys[:-1], xs[1:], ys[1:]
    pieces = np.maximum(1, np.ceil(2.0 * np.maximum(np.abs(x2 - x1), np.abs(y2 - y1))).astype(np.intp))
    short = pieces == 1
    ax, ay, bx, by = x1[short], y1[short], x2[short], y2[short]
    if not short.all():  # long edges (few: a polygon of many positions has short ones) cut into pieces
        long = ~short
        lx1, ly1, ldx, ldy, n = x1[long], y1[long], (x2 - x1)[long], (y2 - y1)[long], pieces[long]
        edge = np.repeat(np.arange(len(n)), n)
        k = np.arange(len(edge)) - np.repeat(np.cumsum(n) - n, n)
        t0, t1 = k / n[edge], (k + 1) / n[edge]
        ax = np.concatenate([ax, lx1[edge] + t0 * ldx[edge]])
        bx = np.concatenate([bx, lx1[edge] + t1 * ldx[edge]])
        ay = np.concatenate([ay, ly1[edge] + t0 * ldy[edge]])
        by = np.concatenate([by, ly1[edge] + t1 * ldy[edge]])
    lo_i = np.clip(np.floor(np.minimum(ax, bx) - eps), 0, nx - 1).astype(np.intp)
    hi_i = np.clip(np.floor(np.maximum(ax, bx) + eps), 0, nx - 1).astype(np.intp)
    lo_j = np.clip(np.floor(np.minimum(ay, by) - eps), 0, ny - 1).astype(np.intp)
    hi_j = np.clip(np.floor(np.maximum(ay, by) + eps), 0, ny - 1).astype(np.intp)
    marked[lo_j, lo_i] = marked[lo_j, hi_i] = marked[hi_j, lo_i] = marked[hi_j, hi_i] = True


Frame = tuple[float, float, float, float, int, int]  # x0, y0, sx, sy, nx, ny as in PolygonRaster


def raster_frame(polygon: Polygon, cells: int = DEFAULT_CELLS) -> Frame:
    """Where a polygon's raster lies and how fine it is: cheap (its box), known before any cell is coded."""
    min_x, min_y, max_x, max_y = polygon.bounds
    pad_x = (max_x - min_x) * _PAD + _EPS_DEG
    pad_y = (max_y - min_y) * _PAD + _EPS_DEG
    x0, y0 = min_x - pad_x, min_y - pad_y
    width, height = (max_x + pad_x) - x0, (max_y + pad_y) - y0
    side = math.sqrt(width * height / cells)
    nx = int(min(4 * cells, max(1, round(width / side))))
    ny = int(min(4 * cells, max(1, round(height / side))))
    return float(x0), float(y0), nx / width, ny / height, nx, ny


def raster_codes(polygon: Polygon, frame: Frame) -> bytes:
    """The cells' codes (row-major); a copy of ``polygon`` is tested with GEOS once per region of non-EDGE
    cells. Reads ``polygon`` only."""
    x0, y0, sx, sy, nx, ny = frame
    eps = _EPS_CELLS + _EPS_DEG * max(sx, sy)
    edge = np.zeros((ny, nx), dtype=np.bool_)
    rings = [shapely.get_coordinates(ring) for ring in (polygon.exterior, *polygon.interiors)]
    for coords in rings:
        # The same arithmetic as PolygonRaster.code_at, so a point and an edge are placed alike.
        _edge_cells(edge, (coords[:, 0] - x0) * sx, (coords[:, 1] - y0) * sy, eps)
    regions, count = ndimage.label(~edge)
    flat = regions.ravel()
    cell = np.empty(count + 1, dtype=np.intp)
    cell[flat] = np.arange(len(flat))  # a cell of each region, whichever write lands (all carry its label)
    j, i = np.divmod(cell[1:], nx)  # label 0 is EDGE
    # A copy of its own: the caller may be a background thread, and GEOS builds a prepared polygon's index on
    # its first query, which must not race with a request's query of the shared polygon.
    own = shapely.polygons(rings[0], holes=rings[1:] or None)
    inside = shapely.intersects_xy(own, x0 + (i + 0.5) / sx, y0 + (j + 0.5) / sy)
    region_code = np.concatenate([[EDGE], np.where(inside, INSIDE, OUTSIDE)]).astype(np.uint8)
    return bytes(region_code[regions].tobytes())


def polygon_raster(polygon: Polygon, cells: int = DEFAULT_CELLS) -> PolygonRaster:
    """The raster of a valid polygon (holes included)."""
    frame = raster_frame(polygon, cells)
    return PolygonRaster(*frame, raster_codes(polygon, frame))


class PointRasters:
    """The rasters of every polygon of a sequence of areas, found by a grid of 1° cells over the world.

    ``covering(lat, lon)`` answers the positions (into the sequence) of the areas covering a point, edge
    included: the areas whose polygons' rasters say INSIDE, and those whose EDGE cell holds the point and that
    GEOS then finds meet it.

    A polygon's cells are coded (2-5 ms for 10,000 positions) by a background thread of the process that first
    queries, not when the index is built: a worker loading 1,000 large areas at boot pays only their boxes, far
    from gunicorn's boot timeout, and no request pays for coding. Until a polygon is coded, a point in its box
    is tested by GEOS, as every EDGE cell is: exact all along. ``code_all()`` codes every polygon now. Safe to
    share between threads: a polygon coded twice at once gets the same bytes twice.

    Layout, for the memory a query touches (a request runs between two queries and leaves little of this in
    the CPU caches; bench/bench_alerts_http.py): each grid cell holds its polygons' frames packed in two flat
    arrays (4 doubles, 4 integers per polygon, read in order), and every polygon's codes sit in one buffer at
    an offset of their own, so a candidate costs a few adjacent reads and one read of its cell's code, not a
    walk through a tuple, four float objects, a list and a bytes object of its own.
    """

    def __init__(self, geometries: Sequence[BaseGeometry], cells: int = DEFAULT_CELLS) -> None:
        polygons: list[Polygon] = []
        owners: list[int] = []
        for position, geometry in enumerate(geometries):
            for polygon in getattr(geometry, "geoms", (geometry,)):
                polygons.append(polygon)
                owners.append(position)
        frames = [raster_frame(p, cells) for p in polygons]
        self._polygons = np.array(polygons, dtype=object)
        shapely.prepare(self._polygons)  # the parts of a MultiPolygon too (GEOS indexes them on first query)
        self._frames = frames
        self._owners = owners
        sizes = [nx * ny for _, _, _, _, nx, ny in frames]
        self._offsets = [0, *itertools.accumulate(sizes)]
        self._codes = bytearray(self._offsets[-1])  # polygon k's cells at _offsets[k]: row-major codes
        self._coded = bytearray(len(polygons))  # 1 once polygon k's cells are in _codes
        grid: dict[int, list[int]] = {}
        for k, (x0, y0, sx, sy, nx, ny) in enumerate(frames):
            # The raster's box, widened by _GRID_MARGIN_DEG: a point whose lon + 180 rounds across a grid line
            # still finds every polygon whose box reaches near it.
            c0, c1 = _grid_span(x0 + 180.0, x0 + nx / sx + 180.0, _COLS)
            r0, r1 = _grid_span(y0 + 90.0, y0 + ny / sy + 90.0, _ROWS)
            for row in range(r0, r1 + 1):
                for col in range(c0, c1 + 1):
                    grid.setdefault(row * _COLS + col, []).append(k)
        # per grid cell: (x0, y0, sx, sy) and (nx, ny, offset, k) of each polygon, as code_at reads them
        self._grid: dict[int, tuple[array[float], array[int]]] = {
            key: (array("d", (f for k in ks for f in frames[k][:4])),
                  array("q", (i for k in ks for i in (frames[k][4], frames[k][5], self._offsets[k], k))))
            for key, ks in grid.items()}
        self._coder_pid = 0  # the process whose thread codes the cells (a forked worker starts its own)
        self._coder: threading.Thread | None = None
        self._lock = threading.Lock()

    def _code(self, k: int) -> bytes:
        codes = raster_codes(self._polygons[k], self._frames[k])
        self._codes[self._offsets[k]:self._offsets[k + 1]] = codes  # same length: one copy, under the GIL
        self._coded[k] = 1
        return codes

    def code_all(self) -> None:
        for k in range(len(self._coded)):
            if not self._coded[k]:
                self._code(k)

    def _start_coding(self) -> None:
        if self._coder_pid == os.getpid():
            return
        with self._lock:
            if self._coder_pid != os.getpid():
                self._coder_pid = os.getpid()
                self._coder = threading.Thread(target=self.code_all, name="alert-rasters", daemon=True)
                self._coder.start()

    def wait_coded(self, timeout_s: float | None = None) -> None:
        """Until the background thread has coded every polygon (tests and benches)."""
        if self._coder is not None:
            self._coder.join(timeout_s)

    def coded(self, k: int) -> bool:
        return bool(self._coded[k])

    def raster(self, k: int) -> PolygonRaster:
        """Polygon ``k``'s raster (coding it if needed)."""
        codes = bytes(self._codes[self._offsets[k]:self._offsets[k + 1]]) if self._coded[k] else self._code(k)
        return PolygonRaster(*self._frames[k], codes)

    def __len__(self) -> int:
        return len(self._coded)

    def covering(self, lat: float, lon: float) -> list[int]:
        """Positions of the areas covering (lon, lat), in increasing order; lat within (-90, 90)."""
        row = min(_ROWS - 1, int(lat + 90.0))
        col = min(_COLS - 1, int(lon + 180.0))
        cell = self._grid.get(row * _COLS + col)
        if cell is None:
            return []
        frames, sizes = cell
        codes, coded, owners = self._codes, self._coded, self._owners
        found: set[int] = set()
        exact: list[int] = []
        uncoded = False
        for j in range(0, len(sizes), 4):
            # The arithmetic of PolygonRaster.code_at, on the same doubles.
            u = (lon - frames[j]) * frames[j + 2]
            v = (lat - frames[j + 1]) * frames[j + 3]
            nx = sizes[j]
            if 0.0 <= u < nx and 0.0 <= v < sizes[j + 1]:
                k = sizes[j + 3]
                if not coded[k]:  # not coded yet: ask GEOS, and have the cells coded
                    exact.append(k)
                    uncoded = True
                    continue
                code = codes[sizes[j + 2] + int(v) * nx + int(u)]
                if code == INSIDE:
                    found.add(owners[k])
                elif code == EDGE:
                    exact.append(k)
        if uncoded:
            self._start_coding()
        if exact:
            meets = shapely.intersects_xy(self._polygons[exact], lon, lat)
            found.update(owners[k] for k, hit in zip(exact, meets.tolist(), strict=True) if hit)
        return sorted(found)


_ROWS, _COLS = 180, 360
_GRID_MARGIN_DEG = 1e-6


def _grid_span(low: float, high: float, size: int) -> tuple[int, int]:
    first = int(np.floor(low - _GRID_MARGIN_DEG))
    last = int(np.floor(high + _GRID_MARGIN_DEG))
    return max(0, min(size - 1, first)), max(0, min(size - 1, last))
