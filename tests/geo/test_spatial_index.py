"""The spatial index against the brute-force geodesic oracle, and the oracle against GeographicLib itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest
from geographiclib.geodesic import Geodesic  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from yurt.geo import spatial_index
from yurt.geo.geodesy import FloatArray, inverse_many
from yurt.geo.spatial_index import Neighbour, SpatialIndex, brute_force_nearest

GEOD = Geod(ellps="WGS84")


def wrap_lon(lon: float) -> float:
    return ((lon + 180.0) % 360.0) - 180.0 if abs(lon) > 180.0 else lon


lat_any = st.one_of(st.floats(-90, 90), st.sampled_from([-90.0, 90.0]))
lon_any = st.one_of(st.floats(-180, 180), st.sampled_from([-180.0, 180.0]))
uniform = st.tuples(lat_any, lon_any)
antimeridian = st.tuples(st.floats(-70, 70), st.one_of(st.floats(175, 180), st.floats(-180, -175)))
polar = st.tuples(st.one_of(st.floats(85, 90), st.floats(-90, -85)), lon_any)


@st.composite
def clustered(draw: st.DrawFn) -> list[tuple[float, float]]:
    """A tight cluster (a capital with several posts): offsets of at most ~1 km around a centre."""
    lat, lon = draw(st.tuples(st.floats(-80, 80), lon_any))
    offset = st.tuples(st.floats(-0.01, 0.01), st.floats(-0.01, 0.01))
    offsets = draw(st.lists(offset, min_size=1, max_size=6))
    return [(lat + d_lat, wrap_lon(lon + d_lon)) for d_lat, d_lon in offsets]


@dataclass
class Data:
    lats: list[float]
    lons: list[float]
    ids: list[str]

    def index(self) -> SpatialIndex:
        return SpatialIndex(self.lats, self.lons, self.ids)

    def both_modes(self) -> list[SpatialIndex]:
        """The scan mode (small indexes, the default here) and the k-d tree mode, over the same points."""
        return [self.index(), SpatialIndex(self.lats, self.lons, self.ids, scan_max_points=0)]

    def oracle(self, lat: float, lon: float, limit: int, accept: Callable[[int], bool] | None = None
               ) -> list[Neighbour]:
        return brute_force_nearest(self.lats, self.lons, self.ids, lat, lon, limit, accept)


@st.composite
def datasets(draw: st.DrawFn, max_size: int = 40) -> Data:
    groups = draw(st.lists(st.one_of(uniform.map(lambda p: [p]), antimeridian.map(lambda p: [p]),
                                     polar.map(lambda p: [p]), clustered()), min_size=1, max_size=max_size))
    points = [p for group in groups for p in group]
    duplicates = draw(st.lists(st.sampled_from(points), max_size=3))  # same place, another id
    points += duplicates
    # Ids in an order unrelated to positions, so "ordered by id" is not accidentally "ordered by index".
    order = draw(st.permutations(range(len(points))))
    return Data([p[0] for p in points], [p[1] for p in points], [f"m{k:04d}" for k in order])


@st.composite
def queries(draw: st.DrawFn, data: Data) -> tuple[float, float]:
    at_a_mission = st.sampled_from(list(zip(data.lats, data.lons, strict=True)))
    return draw(st.one_of(uniform, antimeridian, polar, at_a_mission))


@st.composite
def cases(draw: st.DrawFn) -> tuple[Data, float, float, int, Callable[[int], bool] | None]:
    data = draw(datasets())
    lat, lon = draw(queries(data))
    limit = draw(st.integers(1, len(data.lats) + 3))
    n = len(data.lats)
    mask = draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=n, max_size=n)))
    accept = None if mask is None else mask.__getitem__
    return data, lat, lon, limit, accept


@settings(max_examples=300, deadline=None)
@given(cases())
def test_nearest_equals_brute_force(case: tuple[Data, float, float, int, Callable[[int], bool] | None]
                                    ) -> None:
    data, lat, lon, limit, accept = case
    expected = data.oracle(lat, lon, limit, accept)
    for index in data.both_modes():
        assert index.nearest(lat, lon, limit, accept) == expected


@settings(max_examples=60, deadline=None)
@given(datasets(max_size=12), uniform, st.integers(1, 6))
def test_oracle_equals_a_per_pair_geographiclib_scan(data: Data, query: tuple[float, float], limit: int
                                                      ) -> None:
    # The oracle itself, checked against GeographicLib's reference Python port, one pair at a time.
    keyed = []
    for i, (lat, lon) in enumerate(zip(data.lats, data.lons, strict=True)):
        distance_m = Geodesic.WGS84.Inverse(query[0], query[1], lat, lon)["s12"]
        keyed.append((round(distance_m * 1000.0), data.ids[i], i, distance_m / 1000.0))
    expected = sorted(keyed)[:limit]
    got = data.oracle(query[0], query[1], limit)
    assert [h.index for h in got] == [e[2] for e in expected]
    assert [h.distance_km for h in got] == pytest.approx([e[3] for e in expected], abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.floats(-89, 89), lon_any, st.floats(-89.9, 89.9), st.floats(1e-7, 179.0), st.data())
def test_mirrored_pair_is_ordered_by_id(lat: float, lon: float, lat_p: float, delta_deg: float,
                                        data: st.DataObject) -> None:
    # Two missions mirrored about the query's meridian are exactly equidistant on the ellipsoid (the meridian
    # plane is a plane of symmetry); add a third point near them and background points.
    east, west = wrap_lon(lon + delta_deg), wrap_lon(lon - delta_deg)
    extra = data.draw(st.lists(uniform, max_size=8))
    pair_ids = data.draw(st.permutations(["m1", "m2"]))
    near = (lat_p, wrap_lon(lon + delta_deg * (1 + 1e-9)))
    rows = [(lat_p, east, pair_ids[0]), (lat_p, west, pair_ids[1]), (*near, "m3")]
    rows += [(p[0], p[1], f"x{i}") for i, p in enumerate(extra)]
    d = Data([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    got = d.index().nearest(lat, lon, len(rows))
    assert got == d.oracle(lat, lon, len(rows))
    assert d.both_modes()[1].nearest(lat, lon, len(rows)) == got
    pair = [h for h in got if h.index in (0, 1)]
    if abs(pair[0].distance_km - pair[1].distance_km) < 1e-9:  # equal to a micrometre: the same mm key
        assert [d.ids[h.index] for h in pair] == ["m1", "m2"]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_within_equals_brute_force(draw: st.DataObject) -> None:
    data = draw.draw(datasets())
    lat, lon = draw.draw(queries(data))
    radius_km = draw.draw(st.one_of(st.floats(0, 25_000), st.sampled_from([0.0, 1.0, 20_004.0])))
    mask = draw.draw(st.lists(st.booleans(), min_size=len(data.lats), max_size=len(data.lats)))
    everything = data.oracle(lat, lon, len(data.lats), mask.__getitem__)
    expected = [h for h in everything if h.distance_km <= radius_km]
    for index in data.both_modes():
        assert index.within(lat, lon, radius_km, mask.__getitem__) == expected


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_rank_orders_a_given_set_exactly(draw: st.DataObject) -> None:
    data = draw.draw(datasets())
    lat, lon = draw.draw(queries(data))
    chosen = draw.draw(st.lists(st.integers(0, len(data.lats) - 1), max_size=len(data.lats) + 3))
    limit = draw.draw(st.integers(0, len(data.lats) + 1))
    wanted = set(chosen)
    for index in data.both_modes():
        assert index.rank(lat, lon, chosen, limit) == data.oracle(lat, lon, limit, wanted.__contains__)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_nearest_and_rank_equals_its_two_oracles(draw: st.DataObject) -> None:
    """One geodesic call for a filtered nearest and a ranked set (responsible's path): the brute-force answers
    of both, in both modes, with the few points ordered in Python."""
    data = draw.draw(datasets())
    n = len(data.lats)
    lat, lon = draw.draw(queries(data))
    among = np.array(draw.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=np.bool_)
    extra = draw.draw(st.lists(st.integers(0, n - 1), max_size=n + 3))
    limit = draw.draw(st.integers(0, n + 1))
    wanted = set(extra)
    expected = (data.oracle(lat, lon, limit, among.__getitem__),
                data.oracle(lat, lon, len(wanted), wanted.__contains__))
    for index in data.both_modes():
        assert index.nearest_and_rank(lat, lon, limit, among, extra) == expected


def test_degenerate_inputs() -> None:
    # Two posts in one building (same place, different ids), posts at the poles, one on the antimeridian.
    lats = [51.1, 51.1, 90.0, 90.0, -90.0, 0.0]
    lons = [71.4, 71.4, 0.0, 135.0, 17.0, 180.0]
    ids = ["kz-b", "kz-a", "pole-b", "pole-a", "south", "line"]
    index = SpatialIndex(lats, lons, ids)
    at_building = index.nearest(51.1, 71.4, 2)
    assert [(h.index, h.distance_km) for h in at_building] == [(1, 0.0), (0, 0.0)]  # tie at 0 → id order
    at_pole = index.nearest(90.0, -45.0, 2)
    assert [(h.index, h.distance_km) for h in at_pole] == [(3, 0.0), (2, 0.0)]
    assert index.nearest(0.0, -180.0, 1)[0] == Neighbour(5, 0.0, index.nearest(0.0, -180.0, 1)[0].bearing_deg)
    assert len(index.nearest(0.0, 0.0, 100)) == len(index) == 6  # k > n: everything, ordered
    assert index.nearest(0.0, 0.0, 0) == []
    assert index.nearest(0.0, 0.0, 3, lambda i: False) == []
    assert index.within(0.0, 0.0, -1.0) == []
    assert SpatialIndex([], [], []).nearest(0.0, 0.0, 5) == []
    with pytest.raises(ValueError):
        index.nearest(90.5, 0.0, 1)
    with pytest.raises(ValueError):
        SpatialIndex([0.0], [181.0], ["x"])
    with pytest.raises(IndexError):
        index.rank(0.0, 0.0, [6], 1)


def test_antimeridian_neighbours_are_found_across_the_line() -> None:
    # Suva (Fiji), Nuku'alofa, Apia, Anadyr (Chukotka), Nome (Alaska), Sydney, Astana.
    places = [(-18.14, 178.44), (-21.14, -175.20), (-13.83, -171.76), (64.73, 177.51), (64.50, -165.41),
              (-33.87, 151.21), (51.13, 71.43)]
    data = Data([p[0] for p in places], [p[1] for p in places], [f"p{i}" for i in range(len(places))])
    index = data.index()
    for lat, lon in [(-17.0, 180.0), (-17.0, -180.0), (65.0, 180.0), (-20.0, -179.9), (66.0, 179.99)]:
        got = index.nearest(lat, lon, 3)
        assert got == data.oracle(lat, lon, 3)
        assert got[0].distance_km < 1000.0  # the neighbour across the line, not one on the far side


def test_a_query_does_not_scan_every_point(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    lats = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lons = rng.uniform(-180, 180, n)
    index = SpatialIndex(lats.tolist(), lons.tolist(), [f"m{i}" for i in range(n)])
    evaluated: Counter[str] = Counter()

    def counting(lat: float, lon: float, lats: FloatArray, lons: FloatArray) -> tuple[FloatArray, FloatArray]:
        evaluated["points"] += len(lats)
        return inverse_many(lat, lon, lats, lons)

    monkeypatch.setattr(spatial_index, "inverse_many", counting)
    for lat, lon in [(0.0, 0.0), (90.0, 0.0), (-45.0, 180.0)]:
        calls: Counter[int] = Counter()

        def accept_even(i: int, calls: Counter[int] = calls) -> bool:
            calls[i] += 1
            return i % 2 == 0

        assert len(index.nearest(lat, lon, 10, accept_even)) == 10
        assert max(calls.values()) == 1  # accept runs at most once per point per query: it may be costly
        assert len(calls) < 0.01 * n
    assert evaluated["points"] < 0.01 * n


def test_threads_share_one_index() -> None:
    rng = np.random.default_rng(11)
    lats = np.degrees(np.arcsin(rng.uniform(-1, 1, 2000))).tolist()
    lons = rng.uniform(-180, 180, 2000).tolist()
    data = Data(lats, lons, [f"m{i}" for i in range(2000)])
    index = data.index()
    points = list(zip(rng.uniform(-90, 90, 200).tolist(), rng.uniform(-180, 180, 200).tolist(), strict=True))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda p: index.nearest(p[0], p[1], 5), points))
    assert results == [data.oracle(lat, lon, 5) for lat, lon in points]
