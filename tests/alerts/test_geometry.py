"""Alert areas: RFC 7946 checks with shapely's reasons, and the index against a brute-force oracle (hypothesis),
with edges and vertices inside, areas split at the antimeridian (Fiji, Chukotka) and polar caps."""

from __future__ import annotations

import itertools
import math
from typing import Any

import h3
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from tests.alerts.oracle import covers, polygons_of
from yurt.alerts.model.geometry import AreaError, AreaIndex, cell_area, parse_area, point_query, sample_points

GRID = 64  # coordinates on a 1/64° grid: edge midpoints are exact in binary64, so "on the edge" is exact

FIJI = {"type": "MultiPolygon", "coordinates": [
    [[[176.8, -19.3], [180.0, -19.3], [180.0, -15.6], [176.8, -15.6], [176.8, -19.3]]],
    [[[-180.0, -19.3], [-178.2, -19.3], [-178.2, -15.6], [-180.0, -15.6], [-180.0, -19.3]]]]}
CHUKOTKA = {"type": "MultiPolygon", "coordinates": [
    [[[172.0, 64.0], [180.0, 64.0], [180.0, 70.0], [176.0, 70.5], [172.0, 69.0], [172.0, 64.0]]],
    [[[-180.0, 64.0], [-172.5, 64.3], [-169.7, 66.0], [-175.0, 68.0], [-180.0, 70.0], [-180.0, 64.0]]]]}
ARCTIC_CAP = {"type": "Polygon", "coordinates": [[[-180, 85], [180, 85], [180, 90], [-180, 90], [-180, 85]]]}
POLAR_WEDGE = {"type": "Polygon", "coordinates": [[[0, 80], [10, 80], [10, 90], [0, 90], [0, 80]]]}
SHORT_WEDGE = {"type": "Polygon", "coordinates": [[[0, 80], [10, 80], [10, 89], [0, 89], [0, 80]]]}
ANTARCTIC = {"type": "Polygon", "coordinates": [[[-60, -90], [-20, -90], [-20, -75], [-60, -75], [-60, -90]]]}
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


def square(lon: float, lat: float, side: float = 1.0) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + side, lat], [lon + side, lat + side],
                                                [lon, lat + side], [lon, lat]]]}


# -- checks ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("area", "reason"), [
    ({"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}, "Self-intersection[1 1]"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4 positions"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [181, 0], [1, 1], [0, 0]]]}, "longitude 181 is outside"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 91], [0, 0]]]}, "latitude 91 is outside"),
    ({"type": "Polygon", "coordinates": [[[179, 0], [-179, 0], [-179, 1], [179, 1], [179, 0]]]},
     "crosses the antimeridian"),
    ({"type": "Point", "coordinates": [0, 0]}, "type must be Polygon or MultiPolygon"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], ["1", 1], [0, 0]]]}, "finite numbers"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [True, 1], [0, 0]]]}, "finite numbers"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [10**400, 1], [0, 0]]]},
     r"coordinates\[0\]\[2\]: a position"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1], [0, 0]]]}, "finite numbers"),
    ({"type": "Polygon", "coordinates": []}, "non-empty array of linear rings"),
    ({"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"], square(0.5, 0.5)["coordinates"]]},
     "Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]],
                                         [[5, 5], [6, 5], [6, 6], [5, 5]]]}, "Hole lies outside shell"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 0], [0, 0]]]}, "invalid geometry"),
    ({"type": "Polygon", "coordinates": SQUARE["coordinates"], "crs": "x"}, "unknown member 'crs'"),
    ("POLYGON((0 0,1 0,1 1,0 0))", "expected a GeoJSON Polygon"),
])
def test_bad_areas_are_refused_with_the_reason(area: Any, reason: str) -> None:
    pattern = reason if reason.startswith("coordinates") else reason.replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(AreaError, match=pattern):
        parse_area(area)


def test_vertex_limit_counts_every_position_before_building_anything() -> None:
    ring = [[math.cos(t / 50) * 5, math.sin(t / 50) * 5] for t in range(314)]
    area = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    assert parse_area(area, max_vertices=315).vertices == 315
    with pytest.raises(AreaError, match="315 positions; at most 314"):
        parse_area(area, max_vertices=314)


def test_altitudes_are_dropped_and_either_winding_is_accepted() -> None:
    clockwise = {"type": "Polygon", "coordinates": [[[0, 0, 5], [0, 1, 5], [1, 1, 5], [1, 0, 5], [0, 0, 5]]]}
    parsed = parse_area(clockwise)
    assert parsed.geojson["coordinates"][0][0] == [0.0, 0.0]
    assert parse_area(FIJI).geojson == FIJI | {"coordinates": [[[[float(v) for v in p] for p in r] for r in poly]
                                                               for poly in FIJI["coordinates"]]}


