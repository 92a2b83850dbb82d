"""Exact nearest-meetup search whose cost follows the answer, not the crowd.

Issue 11: 15,000 meetups in one city took ``meetups/nearby`` from 3 ms to 710 ms, because a search read every
meetup of the resolution-4 cells around the point. Here a search reads counts first and then only the cells
near enough to hold the answer, so 15,000 meetups next door cost about what an empty area does
(bench/bench_meetups.py). The index and its distance bounds: ``meetup_cells``.

**The search** (``search``), for a point q, a radius and a limit:

1. *Counts* (one round trip): the resolution-4 roots within the radius, and around q the 7 cells of
   ``grid_disk(cell(q, r), 1)`` for each probe resolution r from 10 to 5. All zero: the answer is empty.
   A store may read the fast path's cells in the same round trip (``ReadAhead``; Redis does, in one script).
2. *Fast path*: at the finest probe resolution whose 7 cells hold at least ``limit`` venues, take the fewest
   of them, by upper bound, that hold ``limit``: the limit-th nearest is within U, the last one's upper
   bound. Read that resolution's cells whose lower bound is at most min(U, radius), nearest lower bound first,
   a batch a round trip, until ``limit`` accepted venues are nearer than any cell left can hold; rank exactly.
   If the filter (time window, ended meetups) leaves fewer than ``limit`` within U, fall through.
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
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Protocol

import h3
import numpy as np

from yurt.geo.geodesy import ecef_point_m, inverse_many
from yurt.geo.spatial_index import CHORD_SLACK_M, TIE_KM, tie_key_mm
from yurt.meetups.model.cells import (
    ROOT_RES,
    SCORE_RES,
    SLACK_KM,
    Venue,
    cells_of,
    cells_within,
    children,
    disk1,
    ring2,
)

MAX_MEETUP_RADIUS_KM = 100.0
PROBE_RES = (10, 9, 8, 7, 6, 5)
STEP = 2  # best first: a cell's children are two resolutions finer (49 of them)
READ_AT_MOST = 64  # best first: a cell with at most this many venues is read rather than split
BATCH = 12  # best first: cells expanded per round trip


@dataclass(frozen=True, slots=True)
class AheadLevel:
    """One probe resolution as a store may read it ahead: its disk (``disk1`` of q's cell, counted at
    positions ``disk_at`` onwards of the surveyed cells) and the ring around it (``ring2``)."""

    res: int
    disk: tuple[str, ...]
    disk_at: int
    ring: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReadAhead:
    """The fast path's first reads, offered with the counts so that a store can serve both in one round trip.

    A store that serves it takes, as ``search`` does, the first level (finest first) whose disk holds at least
    ``limit`` venues, and reads that level's cells (disk and ring) as ``_nearest_within`` does: nearest lower
    bound first, keeping C, the ``limit``-th smallest chord (ECEF, km) from (lat, lon) among the venues read
    that overlap its window, until the next cell's lower bound exceeds C * GEODESIC_PER_CHORD + AHEAD_ADD_KM,
    the read's bound. The window only makes the read useful: ``search`` checks any read against its own
    filter."""

    lat: float
    lon: float
    limit: int
    levels: tuple[AheadLevel, ...]


@dataclass(frozen=True, slots=True)
class AheadRead:
    """A store's read-ahead at ``res``: for each cell read, every venue of it whose chord from the query point is
    within ``bound_km``; the level's other cells have lower bounds beyond it (by the store's own arithmetic,
    which may differ from ours by far less than ``AHEAD_MARGIN_KM``)."""

    res: int
    venues: dict[str, list[Venue]]
    bound_km: float


class CellReader(Protocol):
    """What a store offers the search: counts and contents of cells (each a score range of its root), and how
    many cells' contents it reads at once (a round trip to Redis costs more than a few extra venues). ``survey``
    is the first count of a search, with a read-ahead the store may serve (or answer None to)."""

    batch_cells: int

    def survey(self, cells: Sequence[str], ahead: ReadAhead) -> tuple[list[int], AheadRead | None]: ...

    def counts(self, cells: Sequence[str]) -> list[int]: ...

    def venues(self, cells: Sequence[str]) -> list[list[Venue]]: ...


Accept = Callable[[Venue], bool]


@dataclass(frozen=True, slots=True)
class Found:
    distance_km: float
    venue: Venue


def _order_key(found: Found) -> tuple[int, str]:
    # round() on a float is round-half-even, as np.rint in tie_key_mm: the same millimetre keys
    return round(found.distance_km * 1e6), found.venue.id


def _ranked(lat: float, lon: float, venues: list[Venue], within_km: float, accept: Accept, limit: int
            ) -> list[Found]:
    """The accepted venues within ``within_km``, nearest first, at least the first ``limit`` of them (others are
    left out only when provably behind those). As ``SpatialIndex.nearest``: the ``limit`` nearest by chord
    bound the limit-th geodesic by D, and only venues with a chord within D + 1 mm get a geodesic."""
    kept = [v for v in venues if accept(v)]
    if not kept:
        return []
    table = np.array([(v.lat, v.lon, v.x_km, v.y_km, v.z_km) for v in kept], dtype=np.float64)
    picked = np.arange(len(kept))
    distance_km = None
    if len(kept) > limit:
        offsets = table[:, 2:5] - np.array(ecef_point_m(lat, lon)) / 1000.0
        chord_km = np.sqrt(np.einsum("ij,ij->i", offsets, offsets))
        nearest = np.argpartition(chord_km, limit - 1)[:limit]
        bound_km, _ = inverse_many(lat, lon, table[nearest, 0], table[nearest, 1])
        reach_km = min(within_km, float(bound_km.max())) + TIE_KM + CHORD_SLACK_M / 1000.0
        picked = np.flatnonzero(chord_km <= reach_km)
        if picked.size == limit:  # the same venues: their geodesics are known
            picked, distance_km = nearest, bound_km
    if distance_km is None:
        distance_km, _ = inverse_many(lat, lon, table[picked, 0], table[picked, 1])
    keys, distances, positions = tie_key_mm(distance_km).tolist(), distance_km.tolist(), picked.tolist()
    near = [i for i, d in enumerate(distances) if d <= within_km]
    near.sort(key=lambda i: (keys[i], kept[positions[i]].id))
    return [Found(distances[i], kept[positions[i]]) for i in near]


def _merged(found: list[Found], fresh: list[Found]) -> list[Found]:
    return sorted({f.venue.id: f for f in (*found, *fresh)}.values(), key=_order_key)


def search(reader: CellReader, lat: float, lon: float, radius_km: float, limit: int, accept: Accept
           ) -> list[Found]:
    """The ``limit`` accepted venues nearest to (lat, lon) within ``radius_km``, nearest first (ties by id)."""
    roots, root_lower = cells_within(lat, lon, radius_km, ROOT_RES)
    origins = [str(h3.latlng_to_cell(lat, lon, r)) for r in PROBE_RES]
    probes = [disk1(origin) for origin in origins]
    starts = list(accumulate((len(probe.cells) for probe in probes), initial=len(roots)))
    levels = zip(PROBE_RES, origins, probes, starts[:-1], strict=True)
    ahead = ReadAhead(lat, lon, limit, tuple(AheadLevel(r, p.cells, at, ring2(o)) for r, o, p, at in levels))
    counts, read = reader.survey([*roots, *(c for probe in probes for c in probe.cells)], ahead)
    if not any(counts[:len(roots)]):
        return []
    for i, probe in enumerate(probes):
        disk_counts = counts[starts[i]:starts[i + 1]]
        if sum(disk_counts) < limit:
            continue
        # The fewest disk cells, by upper bound, that hold ``limit`` venues: the limit-th is within the last's.
        held, reach_km = 0, radius_km
        for upper, n in sorted(zip(probe.upper_bounds_km(lat, lon).tolist(), disk_counts, strict=True)):
            held += n
            if held >= limit:
                reach_km = min(upper, radius_km)
                break
        found = _nearest_within(reader, lat, lon, reach_km, PROBE_RES[i], limit, accept, read)
        if len(found) >= limit and found[limit - 1].distance_km <= reach_km - TIE_KM:
            return found[:limit]
        break  # the filter left too few near enough: the general search decides
    start = [(c, n, lb) for c, n, lb in zip(roots, counts[:len(roots)], root_lower, strict=True) if n]
    return _best_first(reader, lat, lon, radius_km, limit, accept, start)


# For chords under 300 km a geodesic is at most 0.01 % longer than its chord (on a sphere the excess is about
# c^2 / 24 R^2 = 0.009 % at 300 km; the ellipsoid changes that by well under a tenth): searches here stay within
# MAX_MEETUP_RADIUS_KM.
GEODESIC_PER_CHORD = 1.0001
AHEAD_MARGIN_KM = 1e-6  # a store's chords may differ from ours by far less (the same doubles and formula)
AHEAD_ADD_KM = TIE_KM + CHORD_SLACK_M / 1000.0 + 2 * AHEAD_MARGIN_KM


def _usable(read: AheadRead | None, res: int, q_km: tuple[float, float, float], limit: int, accept: Accept
            ) -> tuple[dict[str, list[Venue]], float]:
    """The read-ahead's cells, if they hold every venue ``_nearest_within`` at ``res`` may rank, and the bound
    that makes it so; else no cells and infinity.

    Let C' be the ``limit``-th smallest chord among the accepted venues read: ``limit`` accepted venues lie
    within geodesic C' * GEODESIC_PER_CHORD, so every venue of the answer (ties included) has a chord within
    B' = C' * GEODESIC_PER_CHORD + TIE_KM + CHORD_SLACK, and ``_nearest_within`` may start from B' instead of
    the reach. B' is checked to be at most the read's bound B less AHEAD_MARGIN_KM: then every venue within B'
    of a cell read is in the read, and a cell of the level left unread lies beyond B' (a cell beyond the level,
    or one the arithmetic puts at the edge, is read as usual). The check fails only when the caller's filter
    is stricter than the store's window."""
    if read is None or read.res != res:
        return {}, math.inf
    chords = [math.dist(q_km, (v.x_km, v.y_km, v.z_km)) for venues in read.venues.values() for v in venues
              if accept(v)]
    if len(chords) < limit:
        return {}, math.inf
    bound = heapq.nsmallest(limit, chords)[-1] * GEODESIC_PER_CHORD + TIE_KM + CHORD_SLACK_M / 1000.0
    if bound > read.bound_km - AHEAD_MARGIN_KM:
        return {}, math.inf
    return read.venues, bound


