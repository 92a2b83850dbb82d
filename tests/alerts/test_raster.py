"""The rasters that answer most point queries (``yurt.alerts.model.raster``) and the grid that lets points skip
the subdivision lookup (``yurt.alerts.service.subdivision_reach``), against brute force: every cell code is
checked with the exact oracle, coarse rasters included (so edge, inside and outside cells are all common), and
answers with the shortcut equal answers with the full lookup."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.alerts.oracle import covers, polygons_of
from tests.alerts.test_geometry import FIJI, GRID, probe_points, square, star_areas
from yurt.alerts.model.geometry import AreaIndex, parse_area
from yurt.alerts.model.raster import EDGE, INSIDE, OUTSIDE, PointRasters, polygon_raster
from yurt.alerts.model.record import AlertRecord
from yurt.alerts.model.snapshot import AlertSnapshot
from yurt.alerts.service.answers import point_locate, subdivision_reach
from yurt.geo.places import Locator

RELAXED = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                         HealthCheck.too_slow])


@RELAXED
@given(st.data(), st.sampled_from([4, 64, 1024]))
def test_cell_codes_agree_with_the_oracle(data: st.DataObject, cells: int) -> None:
    """A point in an INSIDE cell is covered, in an OUTSIDE cell is not; vertices and edge midpoints (on the
    boundary) are always in EDGE cells."""
    area = data.draw(star_areas())
    polygon = parse_area(area).geometry
    raster = polygon_raster(polygon, cells)
    codes = np.frombuffer(raster.codes, dtype=np.uint8)
    assert len(codes) == raster.nx * raster.ny and set(codes.tolist()) <= {OUTSIDE, INSIDE, EDGE}
    for ring in polygons_of(area)[0]:
        for (x1, y1), (x2, y2) in itertools.pairwise(ring):
            assert raster.code_at(x1, y1) == EDGE
            assert raster.code_at((x1 + x2) / 2, (y1 + y2) / 2) == EDGE
    for lon, lat in probe_points(data.draw, [area]):
        code = raster.code_at(lon, lat)
        if code != EDGE:
            assert (code == INSIDE) is covers(polygons_of(area), lon, lat), (lon, lat, code)


@RELAXED
@given(st.data(), st.sampled_from([4, 64]))
def test_coarse_rasters_answer_as_the_oracle(data: st.DataObject, cells: int) -> None:
    """AreaIndex with coarse rasters (most answers through EDGE cells and GEOS, the rest by the raster)."""
    areas = data.draw(st.lists(star_areas(), min_size=1, max_size=5))
    index = AreaIndex([parse_area(a).geometry for a in areas], cells=cells)
    index._rasters.code_all()  # the raster path (before coding, every point is asked of GEOS)
    for lon, lat in probe_points(data.draw, areas):
        expected = [i for i, a in enumerate(areas) if covers(polygons_of(a), lon, lat)]
        assert index.at_point(lat, lon).tolist() == expected, (lon, lat)


def test_cell_borders_and_grid_lines() -> None:
    """Points exactly on raster cell borders and on the 1° lines of the grid that finds the rasters."""
    areas = [square(2.0, 3.0, 2.0), square(4.0, 3.0, 1.0), FIJI]
    index = AreaIndex([parse_area(a).geometry for a in areas], cells=16)
    for k in range(0, 5 * GRID + 1):
        for lat in (3.0, 3.5, 4.0, 5.0, 5.0 + 1 / GRID, -17.0, -19.3):
            lon = (k / GRID + 1.5) if lat > 0 else 176.0 + k / GRID
            expected = [i for i, a in enumerate(areas) if covers(polygons_of(a), lon, lat)]
            assert index.at_point(lat, lon).tolist() == expected, (lon, lat)


def test_rasters_are_coded_in_the_background_and_exact_before() -> None:
    """Before a polygon is coded a point in its box is asked of GEOS; the first query starts the coding."""
    areas = [square(10.0, 10.0), square(50.0, 10.0, 2.0)]
    rasters = PointRasters([parse_area(a).geometry for a in areas], cells=64)
    assert not any(rasters.coded(k) for k in range(len(rasters)))
    probes = [(10.5, 10.5), (10.0, 11.0), (11.0, 10.999), (51.0, 12.0), (50.0, 9.99), (60.0, 10.0)]
    before = [rasters.covering(lat, lon) for lon, lat in probes]
    rasters.wait_coded(timeout_s=30)
    assert all(rasters.coded(k) for k in range(len(rasters)))
    after = [rasters.covering(lat, lon) for lon, lat in probes]
    expected = [[i for i, a in enumerate(areas) if covers(polygons_of(a), lon, lat)] for lon, lat in probes]
    assert before == after == expected == [[0], [0], [0], [1], [], []]
    assert rasters.raster(1).code_at(51.0, 11.0) == INSIDE


# -- the subdivision shortcut ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def locator() -> Locator:
    return Locator()


def _alert(i: int, **members: Any) -> AlertRecord:
    title = {"en": "t", "kk": "t", "ru": "t"}
    doc = {"id": f"al-{i:010x}", "severity": "warning", "title": title, "body": title,
           "valid_from": "2026-01-01T00:00:00Z", "valid_to": None, "countries": [], "subdivisions": [], "area": None,
           "area_countries": [], "missions": [], "sources": [], **members}
    return AlertRecord(doc, i + 1)


SUBDIVISION_ALERTS = [_alert(0, subdivisions=["IR-23"]), _alert(1, subdivisions=["FR-75C"]),
                      _alert(2, subdivisions=["FR-IDF"]), _alert(3, subdivisions=["DE-BE"]),
                      _alert(4, subdivisions=["US-CA", "US-NY"]), _alert(5, countries=["DE"])]
BOXES = {"IR": (25.0, 40.0, 44.0, 63.0), "FR": (42.0, 51.0, -5.0, 8.0), "DE": (47.0, 55.0, 6.0, 15.0),
         "US": (25.0, 49.0, -125.0, -67.0)}


@pytest.fixture(scope="module")
def subdivided() -> AlertSnapshot:
    return AlertSnapshot(SUBDIVISION_ALERTS, 1)


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(sorted(BOXES)), st.floats(0, 1), st.floats(0, 1))
def test_skipping_the_subdivision_lookup_changes_no_answer(locator: Locator, subdivided: AlertSnapshot,
                                                           country: str, fy: float, fx: float) -> None:
    lat0, lat1, lon0, lon1 = BOXES[country]
    lat, lon = lat0 + fy * (lat1 - lat0), lon0 + fx * (lon1 - lon0)
    snapshot = subdivided
    reach = subdivision_reach(snapshot, locator)
    assert reach is not None
    found = locator.country_of_point(lat, lon)
    full = snapshot.at_point(lat, lon, 1.8e9, point_locate(locator, lat, lon, country=found))
    fast = snapshot.at_point(lat, lon, 1.8e9, point_locate(locator, lat, lon, country=found, reach=reach))
    unknown = snapshot.at_point(lat, lon, 1.8e9, point_locate(locator, lat, lon, reach=reach))
    assert [a.id for a in fast] == [a.id for a in full] == [a.id for a in unknown]


def test_the_shortcut_skips_far_points_and_keeps_near_ones(locator: Locator) -> None:
    snapshot = AlertSnapshot(SUBDIVISION_ALERTS, 1)
    reach = subdivision_reach(snapshot, locator)
    assert reach is not None
    assert reach.may_name("IR", 35.69, 51.39)  # Tehran
    assert not reach.may_name("IR", 29.61, 52.53)  # Shiraz, 700 km away
    assert reach.may_name("IR", 80.0, 0.0)  # outside the country's grid: looked up
    tehran = snapshot.at_point(35.69, 51.39, 1.8e9, point_locate(locator, 35.69, 51.39, reach=reach))
    assert [a.id for a in tehran] == ["al-0000000000"]
    assert subdivision_reach(AlertSnapshot([_alert(9, countries=["IR"])], 1), locator) is None
    assert snapshot.subdivision_codes["FR"] == {"FR-75C", "FR-IDF"}
