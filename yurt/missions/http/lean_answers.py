"""``nearest`` and ``responsible`` as lean routes of ``yurt.core.observability.Front``: a valid anonymous GET is
answered before Flask builds its request, contexts, routing and response (a quarter of a ``nearest`` request's
CPU went there), with the bytes and headers the Flask views give: both call ``nearest_body`` /
``responsible_body`` (tests/missions/test_nearest_lean.py compares the two paths).

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

from yurt.composition import Services
from yurt.core.http.conventions import JSON, fast_load, query_pairs
from yurt.core.http.problems import Problem
from yurt.core.limits import rate_limits
from yurt.core.observability import LeanAnswer, front
from yurt.core.store_errors import StoreUnavailable
from yurt.missions.http.nearest import (
    answer_headers,
    check_responsible_query,
    nearest_body,
    responsible_body,
)
from yurt.missions.http.queries import NearestQuery, ResponsibleQuery
from yurt.missions.model.dataset import Dataset

Body = Callable[..., bytes]


class LeanQueryRoute:
    """One lean route: the query schema it loads, the check a loaded query must pass, the body it answers."""

    def __init__(self, app: Flask, rule: str, schema: Schema, body: Body,
                 check: Callable[..., None] | None = None) -> None:
        self._svc: Services = app.extensions["yurt"]
        self._limits = rate_limits(app)
        self._hooks = app.before_request_funcs
        self._installed_hooks = {key: list(funcs) for key, funcs in app.before_request_funcs.items()}
        self._fast = fast_load(schema)
        self._rule = rule
        self._body = body
        self._check = check

    def _query(self, environ: dict[str, Any]) -> dict[str, Any] | None:
        data: dict[str, Any] = {}
        for key, values in query_pairs(environ.get("QUERY_STRING", "")).items():
            if len(values) > 1 and key not in self._fast.lists:
                return None
            data[key] = values if key in self._fast.lists else values[0]
        query = self._fast.load(data)
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
            dataset: Dataset = self._svc.catalogue.current()
        except StoreUnavailable:
            return None
        if not self._limits.admit_anonymous_read(environ.get("REMOTE_ADDR")):
            return None
        body = self._body(self._svc, dataset, datetime.now(UTC), **query)
        headers = [("Content-Type", JSON), ("Content-Length", str(len(body))), *answer_headers(dataset).items()]
        return "200 OK", headers, [body], self._rule


def init_app(app: Flask) -> None:
    """Install the lean routes; call it last in ``create_app``, once every request hook is registered."""
    routes = front(app).lean
    routes["/v1/missions/nearest"] = LeanQueryRoute(app, "/v1/missions/nearest", NearestQuery(), nearest_body)
    routes["/v1/missions/responsible"] = LeanQueryRoute(app, "/v1/missions/responsible", ResponsibleQuery(),
                                                     responsible_body, check_responsible_query)
