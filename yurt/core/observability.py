"""Request ids, structured JSON logs, the access log (with coordinates redacted) and response headers.

Privacy rule: coordinates never reach a log. The access log writes the path and the query string with every
value replaced by ``REDACTED`` except those of an allowlist of parameters that cannot carry a position
(``LOGGED_PARAMS``): an allowlist, because a denylist of ``lat``/``lon`` misses ``lat%20``, ``LAT``, ``bbox``
(a traveller's area query says where they are looking), and whatever a client invents. Request bodies are
never logged. Gunicorn's own access log is off (``gunicorn.conf.py``) because it would print raw query
strings.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from flask import Flask, Response, g, request

from yurt.core.settings import Settings

# Query parameters whose values are logged as sent: none can carry a position. Everything else is redacted.
LOGGED_PARAMS = frozenset({"country", "type", "service", "status", "q", "limit", "offset", "f", "open_now",
                           "radius_km", "before", "mission_id", "from", "to"})
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


# A query string of plain ``name=value`` pairs, all in characters that ``parse_qsl`` leaves as they are and
# ``urlencode`` writes back unchanged (letters, digits, ``_.~-``), values also with commas (written ``%2C``).
_PLAIN_PAIR = r"[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~,-]*"
_PLAIN_QUERY = re.compile(f"{_PLAIN_PAIR}(?:&{_PLAIN_PAIR})*")


def redact_query(query_string: str) -> str:
    if _PLAIN_QUERY.fullmatch(query_string):
        # What the general path below gives for such a string, without parsing and quoting (a tenth of a cheap
        # request went there); tests/test_observability.py compares the two.
        return "&".join(
            f"{k}={v.replace(',', '%2C')}" if k in LOGGED_PARAMS else f"{k}=REDACTED"
            for k, _, v in (pair.partition("=") for pair in query_string.split("&")))
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return urlencode([(k, v if k in LOGGED_PARAMS else "REDACTED") for k, v in pairs])


class _Clock:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` for a time, formatting the seconds part once per second, not per line."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def iso(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{int(now % 1 * 1000):03d}Z"


class AccessLog:
    """One JSON line per request, written with a single ``write(2)`` to stderr (atomic for lines under
    PIPE_BUF, so lines of concurrent workers never interleave). It bypasses ``logging`` on purpose: building a
    LogRecord and running a handler and formatter cost about 30 µs a request, as much as a whole mission read.
    The line has the same shape as every other log line (``JsonFormatter``)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._clock = _Clock()

    def write(self, method: str, path: str, query: str, status: int, request_id: str, duration_ms: float) -> None:
        entry = {
            "ts": self._clock.iso(time.time()),
            "level": "INFO",
            "logger": "yurt.access",
            "msg": f"{method} {path} {status}",
            "request_id": request_id,
            "method": method,
            "path": path,
            "query": redact_query(query) if query else None,
            "status": status,
            "duration_ms": round(duration_ms, 3),
        }
        with contextlib.suppress(OSError, ValueError):  # a closed stderr must never fail a request
            os.write(sys.stderr.fileno(), orjson.dumps(entry) + b"\n")


class StaticHeaders:
    """WSGI middleware: the security headers every response carries, added to the raw header list.

    Werkzeug's ``Headers`` validates every value on every set; on a cheap request that was a tenth of the
    time. Headers a view set itself (a page's own Content-Security-Policy) win. 204 and 304 answers carry no
    content type (RFC 9110 §8.3; Flask gives every Response one by default).
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.defaults = [*SECURITY_HEADER_LIST, ("Content-Security-Policy", API_CSP)]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            if status[:3] in ("204", "304"):
                headers[:] = [(n, v) for n, v in headers if n.lower() != "content-type"]
            headers.extend((n, v) for n, v in self.defaults if n.lower() not in present)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


# (endpoint rule or "unmatched", method, status, elapsed seconds): called once per request, after the response.
RequestObserver = Callable[[str, str, int, float], None]


def init_app(app: Flask, settings: Settings, observe_request: RequestObserver) -> None:
    """The request hooks: request id, CORS, the access log, and ``observe_request`` (the app factory hands in
    the metrics' observer: the core knows no app-wide HTTP module)."""
    cors_origins = frozenset(settings.cors_origins)
    access_log = AccessLog(enabled=settings.log_level in {"DEBUG", "INFO"})
    app.wsgi_app = StaticHeaders(app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def _start() -> None:
        incoming = request.environ.get("HTTP_X_REQUEST_ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else os.urandom(12).hex()
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        # One look-up of each context-local: through the proxies, every attribute read costs a context look-up.
        req, ctx_g = request._get_current_object(), g._get_current_object()  # type: ignore[attr-defined]
        headers = response.headers
        request_id = getattr(ctx_g, "request_id", "")
        headers["X-Request-ID"] = request_id
        if cors_origins:
            # Whether Allow-Origin is sent depends on Origin, so every response says so, also those without
            # it: else a shared cache could hand an allowed origin a copy made for another one (Fetch
            # standard, "CORS protocol and HTTP caches").
            headers.add("Vary", "Origin")
            origin = req.headers.get("Origin")
            if origin and origin in cors_origins:
                headers["Access-Control-Allow-Origin"] = origin
                headers["Access-Control-Expose-Headers"] = "ETag, X-Request-ID, X-Cache, Retry-After"
                if req.method == "OPTIONS":  # CORS preflight (Fetch standard, "CORS-preflight request")
                    headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
                    headers["Access-Control-Allow-Headers"] = (
                        "Authorization, Content-Type, If-Match, If-None-Match, X-Request-ID")
                    headers["Access-Control-Max-Age"] = "600"
        started = getattr(ctx_g, "started", None)
        if started is not None:
            elapsed_s = time.perf_counter() - started
            rule = req.url_rule
            status = response.status_code
            observe_request(rule.rule if rule is not None else "unmatched", req.method, status, elapsed_s)
            if access_log.enabled:
                access_log.write(req.method, req.path, req.environ.get("QUERY_STRING", ""), status, request_id,
                                 elapsed_s * 1000)
        return response
