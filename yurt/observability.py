"""Request ids, structured JSON logs, the access log (with coordinates redacted) and response headers.

Privacy rule: coordinates never reach a log. The access log writes the path and the query string with the
values of ``lat``, ``lon`` (and ``bbox``, ``from``/``to`` are harmless) replaced by ``REDACTED``; request bodies
are never logged. Gunicorn's own access log is off (``gunicorn.conf.py``) because it would print raw query
strings.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from flask import Flask, Response, g, request

from yurt.settings import Settings

REDACTED_PARAMS = frozenset({"lat", "lon", "latitude", "longitude", "lng", "coords", "point"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-site",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADER_LIST = list(SECURITY_HEADERS.items())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("request_id", "method", "path", "query", "status", "duration_ms"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger("yurt")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(settings.log_level)
    root.propagate = False


def redact_query(query_string: str) -> str:
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return urlencode([(k, "REDACTED" if k.lower() in REDACTED_PARAMS else v) for k, v in pairs])


access_log = logging.getLogger("yurt.access")


def init_app(app: Flask, settings: Settings) -> None:
    cors_origins = frozenset(settings.cors_origins)

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        headers = response.headers
        if response.status_code in (204, 304):
            # No content, so no content type (RFC 9110 §8.3): Flask gives every Response text/html by default.
            headers.pop("Content-Type", None)
        headers["X-Request-ID"] = g.get("request_id", "")
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = API_CSP
        # One extend instead of a setdefault per header: werkzeug's header ops dominate a cheap request.
        headers.extend(SECURITY_HEADER_LIST)
        origin = request.headers.get("Origin")
        if cors_origins:
            # Whether Allow-Origin is sent depends on Origin, so every response says so, also those without
            # it: else a shared cache could hand an allowed origin a copy made for another one (Fetch
            # standard, "CORS protocol and HTTP caches").
            response.headers.add("Vary", "Origin")
        if origin and origin in cors_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = "ETag, X-Request-ID, X-Cache, Retry-After"
            if request.method == "OPTIONS":  # CORS preflight (Fetch standard, "CORS-preflight request")
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
                response.headers["Access-Control-Allow-Headers"] = (
                    "Authorization, Content-Type, If-Match, If-None-Match, X-Request-ID")
                response.headers["Access-Control-Max-Age"] = "600"
        if access_log.isEnabledFor(logging.INFO):
            started = g.get("started")
            access_log.info(
                "%s %s %s", request.method, request.path, response.status_code,
                extra={
                    "request_id": g.get("request_id"),
                    "method": request.method,
                    "path": request.path,
                    "query": redact_query(request.query_string.decode("latin-1")) or None,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3) if started else None,
                },
            )
        return response
