"""Area count bands and the coarse visible-travellers gauge: what one traveller more or less can change."""

from __future__ import annotations

import pytest

from yurt.travellers.model.area_counts import VISIBLE_GAUGE_STEP, coarse_visible_count, count_band


@pytest.mark.parametrize(("count", "band"), [
    (3, (3, "3–4")), (4, (3, "3–4")), (5, (5, "5–9")), (9, (5, "5–9")), (10, (10, "10–19")), (19, (10, "10–19")),
    (20, (20, "20–49")), (49, (20, "20–49")), (50, (50, "50–99")), (100, (100, "100–199")),
    (250, (200, "200–499")), (1234, (1000, "1000–1999")), (987_654, (500_000, "500000–999999"))])
def test_count_bands(count: int, band: tuple[int, str]) -> None:
    assert count_band(count) == band


def test_one_more_or_less_changes_a_band_only_at_its_edges() -> None:
    changes = [n for n in range(3, 5000) if count_band(n) != count_band(n + 1)]
    assert changes == [4, 9, 19, 49, 99, 199, 499, 999, 1999, 4999]  # a toggle shows only across these


def test_gauge_moves_in_steps() -> None:
    assert [coarse_visible_count(n) for n in (0, 1, 9, 10, 11, 19, 20, 1234)] == [0, 0, 0, 10, 10, 10, 20, 1230]
    toggles = [n for n in range(0, 1000) if coarse_visible_count(n) != coarse_visible_count(n + 1)]
    assert toggles == list(range(VISIBLE_GAUGE_STEP - 1, 1000, VISIBLE_GAUGE_STEP))
