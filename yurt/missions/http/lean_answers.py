"""``nearest`` and ``responsible`` as lean routes of ``yurt.core.observability.Front``: a valid anonymous GET is
answered before Flask builds its request, contexts, routing and response (a quarter of a ``nearest`` request's
CPU went there), with the bytes and headers the Flask views give: both call the service's ``nearest_answer`` /
``responsible_answer`` (tests/missions/test_nearest_lean.py compares the two paths).

A lean route answers only what it can answer exactly as the view would, and hands anything else to Flask by
answering ``None`` before it has counted the request: a bearer token (counted in the shared limit there), a
query that does not load (Flask's 400 names the parameter), no dataset yet (the 503), a client over its limit
(the 429), and any app whose request hooks are not the ones it was installed with (a test's pinned clock: the
lean route reads the wall clock, the hooks would not run).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from marshmallow import Schema

from yurt.core.http.conventions import JSON, fast_load
from yurt.core.http.problems import Problem
from yurt.core.limits import rate_limits
from yurt.core.meters import record_cache
from yurt.core.observability import LeanAnswer, front
from yurt.core.store_errors import StoreUnavailable
from yurt.missions.http import EXTENSION
from yurt.missions.http.nearest import answer_headers, check_responsible_query
from yurt.missions.http.queries import NearestQuery, ResponsibleQuery
from yurt.missions.service.mission_service import MissionService
from yurt.missions.service.nearest import Answer, nearest_answer, responsible_answer

# (the service, the loaded query, now) -> the answer, as the view computes it
Compute = Callable[[MissionService, dict[str, Any], datetime], Answer]


class LeanQueryRoute:
    """One lean route: the query schema it loads, the check a loaded query must pass, the answer it computes."""

    def __init__(self, app: Flask, rule: str, schema: Schema, compute: Compute,
                 check: Callable[..., None] | None = None) -> None:
        self._service: MissionService = app.extensions[EXTENSION]
        self._limits = rate_limits(app)
        self._hooks = app.before_request_funcs
        self._installed_hooks = {key: list(funcs) for key, funcs in app.before_request_funcs.items()}
        self._fast = fast_load(schema)
        self._rule = rule
        self._compute = compute
        self._check = check
        self._cache_label = rule.rsplit("/", 1)[-1]  # the view's record_cache label: nearest, responsible

    def _query(self, environ: dict[str, Any]) -> dict[str, Any] | None:
        query = self._fast.load_query(environ.get("QUERY_STRING", ""))
        if query is not None and self._check is not None:
            try:
                self._check(**query)
            except Problem:
                return None
        return query

    def __call__(self, environ: dict[str, Any]) -> LeanAnswer | None:
        if "HTTP_AUTHORIZATION" in environ or self._hooks != self._installed_hooks:
            return None
        query = self._query(environ)
        if query is None:
            return None
        try:
            self._service.catalogue.current()  # a dataset to answer from (else Flask's 503)
        except StoreUnavailable:
            return None
        if not self._limits.admit_anonymous_read(environ.get("REMOTE_ADDR")):
            return None
        answer = self._compute(self._service, query, datetime.now(UTC))
        record_cache(self._cache_label, "bypass")
        headers = [("Content-Type", JSON), ("Content-Length", str(len(answer.body))),
                   *answer_headers(answer).items()]
        return "200 OK", headers, [answer.body], self._rule


def _nearest(service: MissionService, query: dict[str, Any], now: datetime) -> Answer:
    return nearest_answer(service, query["lat"], query["lon"], query["limit"], open_now=query["open_now"],
                          types=query.get("type"), statuses=query.get("status"), service=query.get("service"),
                          now=now)


def _responsible(service: MissionService, query: dict[str, Any], now: datetime) -> Answer:
    lat, lon = query.get("lat"), query.get("lon")
    point = (lat, lon) if lat is not None and lon is not None else None
    return responsible_answer(service, point, query.get("country"), now=now)


def init_app(app: Flask) -> None:
    """Install the lean routes; call it last in ``create_app``, once every request hook is registered."""
    routes = front(app).lean
    routes["/v1/missions/nearest"] = LeanQueryRoute(app, "/v1/missions/nearest", NearestQuery(), _nearest)
    routes["/v1/missions/responsible"] = LeanQueryRoute(app, "/v1/missions/responsible", ResponsibleQuery(),
                                                        _responsible, check_responsible_query)
