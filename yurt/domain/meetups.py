"""Where meetups are indexed and how a search finds them exactly.

Meetups are public events, so their venue is kept exactly. Storage indexes each meetup under the H3
resolution-4 cell of its venue (average edge 22.6 km, https://h3geo.org/docs/core-library/restable); a search
fetches the meetups of every cell that could hold a venue within the radius, then ranks those candidates
exactly on the WGS-84 ellipsoid with ``SpatialIndex.within``. The candidate cells are a superset by
construction, so the answer equals a brute-force scan (tests/api/test_meetups.py checks it with hypothesis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import h3
import numpy as np

from yurt.domain.geodesy import inverse_many
from yurt.domain.spatial_index import Neighbour, SpatialIndex

MEETUP_INDEX_RES = 4
MAX_MEETUP_RADIUS_KM = 100.0
# A venue lies inside its resolution-4 cell, so it is within the cell's circumradius of the cell's centre; the
# largest resolution-4 edge (= circumradius of a hexagon) is under 30 km (h3 restable: area varies ~2x), so
# 40 km is a safe margin. Adjacent resolution-4 centres are never closer than 20 km (pentagons included).
_MARGIN_KM = 40.0
_MIN_SPACING_KM = 20.0


def meetup_index_cell(lat: float, lon: float) -> str:
    return str(h3.latlng_to_cell(lat, lon, MEETUP_INDEX_RES))


@lru_cache(maxsize=4096)
def _cells_around(origin: str, radius_km: float) -> tuple[str, ...]:
    k = math.ceil((radius_km + _MARGIN_KM) / _MIN_SPACING_KM) + 1
    return tuple(str(c) for c in h3.grid_disk(origin, k))


def candidate_cells(lat: float, lon: float, radius_km: float) -> list[str]:
    """Resolution-4 cells that may hold a venue within ``radius_km`` (geodesic) of (lat, lon)."""
    ring = _cells_around(meetup_index_cell(lat, lon), radius_km)
    centres = np.array([h3.cell_to_latlng(c) for c in ring], dtype=float)
    distances_km, _ = inverse_many(lat, lon, centres[:, 0], centres[:, 1])
    return [c for c, d in zip(ring, distances_km, strict=True) if d <= radius_km + _MARGIN_KM]


def rank_within(lat: float, lon: float, radius_km: float, venues: Sequence[tuple[float, float]],
                ids: Sequence[str]) -> list[Neighbour]:
    """Venues within ``radius_km``, nearest first (ties by id), exactly as the mission index orders them."""
    index = SpatialIndex([v[0] for v in venues], [v[1] for v in venues], ids)
    return index.within(lat, lon, radius_km)
