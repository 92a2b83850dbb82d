"""Reports about travellers: a traveller files one, staff page through them and suspend.

Defences against a report flood (issue 11: 10,290 junk reports from 21 accounts in 14 s hid a real report and
broke suspension): one open report per reporter and reported traveller (a second is a 409 of type
``/problems/report-already-open``), a per-reporter quota (``YURT_REPORT_RATE``, 429 with ``Retry-After``), a
staff list paged with ``cursor`` / ``next_cursor`` through every report, and suspension that finds the reported
traveller through an index by staff handle, however many reports came after.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from flask import Blueprint, Response

from yurt.composition import services
from yurt.core.auth import requires
from yurt.core.http.clock import request_now_s
from yurt.core.http.contract import body, other_responses, response
from yurt.core.http.conventions import json_response, use_query
from yurt.core.http.problems import Problem, own_type
from yurt.core.quotas import QuotaExceeded
from yurt.geo import privacy
from yurt.geo.instants import utc_iso
from yurt.reports.http.answer_schemas import SuspensionSchema, TravellerReportPageSchema, TravellerReportReceiptSchema
from yurt.reports.stores.travellers import DuplicateReportError
from yurt.travellers.http.schemas import ReportBody, StaffReportsQuery
from yurt.travellers.http.travellers import caller, target_of

bp = Blueprint("traveller_reports", __name__)


def _duplicate(report_id: int) -> Problem:
    type_, title = own_type("report-already-open")
    return Problem(409, "you already reported this traveller and staff have not acted on it yet",
                   type_=type_, title=title, extra={"report_id": report_id})


@bp.post("/v1/travellers/reports")
@requires("traveller")
@body(ReportBody)
@response(TravellerReportReceiptSchema, 202, description="Received")
@other_responses({404: "No traveller with this handle was shown to you in the last day",
                  409: "You already reported this traveller and staff have not acted on it yet"})
def report(body: dict[str, Any]) -> Response:
    """Report a traveller to staff, who can suspend their visibility (one open report per traveller)."""
    stores, tid = caller()
    target = target_of(stores, tid, body["handle"])
    found = services().traveller_reports
    existing = found.open_report(tid, target)
    if existing is not None:
        raise _duplicate(existing)
    try:
        services().quotas.charge("report", tid)
    except QuotaExceeded as exc:
        raise Problem(429, f"reports are limited to {exc.limit} per traveller; retry after {exc.retry_after_s} s",
                      headers={"Retry-After": str(exc.retry_after_s)}) from None
    try:
        handle = privacy.handle_for(stores.secret, "staff", target)
        filed = found.add(tid, target, body["reason"], handle, request_now_s())
    except DuplicateReportError as exc:  # a concurrent request filed it first
        raise _duplicate(exc.report_id) from None
    return json_response({"id": filed.id, "status": "received"}, status=202)


def _encode_cursor(before: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"before": before})).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        before = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["before"]
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        before = None
    if type(before) is not int or not 1 <= before <= 2**53:
        raise Problem(400, "the cursor is not one this list gave out; start again without it",
                      errors={"cursor": ["invalid"]})
    return before


@bp.get("/v1/staff/traveller-reports")
@requires("staff")
@use_query(StaffReportsQuery())
@response(TravellerReportPageSchema)
def staff_reports(*, limit: int, cursor: str | None = None) -> Response:
    """Every report about a traveller, newest first.

    `limit` a page; `next_cursor` (null on the last page) asks for the next. Travellers appear under staff
    handles (POST …/suspension takes them); `open` turns false once staff
    suspended the reported traveller."""
    stores = services().travellers
    before = _decode_cursor(cursor) if cursor is not None else None
    reports = services().traveller_reports.page(limit + 1, before)
    page, more = reports[:limit], len(reports) > limit
    return json_response({
        "reports": [{"id": r.id, "at": utc_iso(r.at_s), "reason": r.reason, "open": r.open,
                     "target": privacy.handle_for(stores.secret, "staff", r.target),
                     "reporter": privacy.handle_for(stores.secret, "staff", r.reporter)} for r in page],
        "next_cursor": _encode_cursor(page[-1].id) if more else None},
        headers={"Cache-Control": "no-store"})


@bp.post("/v1/staff/travellers/<handle>/suspension")
@requires("staff")
@response(SuspensionSchema, description="Suspended; the count of their reports closed")
def staff_suspend(handle: str) -> Response:
    """Suspend a reported traveller's visibility.

    Their presence is removed now and new presence refused; their open reports close."""
    tid = services().traveller_reports.reported(handle)
    if tid is None:
        raise Problem(404, "no reported traveller has this staff handle")
    now = request_now_s()
    services().travellers.presence.suspend(tid, now)
    closed = services().traveller_reports.close_about(tid, now)
    return json_response({"handle": handle, "suspended": True, "reports_closed": closed})
