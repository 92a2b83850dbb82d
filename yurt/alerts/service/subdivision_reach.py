"""Where a subdivision alert can match: a grid per country that lets most points skip the subdivision lookup.

The locator names a point's subdivisions by nearest labelled places (``yurt.geo.subdivisions``): with ``d1``
the distance to the country's nearest place, every subdivision with a place within ``2 d1 + 2 km`` is a
candidate, and an alert for code S matches a candidate whose ISO 3166-2 closure (it and its parents) holds S.
That lookup costs about 200 µs (a KD-tree query through scipy), on every answer in a country with a
subdivision alert. Yet a point far from S's places, relative to its distance from the country's other places,
can have no candidate under S.

For each country with a subdivision alert, a grid of cells over its places' box (widened by 1°) says, per cell,
whether some point in it *may* have such a candidate. A cell with centre q and half-diagonal h is cleared when
``D(q) - h > 2 (U(q) + h) + 2 km + margin``, where D(q) is the distance to the nearest place of a subdivision
whose closure holds an alerted code and U(q) the distance to the nearest place of the country that pycountry
lists (at least d1(q): an upper bound is all the rule needs). By the triangle inequality, for every point p
of the cell, d1(p) <= U(q) + h and D(p) >= D(q) - h, so no alerted subdivision is a candidate at p: skipping
the lookup there gives the answer the lookup would. Points outside the grid are looked up. Exact for any point,
no memo of points. Each country's grid is built on its first query (a few ms), per snapshot.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt
import pycountry
from scipy.spatial import cKDTree

from yurt.geo.places import Locator
from yurt.geo.subdivisions import EARTH_RADIUS_KM, subdivision_closure, unit_vectors

MAX_CELLS = 4096  # per country
SLACK_KM = 2.0  # the locator's AMBIGUITY_SLACK_KM; its ratio 1.0 is the factor 2 below
MARGIN_KM = 1.0  # rounding: chords, places rounded to 1e-4° (about 11 m), the half-diagonal's estimate

FloatArray = npt.NDArray[np.float64]


def _km(a: FloatArray, b: FloatArray) -> FloatArray:
    """Great-circle distance between unit vectors, row by row."""
    chord = np.linalg.norm(a - b, axis=-1)
    km: FloatArray = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, chord / 2.0))
    return km


class _CountryGrid:
    __slots__ = ("cols", "lat0", "lon0", "maybe", "rows", "step_lat", "step_lon")

    def __init__(self, places: FloatArray, alerted: FloatArray) -> None:
        lat0, lon0 = float(places[:, 0].min()) - 1.0, float(places[:, 1].min()) - 1.0
        lat1, lon1 = float(places[:, 0].max()) + 1.0, float(places[:, 1].max()) + 1.0
        side = math.sqrt((lat1 - lat0) * (lon1 - lon0) / MAX_CELLS)
        self.rows, self.cols = max(1, math.ceil((lat1 - lat0) / side)), max(1, math.ceil((lon1 - lon0) / side))
        self.lat0, self.lon0 = lat0, lon0
        self.step_lat, self.step_lon = (lat1 - lat0) / self.rows, (lon1 - lon0) / self.cols
        j, i = np.divmod(np.arange(self.rows * self.cols), self.cols)
        lat_c = np.clip(lat0 + (j + 0.5) * self.step_lat, -90.0, 90.0)
        lon_c = lon0 + (i + 0.5) * self.step_lon
        centre = unit_vectors(lat_c, lon_c)
        half = np.zeros(len(centre))
        for dj in (-0.5, 0.5):
            for di in (-0.5, 0.5):
                corner = unit_vectors(np.clip(lat_c + dj * self.step_lat, -90.0, 90.0), lon_c + di * self.step_lon)
                half = np.maximum(half, _km(centre, corner))
        # The farthest point of a small lon/lat cell from its centre is a corner; 1 % more covers the rest.
        h = half * 1.01 + 0.1
        everyone = unit_vectors(places[:, 0], places[:, 1])
        named = unit_vectors(alerted[:, 0], alerted[:, 1])
        u = _km(centre, everyone[cKDTree(everyone).query(centre)[1]])
        d = _km(centre, named[cKDTree(named).query(centre)[1]])
        cleared = d - h > 2.0 * (u + h) + SLACK_KM + MARGIN_KM
        self.maybe = (~cleared).astype(np.uint8).tobytes()

    def may_name(self, lat: float, lon: float) -> bool:
        row = math.floor((lat - self.lat0) / self.step_lat)
        col = math.floor((lon - self.lon0) / self.step_lon)
        if not (0 <= row < self.rows and 0 <= col < self.cols):
            return True
        return bool(self.maybe[row * self.cols + col])


class SubdivisionReach:
    """Per country with subdivision alerts, whether a point may have one of their subdivisions as a candidate."""

    def __init__(self, locator: Locator, alerted: Mapping[str, Iterable[str]]) -> None:
        self.locator = locator
        self._alerted = {country: frozenset(codes) for country, codes in alerted.items()}
        self._grids: dict[str, _CountryGrid | None] = {}
        self._lock = threading.Lock()

    def may_name(self, country: str, lat: float, lon: float) -> bool:
        """False only where no subdivision alerted in ``country`` can be among the point's candidates."""
        if country not in self._grids:
            with self._lock:
                if country not in self._grids:
                    self._grids[country] = self._grid(country)
        grid = self._grids[country]
        return True if grid is None else grid.may_name(lat, lon)

    def _grid(self, country: str) -> _CountryGrid | None:
        codes = self._alerted.get(country)
        if not codes:
            return None
        listed = [s.code for s in pycountry.subdivisions.get(country_code=country) or ()]  # type: ignore[no-untyped-call]
        # A code the locator's source uses but pycountry does not list has no parents: it matches only itself.
        relevant = set(codes) | {c for c in listed if subdivision_closure(c) & codes}
        everyone = [p for c in set(listed) | relevant for p in self.locator.subdivision_places(c)]
        named = [p for c in relevant for p in self.locator.subdivision_places(c)]
        if not named or not everyone:
            return None  # no place to measure from: look every point up
        return _CountryGrid(np.array(everyone, dtype=np.float64), np.array(named, dtype=np.float64))
