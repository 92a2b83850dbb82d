"""Reports about travellers over HTTP: a traveller files one, staff page through them and suspend.

The use cases, with the defences against a report flood (issue 11), are ``ReportService``'s
(``yurt.reports.service.reports``); here each view parses, calls it and maps its errors: an unknown handle is a
404, a second open report about the same traveller a 409 of type ``/problems/report-already-open``, the
per-reporter quota (``YURT_REPORT_RATE``) a 429 with ``Retry-After``. The staff list pages with ``cursor`` /
``next_cursor`` (an opaque encoding of the last report id) through every report.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from flask import Blueprint, Response, g

from yurt.core.auth import requires
from yurt.core.http.clock import request_now_s
from yurt.core.http.contract import body, other_responses, response
from yurt.core.http.conventions import json_response, use_query
from yurt.core.http.problems import Problem, own_type
from yurt.core.quotas import QuotaExceeded
from yurt.geo.instants import utc_iso
from yurt.reports.http import service
from yurt.reports.http.answer_schemas import SuspensionSchema, TravellerReportPageSchema, TravellerReportReceiptSchema
from yurt.reports.http.schemas import ReportBody, StaffReportsQuery
from yurt.reports.service.reports import NotReported, UnknownHandle
from yurt.reports.stores.travellers import DuplicateReportError

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
    try:
        filed = service().report_traveller(g.principal.sub, body["handle"], body["reason"], request_now_s())
    except UnknownHandle:
        raise Problem(404, "no traveller with this handle was shown to you in the last day",
                      errors={"handle": ["unknown"]}) from None
    except DuplicateReportError as exc:
        raise _duplicate(exc.report_id) from None
    except QuotaExceeded as exc:
        raise Problem(429, f"reports are limited to {exc.limit} per traveller; retry after {exc.retry_after_s} s",
                      headers={"Retry-After": str(exc.retry_after_s)}) from None
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
    rows, more = service().staff_page(limit, _decode_cursor(cursor) if cursor is not None else None)
    return json_response({
        "reports": [{"id": row.report.id, "at": utc_iso(row.report.at_s), "reason": row.report.reason,
                     "open": row.report.open, "target": row.target, "reporter": row.reporter} for row in rows],
        "next_cursor": _encode_cursor(rows[-1].report.id) if more else None},
        headers={"Cache-Control": "no-store"})


@bp.post("/v1/staff/travellers/<handle>/suspension")
@requires("staff")
@response(SuspensionSchema, description="Suspended; the count of their reports closed")
def staff_suspend(handle: str) -> Response:
    """Suspend a reported traveller's visibility.

    Their presence is removed now and new presence refused; their open reports close."""
    try:
        closed = service().suspend(handle, request_now_s())
    except NotReported:
        raise Problem(404, "no reported traveller has this staff handle") from None
    return json_response({"handle": handle, "suspended": True, "reports_closed": closed})
