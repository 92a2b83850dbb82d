"""``GET /v1/travellers/nearby`` as a lean route of ``yurt.core.observability.Front``: a page for a verified
traveller is answered before Flask builds its request, contexts, routing and response, with the bytes and
headers the view gives (both take the page from ``TravellerService.nearby``: tests/travellers/test_nearby_lean.py
compares the two paths, and counts the rate limit on each).

What it leaves to Flask (``None``) before counting anything, so that Flask counts and answers as before: no
bearer token, one this worker has not verified yet (Flask verifies it, and the verifier remembers a good one: the
lean route never checks a signature, so a bad or expired token costs what it did and gets Flask's 401), one
without the ``traveller`` scope (the 403), a query that does not load exactly as the fast path loads it (a
repeated or unknown parameter, a bad value: the 400 names it), and any app whose request hooks are not the ones
it was installed with (a test's pinned clock: the lean route reads the wall clock).

Once it has counted the request (``RateLimits.count_ahead``: in memory, or handed to the store's first round
trip as the view hands it), the request is marked counted (``limits.COUNTED_ENVIRON``). Whatever the count or
the page then raises (the 429, not sharing's 409, a stale cursor's 400, a store outage's 503) is left in the
environ for the view to raise in place of its own call (``NEARBY_REFUSAL_ENVIRON``): Flask answers that problem
from the one place problems come from, with one count and one store call, as its own path would.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask

from yurt.core.auth import Principal, verifier_of
from yurt.core.http.conventions import JSON, fast_load
from yurt.core.limits import COUNTED_ENVIRON, principal_key, rate_limits
from yurt.core.observability import LeanAnswer, front
from yurt.travellers.http.travellers import NEARBY_QUERY, NEARBY_REFUSAL_ENVIRON, NEARBY_RULE
from yurt.travellers.service import TravellerService

SCOPE = "traveller"  # the view's ``requires`` scope
MAX_KEPT_QUERIES = 512  # loaded query strings kept (a phone sends the same few; cursors are one-off)
MAX_KEPT_CALLERS = 10_000  # callers whose rate-limit key and pseudonym are kept (two hashes a request)


class LeanNearby:
    def __init__(self, app: Flask) -> None:
        self._service: TravellerService = app.extensions["yurt.travellers"]
        self._verifier = verifier_of(app)
        self._limits = rate_limits(app)
        self._hooks = app.before_request_funcs
        self._installed_hooks = {key: list(funcs) for key, funcs in app.before_request_funcs.items()}
        self._fast = fast_load(NEARBY_QUERY)
        self._queries: dict[str, dict[str, Any]] = {}
        self._callers: dict[str, tuple[str, str]] = {}  # sub -> (rate-limit key, traveller id)

    def _query(self, query_string: str) -> dict[str, Any] | None:
        """The view's keyword arguments for this query string, or ``None`` where the view's path must load it."""
        kept = self._queries.get(query_string)
        if kept is not None:
            return kept
        query = self._fast.load_query(query_string)
        if query is not None:
            if len(self._queries) >= MAX_KEPT_QUERIES:
                self._queries.clear()
            self._queries[query_string] = query
        return query

    def _caller(self, principal: Principal) -> tuple[str, str]:
        """The caller's rate-limit key (``principal_key``, as ``check`` keys it) and pseudonym (as ``_tid``)."""
        kept = self._callers.get(principal.sub)
        if kept is None:
            if len(self._callers) >= MAX_KEPT_CALLERS:
                self._callers.clear()
            kept = self._callers[principal.sub] = (principal_key(principal),
                                                   self._service.traveller_id(principal.sub))
        return kept

    def __call__(self, environ: dict[str, Any]) -> LeanAnswer | None:
        header = environ.get("HTTP_AUTHORIZATION", "")
        # ``requires`` splits at the first space and strips the token; ``client_key`` takes what follows
        # "bearer ": for a header that starts so, both read this token.
        if header[:7].lower() != "bearer " or self._hooks != self._installed_hooks:
            return None
        principal = self._verifier.remembered(header[7:].strip())
        if principal is None or SCOPE not in principal.scopes:
            return None
        query = self._query(environ.get("QUERY_STRING", ""))
        if query is None:
            return None
        limits = self._limits
        environ[COUNTED_ENVIRON] = True
        try:
            key, tid = self._caller(principal)
            charge = limits.count_ahead(key)
            page = self._service.nearby(tid, query["radius_km"], query["limit"], query.get("cursor"), time.time(),
                                        charge, limits.settle)
        except Exception as exc:  # the view raises it (the problem, or the 500, come from Flask)
            environ[NEARBY_REFUSAL_ENVIRON] = exc
            return None
        headers = [("Content-Type", JSON), ("Content-Length", str(len(page))), ("Cache-Control", "no-store")]
        return "200 OK", headers, [page], NEARBY_RULE


def init_app(app: Flask) -> None:
    """Install the lean route; call it last in ``create_app``, once every request hook is registered."""
    front(app).lean[NEARBY_RULE] = LeanNearby(app)
