"""Exact nearest-meetup search whose cost follows the answer, not the crowd.

Issue 11: 15,000 meetups in one city took ``meetups/nearby`` from 3 ms to 710 ms, because a search read every
meetup of the resolution-4 cells around the point. Here a search reads counts first and then only the cells
near enough to hold the answer, so 15,000 meetups next door cost about what an empty area does
(bench/bench_meetups.py).

**The index.** A venue's *score* is its H3 resolution-11 cell (edge ~29 m) written as base cell and 11 digits
(40 bits: exact in a double, so a Redis sorted-set score holds it). H3 numbers a cell's descendants by
appending digits, so every H3 cell C at resolution 4..11 owns one contiguous range of scores
(``score_range``): "how many venues descend from C" is one ``ZCOUNT``, "which" one ``ZRANGEBYSCORE``, at any
resolution, with no per-level structure to maintain. Venues are stored per resolution-4 ancestor (``root``),
one sorted set each, so a Redis Cluster spreads cities over masters.

**Bounds.** H3 children do not lie exactly inside their parent, so a cell's *subtree* (the venues whose
resolution-11 cell descends from it) can reach slightly past its hexagon: each level's child centres lie at
most sqrt(3/7) ≈ 0.65 of the parent's circumradius from its centre, so the overshoot sums to a geometric series
and a subtree stays within about 1.05 circumradii (measured: at most 1.043 over 24,000 random and
near-pentagon points at resolutions 4–11). ``bound_km`` takes 1.15 circumradii plus a metre;
tests/domain/test_meetup_search.py checks it on random points. With the chord (never longer than the geodesic,
see ``spatial_index``) the lower bound of the distance from q to any venue of C is
``chord(q, centre C) - bound(C)``, and the upper bound ``geodesic(q, centre C) + bound(C)``.

**The search** (``search``), for a point q, a radius and a limit:

1. *Counts* (one round trip): the resolution-4 roots within the radius, and around q the 7 cells of
   ``grid_disk(cell(q, r), 1)`` for each probe resolution r in 10, 8, 6. All zero: the answer is empty.
2. *Fast path*: at the finest probe resolution whose 7 cells hold at least ``limit`` venues, those venues lie
   within U = the largest upper bound of the 7 cells, so the limit-th nearest is within U. Read every cell at
   that resolution whose lower bound is at most min(U, radius) (one round trip) and rank exactly. If the filter
   (time window, ended meetups) leaves fewer than ``limit`` within U, fall through.
3. *Best first* (the general case; Hjaltason and Samet, "Distance browsing in spatial databases", ACM TODS
   24(2), 1999): a queue of cells by lower bound, starting from the roots; each round expands the nearest cells
   (children two resolutions finer, by their counts; a cell with few venues, or at resolution 11, is read) in
   one round trip, until ``limit`` accepted venues are nearer than every cell left.

Ordering is ``SpatialIndex``'s: distance rounded to the millimetre, then id. Venues stacked in one
resolution-11 cell are all read (no index can order them without reading them); the per-organiser cap and the
creation rate limit make a stack expensive to build.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import h3
import numpy as np

from yurt.domain.geodesy import ecef_point_m, inverse_many
from yurt.domain.spatial_index import TIE_KM, tie_key_mm

MAX_MEETUP_RADIUS_KM = 100.0
ROOT_RES = 4
SCORE_RES = 11
PROBE_RES = (10, 8, 6)
STEP = 2  # best first: a cell's children are two resolutions finer (49 of them)
READ_AT_MOST = 64  # best first: a cell with at most this many venues is read rather than split
BATCH = 12  # best first: cells expanded per round trip
SUBTREE_FACTOR = 1.15
SLACK_KM = 1e-3
_MODE_RES_MASK = (1 << 52) - 1  # drops the mode and resolution bits: base cell and digits remain
_DIGIT_BITS = 3


@dataclass(frozen=True, slots=True)
class Venue:
    """What the index holds of a meetup: enough to rank and filter without reading the meetup."""

    id: str
    lat: float
    lon: float
    starts_s: float
    ends_s: float

    def member(self) -> str:
        """The sorted-set member: ``id|lat|lon|starts_ms|ends_ms`` (floats as repr: they round-trip exactly)."""
        return f"{self.id}|{self.lat!r}|{self.lon!r}|{round(self.starts_s * 1000)}|{round(self.ends_s * 1000)}"

    @classmethod
    def from_member(cls, member: str) -> Venue:
        meetup_id, lat, lon, starts_ms, ends_ms = member.split("|")
        return cls(meetup_id, float(lat), float(lon), int(starts_ms) / 1000, int(ends_ms) / 1000)


def venue_cell(lat: float, lon: float) -> str:
    return str(h3.latlng_to_cell(lat, lon, SCORE_RES))


def score(lat: float, lon: float) -> int:
    """The venue's resolution-11 cell as base cell and digits: ``score_range(root)`` contains it."""
    return (int(venue_cell(lat, lon), 16) & _MODE_RES_MASK) >> (_DIGIT_BITS * (15 - SCORE_RES))


