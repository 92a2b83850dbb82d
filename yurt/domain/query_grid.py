"""The query grid of the nearest-mission cache: which cell a query falls in, and how far the cell reaches.

Cells are H3 cells at ``QUERY_GRID_RESOLUTION`` (5: mean area 252.9 km², mean edge 8.54 km; H3's published
resolution table). H3 covers the poles and the antimeridian without special cases.

``cell_radius_km`` bounds the geodesic distance from the cell's centre to any point of the cell: the largest
centre-to-vertex geodesic, times a 1.05 safety factor plus 10 m. Why a margin: H3 cell edges are arcs on the
authalic sphere, not ellipsoidal geodesics, so a point on an edge can sit a little farther from the centre than
the vertices on the ellipsoid; the deviation between the sphere and the ellipsoid is below 0.5 % of a distance
(flattening 1/298.257), so 5 % more covers it with a wide margin. The property test in
tests/domain/test_query_grid.py checks the bound on random points of random cells.
"""

from __future__ import annotations

from functools import lru_cache

import h3
import numpy as np

from yurt.domain.geodesy import inverse_many

QUERY_GRID_RESOLUTION = 5
SAFETY_FACTOR = 1.05
SAFETY_MARGIN_KM = 0.01


def query_cell(lat: float, lon: float) -> str:
    return str(h3.latlng_to_cell(lat, lon, QUERY_GRID_RESOLUTION))


@lru_cache(maxsize=65_536)
def cell_geometry(cell: str) -> tuple[float, float, float]:
    """``(centre_lat, centre_lon, radius_km)`` of a query cell."""
    centre_lat, centre_lon = h3.cell_to_latlng(cell)
    boundary = h3.cell_to_boundary(cell)  # ((lat, lon), ...) in h3 v4
    lats = np.array([p[0] for p in boundary], dtype=float)
    lons = np.array([p[1] for p in boundary], dtype=float)
    distances_km, _ = inverse_many(centre_lat, centre_lon, lats, lons)
    radius_km = float(distances_km.max()) * SAFETY_FACTOR + SAFETY_MARGIN_KM
    return float(centre_lat), float(centre_lon), radius_km
