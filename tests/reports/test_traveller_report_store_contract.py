"""One contract for every ``TravellerReportStore`` (embedded, real Redis, Redis Cluster): one open report per
pair, paging newest first by an id bound, the staff-handle index, closing at suspension."""

from __future__ import annotations

import pytest

from tests.conftest import Backend
from yurt.reports.stores.travellers import (
    DuplicateReportError,
    EmbeddedTravellerReportStore,
    RedisTravellerReportStore,
    TravellerReportStore,
)

T0 = 1_800_000_000.0


@pytest.fixture
def traveller_reports(backend: Backend) -> TravellerReportStore:
    if backend.embedded:
        return EmbeddedTravellerReportStore()
    return RedisTravellerReportStore(backend.connect())


def test_one_open_report_per_reporter_and_target(traveller_reports: TravellerReportStore) -> None:
    first = traveller_reports.add("a", "b", "spam", "t_b", T0)
    assert traveller_reports.open_report("a", "b") == first.id and traveller_reports.open_report("c", "b") is None
    with pytest.raises(DuplicateReportError) as refused:
        traveller_reports.add("a", "b", "again", "t_b", T0 + 1)
    assert refused.value.report_id == first.id
    other = traveller_reports.add("c", "b", "scam", "t_b", T0 + 2)  # another reporter, same target
    traveller_reports.add("a", "d", "rude", "t_d", T0 + 3)  # same reporter, another target
    assert traveller_reports.close_about("b", T0 + 4) == 2
    assert traveller_reports.close_about("b", T0 + 5) == 0
    assert traveller_reports.open_report("a", "b") is None
    again = traveller_reports.add("a", "b", "back again", "t_b", T0 + 6)  # closed: a new report may be filed
    assert again.id > other.id
    states = {r.id: r.open for r in traveller_reports.page(10)}
    assert states == {first.id: False, other.id: False, first.id + 2: True, again.id: True}


def test_pages_newest_first_by_id_bound(traveller_reports: TravellerReportStore) -> None:
    ids = [traveller_reports.add(f"r{i}", f"t{i % 3}", f"reason {i}", f"t_{i % 3}", T0 + i).id for i in range(25)]
    seen: list[int] = []
    before = None
    while True:
        page = traveller_reports.page(10, before)
        if not page:
            break
        seen.extend(r.id for r in page)
        before = page[-1].id
        # a report arriving while staff page never disturbs the paging
        traveller_reports.add(f"late{before}", "t0", "arrives while staff page", "t_0", T0 + 100)
    assert seen == sorted(ids, reverse=True)
    report = traveller_reports.page(1, ids[3] + 1)[0]
    assert (report.id, report.reporter, report.target, report.reason, report.at_s) == (
        ids[3], "r3", "t0", "reason 3", T0 + 3)


def test_the_staff_handle_index_finds_any_reported_traveller(traveller_reports: TravellerReportStore) -> None:
    traveller_reports.add("a", "victim-tid", "threats", "t_victim", T0)
    for i in range(300):
        traveller_reports.add(f"junk{i}", f"other{i}", "junk", f"t_other{i}", T0 + i)
    assert traveller_reports.reported("t_victim") == "victim-tid"
    assert traveller_reports.reported("t_other7") == "other7"
    assert traveller_reports.reported("t_nobody") is None