def _nearest_within(reader: CellReader, lat: float, lon: float, reach_km: float, res: int, limit: int,
                    accept: Accept, read: AheadRead | None = None) -> list[Found]:
    """The fast path's reads: every resolution-``res`` cell that may hold a venue within ``reach_km``, nearest
    lower bound first, ``reader.batch_cells`` a round trip, until ``limit`` accepted venues are nearer than any
    cell left can hold; then one exact ranking. Cells the store read ahead (``_usable``) cost no round trip.

    Pruning runs on chords, which are cheap: a cell's lower bound is also one of every chord to its venues
    (triangle inequality in space). With C the limit-th smallest chord read so far, the limit venues behind it
    have geodesics of at most G = C * GEODESIC_PER_CHORD, so the limit-th nearest is within G; every venue left
    unread has a chord, hence a geodesic, beyond G + 1 mm, and so has every read venue whose chord is beyond
    it: the venues with a chord within G + 1 mm, ranked exactly, hold the answer."""
    qx, qy, qz = (c / 1000.0 for c in ecef_point_m(lat, lon))
    ahead, ahead_bound = _usable(read, res, (qx, qy, qz), limit, accept)
    bound = min(reach_km + SLACK_KM, ahead_bound)
    cells, lower = cells_within(lat, lon, bound, res)
    order = sorted(range(len(cells)), key=lower.__getitem__)
    lower_list = lower
    pool: list[tuple[float, Venue]] = []
    at = 0
    while at < len(order):
        batch: list[str] = []
        while at < len(order) and len(batch) < reader.batch_cells and lower_list[order[at]] <= bound:
            batch.append(cells[order[at]])
            at += 1
        if not batch:
            break
        missing = [cell for cell in batch if cell not in ahead]
        fetched = dict(zip(missing, reader.venues(missing), strict=True)) if missing else {}
        pool.extend((math.dist((qx, qy, qz), (v.x_km, v.y_km, v.z_km)), v)
                    for cell in batch for v in (ahead[cell] if cell in ahead else fetched[cell]) if accept(v))
        if len(pool) >= limit:
            kth_chord = heapq.nsmallest(limit, (chord for chord, _ in pool))[-1]
            bound = min(bound, kth_chord * GEODESIC_PER_CHORD + TIE_KM + CHORD_SLACK_M / 1000.0)
    near = [v for chord, v in pool if chord <= bound]
    if not near:
        return []
    distance_km, _ = inverse_many(lat, lon, np.array([v.lat for v in near]), np.array([v.lon for v in near]))
    found = [Found(d, v) for d, v in zip(distance_km.tolist(), near, strict=True) if d <= reach_km + SLACK_KM]
    return sorted(found, key=_order_key)