# -- the index against the oracle ------------------------------------------------------------------------------


def star(cx: float, cy: float, radii: list[float], offsets: list[float]) -> dict[str, Any] | None:
    """A star-shaped ring around (cx, cy), snapped to the grid; None if snapping made it degenerate."""
    n = len(radii)
    ring = []
    for i, (r, off) in enumerate(zip(radii, offsets, strict=True)):
        angle = 2 * math.pi * (i + 0.8 * off) / n
        x = round((cx + r * math.cos(angle)) * GRID) / GRID
        y = round((cy + r * math.sin(angle)) * GRID) / GRID
        ring.append([min(180.0, max(-180.0, x)), min(90.0, max(-90.0, y))])
    ring.append(ring[0])
    area = {"type": "Polygon", "coordinates": [ring]}
    try:
        parse_area(area)
    except AreaError:
        return None
    return area


@st.composite
def star_areas(draw: st.DrawFn) -> dict[str, Any]:
    radii = draw(st.lists(st.floats(0.05, 6.0), min_size=3, max_size=12))
    offsets = draw(st.lists(st.floats(0, 0.99), min_size=len(radii), max_size=len(radii)))
    cx = draw(st.integers(-170 * GRID, 170 * GRID)) / GRID
    cy = draw(st.integers(-80 * GRID, 80 * GRID)) / GRID
    area = star(cx, cy, radii, offsets)
    assume(area is not None)
    assert area is not None
    if draw(st.booleans()):  # a hole: a small square around the centre, when it fits inside
        hole = [[cx - 1 / GRID, cy - 1 / GRID], [cx - 1 / GRID, cy + 1 / GRID], [cx + 1 / GRID, cy + 1 / GRID],
                [cx + 1 / GRID, cy - 1 / GRID], [cx - 1 / GRID, cy - 1 / GRID]]
        with_hole = {"type": "Polygon", "coordinates": [area["coordinates"][0], hole]}
        try:
            parse_area(with_hole)
            area = with_hole
        except AreaError:
            pass
    return area


def probe_points(draw: st.DrawFn, areas: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """Random grid points near the areas, their vertices and the exact midpoints of their edges."""
    points = []
    for area in areas:
        for rings in polygons_of(area):
            for ring in rings:
                for (x1, y1), (x2, y2) in itertools.pairwise(ring):
                    points.append((x1, y1))
                    points.append(((x1 + x2) / 2, (y1 + y2) / 2))
        xs = [p[0] for p in area["coordinates"][0]]
        ys = [p[1] for p in area["coordinates"][0]]
        for _ in range(draw(st.integers(5, 30))):
            x = draw(st.integers(math.floor(min(xs) * GRID) - 8, math.ceil(max(xs) * GRID) + 8)) / GRID
            y = draw(st.integers(math.floor(min(ys) * GRID) - 8, math.ceil(max(ys) * GRID) + 8)) / GRID
            points.append((max(-179.5, min(179.5, x)), max(-89.5, min(89.5, y))))
    return points


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                   HealthCheck.too_slow])
@given(st.data())
def test_point_queries_match_the_oracle_on_random_polygons(data: st.DataObject) -> None:
    areas = data.draw(st.lists(star_areas(), min_size=1, max_size=6))
    index = AreaIndex([parse_area(a).geometry for a in areas])
    for lon, lat in probe_points(data.draw, areas):
        expected = [i for i, a in enumerate(areas) if covers(polygons_of(a), lon, lat)]
        assert index.at_point(lat, lon).tolist() == expected, (lon, lat)


@settings(max_examples=60, deadline=None)
@given(st.integers(-40, 40), st.integers(-30, 30), st.integers(1, 60))
def test_grid_squares_sharing_edges_all_claim_the_shared_edge(lon: int, lat: int, step: int) -> None:
    """A 3 × 3 block of touching squares: a point on a shared edge or corner is in every square that has it."""
    areas = [square(lon + i, lat + j) for i in range(3) for j in range(3)]
    index = AreaIndex([parse_area(a).geometry for a in areas])
    for k in range(0, 4 * GRID, step):
        x, y = lon + k / GRID, lat + (k * 7 % (3 * GRID)) / GRID
        expected = [i for i, a in enumerate(areas) if covers(polygons_of(a), x, y)]
        assert index.at_point(y, x).tolist() == expected


