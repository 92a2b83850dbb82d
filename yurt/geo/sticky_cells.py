"""Sticky presence cells: hysteresis at cell edges, so repeated noisy updates from one spot reveal nothing new.

Re-snapping every update to the cell it falls in tells an observer how often GPS noise puts a traveller who
stands still on each side of a nearby edge, and so how far from that edge they stand: in a simulation of 48
updates from one spot with GPS noise σ = 50 m, 14.7 % of victims standing within 300 m of an edge were placed
within 250 m (tests/geo/test_sticky_cells.py). So the cell is sticky: a new position whose cell differs from
the traveller's current (anchor) cell, but which lies at most ``STICKY_MARGIN_M`` outside it, keeps the current
cell. Once a cell is chosen, updates from about the same spot repeat it, and the sequence of cells carries
nothing beyond the first: in the same simulation no victim's sequence held two cells and none was placed within
250 m, as with a single update. 500 m is ten standard deviations of that noise, and five of a bad 100 m.
A traveller who really moves changes cell once they are ``STICKY_MARGIN_M`` past the edge.

The anchor is the cell of the traveller's last accepted update (the limiter record, which outlives a presence
``DELETE`` and an erase until its 24-hour window ends), so switching presence off and on does not re-snap either.

Distance from a point to a cell: the cell's boundary (``h3.cell_to_boundary``) is projected onto the plane
tangent to a sphere of the IUGG mean radius at the point (orthographic projection); for the few kilometres
involved the projection shortens lengths by about 1e-7 and the sphere differs from WGS-84 by under 0.5 %, so
the margin holds within about 2 m.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

import h3

from yurt.geo.privacy import is_presence_cell, presence_cell

STICKY_MARGIN_M = 500.0
_EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius


def _tangent_coordinates(lat: float, lon: float, points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """East/north metres of ``points`` in the orthographic projection centred on (lat, lon) (Snyder, *Map
    Projections: A Working Manual*, 1987, eq. 20-3 and 20-4); points on the far hemisphere are dropped."""
    phi = math.radians(lat)
    sin_phi, cos_phi = math.sin(phi), math.cos(phi)
    out = []
    for p_lat, p_lon in points:
        p_phi, d_lam = math.radians(p_lat), math.radians(p_lon - lon)
        sin_p, cos_p, cos_d = math.sin(p_phi), math.cos(p_phi), math.cos(d_lam)
        if sin_phi * sin_p + cos_phi * cos_p * cos_d > 0:
            out.append((_EARTH_RADIUS_M * cos_p * math.sin(d_lam),
                        _EARTH_RADIUS_M * (cos_phi * sin_p - sin_phi * cos_p * cos_d)))
    return out


def _segment_distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance from the origin to the segment a–b (plane)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(a[0] * dx + a[1] * dy) / length2))
    return math.hypot(a[0] + t * dx, a[1] + t * dy)


@lru_cache(maxsize=4096)
def _boundary(cell: str) -> tuple[tuple[float, float], ...]:
    return tuple((float(a), float(b)) for a, b in h3.cell_to_boundary(cell))


def distance_to_cell_m(lat: float, lon: float, cell: str) -> float:
    """Metres from (lat, lon) to ``cell``: 0 inside it, else the distance to its nearest boundary edge."""
    if h3.latlng_to_cell(lat, lon, h3.get_resolution(cell)) == cell:
        return 0.0
    ring = _tangent_coordinates(lat, lon, _boundary(cell))
    if len(ring) < 3:
        return math.inf
    return min(_segment_distance(ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring)))


def sticky_cell(lat: float, lon: float, anchor: str | None, margin_m: float = STICKY_MARGIN_M) -> str:
    """The presence cell for a new position, given the traveller's current cell ``anchor`` (None: none)."""
    cell = presence_cell(lat, lon)
    if anchor is None or cell == anchor or not is_presence_cell(anchor):
        return cell
    # A point within the margin of the anchor lies in a cell adjacent to it (resolution-7 cells are over 2 km
    # across): a cheap test first, the exact distance only for neighbours.
    if not h3.are_neighbor_cells(cell, anchor):
        return cell
    return anchor if distance_to_cell_m(lat, lon, anchor) <= margin_m else cell
