"""Geodesy against published values, against GeographicLib's reference Python port, and its invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geographiclib.geodesic import Geodesic  # type: ignore[import-untyped]
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from yurt.geo.geodesy import (
    WGS84_A_M,
    WGS84_F,
    bearing_0_360,
    check_point,
    ecef_m,
    ecef_point_m,
    geodesic_km,
    inverse_many,
)

lats = st.one_of(st.floats(-90, 90), st.sampled_from([-90.0, 90.0, 0.0]))
lons = st.one_of(st.floats(-180, 180), st.sampled_from([-180.0, 180.0, 0.0]))
points = st.tuples(lats, lons)


def test_constants_are_the_ellipsoid_pyproj_uses() -> None:
    geod = Geod(ellps="WGS84")
    assert geod.a == WGS84_A_M
    assert geod.f == pytest.approx(WGS84_F, rel=1e-15)


def test_geographiclib_documented_example_wellington_to_salamanca() -> None:
    # GeographicLib's Python documentation: Geodesic.WGS84.Inverse(-41.32, 174.81, 40.96, -5.50) gives
    # s12 = 19959679.267353 m and azi1 = 161.067669986 degrees.
    assert geodesic_km(-41.32, 174.81, 40.96, -5.50) == pytest.approx(19959.679267353, abs=1e-9)
    _, bearing = inverse_many(-41.32, 174.81, np.array([40.96]), np.array([-5.50]))
    assert bearing[0] == pytest.approx(161.067669986, abs=1e-9)


def test_geopy_documented_example_newport_to_cleveland() -> None:
    # geopy's documentation: geodesic(newport_ri, cleveland_oh).miles == 538.390445368
    distance_km = geodesic_km(41.49008, -71.312796, 41.499498, -81.695391)
    assert distance_km / 1.609344 == pytest.approx(538.390445368, abs=1e-9)


def test_closed_form_distances_on_the_ellipsoid() -> None:
    # Along the equator (longitude difference below (1 - f) * 180°) the geodesic is the equator: a * Δλ.
    assert geodesic_km(0, 0, 0, 90) == pytest.approx(WGS84_A_M * math.pi / 2 / 1000, abs=1e-9)
    # Pole to pole is twice the WGS-84 quarter meridian, 10 001 965.729 m.
    assert geodesic_km(90, 0, -90, 0) == pytest.approx(2 * 10_001.965729, abs=1e-6)


def test_antimeridian_and_poles() -> None:
    assert geodesic_km(0, 180, 0, -180) == 0.0
    assert geodesic_km(90, 0, 90, 123) == 0.0  # every longitude names the same pole
    # Fiji straddles ±180: Suva (178.44° E) to 179.94° W, 1.62° east across the line: ~171 km, not ~37,000.
    assert 165 < geodesic_km(-18.14, 178.44, -18.14, -179.94) < 175
    # Chukotka (Anadyr) to Alaska (Nome) across the line: 17.08° of longitude at cos 64.6° ≈ 0.43, ~815 km.
    assert 780 < geodesic_km(64.73, 177.51, 64.50, -165.41) < 850


@settings(max_examples=150, deadline=None)
@given(points, points)
def test_distance_agrees_with_geopy_and_geographiclib(a: tuple[float, float], b: tuple[float, float]) -> None:
    expected_km = geodesic(a, b).km
    assert geodesic_km(a[0], a[1], b[0], b[1]) == pytest.approx(expected_km, abs=1e-7)  # 0.1 mm
    distance_km, bearing_deg = inverse_many(a[0], a[1], np.array([b[0]]), np.array([b[1]]))
    assert distance_km[0] == pytest.approx(expected_km, abs=1e-7)
    assert 0.0 <= bearing_deg[0] < 360.0
    reference = Geodesic.WGS84.Inverse(a[0], a[1], b[0], b[1])
    # The azimuth is ill-defined at a pole, between coincident points and (nearly) antipodal ones.
    well_defined = abs(a[0]) < 89.999 and reference["s12"] > 1.0 and reference["a12"] < 179.9
    if well_defined:
        difference = abs((bearing_deg[0] - reference["azi1"] + 180.0) % 360.0 - 180.0)
        assert difference < 1e-6


@settings(max_examples=60, deadline=None)
@given(points, st.lists(points, min_size=1, max_size=20))
def test_inverse_many_equals_one_at_a_time(origin: tuple[float, float], targets: list[tuple[float, float]]
                                           ) -> None:
    target_lats = np.array([t[0] for t in targets])
    target_lons = np.array([t[1] for t in targets])
    distance_km, _ = inverse_many(origin[0], origin[1], target_lats, target_lons)
    one_by_one = [geodesic_km(origin[0], origin[1], t[0], t[1]) for t in targets]
    assert distance_km.tolist() == one_by_one  # bitwise: the index and the oracle must see the same numbers


@settings(max_examples=80, deadline=None)
@given(points, st.lists(points, min_size=1, max_size=20))
def test_inverse_many_is_pyprojs_public_inv_bit_for_bit(origin: tuple[float, float],
                                                       targets: list[tuple[float, float]]) -> None:
    """``inverse_many`` calls pyproj's internal ``Geod._inv``: the same numbers as the public ``Geod.inv``, and
    its arguments untouched (``_inv`` writes into the buffers it is given)."""
    target_lats = np.array([t[0] for t in targets])
    target_lons = np.array([t[1] for t in targets])
    before = (target_lats.copy(), target_lons.copy())
    distance_km, bearing_deg = inverse_many(origin[0], origin[1], target_lats, target_lons)
    azimuth_deg, _, distance_m = Geod(ellps="WGS84").inv(np.full(len(targets), origin[1]),
                                                         np.full(len(targets), origin[0]), target_lons,
                                                         target_lats, return_back_azimuth=False)
    assert distance_km.tolist() == (np.asarray(distance_m) / 1000.0).tolist()
    assert bearing_deg.tolist() == bearing_0_360(np.asarray(azimuth_deg)).tolist()
    assert target_lats.tolist() == before[0].tolist() and target_lons.tolist() == before[1].tolist()


@settings(max_examples=150, deadline=None)
@given(points, points)
def test_chord_never_exceeds_geodesic(a: tuple[float, float], b: tuple[float, float]) -> None:
    xyz = ecef_m(np.array([a[0], b[0]]), np.array([a[1], b[1]]))
    chord_m = float(np.linalg.norm(xyz[0] - xyz[1]))
    assert chord_m <= geodesic_km(a[0], a[1], b[0], b[1]) * 1000.0 + 1e-6


def test_ecef_of_reference_points() -> None:
    xyz = ecef_m(np.array([0.0, 90.0, -90.0, 0.0]), np.array([0.0, 0.0, 45.0, 180.0]))
    polar_radius_m = WGS84_A_M * (1 - WGS84_F)  # b = 6 356 752.314 245 m
    np.testing.assert_allclose(xyz[0], [WGS84_A_M, 0, 0], atol=1e-6)
    np.testing.assert_allclose(xyz[1], [0, 0, polar_radius_m], atol=1e-6)
    np.testing.assert_allclose(xyz[2], [0, 0, -polar_radius_m], atol=1e-6)
    np.testing.assert_allclose(xyz[3], [-WGS84_A_M, 0, 0], atol=1e-6)
    assert polar_radius_m == pytest.approx(6_356_752.314245, abs=1e-6)


def test_bearing_folds_values_that_round_to_360() -> None:
    folded = bearing_0_360(np.array([-1e-15, -0.0, -90.0, 180.0, -180.0, 359.9999]))
    assert folded.tolist() == [0.0, 0.0, 270.0, 180.0, 180.0, 359.9999]


def test_inverse_many_of_nothing() -> None:
    distance_km, bearing_deg = inverse_many(10.0, 20.0, np.array([]), np.array([]))
    assert distance_km.shape == bearing_deg.shape == (0,)


@pytest.mark.parametrize(("lat", "lon"), [(90.5, 0.0), (-91.0, 0.0), (0.0, 180.1), (0.0, -181.0),
                                          (math.nan, 0.0), (0.0, math.inf)])
def test_check_point_rejects_out_of_range(lat: float, lon: float) -> None:
    with pytest.raises(ValueError):
        check_point(lat, lon)


def test_check_point_accepts_the_limits() -> None:
    for lat, lon in [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0)]:
        check_point(lat, lon)


@settings(max_examples=100, deadline=None)
@given(points)
def test_scalar_ecef_matches_the_vectorised_one(point: tuple[float, float]) -> None:
    vectorised = ecef_m(np.array([point[0]]), np.array([point[1]]))[0]
    np.testing.assert_allclose(ecef_point_m(*point), vectorised, rtol=0, atol=1e-6)
