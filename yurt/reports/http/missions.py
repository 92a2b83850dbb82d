"""Reports about a mission: travellers send them (scope ``traveller``), staff list and resolve them
(``staff``).

``POST /v1/missions/<id>/reports`` takes a category from a fixed list and a short text, and is rate-limited
per traveller (``REPORT_LIMIT``) in the store, so the limit holds across workers. Staff see reports with a
pseudonym of the traveller (a keyed HMAC of the token's ``sub``), never the ``sub`` itself.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g
from marshmallow import Schema, fields, validate

from yurt.composition import services
from yurt.core.auth import requires
from yurt.core.http.clock import request_now
from yurt.core.http.contract import body, other_responses, response
from yurt.core.http.conventions import json_response, use_query
from yurt.core.http.problems import Problem
from yurt.core.http.queries import QueryInt
from yurt.core.store_errors import NotFound
from yurt.geo.privacy import mission_reporter_id
from yurt.reports.http.answer_schemas import MissionReportListSchema, MissionReportReceiptSchema, MissionReportSchema
from yurt.reports.stores.missions import (
    CATEGORIES,
    RESOLUTIONS,
    AlreadyResolvedError,
    RateLimitError,
    ReportLimit,
    ReportStore,
)

bp = Blueprint("mission_reports", __name__)

# Five reports an hour is plenty for one traveller who noticed a wrong number, and bounds spam to a trickle.
REPORT_LIMIT = ReportLimit(max_reports=5, window_s=3600)


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


def report_store() -> ReportStore:
    """The app's report store (same backend as the mission store)."""
    return services().reports


@bp.post("/v1/missions/<mission_id>/reports")
@requires("traveller")
@body(MissionReportBody)
@response(MissionReportReceiptSchema, 201, description="Received; `Location` names it")
def submit_report(mission_id: str, body: dict[str, Any]) -> Response:
    """Tell staff something about this mission is wrong (a category and a short text)."""
    if services().catalogue.current().get(mission_id) is None:
        raise Problem(404, f"no mission with id {mission_id!r}")
    try:
        reporter = mission_reporter_id(services().travellers.secret, str(g.principal.sub))
        report = report_store().submit(mission_id, body["category"], body["text"].strip(),
                                       reporter=reporter, now=request_now(), limit=REPORT_LIMIT)
    except RateLimitError as exc:
        raise Problem(429, f"at most {REPORT_LIMIT.max_reports} reports per traveller per "
                           f"{REPORT_LIMIT.window_s // 60} minutes",
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
    reports = report_store().list(status=status, mission_id=mission_id, limit=limit, before_id=before)
    total = report_store().count(status=status, mission_id=mission_id)
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
        report = report_store().resolve(report_id, resolution=body["resolution"], note=body["note"],
                                        author=str(g.principal.sub), now=request_now())
    except NotFound:
        raise Problem(404, f"no report {report_id}") from None
    except AlreadyResolvedError:
        raise Problem(409, f"report {report_id} is already resolved") from None
    return json_response(report.to_json(), headers={"Cache-Control": "no-store"})
