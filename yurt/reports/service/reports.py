"""Report use cases: reports about missions (travellers file, staff list and resolve) and reports about
travellers (a traveller files one, staff page through them and suspend).

``ReportService`` holds the two stores, the per-account quotas, the traveller secret (the pseudonyms a report
carries are keyed with it) and what reports need of the other features, as callables the composition root hands
it: ``mission_exists`` (missions) and ``resolve_handle`` / ``suspend_presence`` (travellers). Every method
takes the clock reading (``now``) and raises domain errors; the HTTP module maps them to problems.

Defences against a report flood (issue 11: 10,290 junk reports from 21 accounts in 14 s hid a real report and
broke suspension): one open report per reporter and reported traveller (``DuplicateReportError``), a
per-reporter quota (``QuotaExceeded``), a staff list paged by report id through every report, and suspension
that finds the reported traveller through the store's index by staff handle, however many reports came after
(before, it computed a staff handle for each of the newest 10,000 reports).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from yurt.core.quotas import Quotas
from yurt.geo import privacy
from yurt.reports.stores.missions import Report, ReportLimit, ReportStore
from yurt.reports.stores.travellers import DuplicateReportError, TravellerReportStore
from yurt.reports.stores.travellers import Report as TravellerReport

# Five reports an hour is plenty for one traveller who noticed a wrong number, and bounds spam to a trickle.
REPORT_LIMIT = ReportLimit(max_reports=5, window_s=3600)

# (viewer's traveller id, handle shown to the viewer, now_s) -> the traveller behind it, if shown in the last day
ResolveHandle = Callable[[str, str, float], str | None]


class UnknownMission(LookupError):
    """No mission has this id."""


class UnknownHandle(LookupError):
    """No traveller with this handle was shown to the caller in the last day."""


class NotReported(LookupError):
    """No reported traveller has this staff handle."""


@dataclass(frozen=True)
class StaffRow:
    """A traveller report as staff see it: both travellers under their staff handles."""

    report: TravellerReport
    target: str
    reporter: str


@dataclass(frozen=True)
class ReportService:
    mission_reports: ReportStore
    traveller_reports: TravellerReportStore
    quotas: Quotas
    secret: bytes
    mission_exists: Callable[[str], bool]
    resolve_handle: ResolveHandle
    suspend_presence: Callable[[str, float], None]
    mission_limit: ReportLimit = REPORT_LIMIT

    # Reports about a mission.

    def submit_mission_report(self, mission_id: str, category: str, text: str, *, sub: str,
                              now: datetime) -> Report:
        """File a report under the caller's mission-reporter pseudonym (never the ``sub``); ``UnknownMission``,
        ``RateLimitError`` over ``mission_limit``."""
        if not self.mission_exists(mission_id):
            raise UnknownMission(mission_id)
        reporter = privacy.mission_reporter_id(self.secret, sub)
        return self.mission_reports.submit(mission_id, category, text.strip(), reporter=reporter, now=now,
                                           limit=self.mission_limit)

    def list_mission_reports(self, *, limit: int, status: str | None = None, mission_id: str | None = None,
                             before: int | None = None) -> tuple[list[Report], int]:
        """A page of reports, newest first, and how many match the filters over all pages."""
        reports = self.mission_reports.list(status=status, mission_id=mission_id, limit=limit, before_id=before)
        return reports, self.mission_reports.count(status=status, mission_id=mission_id)

    def resolve_mission_report(self, report_id: int, *, resolution: str, note: str | None, author: str,
                               now: datetime) -> Report:
        """Close a report (``NotFound``, ``AlreadyResolvedError``)."""
        return self.mission_reports.resolve(report_id, resolution=resolution, note=note, author=author, now=now)

    # Reports about a traveller.

    def report_traveller(self, sub: str, handle: str, reason: str, now_s: float) -> TravellerReport:
        """File the caller's report about the traveller behind ``handle``: ``UnknownHandle``,
        ``DuplicateReportError`` (one open report per reporter and target), ``QuotaExceeded``."""
        reporter = privacy.traveller_id(self.secret, sub)
        target = self.resolve_handle(reporter, handle, now_s)
        if target is None:
            raise UnknownHandle(handle)
        existing = self.traveller_reports.open_report(reporter, target)
        if existing is not None:
            raise DuplicateReportError(existing)
        self.quotas.charge("report", reporter)
        # The store refuses a duplicate a concurrent request filed first (DuplicateReportError, too).
        return self.traveller_reports.add(reporter, target, reason, self.staff_handle(target), now_s)

    def staff_handle(self, tid: str) -> str:
        return privacy.handle_for(self.secret, "staff", tid)

    def staff_page(self, limit: int, before: int | None = None) -> tuple[list[StaffRow], bool]:
        """Up to ``limit`` reports with ids below ``before``, newest first, and whether more follow."""
        reports = self.traveller_reports.page(limit + 1, before)
        rows = [StaffRow(r, self.staff_handle(r.target), self.staff_handle(r.reporter)) for r in reports[:limit]]
        return rows, len(reports) > limit

    def suspend(self, handle: str, now_s: float) -> int:
        """Suspend the visibility of the reported traveller with this staff handle (``NotReported``): their
        presence goes now, new presence is refused. Their open reports close; returns how many."""
        tid = self.traveller_reports.reported(handle)
        if tid is None:
            raise NotReported(handle)
        self.suspend_presence(tid, now_s)
        return self.traveller_reports.close_about(tid, now_s)
