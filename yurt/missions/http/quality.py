"""Staff: the data quality report (``GET /v1/missions/quality``), what each post lacks and what was searched."""

from __future__ import annotations

from flask import Blueprint, Response

from yurt.core.auth import requires
from yurt.core.http.clock import request_now
from yurt.core.http.contract import response
from yurt.core.http.conventions import json_response
from yurt.missions.http import service
from yurt.missions.schemas.staff_answers import QualityReportSchema
from yurt.missions.service.tools import quality

bp = Blueprint("quality", __name__)


@bp.get("/v1/missions/quality")
@requires("staff")
@response(QualityReportSchema, description="Per post, what a traveller would miss, and what was searched")
def mission_quality() -> Response:
    """What each post lacks (phone, hours, emergency line, districts, building point, recent source)."""
    report = quality(service(), request_now().date())
    return json_response(report, headers={"Cache-Control": "no-store"})