def root(lat: float, lon: float) -> str:
    """The resolution-4 ancestor of the venue's cell: which sorted set holds it."""
    return str(h3.cell_to_parent(venue_cell(lat, lon), ROOT_RES))


def root_of(cell: str) -> str:
    return str(h3.cell_to_parent(cell, ROOT_RES))


@lru_cache(maxsize=1 << 16)
def score_range(cell: str) -> tuple[int, int]:
    """Inclusive scores of every resolution-11 descendant of ``cell`` (resolution 4 to 11)."""
    res = h3.get_resolution(cell)
    prefix = (int(cell, 16) & _MODE_RES_MASK) >> (_DIGIT_BITS * (15 - res))
    free = _DIGIT_BITS * (SCORE_RES - res)
    return prefix << free, (prefix << free) | ((1 << free) - 1)


@lru_cache(maxsize=1 << 16)
def _geometry(cell: str) -> tuple[float, float, float, float, float, float]:
    """(lat, lon, x_m, y_m, z_m, bound_km) of a cell: centre, its ECEF position and its subtree bound."""
    lat, lon = h3.cell_to_latlng(cell)
    boundary = np.array(h3.cell_to_boundary(cell), dtype=np.float64)
    to_vertices_km, _ = inverse_many(lat, lon, boundary[:, 0], boundary[:, 1])
    x, y, z = ecef_point_m(lat, lon)
    return lat, lon, x, y, z, SUBTREE_FACTOR * float(to_vertices_km.max()) + SLACK_KM


def bound_km(cell: str) -> float:
    """No venue of ``cell``'s subtree is farther than this from the cell's centre."""
    return _geometry(cell)[5]


def lower_bounds_km(lat: float, lon: float, cells: Sequence[str]) -> np.ndarray:
    """For each cell, a distance no venue of its subtree is nearer to (lat, lon) than: chord minus bound."""
    if not cells:
        return np.empty(0)
    geometry = np.array([_geometry(c) for c in cells], dtype=np.float64)
    chord_km = np.linalg.norm(geometry[:, 2:5] - np.array(ecef_point_m(lat, lon)), axis=1) / 1000.0
    return np.maximum(chord_km - geometry[:, 5], 0.0)


def upper_bounds_km(lat: float, lon: float, cells: Sequence[str]) -> np.ndarray:
    """For each cell, a distance every venue of its subtree is within: geodesic to the centre plus bound."""
    geometry = np.array([_geometry(c) for c in cells], dtype=np.float64)
    centre_km, _ = inverse_many(lat, lon, geometry[:, 0], geometry[:, 1])
    return np.asarray(centre_km + geometry[:, 5])


# Grid walks are cached by cell: h3-py's ring and children calls cost 5-100 µs each, and searches in one city
# walk the same cells again and again.
@lru_cache(maxsize=1 << 14)
def _ring(origin: str, k: int) -> tuple[str, ...]:
    return tuple(str(c) for c in h3.grid_ring(origin, k))


@lru_cache(maxsize=1 << 14)
def _disk1(cell: str) -> tuple[str, ...]:
    return tuple(str(c) for c in h3.grid_disk(cell, 1))


@lru_cache(maxsize=1 << 14)
def _children(cell: str) -> tuple[str, ...]:
    return tuple(str(c) for c in h3.cell_to_children(cell, min(h3.get_resolution(cell) + STEP, SCORE_RES)))


def cells_within(lat: float, lon: float, reach_km: float, res: int) -> list[str]:
    """Every resolution-``res`` cell whose subtree may hold a venue within ``reach_km``: the lower bound of
    every cell of ``grid_disk(cell(q), k)`` is checked, ring by ring, until a whole ring is beyond reach by
    more than two subtree bounds (a cell farther out in the grid is then farther still)."""
    origin = str(h3.latlng_to_cell(lat, lon, res))
    found: list[str] = []
    for k in range(0, 10_000):
        ring = _ring(origin, k)
        lower = lower_bounds_km(lat, lon, ring)
        found.extend(c for c, lb in zip(ring, lower, strict=True) if lb <= reach_km)
        margin = 2.0 * max(bound_km(c) for c in ring)
        if float(lower.min()) > reach_km + margin:
            return found
    raise AssertionError("unreachable: rings grow past any reach")


