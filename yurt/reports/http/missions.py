"""Reports about a mission: travellers send them (scope ``traveller``), staff list and resolve them
(``staff``).

``POST /v1/missions/<id>/reports`` takes a category from a fixed list and a short text, and is rate-limited
per traveller (``REPORT_LIMIT`` in ``yurt.reports.service.reports``) in the store, so the limit holds across
workers. Staff see reports with a pseudonym of the traveller (a keyed HMAC of the token's ``sub``), never the
``sub`` itself. The use cases are ``ReportService``'s; the views parse, call it and map its errors.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g
from marshmallow import Schema, fields, validate

from yurt.core.auth import requires
from yurt.core.http.clock import request_now
from yurt.core.http.contract import body, other_responses, response
from yurt.core.http.conventions import json_response, use_query
from yurt.core.http.problems import Problem
from yurt.core.http.queries import QueryInt
from yurt.core.store_errors import NotFound
from yurt.reports.http import service
from yurt.reports.http.answer_schemas import MissionReportListSchema, MissionReportReceiptSchema, MissionReportSchema
from yurt.reports.service.reports import UnknownMission
from yurt.reports.stores.missions import CATEGORIES, RESOLUTIONS, AlreadyResolvedError, RateLimitError

bp = Blueprint("mission_reports", __name__)

class MissionReportBody(Schema):
    class Meta:
        unknown = "raise"

    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    text = fields.String(required=True, validate=validate.Length(min=3, max=1000))


class MissionReportResolveBody(Schema):
    class Meta:
        unknown = "raise"

    resolution = fields.String(required=True, validate=validate.OneOf(RESOLUTIONS))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class MissionReportQuery(Schema):
    # No load_default=None: a query parameter is present or absent, never null, and the OpenAPI document
    # should not say "nullable" (schemathesis would send null and expect a 400).
    status = fields.String(validate=validate.OneOf(("open", "resolved")))
    mission_id = fields.String(validate=validate.Length(min=1, max=80))
    limit = QueryInt(load_default=50, validate=validate.Range(min=1, max=200))
    before = QueryInt(validate=validate.Range(min=1))


@bp.post("/v1/missions/<mission_id>/reports")
@requires("traveller")
@body(MissionReportBody)
@response(MissionReportReceiptSchema, 201, description="Received; `Location` names it")
def submit_report(mission_id: str, body: dict[str, Any]) -> Response:
    """Tell staff something about this mission is wrong (a category and a short text)."""
    reports = service()
    try:
        report = reports.submit_mission_report(mission_id, body["category"], body["text"],
                                               sub=str(g.principal.sub), now=request_now())
    except UnknownMission:
        raise Problem(404, f"no mission with id {mission_id!r}") from None
    except RateLimitError as exc:
        limit = reports.mission_limit
        raise Problem(429, f"at most {limit.max_reports} reports per traveller per {limit.window_s // 60} minutes",
                      headers={"Retry-After": str(exc.retry_after_s)}) from None
    return json_response({"id": report.id, "status": report.status, "created_at": report.created_at}, 201,
                         headers={"Location": f"/v1/reports/{report.id}", "Cache-Control": "no-store"})


@bp.get("/v1/reports")
@requires("staff")
@use_query(MissionReportQuery())
@response(MissionReportListSchema, description="Newest first")
def list_reports(*, limit: int, status: str | None = None, mission_id: str | None = None,
                 before: int | None = None) -> Response:
    """Travellers' reports about missions, newest first.

    Filter by status and mission, page with `before`; `total` counts every report that matches the filters
    (all pages)."""
    reports, total = service().list_mission_reports(limit=limit, status=status, mission_id=mission_id,
                                                    before=before)
    body: dict[str, Any] = {"total": total, "reports": [r.to_json() for r in reports]}
    if len(reports) == limit:
        body["next_before"] = reports[-1].id
    return json_response(body, headers={"Cache-Control": "no-store"})


@bp.post("/v1/reports/<int:report_id>/resolve")
@requires("staff")
@body(MissionReportResolveBody)
@response(MissionReportSchema, description="The report, resolved")
@other_responses({409: "The report is already resolved"})
def resolve_report(report_id: int, body: dict[str, Any]) -> Response:
    """Close a report with a resolution (fixed, no_change_needed, duplicate, spam) and an optional note."""
    try:
        report = service().resolve_mission_report(report_id, resolution=body["resolution"], note=body["note"],
                                                  author=str(g.principal.sub), now=request_now())
    except NotFound:
        raise Problem(404, f"no report {report_id}") from None
    except AlreadyResolvedError:
        raise Problem(409, f"report {report_id} is already resolved") from None
    return json_response(report.to_json(), headers={"Cache-Control": "no-store"})
