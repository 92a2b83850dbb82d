"""Alert areas: RFC 7946 polygons checked with shapely, and an index of prepared polygons for point and cell
queries. Pure: shapely, h3 and numpy only (no Flask, Redis or marshmallow; tests/alerts/test_purity.py).

Semantics, from RFC 7946. Positions are ``[lon, lat]`` (WGS-84 degrees) and a line between two positions is a
straight Cartesian line in (lon, lat) (§3.1.1), so an area is a planar polygon in those coordinates; rings must
have at least four positions and be closed (§3.1.6); winding order is not enforced (§3.1.6: parsers "SHOULD
NOT reject" either order). An area that crosses the antimeridian is a MultiPolygon split at ±180 (§3.1.9), so
an edge spanning more than 180° of longitude is refused with that advice instead of being read as a polygon
the long way round the Earth.

"Inside" includes the edge: a point on an area's boundary or at a vertex meets the area (``intersects``, which
for a point is ``covers``; never ``contains``, which leaves the boundary out). Two places where one point has
two spellings are queried in every spelling: longitude +180 and -180 are one meridian, and a pole is every
longitude at once (the query becomes the segment lat = ±90 from lon -180 to 180).

Index. ``AreaIndex`` answers a point with the areas' rasters (``raster.PointRasters``: per polygon, a grid of
inside / outside / edge cells, exact; GEOS tests the point only in an edge cell), found by a 1° grid over the
world; it answers an area (a traveller's cell) with a shapely ``STRtree`` over the prepared areas' boxes, then
exact ``intersects``. Immutable once built but for cells coded on first use, safe to share between threads
(shapely documents STRtree and prepared geometries as read-only on query).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import h3
import numpy as np
import numpy.typing as npt
import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from yurt.alerts.model.raster import DEFAULT_CELLS, PointRasters

DEFAULT_MAX_VERTICES = 10_000  # positions per area, closing positions included (YURT_ALERT_MAX_VERTICES)
AREA_TYPES = ("Polygon", "MultiPolygon")
_WORLD = box(-180.0, -90.0, 180.0, 90.0)


FloatArray = npt.NDArray[np.float64]
_NUMBER_TYPES = frozenset({int, float})  # exact types: a JSON true/false is a bool, never a coordinate


class AreaError(ValueError):
    """Why an area cannot be used; the message is meant for the client (it names the position or the reason)."""


@dataclass(frozen=True)
class Area:
    """A checked area: its shapely geometry and its GeoJSON with positions reduced to ``[lon, lat]``."""

    geometry: BaseGeometry
    geojson: dict[str, Any]
    vertices: int


def _number(value: Any) -> bool:
    try:
        return type(value) in _NUMBER_TYPES and math.isfinite(value)
    except OverflowError:  # an integer past the largest float
        return False


def _position(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) not in (2, 3) or not all(_number(v) for v in value):
        raise AreaError(f"{where}: a position is [lon, lat] (optionally with an altitude): finite numbers")
    lon, lat = float(value[0]), float(value[1])
    if not -180.0 <= lon <= 180.0:
        raise AreaError(f"{where}: longitude {lon:g} is outside [-180, 180]")
    if not -90.0 <= lat <= 90.0:
        raise AreaError(f"{where}: latitude {lat:g} is outside [-90, 90]")
    return lon, lat


def _ring(value: Any, where: str) -> FloatArray:
    """A checked ring as an (n, 2) array of lon, lat. Checked in bulk (an area may hold 10,000 positions); the
    first bad position is then found one by one, for the message."""
    if not isinstance(value, list):
        raise AreaError(f"{where}: a linear ring is an array of positions")
    if len(value) < 4:
        raise AreaError(f"{where}: a linear ring needs at least 4 positions, it has {len(value)} "
                        "(RFC 7946 §3.1.6)")
    shaped = all(type(p) is list and 2 <= len(p) <= 3 for p in value)
    if not shaped or not {type(v) for p in value for v in p} <= _NUMBER_TYPES:
        for i, p in enumerate(value):
            _position(p, f"{where}[{i}]")
    try:
        ring = np.array([p[:2] for p in value], dtype=np.float64)
    except OverflowError:  # an integer past the largest float: find it, for the message
        for i, p in enumerate(value):
            _position(p, f"{where}[{i}]")
        raise
    outside = ~(np.isfinite(ring).all(axis=1) & (np.abs(ring[:, 0]) <= 180.0) & (np.abs(ring[:, 1]) <= 90.0))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        _position(value[i], f"{where}[{i}]")
    if not (ring[0] == ring[-1]).all():
        raise AreaError(f"{where}: the ring is not closed: its last position must equal its first "
                        "(RFC 7946 §3.1.6)")
    lons = ring[:, 0]
    # An edge from -180 to +180 runs along the whole parallel (a polar cap says so); any other edge spanning
    # more than half the world is an unsplit crossing.
    full_parallel = (np.abs(lons[:-1]) == 180.0) & (np.abs(lons[1:]) == 180.0)
    crossing = np.flatnonzero((np.abs(np.diff(lons)) > 180.0) & ~full_parallel)
    if len(crossing):
        i = int(crossing[0])
        raise AreaError(f"{where}[{i}]: the edge from longitude {lons[i]:g} to {lons[i + 1]:g} crosses the "
                        "antimeridian: split the area at ±180 into a MultiPolygon (RFC 7946 §3.1.9)")
    return ring


def _polygon(value: Any, where: str) -> list[FloatArray]:
    if not isinstance(value, list) or not value:
        raise AreaError(f"{where}: a polygon is a non-empty array of linear rings (the exterior first)")
    return [_ring(r, f"{where}[{i}]") for i, r in enumerate(value)]


def parse_area(value: Any, *, max_vertices: int = DEFAULT_MAX_VERTICES) -> Area:
    """Check a GeoJSON Polygon or MultiPolygon; raise ``AreaError`` naming what is wrong.

    Invalid geometry (a self-intersection, a hole outside its shell, overlapping parts) is reported with
    shapely's own reason (``shapely.is_valid_reason``, the text of ``explain_validity``).
    """
    if not isinstance(value, dict):
        raise AreaError("expected a GeoJSON Polygon or MultiPolygon object")
    unknown = sorted(set(value) - {"type", "coordinates"})
    if unknown:
        raise AreaError(f"unknown member {unknown[0]!r}: an area has only type and coordinates")
    kind = value.get("type")
    if kind not in AREA_TYPES:
        raise AreaError(f"type must be Polygon or MultiPolygon, not {str(kind)[:40]!r} (a point or a line has "
                        "no area)")
    coordinates = value.get("coordinates")
    _check_size(coordinates, kind, max_vertices)
    if kind == "Polygon":
        polygons = [_polygon(coordinates, "coordinates")]
    else:
        if not isinstance(coordinates, list) or not coordinates:
            raise AreaError("coordinates: a MultiPolygon is a non-empty array of polygons")
        polygons = [_polygon(p, f"coordinates[{i}]") for i, p in enumerate(coordinates)]
    shapes = [Polygon(rings[0], rings[1:]) for rings in polygons]
    geometry: BaseGeometry = shapes[0] if kind == "Polygon" else MultiPolygon(shapes)
    reason = shapely.is_valid_reason(geometry)
    if reason != "Valid Geometry":
        raise AreaError(f"invalid geometry: {reason}")
    if geometry.area <= 0.0:
        raise AreaError("the area is empty")
    vertices = sum(len(ring) for rings in polygons for ring in rings)
    plain = [[ring.tolist() for ring in rings] for rings in polygons]
    geojson = {"type": kind, "coordinates": plain[0] if kind == "Polygon" else plain}
    return Area(geometry, geojson, vertices)


def stored_area(geojson: dict[str, Any]) -> BaseGeometry:
    """The geometry of an area ``parse_area`` already accepted (a stored alert): built in bulk, not re-checked,
    so a worker loading 1,000 large areas does not pay the checks again."""
    polygons = [geojson["coordinates"]] if geojson["type"] == "Polygon" else geojson["coordinates"]
    shapes = [Polygon(_positions(rings[0]), [_positions(r) for r in rings[1:]]) for rings in polygons]
    return shapes[0] if geojson["type"] == "Polygon" else MultiPolygon(shapes)


def _positions(ring: list[list[float]]) -> FloatArray:
    """A stored ring as an (n, 2) array: flattened first, which numpy reads faster than nested lists."""
    flat = np.fromiter(itertools.chain.from_iterable(ring), dtype=np.float64, count=2 * len(ring))
    return flat.reshape(-1, 2)


def _check_size(coordinates: Any, kind: str, max_vertices: int) -> None:
    """Count positions before building anything, so an oversized area costs one cheap walk."""
    depth = 2 if kind == "Polygon" else 3
    level: list[Any] = [coordinates]
    for _ in range(depth):
        nxt: list[Any] = []
        for item in level:
            if isinstance(item, list):
                nxt.extend(item)
        level = nxt
    if len(level) > max_vertices:
        raise AreaError(f"the area has {len(level)} positions; at most {max_vertices} are accepted")


def point_query(lat: float, lon: float) -> BaseGeometry:
    """The geometry that stands for a WGS-84 point in lon/lat space: one point, both spellings of the
    antimeridian, or the whole pole line."""
    if abs(lat) == 90.0:
        return LineString([(-180.0, lat), (180.0, lat)])
    if abs(lon) == 180.0:
        return MultiPoint([(180.0, lat), (-180.0, lat)])
    return Point(lon, lat)


def cell_area(cell: str) -> BaseGeometry:
    """An H3 cell as a lon/lat polygon, split at the antimeridian, or a polar cap for a cell holding a pole.

    H3 edges are great-circle arcs; at resolution 7 (1.4 km edges) the straight lon/lat edge departs from the
    arc by metres, far below the cell's own size, which is all the precision a stored presence has.
    """
    boundary = [(float(lng), float(lat)) for lat, lng in h3.cell_to_boundary(cell)]
    resolution = h3.get_resolution(cell)
    lats = [lat for _, lat in boundary]
    if h3.latlng_to_cell(90.0, 0.0, resolution) == cell:
        return box(-180.0, min(lats), 180.0, 90.0)
    if h3.latlng_to_cell(-90.0, 0.0, resolution) == cell:
        return box(-180.0, -90.0, 180.0, max(lats))
    lons = [lon for lon, _ in boundary]
    if max(lons) - min(lons) <= 180.0:
        return Polygon(boundary)
    shifted = Polygon([(lon + 360.0 if lon < 0 else lon, lat) for lon, lat in boundary])
    east = shifted.intersection(_WORLD)
    west = affinity.translate(shifted.intersection(box(180.0, -90.0, 540.0, 90.0)), xoff=-360.0)
    return east.union(west)


def sample_points(geometry: BaseGeometry, limit: int = 400) -> list[tuple[float, float]]:
    """Up to about ``limit`` (lat, lon) points spread over an area: its vertices (thinned), a grid of interior
    points and one representative point. Used to name the countries an area reaches."""
    coords = shapely.get_coordinates(geometry.boundary)
    step = max(1, len(coords) // (limit // 2))
    points = [(float(y), float(x)) for x, y in coords[::step]]
    min_x, min_y, max_x, max_y = geometry.bounds
    side = max(2, int(math.sqrt(limit // 2)))
    xs = np.linspace(min_x, max_x, side)
    ys = np.linspace(min_y, max_y, side)
    grid = shapely.points(np.array([(x, y) for x in xs for y in ys]))
    inside = grid[shapely.intersects(geometry, grid)]
    points.extend((float(p.y), float(p.x)) for p in inside)
    representative = geometry.representative_point()
    points.append((float(representative.y), float(representative.x)))
    return points


IntArray = npt.NDArray[np.intp]


class AreaIndex:
    """Areas for point and cell queries; queries return positions into the sequence it was built from.

    A point is answered by the areas' rasters (``PointRasters``: exact, one array read per candidate polygon, a
    GEOS test only near an edge); an area (a traveller's cell) by an STRtree of the prepared areas.
    """

    def __init__(self, geometries: Sequence[BaseGeometry], *, cells: int = DEFAULT_CELLS) -> None:
        self._geometries = np.array(list(geometries), dtype=object)
        # GEOS builds a prepared polygon's index on its first query, not here: cheap to keep at hand.
        shapely.prepare(self._geometries)
        self._tree = shapely.STRtree(self._geometries)
        self._rasters = PointRasters(list(self._geometries), cells)
        bounds = shapely.bounds(self._geometries).reshape(-1, 4)
        # An area (within [-90, 90]) meets the pole, the whole line lat = ±90, exactly when its bounds reach it.
        self._north: list[int] = np.flatnonzero(bounds[:, 3] == 90.0).tolist()
        self._south: list[int] = np.flatnonzero(bounds[:, 1] == -90.0).tolist()

    def __len__(self) -> int:
        return len(self._geometries)

    def meeting(self, query: BaseGeometry) -> IntArray:
        """Positions of the areas that meet ``query`` (share at least one point, the boundary included)."""
        candidates: IntArray = self._tree.query(query)
        if len(candidates) == 0:
            return candidates
        hits = shapely.intersects(self._geometries[candidates], query)
        found: IntArray = np.sort(candidates[hits])
        return found

    def covering(self, lat: float, lon: float) -> list[int]:
        """Positions of the areas covering a point (edge included), in every spelling of the point, ascending.

        Both spellings of the antimeridian are two point queries. A pole is the whole line lat = ±90, which an
        area meets exactly when its bounds reach ±90.
        """
        if abs(lat) == 90.0:
            return list(self._north if lat > 0 else self._south)
        if abs(lon) == 180.0:
            return sorted(set(self._rasters.covering(lat, 180.0)) | set(self._rasters.covering(lat, -180.0)))
        return self._rasters.covering(lat, lon)

    def at_point(self, lat: float, lon: float) -> IntArray:
        """``covering`` as an array."""
        return np.array(self.covering(lat, lon), dtype=np.intp)
