"""The privacy grid: cells, bands, index cover (against brute force), per-viewer order and handles, limiter."""

from __future__ import annotations

import itertools
import re

import h3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yurt.geo import privacy
from yurt.geo.privacy import LimiterRecord, UpdatePolicy, decide_update
from yurt.travellers.model.area_counts import area_counts

SECRET = b"domain-test-secret"
DUBAI = privacy.presence_cell(25.2048, 55.2708)


def test_presence_cell_is_resolution_7() -> None:
    assert h3.get_resolution(DUBAI) == 7 and privacy.is_presence_cell(DUBAI)
    assert not privacy.is_presence_cell(privacy.index_cell(DUBAI))


@pytest.mark.parametrize(("km", "band"), [(0.0, 0), (1.999, 0), (2.0, 1), (4.99, 1), (5.0, 2), (10.0, 3),
                                          (24.9, 3), (25.0, 4), (50.0, 4), (50.001, None)])
def test_band_table(km: float, band: int | None) -> None:
    assert privacy.band_of(km) == band


def test_neighbouring_cells_are_never_under_2_km() -> None:
    """So "<2 km" means "the same cell": a viewer learns nothing finer than the cell."""
    for cell in (DUBAI, privacy.presence_cell(51.5, -0.12), privacy.presence_cell(64.1, -21.9)):
        ring = [str(c) for c in h3.grid_ring(cell, 1)]
        assert min(privacy.centre_distances_km(cell, ring)) > 2.0


points = st.tuples(st.floats(-70, 70), st.floats(-180, 180))


@settings(max_examples=15, deadline=None)
@given(points, st.floats(1, 50))
def test_index_cells_cover_every_cell_in_radius(point: tuple[float, float], radius_km: float) -> None:
    """Brute force: every resolution-7 cell whose centre is within the radius has its parent in the cover."""
    cell = privacy.presence_cell(*point)
    cover = set(privacy.index_cells_for(cell, radius_km))
    disk = [str(c) for c in h3.grid_disk(cell, int(radius_km / 1.5) + 2)]
    distances = privacy.centre_distances_km(cell, disk)
    within = [c for c, d in zip(disk, distances, strict=True) if d <= radius_km]
    assert within and all(privacy.index_cell(c) in cover for c in within)


def test_index_cover_near_a_pentagon() -> None:
    pentagon = next(c for c in h3.get_res0_cells() if h3.is_pentagon(c))
    lat, lon = h3.cell_to_latlng(pentagon)
    cell = privacy.presence_cell(lat, lon)
    cover = set(privacy.index_cells_for(cell, 50))
    disk = [str(c) for c in h3.grid_disk(cell, 40)]
    within = [c for c, d in zip(disk, privacy.centre_distances_km(cell, disk), strict=True) if d <= 50]
    assert all(privacy.index_cell(c) in cover for c in within)


def test_layout_bands_ascending_radius_cut_and_per_viewer_shuffle() -> None:
    disk = [str(c) for c in h3.grid_disk(DUBAI, 14)]
    occupied = {c: 1 + i % 3 for i, c in enumerate(disk)}
    layout = privacy.nearby_layout(SECRET, "viewer", DUBAI, 25, occupied)
    distances = dict(zip(disk, privacy.centre_distances_km(DUBAI, disk), strict=True))
    assert {s.cell for s in layout} == {c for c in disk if distances[c] <= 25}
    assert [s.band for s in layout] == sorted(s.band for s in layout)
    assert all(s.band == privacy.band_of(distances[s.cell]) and s.count == occupied[s.cell] for s in layout)
    again = privacy.nearby_layout(SECRET, "viewer", DUBAI, 25, occupied)
    other = privacy.nearby_layout(SECRET, "other", DUBAI, 25, occupied)
    assert [s.cell for s in again] == [s.cell for s in layout]
    assert [s.cell for s in other] != [s.cell for s in layout]
    # Within a band, order does not follow distance (rank correlation near zero, not 1).
    band3 = [distances[s.cell] for s in layout if s.band == 3]
    assert abs(np.corrcoef(band3, np.arange(len(band3)))[0, 1]) < 0.3


def test_handles_are_per_viewer_and_opaque() -> None:
    first = privacy.handle_for(SECRET, "viewer", "target")
    assert first == privacy.handle_for(SECRET, "viewer", "target")
    assert first != privacy.handle_for(SECRET, "other", "target")
    assert first != privacy.handle_for(b"another-secret", "viewer", "target")
    assert re.fullmatch(r"t_[a-z2-7]{26}", first)
    assert privacy.traveller_id(SECRET, "sub") != "sub" and len(privacy.traveller_id(SECRET, "sub")) == 32


