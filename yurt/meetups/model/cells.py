"""The meetup index's geometry: venue scores, the score range of an H3 cell, and distance bounds of a cell.

**Scores.** A venue's *score* is its H3 resolution-11 cell (edge ~29 m) written as base cell and 11 digits
(40 bits: exact in a double, so a Redis sorted-set score holds it). H3 numbers a cell's descendants by
appending digits, so every H3 cell C at resolution 4..11 owns one contiguous range of scores
(``score_range``): "how many venues descend from C" is one ``ZCOUNT`` (or two bisects), "which" one
``ZRANGEBYSCORE``, at any resolution, with nothing per level to maintain. Venues are stored per resolution-4
ancestor (``root``), one sorted set each, so a Redis Cluster spreads cities over masters.

**Bounds.** H3 children do not lie exactly inside their parent, so a cell's *subtree* (the venues whose
resolution-11 cell descends from it) reaches slightly past its hexagon: each level's child centres lie at most
sqrt(3/7) ≈ 0.65 of the parent's circumradius from its centre, so the overshoot sums to a geometric series
and a subtree stays within about 1.05 circumradii (measured: at most 1.043 over 24,000 random and
near-pentagon points at resolutions 4–11). ``bound_km`` takes 1.15 circumradii (the largest chord to a vertex,
widened by 0.1 %: inside a cell a geodesic exceeds its chord by far less) plus a metre;
tests/meetups/test_search.py checks it on random points. The chord is never longer than the geodesic
(see ``spatial_index``), so no venue of C is nearer to q than ``chord(q, centre C) - bound(C)`` (the lower
bound) and every venue of C is within ``1.001 chord(q, centre C) + bound(C)`` (the upper bound; within
100 km the geodesic exceeds the chord by less than 0.001 %, beyond it the geodesic is computed).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import h3
import numpy as np
import numpy.typing as npt

from yurt.geo.geodesy import ecef_point_m, inverse_many

FloatArray = npt.NDArray[np.float64]

ROOT_RES = 4
SCORE_RES = 11
SUBTREE_FACTOR = 1.15
SLACK_KM = 1e-3
_MODE_RES_MASK = (1 << 52) - 1  # drops the mode and resolution bits: base cell and digits remain
_DIGIT_BITS = 3


class Venue(NamedTuple):
    """What the index holds of a meetup: enough to filter and rank it without reading the meetup. A tuple (a
    crowded search handles a few hundred), with its ECEF position in km for chord pruning."""

    id: str
    lat: float
    lon: float
    starts_s: float
    ends_s: float
    x_km: float
    y_km: float
    z_km: float

    @classmethod
    def at(cls, meetup_id: str, lat: float, lon: float, starts_s: float, ends_s: float) -> Venue:
        x, y, z = ecef_point_m(lat, lon)
        return cls(meetup_id, lat, lon, starts_s, ends_s, x / 1000.0, y / 1000.0, z / 1000.0)

    def member(self) -> str:
        """The sorted-set member: ``id|lat|lon|starts_ms|ends_ms`` (floats as repr: they round-trip exactly)."""
        return f"{self.id}|{self.lat!r}|{self.lon!r}|{round(self.starts_s * 1000)}|{round(self.ends_s * 1000)}"

    @classmethod
    def from_member(cls, member: str) -> Venue:
        meetup_id, lat, lon, starts_ms, ends_ms = member.split("|")
        return cls.at(meetup_id, float(lat), float(lon), int(starts_ms) / 1000, int(ends_ms) / 1000)


def venue_cell(lat: float, lon: float) -> str:
    return str(h3.latlng_to_cell(lat, lon, SCORE_RES))


def score(lat: float, lon: float) -> int:
    """The venue's resolution-11 cell as base cell and digits: ``score_range`` of each ancestor contains it."""
    return (int(venue_cell(lat, lon), 16) & _MODE_RES_MASK) >> (_DIGIT_BITS * (15 - SCORE_RES))


def root(lat: float, lon: float) -> str:
    """The resolution-4 ancestor of the venue's cell: which sorted set holds it."""
    return str(h3.cell_to_parent(venue_cell(lat, lon), ROOT_RES))


@lru_cache(maxsize=1 << 16)
def root_of(cell: str) -> str:
    return str(h3.cell_to_parent(cell, ROOT_RES))


@lru_cache(maxsize=1 << 16)
def score_range(cell: str) -> tuple[int, int]:
    """Inclusive scores of every resolution-11 descendant of ``cell`` (resolution 4 to 11)."""
    res = h3.get_resolution(cell)
    prefix = (int(cell, 16) & _MODE_RES_MASK) >> (_DIGIT_BITS * (15 - res))
    free = _DIGIT_BITS * (SCORE_RES - res)
    return prefix << free, (prefix << free) | ((1 << free) - 1)