def root_cells(lat: float, lon: float, radius_km: float) -> list[str]:
    return cells_within(lat, lon, radius_km, ROOT_RES)


class CellReader(Protocol):
    """What a store offers the search: counts and contents of cells (each a score range of its root)."""

    def counts(self, cells: Sequence[str]) -> list[int]: ...

    def venues(self, cells: Sequence[str]) -> list[list[Venue]]: ...


Accept = Callable[[Venue], bool]


@dataclass(frozen=True, slots=True)
class Found:
    distance_km: float
    venue: Venue


def _ranked(lat: float, lon: float, venues: list[Venue], within_km: float, accept: Accept) -> list[Found]:
    kept = [v for v in {v.id: v for v in venues}.values() if accept(v)]
    if not kept:
        return []
    distance_km, _ = inverse_many(lat, lon, np.array([v.lat for v in kept]), np.array([v.lon for v in kept]))
    keys = tie_key_mm(distance_km)
    order = sorted((i for i in range(len(kept)) if distance_km[i] <= within_km),
                   key=lambda i: (int(keys[i]), kept[i].id))
    return [Found(float(distance_km[i]), kept[i]) for i in order]


def search(reader: CellReader, lat: float, lon: float, radius_km: float, limit: int, accept: Accept
           ) -> list[Found]:
    """The ``limit`` accepted venues nearest to (lat, lon) within ``radius_km``, nearest first (ties by id)."""
    roots = root_cells(lat, lon, radius_km)
    probes = {r: list(_disk1(str(h3.latlng_to_cell(lat, lon, r)))) for r in PROBE_RES}
    counts = reader.counts(roots + [c for r in PROBE_RES for c in probes[r]])
    root_counts, probe_counts = counts[:len(roots)], counts[len(roots):]
    if not any(root_counts):
        return []
    for i, res in enumerate(PROBE_RES):
        if sum(probe_counts[7 * i:7 * i + 7]) < limit:
            continue
        reach_km = min(float(upper_bounds_km(lat, lon, probes[res]).max()), radius_km)
        cells = cells_within(lat, lon, reach_km + SLACK_KM, res)
        found = _ranked(lat, lon, [v for batch in reader.venues(cells) for v in batch], reach_km + SLACK_KM,
                        accept)
        if len(found) >= limit and found[limit - 1].distance_km <= reach_km - TIE_KM:
            return found[:limit]
        break  # the filter left too few near enough: the general search decides
    return _best_first(reader, lat, lon, radius_km, limit, accept,
                       [(c, n) for c, n in zip(roots, root_counts, strict=True) if n])


def _best_first(reader: CellReader, lat: float, lon: float, radius_km: float, limit: int, accept: Accept,
                start: list[tuple[str, int]]) -> list[Found]:
    queue: list[tuple[float, str, int]] = []
    for (cell, n), lb in zip(start, lower_bounds_km(lat, lon, [c for c, _ in start]), strict=True):
        if lb <= radius_km:
            heapq.heappush(queue, (float(lb), cell, n))
    found: list[Found] = []
    while queue:
        bound = found[limit - 1].distance_km + TIE_KM if len(found) >= limit else radius_km
        batch = []
        while queue and queue[0][0] <= bound and len(batch) < BATCH:
            batch.append(heapq.heappop(queue))
        if not batch:
            break
        to_read = [c for _, c, n in batch if n <= READ_AT_MOST or h3.get_resolution(c) >= SCORE_RES]
        to_split = [c for _, c, n in batch if not (n <= READ_AT_MOST or h3.get_resolution(c) >= SCORE_RES)]
        children = [child for c in to_split for child in _children(c)]
        replies = reader.counts(children) if children else []
        read = reader.venues(to_read) if to_read else []
        fresh = [v for batch_venues in read for v in batch_venues]
        if fresh:
            merged = {f.venue.id: f for f in found}
            merged.update({f.venue.id: f for f in _ranked(lat, lon, fresh, radius_km, accept)})
            # round() on a float is round-half-even, as np.rint in tie_key_mm: the same millimetre keys
            found = sorted(merged.values(), key=lambda f: (round(f.distance_km * 1e6), f.venue.id))
        nonempty = [(c, n) for c, n in zip(children, replies, strict=True) if n]
        for (cell, n), lb in zip(nonempty, lower_bounds_km(lat, lon, [c for c, _ in nonempty]), strict=True):
            if lb <= radius_km:
                heapq.heappush(queue, (float(lb), cell, n))
    return found[:limit]