def test_session_handles_change_with_the_session_staff_handles_do_not() -> None:
    first, second = privacy.new_session(), privacy.new_session()
    assert first != second and re.fullmatch(r"[0-9a-f]{16}", first)
    shown = privacy.session_handle(SECRET, "viewer", "target", first)
    assert shown == privacy.session_handle(SECRET, "viewer", "target", first)  # stable within a session
    assert len({shown, privacy.session_handle(SECRET, "viewer", "target", second),
                privacy.session_handle(SECRET, "other", "target", first),
                privacy.handle_for(SECRET, "staff", "target")}) == 4
    assert re.fullmatch(r"t_[a-z2-7]{26}", shown)
    assert privacy.session_order(first) != privacy.session_order(second)
    assert 0 <= privacy.session_order(first) < 2**48


@pytest.mark.parametrize(("radius", "snapped", "last_band"), [
    (1, 2, 0), (1.7, 2, 0), (2, 2, 0), (2.000001, 5, 1), (5, 5, 1), (7.3, 10, 2), (10, 10, 2), (10.5, 25, 3),
    (25, 25, 3), (25.0001, 50, 4), (50, 50, 4)])
def test_radius_snaps_up_to_a_band_edge(radius: float, snapped: float, last_band: int) -> None:
    assert privacy.snap_radius_km(radius) == snapped and privacy.last_band_within(radius) == last_band
    assert privacy.BANDS[last_band][1] >= snapped  # the band the snapped radius ends


@settings(max_examples=30, deadline=None)
@given(st.floats(1, 50), st.floats(1, 50))
def test_layout_depends_on_the_radius_only_through_its_band(a: float, b: float) -> None:
    disk = [str(c) for c in h3.grid_disk(DUBAI, 20)]
    occupied = {c: 1 for c in disk}
    layouts = [privacy.nearby_layout(SECRET, "viewer", DUBAI, r, occupied) for r in (a, b)]
    assert (layouts[0] == layouts[1]) == (privacy.snap_radius_km(a) == privacy.snap_radius_km(b))


@given(st.lists(st.text(min_size=1, max_size=5), unique=True, max_size=30), st.integers(0, 2**48 - 1))
def test_rotation_is_a_permutation_starting_at_the_rotation(members: list[str], rotation: int) -> None:
    scored = [(m, privacy.session_order(m)) for m in members]
    order = privacy.rotated(scored, rotation)
    assert sorted(order) == sorted(members)
    scores = [dict(scored)[m] for m in order]
    split = sum(s >= rotation for s in scores)
    assert scores[:split] == sorted(scores[:split]) and all(s >= rotation for s in scores[:split])
    assert scores[split:] == sorted(scores[split:]) and all(s < rotation for s in scores[split:])


def test_area_counts_are_k_anonymous() -> None:
    children = list(h3.cell_to_children(privacy.index_cell(DUBAI), 7))
    lonely = privacy.presence_cell(51.5, -0.12)
    counts = [(children[0], 1), (children[1], 1), (children[2], 1), (lonely, 2)]
    areas = area_counts(counts)
    assert [(a.cell, a.count, a.count_band) for a in areas] == [(privacy.index_cell(DUBAI), 3, "3–4")]


POLICY = UpdatePolicy(min_interval_s=60, daily_budget=3, budget_window_s=86_400, max_speed_kmh=1000)


def test_limiter_decisions() -> None:
    first = decide_update(None, DUBAI, 0, POLICY)
    assert first.allowed and first.record == LimiterRecord(0, DUBAI, 0, 1)
    soon = decide_update(first.record, DUBAI, 59, POLICY)
    assert not soon.allowed and soon.reason == "too_soon" and soon.retry_after_s == 1
    far = privacy.presence_cell(25.2048, 55.6)  # ~33 km east: 33 km/min ≈ 2,000 km/h
    assert decide_update(first.record, far, 60, POLICY).reason == "too_fast"
    assert decide_update(first.record, far, 180, POLICY).allowed  # 33 km in 3 min ≈ 660 km/h
    spent = LimiterRecord(100, DUBAI, 0, 3)
    budget = decide_update(spent, DUBAI, 200, POLICY)
    assert budget.reason == "budget" and budget.retry_after_s == 86_200
    fresh = decide_update(spent, far, 86_400, POLICY)
    assert fresh.allowed and fresh.record == LimiterRecord(86_400, far, 86_400, 1)


@given(st.lists(st.floats(0, 200_000), min_size=1, max_size=60))
def test_limiter_never_allows_more_than_the_policy(times: list[float]) -> None:
    record, allowed = None, []
    for t in sorted(times):
        decision = decide_update(record, DUBAI, t, POLICY)
        if decision.allowed:
            record = decision.record
            allowed.append(t)
    assert all(b - a >= 60 for a, b in itertools.pairwise(allowed))
    for start in allowed:
        window = [t for t in allowed if start <= t < start + POLICY.budget_window_s]
        assert len(window) <= 2 * POLICY.daily_budget  # fixed windows: at most two budgets in any 24 h span
