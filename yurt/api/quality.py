"""Staff: the data quality report (``GET /v1/missions/quality``), what each post lacks and what was searched."""

from __future__ import annotations

from flask import Blueprint, Response

from yurt.api.clock import request_now
from yurt.api.conventions import json_response
from yurt.api.docs import SECURED
from yurt.auth import requires
from yurt.domain.quality import quality_report
from yurt.services import services

bp = Blueprint("quality", __name__)


@bp.get("/v1/missions/quality")
@requires("staff")
def mission_quality() -> Response:
    """What each post lacks (phone, hours, emergency line, districts, building point, recent source)."""
    dataset = services().catalogue.current()
    report = quality_report(dataset.properties, request_now().date())
    return json_response(report, headers={"Cache-Control": "no-store"})


SECURED["quality.mission_quality"] = "staff"
