"""Public: the nearest missions to a point, and the mission responsible for it.

Nearest is exact on the WGS-84 ellipsoid (``SpatialIndex``), computed for each request. There is no result
cache, by measurement (bench/bench_cache.py, README "Nearest: no result cache"): the exact index answers faster
than a bare Redis GET at every size up to 1,000,000 missions, so a shared cache could only add a round trip; an
in-process cache needed 86-89 % hits to break even (10,000 to 100,000 missions) and lost at 1,000,000.
Both answers say ``X-Cache: bypass``, as they did whenever the cache was off.

Responsible is computed for each request too: since a post nearer than the embassy can be ``assumed``
responsible, the answer depends on the point, not only on its (country, subdivision); and the decision itself
is a pass over the posts of one country (a few µs).

The answers, their alerts and their defaults are computed by the service (``yurt.missions.service.nearest``);
this module parses the query and answers.
"""

from __future__ import annotations

from flask import Blueprint, Response

from yurt.core.http.clock import request_now
from yurt.core.http.contract import response
from yurt.core.http.conventions import json_response, use_query
from yurt.core.http.problems import Problem
from yurt.core.meters import record_cache
from yurt.missions.http import service as mission_service  # `service` is a query parameter here
from yurt.missions.http.queries import NearestQuery, ResponsibleQuery
from yurt.missions.schemas.answers import NearestAnswerSchema, ResponsibleAnswerSchema
from yurt.missions.service.nearest import Answer, nearest_answer, responsible_answer

bp = Blueprint("nearest", __name__)


def _answered(answer: Answer) -> Response:
    return json_response(answer.body, headers={"X-Cache": "bypass", "Cache-Control": "no-store",
                                               "X-Dataset-Version": answer.dataset_version})


@bp.get("/v1/missions/nearest")
@use_query(NearestQuery())
@response(NearestAnswerSchema, description="The nearest missions, nearest first, with the query point's country "
                                           "and alerts")
def nearest(*, lat: float, lon: float, limit: int, open_now: bool, type: frozenset[str] | None = None,
            status: frozenset[str] | None = None, service: str | None = None) -> Response:
    """The nearest missions to a point, by geodesic distance on the WGS-84 ellipsoid."""
    answer = nearest_answer(mission_service(), lat, lon, limit, open_now=open_now, types=type, statuses=status,
                            service=service, now=request_now())
    record_cache("nearest", "bypass")
    return _answered(answer)


@bp.get("/v1/missions/responsible")
@use_query(ResponsibleQuery())
@response(ResponsibleAnswerSchema, description="The responsible posts, the rule that chose them, and the nearest "
                                               "open career posts")
def responsible_mission(*, lat: float | None = None, lon: float | None = None, country: str | None = None
                        ) -> Response:
    """The mission responsible for a point (or a country), and the nearest open ones."""
    has_point = lat is not None or lon is not None
    if has_point == (country is not None) or (has_point and (lat is None or lon is None)):
        raise Problem(400, "give either lat and lon, or country", errors={
            "lat": ["give lat and lon together, or country alone"],
            "country": ["give lat and lon together, or country alone"]})
    point = (lat, lon) if lat is not None and lon is not None else None
    answer = responsible_answer(mission_service(), point, country, now=request_now())
    record_cache("responsible", "bypass")
    return _answered(answer)
