"""An exact nearest-mission index on the WGS-84 ellipsoid, and the brute-force scan it must agree with.

Ordering contract (index and oracle alike): by geodesic distance rounded to the millimetre, then by mission
id, then by position (only duplicate ids ever reach the last key). So distances equal within 1 mm are ordered
by id.

How the index stays exact without scanning every point. Points are stored as ECEF coordinates (metres,
height 0) in a ``scipy.spatial.cKDTree``. For two surface points the straight chord is never longer than the
geodesic (a line segment is the shortest path in space), so chord distances can prune but never wrongly
exclude:

1. take the k nearest accepted points by chord (widening the k-d tree query while a filter rejects points);
   their k-th smallest geodesic distance D bounds the true k-th nearest distance from above;
2. every member of the exact top-k has a geodesic (hence a chord) of at most D + 1 mm (the tie band), so a
   ball query of chord radius D + ``CHORD_SLACK_M`` holds all of them;
3. rank that ball exactly with one vectorised Karney geodesic call.

Small indexes (at most ``SCAN_MAX_POINTS``, the posts of one country's service) skip the k-d tree: steps 1
and 2 read the same chords from one vectorised scan of every point, which costs less than one scipy query call
(a k-nearest ``cKDTree.query`` costs about 40 µs of call overhead, scipy 1.17; the scan of 128 points about
5 µs). Same chords, same pruning, so the same answers (tests/geo compare both modes with the oracle).

No spherical approximation enters: the only geometry used for pruning is an inequality that holds on any
surface. A ``SpatialIndex`` is immutable after construction (read-only arrays, a k-d tree scipy never mutates
on query), so one instance per dataset version is shared by all threads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from yurt.geo.geodesy import FloatArray, check_point, ecef_m, ecef_point_m, inverse_many

IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
Accept = Callable[[int], bool]

TIE_KM = 1e-6  # 1 mm: distances whose millimetre roundings are equal tie, and then id decides
# Chord slack beyond a geodesic bound: the 1 mm tie band plus float error (ECEF chords ~1e-9 m at Earth's
# radius in binary64; Karney's method ~15 nm), with three orders of magnitude to spare.
CHORD_SLACK_M = 0.01
SCAN_MAX_POINTS = 2048  # up to this many points a query scans every chord instead of asking the k-d tree


@dataclass(frozen=True, slots=True)
class Neighbour:
    """One answer: a point's position in the index, its geodesic distance and initial bearing from the query.

    ``index`` is the position in the sequences the index was built from, not a mission id.
    """

    index: int
    distance_km: float
    bearing_deg: float


def tie_key_mm(distance_km: FloatArray) -> npt.NDArray[np.int64]:
    """Distances rounded to whole millimetres, the primary sort key."""
    return np.rint(distance_km * 1e6).astype(np.int64)


def _as_coordinates(lats: Sequence[float], lons: Sequence[float]) -> tuple[FloatArray, FloatArray]:
    lat_arr = np.array(lats, dtype=np.float64)
    lon_arr = np.array(lons, dtype=np.float64)
    if lat_arr.shape != lon_arr.shape or lat_arr.ndim != 1:
        raise ValueError("lats and lons must be one-dimensional and of equal length")
    if not (np.all(np.isfinite(lat_arr)) and np.all(np.abs(lat_arr) <= 90.0)):
        raise ValueError("every lat must be a finite number in [-90, 90]")
    if not (np.all(np.isfinite(lon_arr)) and np.all(np.abs(lon_arr) <= 180.0)):
        raise ValueError("every lon must be a finite number in [-180, 180]")
    return lat_arr, lon_arr


def _neighbours(indices: IntArray, distance_km: FloatArray, bearing_deg: FloatArray, order: IntArray
                ) -> list[Neighbour]:
    return [Neighbour(int(indices[o]), float(distance_km[o]), float(bearing_deg[o])) for o in order]


class SpatialIndex:
    """Exact k-nearest and radius queries over fixed points, by geodesic distance on the WGS-84 ellipsoid."""

    __slots__ = ("_id_rank", "_lats", "_lons", "_tree", "_xyz")

    def __init__(self, lats: Sequence[float], lons: Sequence[float], ids: Sequence[str],
                 scan_max_points: int = SCAN_MAX_POINTS) -> None:
        self._lats, self._lons = _as_coordinates(lats, lons)
        if len(ids) != len(self._lats):
            raise ValueError("ids must have one entry per point")
        # Rank of each point's id in id order (stable, so duplicate ids fall back to position): the tie-break
        # becomes an integer key for np.lexsort instead of a Python sort on strings.
        id_order = sorted(range(len(ids)), key=ids.__getitem__)
        self._id_rank: IntArray = np.empty(len(ids), dtype=np.intp)
        self._id_rank[id_order] = np.arange(len(ids), dtype=np.intp)
        for array in (self._lats, self._lons, self._id_rank):
            array.flags.writeable = False
        xyz = ecef_m(self._lats, self._lons)
        xyz.flags.writeable = False
        # Scan mode keeps the ECEF array and no tree; tree mode keeps the tree (which holds its own copy).
        self._xyz: FloatArray | None = xyz if 0 < len(ids) <= scan_max_points else None
        self._tree = cKDTree(xyz) if len(ids) > scan_max_points else None

    def __len__(self) -> int:
        return len(self._lats)

    def nearest(self, lat: float, lon: float, limit: int, accept: Accept | None = None) -> list[Neighbour]:
        """The ``limit`` nearest accepted points (fewer if fewer are accepted), nearest first."""
        check_point(lat, lon)
        n = len(self)
        if limit <= 0 or n == 0:
            return []
        query_m = ecef_point_m(lat, lon)
        chords_m2 = self._chords_m2(query_m)
        verdicts: dict[int, bool] = {}
        k = min(limit, n)
        while True:
            if chords_m2 is None:
                assert self._tree is not None
                found = np.atleast_1d(self._tree.query(query_m, k=k)[1]).astype(np.intp)
            else:
                found = np.argpartition(chords_m2, k - 1)[:k] if k < n else np.arange(n, dtype=np.intp)
            candidates = self._accepted(found, accept, verdicts)
            if len(candidates) >= limit or k == n:
                break
            k = min(n, k * 4)  # geometric widening: total work stays within a constant of the last query
        if len(candidates) < limit:  # every point was examined: the accepted ones are the whole answer
            return self._ranked(lat, lon, candidates, limit)
        distance_km, bearing_deg = inverse_many(lat, lon, self._lats[candidates], self._lons[candidates])
        bound_km = float(np.partition(distance_km, limit - 1)[limit - 1])
        ball = self._accepted(self._ball(query_m, bound_km * 1000.0 + CHORD_SLACK_M, chords_m2), accept, verdicts)
        if ball.size == candidates.size:
            # The ball holds every candidate (chord <= geodesic <= bound), so equal sizes mean the same set:
            # rank with the geodesics already computed (the usual case; it saves the second geodesic call).
            order = np.lexsort((candidates, self._id_rank[candidates], tie_key_mm(distance_km)))[:limit]
            return _neighbours(candidates, distance_km, bearing_deg, order)
        return self._ranked(lat, lon, ball, limit)

    def within(self, lat: float, lon: float, radius_km: float, accept: Accept | None = None
               ) -> list[Neighbour]:
        """Every accepted point with geodesic distance <= ``radius_km``, ordered like ``nearest``."""
        check_point(lat, lon)
        if not np.isfinite(radius_km):
            raise ValueError(f"radius_km must be finite, got {radius_km!r}")
        if radius_km < 0.0 or len(self) == 0:
            return []
        query_m = ecef_point_m(lat, lon)
        ball = self._accepted(self._ball(query_m, radius_km * 1000.0 + CHORD_SLACK_M, self._chords_m2(query_m)),
                              accept, {})
        distance_km, bearing_deg = inverse_many(lat, lon, self._lats[ball], self._lons[ball])
        inside = distance_km <= radius_km
        ball, distance_km, bearing_deg = ball[inside], distance_km[inside], bearing_deg[inside]
        order = np.lexsort((ball, self._id_rank[ball], tie_key_mm(distance_km)))
        return _neighbours(ball, distance_km, bearing_deg, order)

    def rank(self, lat: float, lon: float, indices: Sequence[int], limit: int) -> list[Neighbour]:
        """Exact ranking of the given points (duplicates counted once): the first ``limit``, nearest first."""
        check_point(lat, lon)
        chosen = np.unique(np.asarray(indices, dtype=np.intp))
        if chosen.size and (chosen[0] < 0 or chosen[-1] >= len(self)):
            raise IndexError("an index is out of range")
        return self._ranked(lat, lon, chosen, limit)

    def nearest_and_rank(self, lat: float, lon: float, limit: int, among: BoolArray, extra: Sequence[int]
                         ) -> tuple[list[Neighbour], list[Neighbour]]:
        """``nearest(lat, lon, limit, among.__getitem__)`` and ``rank(lat, lon, extra, len(extra))`` with the
        geodesics of both in one call where it can (scan mode, the usual case): a responsible answer ranks the
        host country's posts and finds the nearest open ones, a handful of points, where each numpy or pyproj
        call's overhead costs more than its arithmetic. So the few points are ordered in Python, by the same keys
        as ``_ranked``'s (``round`` and ``np.rint`` both round half to even). Same pairs, same geodesics, same
        order: the same answers as the two calls (tests/geo/test_spatial_index.py)."""
        check_point(lat, lon)
        chosen = sorted(set(extra))
        if chosen and (chosen[0] < 0 or chosen[-1] >= len(self)):
            raise IndexError("an index is out of range")
        query_m = ecef_point_m(lat, lon)
        chords_m2 = self._chords_m2(query_m)
        if chords_m2 is None or limit <= 0 or int(np.count_nonzero(among)) <= limit:  # tree mode, or no pruning
            return self.nearest(lat, lon, limit, among.__getitem__), self.rank(lat, lon, chosen, len(chosen))
        candidates: list[int] = np.argpartition(np.where(among, chords_m2, np.inf), limit - 1)[:limit].tolist()
        points = np.array(candidates + chosen, dtype=np.intp)
        distance_km, bearing_deg = inverse_many(lat, lon, self._lats[points], self._lons[points])
        distances: list[float] = distance_km.tolist()
        bearings: list[float] = bearing_deg.tolist()
        radius_m = max(distances[:limit]) * 1000.0 + CHORD_SLACK_M  # the bound of ``nearest``'s step 2
        ball = np.flatnonzero((chords_m2 <= radius_m * radius_m) & among)
        if ball.size == limit:  # the ball holds every candidate, so it is the same set: rank these geodesics
            nearest = self._ordered(candidates, distances[:limit], bearings[:limit])
        else:
            nearest = self._ranked(lat, lon, ball, limit)
        return nearest, self._ordered(chosen, distances[limit:], bearings[limit:])

    def _ordered(self, indices: list[int], distances: list[float], bearings: list[float]) -> list[Neighbour]:
        id_rank = self._id_rank
        order = sorted(range(len(indices)),
                       key=lambda j: (round(distances[j] * 1e6), int(id_rank[indices[j]]), indices[j]))
        return [Neighbour(indices[j], distances[j], bearings[j]) for j in order]

    def _chords_m2(self, query_m: tuple[float, float, float]) -> FloatArray | None:
        """Squared chords (m²) from the query to every point in scan mode; None in tree mode."""
        if self._xyz is None:
            return None
        offsets = self._xyz - np.asarray(query_m)
        chords_m2: FloatArray = np.einsum("ij,ij->i", offsets, offsets)
        return chords_m2

    def _ball(self, query_m: tuple[float, float, float], radius_m: float, chords_m2: FloatArray | None
              ) -> IntArray:
        if chords_m2 is not None:
            return np.flatnonzero(chords_m2 <= radius_m * radius_m)
        assert self._tree is not None
        found = self._tree.query_ball_point(query_m, radius_m, return_sorted=False)
        return np.asarray(found, dtype=np.intp)

    @staticmethod
    def _accepted(indices: IntArray, accept: Accept | None, verdicts: dict[int, bool]) -> IntArray:
        """The indices ``accept`` allows, calling it at most once per index per query (it may be costly)."""
        if accept is None:
            return indices
        keep = np.empty(len(indices), dtype=bool)
        for position, i in enumerate(indices.tolist()):
            verdict = verdicts.get(i)
            if verdict is None:
                verdict = verdicts[i] = bool(accept(i))
            keep[position] = verdict
        return indices[keep]

    def _ranked(self, lat: float, lon: float, indices: IntArray, limit: int) -> list[Neighbour]:
        if limit <= 0 or indices.size == 0:
            return []
        distance_km, bearing_deg = inverse_many(lat, lon, self._lats[indices], self._lons[indices])
        order = np.lexsort((indices, self._id_rank[indices], tie_key_mm(distance_km)))[:limit]
        return _neighbours(indices, distance_km, bearing_deg, order)


def brute_force_nearest(lats: Sequence[float] | FloatArray, lons: Sequence[float] | FloatArray,
                        ids: Sequence[str], lat: float, lon: float, limit: int,
                        accept: Accept | None = None) -> list[Neighbour]:
    """The oracle: one vectorised geodesic over every accepted point, then a partial sort.

    Written to be as fast as a scan can be (one ``Geod.inv`` call, ``np.argpartition``, and a Python sort only
    over the few points tied with the limit-th), because bench/bench_index.py times the index against it.
    """
    check_point(lat, lon)
    lat_arr, lon_arr = np.asarray(lats, dtype=np.float64), np.asarray(lons, dtype=np.float64)
    if accept is None:
        indices: IntArray = np.arange(len(lat_arr), dtype=np.intp)
        distance_km, bearing_deg = inverse_many(lat, lon, lat_arr, lon_arr)
    else:
        indices = np.fromiter((i for i in range(len(lat_arr)) if accept(i)), dtype=np.intp)
        distance_km, bearing_deg = inverse_many(lat, lon, lat_arr[indices], lon_arr[indices])
    if limit <= 0 or indices.size == 0:
        return []
    key = tie_key_mm(distance_km)
    if limit < key.size:
        kth_key = key[np.argpartition(key, limit - 1)[limit - 1]]
        near = np.flatnonzero(key <= kth_key)  # the limit-th and everything tied with or before it
    else:
        near = np.arange(key.size)
    near_list = sorted(near.tolist(), key=lambda p: (int(key[p]), ids[int(indices[p])], int(indices[p])))
    return _neighbours(indices, distance_km, bearing_deg, np.asarray(near_list[:limit], dtype=np.intp))
