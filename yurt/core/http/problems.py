"""One error shape for every failure: RFC 9457 ``application/problem+json``.

``problem()`` builds every error response in the service. ``Problem`` is raised by views and domain glue;
``register_error_handlers`` installs handlers on the *app* (routing 404s and 405s never reach a blueprint's
handlers) for ``Problem``, every ``HTTPException`` and any uncaught exception, which becomes a 500 problem with
no stack trace (the trace goes to the log with the request id).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from flask import Flask, Response, current_app, g
from werkzeug.exceptions import HTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
# A relative URI reference (RFC 9457 §3.1.1 allows it; it resolves against this server): /problems/<slug>
# answers with the type's title and status, so a client can look a type up without an outside domain.
PROBLEM_TYPE_BASE = "/problems/"

log = logging.getLogger("yurt.core.http.problems")

# Problem types of our own (slug → status, title), beside the one per HTTP status: a client can tell these
# conflicts apart from other 409s by ``type`` alone.
OWN_TYPES: dict[str, tuple[int, str]] = {
    "too-many-active-meetups": (409, "Too many active meetups"),
    "report-already-open": (409, "Report already open"),
}


def own_type(slug: str) -> tuple[str, str]:
    """``(type, title)`` of one of ``OWN_TYPES``, for ``Problem(type_=..., title=...)``."""
    return PROBLEM_TYPE_BASE + slug, OWN_TYPES[slug][1]


class Problem(Exception):
    """An error to be answered as a problem document.

    ``errors`` maps a field (query parameter, JSON pointer-ish path or ``feature[3].properties.id``) to a list of
    messages; ``headers`` are added to the response (``Retry-After``, ``ETag``); ``extra`` members are merged into
    the document (RFC 9457 §3.2 extension members).
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type_: str | None = None,
        title: str | None = None,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type_ = type_
        self.title = title
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers) if headers else {}
        self.extra = dict(extra) if extra else {}


def _slug(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")
    except ValueError:
        return "error"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_document(status: int, detail: str, *, type_: str | None = None,
                     title: str | None = None) -> dict[str, Any]:
    """The members every problem document starts with. Needs no request context: the gunicorn worker
    (``yurt/core/http/gunicorn_worker.py``) builds its answers to requests the app never sees with it too."""
    return {"type": type_ or PROBLEM_TYPE_BASE + _slug(status), "title": title or _title(status),
            "status": status, "detail": detail}


def problem(
    status: int,
    detail: str,
    *,
    type_: str | None = None,
    title: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """Build the one problem response. ``type`` defaults to a stable URI per status code."""
    body = problem_document(status, detail, type_=type_, title=title)
    if errors:
        body["errors"] = errors
    request_id = g.get("request_id") if g else None
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    response = Response(orjson.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_type_doc(slug: str) -> dict[str, Any] | None:
    """What ``/problems/<slug>`` answers: the status code and title behind a problem type."""
    if slug in OWN_TYPES:
        status_code, title = OWN_TYPES[slug]
        return {"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status_code}
    for status in HTTPStatus:
        if status.value >= 400 and _slug(status.value) == slug:
            return {"type": PROBLEM_TYPE_BASE + slug, "title": status.phrase, "status": status.value}
    return None


def _from_problem(exc: Problem) -> Response:
    return problem(exc.status, exc.detail, type_=exc.type_, title=exc.title, errors=exc.errors,
                   headers=exc.headers, extra=exc.extra)


def _from_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    detail = exc.description or _title(status)
    headers: dict[str, str] = {}
    if status == 405:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
    if status in (429, 503):
        # flask-limiter and werkzeug put Retry-After on the exception's own response or headers.
        source = exc.response.headers.items() if exc.response is not None else exc.get_headers()
        for name, value in source:
            if name.lower() == "retry-after":
                headers["Retry-After"] = value
    return problem(status, detail, headers=headers)


def _from_uncaught(exc: Exception) -> Response:
    log.exception("unhandled error: %s", type(exc).__name__)
    return problem(500, "The server could not answer this request; it has been logged.")


STORE_RETRY_AFTER_S = 5


_store_outage_logged_at = -math.inf


def _from_store_unavailable(exc: Exception) -> Response:
    # Fail closed: a write or a traveller read that needs the store answers 503 and says when to retry.
    # Logged once per outage-log interval per worker, not per request: an outage must not flood the log.
    global _store_outage_logged_at
    interval_s = current_app.extensions["yurt"].settings.redis_outage_log_interval_s
    now = time.monotonic()
    if now - _store_outage_logged_at >= interval_s:
        _store_outage_logged_at = now
        log.warning("store unavailable: %s", type(exc.__cause__ or exc).__name__)
    return problem(503, "storage is temporarily unavailable; retry shortly",
                   headers={"Retry-After": str(STORE_RETRY_AFTER_S)})


def register_error_handlers(app: Flask) -> None:
    from yurt.core.store_errors import StoreUnavailable

    app.register_error_handler(Problem, _from_problem)
    app.register_error_handler(StoreUnavailable, _from_store_unavailable)
    app.register_error_handler(HTTPException, _from_http_exception)
    app.register_error_handler(Exception, _from_uncaught)
