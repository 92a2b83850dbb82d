"""``ReportService`` without Flask: the use cases on embedded stores, a fixed clock and injected callables for
what reports need of the missions and travellers features."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from yurt.core.quotas import QuotaExceeded, Quotas
from yurt.core.settings import Settings
from yurt.core.store_errors import NotFound
from yurt.geo import privacy
from yurt.reports.service.reports import NotReported, ReportService, UnknownHandle, UnknownMission
from yurt.reports.stores.missions import AlreadyResolvedError, EmbeddedReportStore, RateLimitError, ReportLimit
from yurt.reports.stores.travellers import DuplicateReportError, EmbeddedTravellerReportStore

SECRET = b"s" * 32
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0 = NOW.timestamp()


@dataclass
class Travellers:
    """The travellers feature as reports see it: handles each viewer was shown, and suspensions."""

    shown: dict[tuple[str, str], str] = field(default_factory=dict)  # (viewer tid, handle) -> target tid
    suspended: list[tuple[str, float]] = field(default_factory=list)

    def resolve(self, viewer: str, handle: str, now_s: float) -> str | None:
        return self.shown.get((viewer, handle))

    def suspend(self, tid: str, now_s: float) -> None:
        self.suspended.append((tid, now_s))


def tid(sub: str) -> str:
    return privacy.traveller_id(SECRET, sub)


@pytest.fixture
def travellers() -> Travellers:
    return Travellers({(tid("ann"), "h-bob"): tid("bob"), (tid("cat"), "h-bob"): tid("bob")})


@pytest.fixture
def reports(settings: Settings, tmp_path: Path, travellers: Travellers) -> ReportService:
    return ReportService(EmbeddedReportStore(tmp_path), EmbeddedTravellerReportStore(),
                         Quotas(settings.replace(report_rate="2/hour")), SECRET, {"m-1", "m-2"}.__contains__,
                         resolve_handle=travellers.resolve, suspend_presence=travellers.suspend,
                         mission_limit=ReportLimit(max_reports=3, window_s=3600))


def test_mission_reports_are_filed_under_a_pseudonym_listed_and_resolved_once(reports: ReportService) -> None:
    with pytest.raises(UnknownMission):
        reports.submit_mission_report("m-9", "phone", "wrong number", sub="ann", now=NOW)
    first = reports.submit_mission_report("m-1", "phone", "  wrong number \n", sub="ann", now=NOW)
    assert first.text == "wrong number" and first.reporter == privacy.mission_reporter_id(SECRET, "ann")
    assert "ann" not in first.reporter and first.reporter != tid("ann")
    reports.submit_mission_report("m-2", "hours", "closed on Fridays", sub="ann", now=NOW)
    reports.submit_mission_report("m-1", "email", "bounces", sub="bob", now=NOW)
    page, total = reports.list_mission_reports(limit=2, mission_id="m-1")
    assert total == 2 and [r.category for r in page] == ["email", "phone"]
    resolved = reports.resolve_mission_report(first.id, resolution="fixed", note=None, author="staff-1", now=NOW)
    assert resolved.status == "resolved" and resolved.resolved_by == "staff-1"
    with pytest.raises(AlreadyResolvedError):
        reports.resolve_mission_report(first.id, resolution="spam", note=None, author="staff-1", now=NOW)
    with pytest.raises(NotFound):
        reports.resolve_mission_report(999, resolution="spam", note=None, author="staff-1", now=NOW)
    assert reports.list_mission_reports(limit=10, status="open")[1] == 2


def test_mission_reports_are_limited_per_traveller(reports: ReportService) -> None:
    for i in range(3):
        reports.submit_mission_report("m-1", "other", f"note {i}", sub="ann", now=NOW)
    with pytest.raises(RateLimitError) as raised:
        reports.submit_mission_report("m-1", "other", "one more", sub="ann", now=NOW)
    assert 0 < raised.value.retry_after_s <= 3600
    reports.submit_mission_report("m-1", "other", "another traveller", sub="bob", now=NOW)


def test_a_traveller_report_needs_a_shown_handle_and_stays_one_per_target(reports: ReportService) -> None:
    with pytest.raises(UnknownHandle):
        reports.report_traveller("ann", "h-nobody", "spam", T0)
    with pytest.raises(UnknownHandle):  # a handle shown to someone else is not the caller's
        reports.report_traveller("dan", "h-bob", "spam", T0)
    filed = reports.report_traveller("ann", "h-bob", "threats", T0)
    assert (filed.reporter, filed.target, filed.reason) == (tid("ann"), tid("bob"), "threats")
    for _ in range(3):  # duplicates are refused before the quota is charged
        with pytest.raises(DuplicateReportError) as raised:
            reports.report_traveller("ann", "h-bob", "again", T0 + 1)
        assert raised.value.report_id == filed.id


def test_traveller_reports_are_charged_to_the_reporters_quota(reports: ReportService,
                                                             travellers: Travellers) -> None:
    travellers.shown.update({(tid("eve"), f"h{i}"): tid(f"target{i}") for i in range(3)})
    reports.report_traveller("eve", "h0", "spam", T0)
    reports.report_traveller("eve", "h1", "spam", T0)
    with pytest.raises(QuotaExceeded) as raised:
        reports.report_traveller("eve", "h2", "spam", T0)
    assert raised.value.retry_after_s >= 1
    assert [row.report.target for row in reports.staff_page(10)[0]] == [tid("target1"), tid("target0")]


def test_staff_page_through_reports_and_suspend_by_staff_handle(reports: ReportService,
                                                               travellers: Travellers) -> None:
    first = reports.report_traveller("ann", "h-bob", "threats", T0)
    second = reports.report_traveller("cat", "h-bob", "scam", T0 + 1)
    rows, more = reports.staff_page(1)
    assert more and [row.report.id for row in rows] == [second.id]
    assert rows[0].target == privacy.handle_for(SECRET, "staff", tid("bob"))
    assert rows[0].reporter == privacy.handle_for(SECRET, "staff", tid("cat"))
    rows, more = reports.staff_page(1, before=second.id)
    assert not more and [row.report.id for row in rows] == [first.id]

    with pytest.raises(NotReported):
        reports.suspend(reports.staff_handle(tid("ann")), T0 + 2)  # ann reported, was never reported
    assert travellers.suspended == []
    assert reports.suspend(rows[0].target, T0 + 3) == 2
    assert travellers.suspended == [(tid("bob"), T0 + 3)]
    assert not any(row.report.open for row in reports.staff_page(10)[0])
    assert reports.suspend(rows[0].target, T0 + 4) == 0  # again: nothing left open, still suspended