@lru_cache(maxsize=1 << 17)
def _geometry(cell: str) -> tuple[float, float, float, float, float, float]:
    """(lat, lon, x_km, y_km, z_km, bound_km) of a cell: centre, its ECEF position and its subtree bound. Plain
    arithmetic: a search meets a few hundred new cells."""
    lat, lon = h3.cell_to_latlng(cell)
    x, y, z = ecef_point_m(lat, lon)
    chord_m = max(math.dist((x, y, z), ecef_point_m(vlat, vlon)) for vlat, vlon in h3.cell_to_boundary(cell))
    return lat, lon, x / 1000.0, y / 1000.0, z / 1000.0, SUBTREE_FACTOR * chord_m * 1.001 / 1000.0 + SLACK_KM


def bound_km(cell: str) -> float:
    """No venue of ``cell``'s subtree is farther than this from the cell's centre."""
    return _geometry(cell)[5]


class Cells(NamedTuple):
    """Cells with their geometry as one read-only array (rows of ``_geometry``)."""

    cells: tuple[str, ...]
    geometry: FloatArray

    def chords_km(self, lat: float, lon: float) -> FloatArray:
        q = np.array(ecef_point_m(lat, lon)) / 1000.0
        offsets = self.geometry[:, 2:5] - q
        return np.asarray(np.sqrt(np.einsum("ij,ij->i", offsets, offsets)), dtype=np.float64)

    def lower_bounds_km(self, lat: float, lon: float) -> FloatArray:
        return np.maximum(self.chords_km(lat, lon) - self.geometry[:, 5], 0.0)

    def upper_bounds_km(self, lat: float, lon: float) -> FloatArray:
        chord_km = self.chords_km(lat, lon)
        if chord_km.size and float(chord_km.max()) > 100.0:
            chord_km, _ = inverse_many(lat, lon, self.geometry[:, 0], self.geometry[:, 1])
        return np.asarray(chord_km * 1.001 + SLACK_KM + self.geometry[:, 5])


def cells_of(cells: tuple[str, ...]) -> Cells:
    return _cells(cells)


# Grid walks and their geometry are cached by cell: h3-py's grid calls cost 5-100 µs each, and searches in one
# city walk the same cells again and again.
@lru_cache(maxsize=1 << 14)
def _cells(cells: tuple[str, ...]) -> Cells:
    geometry = np.array([_geometry(c) for c in cells], dtype=np.float64).reshape(len(cells), 6)
    geometry.flags.writeable = False
    return Cells(cells, geometry)


@lru_cache(maxsize=1 << 14)
def disk1(cell: str) -> Cells:
    return _cells(tuple(str(c) for c in h3.grid_disk(cell, 1)))


@lru_cache(maxsize=1 << 14)
def children(cell: str, res: int) -> tuple[str, ...]:
    return tuple(str(c) for c in h3.cell_to_children(cell, res))


@lru_cache(maxsize=1 << 14)
def ring2(cell: str) -> tuple[str, ...]:
    """The cells two steps from ``cell`` (fewer next to a pentagon): what ``disk1`` leaves of ``grid_disk(cell, 2)``."""
    inner = set(disk1(cell).cells)
    return tuple(str(c) for c in h3.grid_disk(cell, 2) if c not in inner)


@lru_cache(maxsize=1 << 16)
def _neighbours(cell: str) -> tuple[str, ...]:
    return tuple(str(c) for c in h3.grid_disk(cell, 1) if c != cell)


def cells_within(lat: float, lon: float, reach_km: float, res: int) -> tuple[list[str], list[float]]:
    """Every resolution-``res`` cell whose subtree may hold a venue within ``reach_km`` of (lat, lon) (lower
    bound at most ``reach_km``), with its lower bound, by a flood fill from q's own cell through neighbours.

    Why the fill finds them all: take a venue p within reach in the subtree of a cell C. The hexagon H that
    contains p meets the disc of radius ``reach_km``; the hexagons meeting a disc are connected through shared
    edges and each has a lower bound within reach (its every point is within a bound of its centre), so the
    fill reaches H. C's subtree reaches at most 0.05 circumradii past C's hexagon (module docstring), so C is H or a
    neighbour of H, and the fill, which looks at every neighbour of every cell it keeps, finds C too.
    Plain arithmetic on cached cell geometry: a fill looks at a few dozen cells."""
    qx, qy, qz = (c / 1000.0 for c in ecef_point_m(lat, lon))
    origin = str(h3.latlng_to_cell(lat, lon, res))
    seen = {origin}
    frontier = [origin]
    kept: list[str] = []
    lower: list[float] = []
    while frontier:
        cell = frontier.pop()
        _, _, x, y, z, bound = _geometry(cell)
        lb = math.dist((qx, qy, qz), (x, y, z)) - bound
        if lb > reach_km:
            continue
        kept.append(cell)
        lower.append(max(lb, 0.0))
        for neighbour in _neighbours(cell):
            if neighbour not in seen:
                seen.add(neighbour)
                frontier.append(neighbour)
    return kept, lower