# -- antimeridian and poles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lat", "lon", "inside"), [
    (-17.7, 178.4, True),     # Suva
    (-16.8, -179.9, True),    # Taveuni side, west of the line
    (-17.0, 180.0, True),     # on the antimeridian itself, either spelling
    (-17.0, -180.0, True),
    (-19.3, 177.0, True),     # on the southern edge
    (-19.3, -180.0, True),    # a corner on the line
    (-15.5, 179.0, False),
    (-17.0, -178.1, False),
    (-17.0, 0.0, False),      # the other side of the world: the split area is not read the long way round
])
def test_fiji_split_at_the_antimeridian(lat: float, lon: float, inside: bool) -> None:
    index = AreaIndex([parse_area(FIJI).geometry])
    assert (index.at_point(lat, lon).tolist() == [0]) is inside
    if abs(lon) != 180:
        assert covers(polygons_of(FIJI), lon, lat) is inside


@pytest.mark.parametrize(("lat", "lon", "inside"), [
    (64.73, 177.5, True),     # Anadyr
    (66.0, -172.0, True),     # the Chukotka coast by the Bering Strait, west longitude
    (67.0, 180.0, True),
    (67.0, -180.0, True),
    (65.0, -168.0, False),    # Alaska
    (63.0, 179.0, False),
])
def test_chukotka_split_at_the_antimeridian(lat: float, lon: float, inside: bool) -> None:
    index = AreaIndex([parse_area(CHUKOTKA).geometry])
    assert (index.at_point(lat, lon).tolist() == [0]) is inside


@pytest.mark.parametrize(("area", "lat", "lon", "inside"), [
    (ARCTIC_CAP, 90.0, 0.0, True),
    (ARCTIC_CAP, 90.0, -135.0, True),
    (ARCTIC_CAP, 89.99, 123.0, True),
    (ARCTIC_CAP, 85.0, 17.0, True),       # on the cap's edge
    (ARCTIC_CAP, 84.99, 17.0, False),
    (POLAR_WEDGE, 90.0, 100.0, True),     # the pole is a vertex of the wedge, whatever longitude names it
    (POLAR_WEDGE, 89.0, 100.0, False),
    (SHORT_WEDGE, 90.0, 5.0, False),
    (ANTARCTIC, -90.0, 170.0, True),
    (ANTARCTIC, -89.0, 170.0, False),
    (ANTARCTIC, -80.0, -40.0, True),
])
def test_near_the_poles(area: dict[str, Any], lat: float, lon: float, inside: bool) -> None:
    index = AreaIndex([parse_area(area).geometry])
    assert (index.at_point(lat, lon).tolist() == [0]) is inside


def test_point_query_spellings() -> None:
    assert point_query(10, 180).equals(point_query(10, -180))
    assert point_query(90, 5).equals(point_query(90, -120))
    assert point_query(10, 20).geom_type == "Point"


# -- cells -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lat", "lon"), [(25.2, 55.3), (-17.0, 179.999), (65.0, -179.999), (89.999, 0.0),
                                          (-89.999, 10.0), (0.0, 0.0)])
def test_cell_areas_hold_their_centre_and_lie_in_range(lat: float, lon: float) -> None:
    cell = h3.latlng_to_cell(lat, lon, 7)
    area = cell_area(cell)
    assert area.is_valid and area.area > 0
    minx, miny, maxx, maxy = area.bounds
    assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    c_lat, c_lon = h3.cell_to_latlng(cell)
    assert AreaIndex([area]).at_point(c_lat, c_lon).tolist() == [0]
    assert AreaIndex([area]).at_point(lat, lon).tolist() == [0]


def test_a_cell_across_the_antimeridian_meets_areas_on_both_sides() -> None:
    cell = next(c for c in h3.grid_disk(h3.latlng_to_cell(-17.0, 179.99, 7), 3)
                if min(lng for _, lng in h3.cell_to_boundary(c)) < 0 < max(lng for _, lng in h3.cell_to_boundary(c)))
    area = cell_area(cell)
    assert area.geom_type == "MultiPolygon"
    east = parse_area(square(179.0, -18.0, 1.0)).geometry
    west = parse_area(square(-180.0, -18.0, 1.0)).geometry
    assert AreaIndex([east, west]).meeting(area).tolist() == [0, 1]


def test_sample_points_lie_in_or_on_the_area() -> None:
    area = parse_area(FIJI).geometry
    points = sample_points(area)
    assert 10 < len(points) <= 420
    assert all(shapely.intersects(area, shapely.Point(lon, lat)) for lat, lon in points)
    assert sample_points(Polygon([(0, 0), (1, 0), (1, 1)]))
