"""The meetup index's geometry (scores, subtree bounds, the flood fill of ``cells_within``) and the search's cost.

Exactness of whole searches against a scan of every venue: tests/meetups/test_search_contract.py (both
stores, thousands of venues) and tests/meetups/test_meetups.py (hypothesis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import h3
import numpy as np
import pytest
from pyproj import Geod

from yurt.geo.geodesy import inverse_many
from yurt.meetups.model import cells as meetup_cells
from yurt.meetups.model.cells import (
    ROOT_RES,
    SCORE_RES,
    Venue,
    bound_km,
    cells_within,
    root,
    root_of,
    score,
    score_range,
    venue_cell,
)
from yurt.meetups.model.search import AheadRead, CellReader, ReadAhead, search
from yurt.meetups.stores.meetups import EmbeddedMeetupStore, Meetup

RNG = np.random.default_rng(20261129)
GEOD = Geod(ellps="WGS84")


def random_points(n: int) -> np.ndarray:
    """Uniform on the sphere, plus points scattered around every resolution-0 pentagon (H3's distortions)."""
    lat = np.degrees(np.arcsin(RNG.uniform(-1, 1, n)))
    points = [np.column_stack([lat, RNG.uniform(-180, 180, n)])]
    for pentagon in h3.get_pentagons(0):
        plat, plon = h3.cell_to_latlng(pentagon)
        near = np.column_stack([plat + RNG.normal(0, 0.3, 40), plon + RNG.normal(0, 0.3, 40)])
        points.append(near)
    out = np.concatenate(points)
    out[:, 0] = np.clip(out[:, 0], -89.999, 89.999)
    out[:, 1] = (out[:, 1] + 180) % 360 - 180
    return out


POINTS = random_points(3000)


@pytest.mark.parametrize("res", range(ROOT_RES, SCORE_RES + 1))
def test_every_venue_lies_within_its_ancestors_bound(res: int) -> None:
    ancestors = [str(h3.cell_to_parent(venue_cell(lat, lon), res)) for lat, lon in POINTS]
    centres = np.array([h3.cell_to_latlng(c) for c in ancestors])
    worst = 0.0
    for (lat, lon), (clat, clon), cell in zip(POINTS, centres, ancestors, strict=True):
        distance_km, _ = inverse_many(clat, clon, np.array([lat]), np.array([lon]))
        assert distance_km[0] <= bound_km(cell), (lat, lon, cell)
        worst = max(worst, distance_km[0] / (bound_km(cell) - meetup_cells.SLACK_KM) * meetup_cells.SUBTREE_FACTOR)
    assert worst < 1.10  # the measured overshoot, 1.04 circumradii, leaves the 1.15 taken a margin


def test_an_ancestors_score_range_holds_exactly_its_descendants() -> None:
    for lat, lon in POINTS[:500]:
        at = score(lat, lon)
        for res in range(ROOT_RES, SCORE_RES + 1):
            ancestor = str(h3.cell_to_parent(venue_cell(lat, lon), res))
            lo, hi = score_range(ancestor)
            assert lo <= at <= hi
            for sibling in h3.grid_ring(ancestor, 1):
                s_lo, s_hi = score_range(str(sibling))
                assert not s_lo <= at <= s_hi
        assert root(lat, lon) == root_of(venue_cell(lat, lon))
    assert score_range(venue_cell(1.0, 2.0)) == (score(1.0, 2.0), score(1.0, 2.0))
    assert all(score_range(str(h3.cell_to_center_child(c, ROOT_RES)))[1] < 2**53 for c in h3.get_res0_cells())


@pytest.mark.parametrize("res", [4, 6, 8, 10, 11])
def test_cells_within_finds_every_cell_a_venue_within_reach_descends_from(res: int) -> None:
    edge_km = h3.average_hexagon_edge_length(res, "km")
    for q_lat, q_lon in POINTS[::60]:
        reach_km = float(edge_km * RNG.uniform(0.1, 6.0))
        cells, lower = cells_within(q_lat, q_lon, reach_km, res)
        assert len(set(cells)) == len(cells) and all(lb <= reach_km for lb in lower)
        # venues all around q, up to the reach: each one's ancestor at ``res`` was found
        bearings = RNG.uniform(0, 360, 300)
        distances_m = reach_km * 1000 * np.sqrt(RNG.uniform(0, 1, 300))
        lons, lats, _ = GEOD.fwd(np.full(300, q_lon), np.full(300, q_lat), bearings, distances_m)
        found = set(cells)
        for lat, lon in zip(lats, lons, strict=True):
            assert str(h3.cell_to_parent(venue_cell(lat, lon), res)) in found


class CountingReader:
    """A reader that counts round trips and venues read, around a store's own."""

    def __init__(self, inner: CellReader) -> None:
        self.inner = inner
        self.batch_cells = inner.batch_cells
        self.round_trips = 0
        self.venues_read = 0

    def survey(self, cells: Sequence[str], ahead: ReadAhead) -> tuple[list[int], AheadRead | None]:
        self.round_trips += 1
        return self.inner.survey(cells, ahead)

    def counts(self, cells: Sequence[str]) -> list[int]:
        self.round_trips += 1
        return self.inner.counts(cells)

    def venues(self, cells: Sequence[str]) -> list[list[Venue]]:
        self.round_trips += 1
        out = self.inner.venues(cells)
        self.venues_read += sum(map(len, out))
        return out


def crowd(n: int, centre: tuple[float, float], radius_km: float, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    r_km = radius_km * np.sqrt(rng.random(n))
    theta = rng.random(n) * 2 * math.pi
    lat = centre[0] + r_km * np.cos(theta) / 111.32
    lon = centre[1] + r_km * np.sin(theta) / (111.32 * math.cos(math.radians(centre[0])))
    return list(zip(lat.tolist(), lon.tolist(), strict=True))


def test_a_search_reads_what_the_answer_needs_not_the_crowd() -> None:
    """The attack of issue 11: thousands of meetups in one city. A search in the middle of them reads a few
    dozen venues in three round trips; before, it read every meetup of the resolution-4 cells around it."""
    store = EmbeddedMeetupStore()
    centre = (25.2048, 55.2708)
    for i, (lat, lon) in enumerate(crowd(6000, centre, 5.0, 1)):
        store.create(Meetup(f"spam{i:05d}", "s", "t", "", 0, 1e12, lat, lon, "p", 5, None), f"s{i}", 0, 10**6)
    for q_lat, q_lon in crowd(50, centre, 4.0, 2):
        reader = CountingReader(store.reader(0))
        found = search(reader, q_lat, q_lon, 25.0, 20, lambda v: True)
        assert len(found) == 20
        assert reader.venues_read <= 200 and reader.round_trips <= 8, (reader.venues_read, reader.round_trips)
    empty = CountingReader(store.reader(0))
    assert search(empty, 48.0, 67.0, 25.0, 20, lambda v: True) == [] and empty.round_trips == 1