def _best_first(reader: CellReader, lat: float, lon: float, radius_km: float, limit: int, accept: Accept,
                start: list[tuple[str, int, float]]) -> list[Found]:
    queue: list[tuple[float, str, int]] = [(lb, cell, n) for cell, n, lb in start if lb <= radius_km]
    heapq.heapify(queue)
    found: list[Found] = []
    while queue:
        bound = found[limit - 1].distance_km + TIE_KM if len(found) >= limit else radius_km
        batch: list[tuple[float, str, int]] = []
        while queue and queue[0][0] <= bound and len(batch) < BATCH:
            batch.append(heapq.heappop(queue))
        if not batch:
            break
        leaf = [n <= READ_AT_MOST or h3.get_resolution(c) >= SCORE_RES for _, c, n in batch]
        to_read = [c for (_, c, _), is_leaf in zip(batch, leaf, strict=True) if is_leaf]
        finer = [child for (_, c, _), is_leaf in zip(batch, leaf, strict=True) if not is_leaf
                 for child in children(c, min(h3.get_resolution(c) + STEP, SCORE_RES))]
        replies = reader.counts(finer) if finer else []
        fresh = [v for venues in (reader.venues(to_read) if to_read else []) for v in venues]
        if fresh:
            found = _merged(found, _ranked(lat, lon, fresh, radius_km, accept, limit))
        nonempty = [(c, n) for c, n in zip(finer, replies, strict=True) if n]
        if nonempty:
            lower = cells_of(tuple(c for c, _ in nonempty)).lower_bounds_km(lat, lon).tolist()
            for (cell, n), lb in zip(nonempty, lower, strict=True):
                if lb <= radius_km:
                    heapq.heappush(queue, (lb, cell, n))
    return found[:limit]
