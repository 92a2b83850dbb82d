"""Request ids, structured JSON logs, the access log (with coordinates redacted) and response headers.

Privacy rule: coordinates never reach a log. The access log writes the path and the query string with every
value replaced by ``REDACTED`` except those of an allowlist of parameters that cannot carry a position
(``LOGGED_PARAMS``): an allowlist, because a denylist of ``lat``/``lon`` misses ``lat%20``, ``LAT``, ``bbox``
(a traveller's area query says where they are looking), and whatever a client invents. Request bodies are
never logged. Gunicorn's own access log is off (``gunicorn.conf.py``) because it would print raw query
strings.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, cast
from urllib.parse import parse_qsl, quote, urlencode

import orjson
from flask import Flask

from yurt.core.settings import Settings

# Query parameters whose values are logged as sent: none can carry a position. Everything else is redacted.
LOGGED_PARAMS = frozenset({"country", "type", "service", "status", "q", "limit", "offset", "f", "open_now",
                           "radius_km", "before", "mission_id", "from", "to"})
# Where ``Front`` keeps the request's id in the WSGI environ (``yurt.core.http.problems`` puts it in every problem).
REQUEST_ID_ENVIRON = "yurt.request_id"
# The matched route rule (``/v1/missions/<mission_id>``), left in the environ by ``yurt.core.http.protocol`` for
# the metrics: Flask clears ``environ["werkzeug.request"]`` when its context ends.
RULE_ENVIRON = "yurt.url_rule"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
_ASCII = "".join(map(chr, range(128)))  # kept as they are by ``ascii_query``

log = logging.getLogger("yurt.front")

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
        # request went there); tests/missions/test_query_fast_load.py compares the two.
        return "&".join(
            f"{k}={v.replace(',', '%2C')}" if k in LOGGED_PARAMS else f"{k}=REDACTED"
            for k, _, v in (pair.partition("=") for pair in query_string.split("&")))
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return urlencode([(k, v if k in LOGGED_PARAMS else "REDACTED") for k, v in pairs])


# ``.mmmZ`` for every millisecond count (1000 too, as ``f"{1000:03d}"`` would write it): a list index instead of
# formatting a number per line.
_MILLIS = [f".{ms:03d}Z" for ms in range(1001)]


class _Clock:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` for a time, formatting the seconds part once per second, not per line. The
    second and its text are kept as one tuple, so a thread never pairs one second with another's text."""

    def __init__(self) -> None:
        self._stamp = (-1, "")

    def iso(self, now: float) -> str:
        second = int(now)
        stamp = self._stamp
        if stamp[0] != second:
            stamp = self._stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return stamp[1] + _MILLIS[int(now % 1 * 1000)]


class AccessLog:
    """One JSON line per request, written with a single ``write(2)`` to stderr (atomic for lines under
    PIPE_BUF, so lines of concurrent workers never interleave). It bypasses ``logging`` on purpose: building a
    LogRecord and running a handler and formatter cost about 30 µs a request, as much as a whole mission read.
    The line has the same shape as every other log line (``JsonFormatter``)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._clock = _Clock()

    def write(self, method: str, path: str, query: str, status: int, request_id: str, duration_ms: float) -> None:
        """``duration_ms`` is written rounded to the microsecond, as ``round(duration_ms, 3)`` would (the nearest
        float to a whole number of microseconds; ``round`` with digits goes through decimal strings, a tenth of
        this line's cost)."""
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
            "duration_ms": int(duration_ms * 1000 + 0.5) / 1000,
        }
        try:  # noqa: SIM105 (contextlib.suppress costs a tenth of this line) a closed stderr must never fail a request
            os.write(sys.stderr.fileno(), orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))
        except (OSError, ValueError):
            pass


# (endpoint rule or "unmatched", method, status, elapsed seconds): called once per request, after the response.
RequestObserver = Callable[[str, str, int, float], None]
# What a lean route answers: status line, headers, body, and the route rule that labels its metrics.
LeanAnswer = tuple[str, list[tuple[str, str]], list[bytes], str]
LeanRoute = Callable[[dict[str, Any]], LeanAnswer | None]


class Front:
    """WSGI middleware around the Flask app: what every request gets, at the cost of a few dict look-ups.

    - a request id (the client's ``X-Request-ID`` if it is well formed, else a fresh one) in the environ
      (``REQUEST_ID_ENVIRON``, read by ``yurt.core.http.problems`` for problem documents) and in ``X-Request-ID``;
    - the security headers, added to the raw header list: werkzeug's ``Headers`` validates every value on every
      set, a tenth of a cheap request. Headers a view set itself (a page's own Content-Security-Policy) win.
      204 and 304 answers carry no content type (RFC 9110 §8.3; Flask gives every Response one by default);
    - CORS headers for the configured origins;
    - the request's latency in the metrics (labelled by route rule) and its access-log line.

    This was two Flask hooks and a middleware; one pass here costs a fraction of Flask's hook machinery.

    **Lean routes.** A few answers are pre-built per dataset version and asked for far more often than any other:
    the phone's revalidation of the whole collection (``If-None-Match`` → 304) and the collection itself. A lean
    route answers a ``GET`` of its path here, without building Flask's request, context and
    response; it answers ``None`` to leave the request to Flask (anything unusual, a refusal, an error), so
    every problem still comes from the one place. It counts the rate limit itself
    (``RateLimits.admit_anonymous_read``, or ``count_ahead`` for a verified caller). Lean routes:
    ``yurt.missions.http.missions.LeanCollection`` (the collection and its filtered views),
    ``yurt.missions.http.lean_answers`` (nearest, responsible) and ``yurt.travellers.http.lean_nearby`` (nearby).
    """

    def __init__(self, app: Any, *, cors_origins: frozenset[str], access_log: AccessLog,
                 observe_request: RequestObserver) -> None:
        self.app = app
        self.cors_origins = cors_origins
        self.access_log = access_log
        self.observe = observe_request
        self.defaults = [*SECURITY_HEADER_LIST, ("Content-Security-Policy", API_CSP)]
        self._default_names = frozenset(name.lower() for name, _ in self.defaults)
        self.lean: dict[str, LeanRoute] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else os.urandom(12).hex()
        environ[REQUEST_ID_ENVIRON] = request_id
        query = environ.get("QUERY_STRING")
        if query and not query.isascii():
            environ["QUERY_STRING"] = ascii_query(query)
        answer = None
        if self.lean and environ.get("REQUEST_METHOD") == "GET":
            route = self.lean.get(environ.get("PATH_INFO", ""))
            if route is not None:
                try:
                    answer = route(environ)
                except Exception:  # a bug in the lean route: logged, and Flask's path answers the request
                    log.exception("lean route %s failed; Flask answers", environ.get("PATH_INFO"))
                    answer = None
        if answer is not None:
            status, headers, body, rule = answer
            self._add_headers(status, headers, environ, request_id)
            start_response(status, headers)
        else:
            statuses: list[str] = []

            def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                statuses.append(status)
                self._add_headers(status, headers, environ, request_id)
                return start_response(status, headers, exc_info)

            body = self.app(environ, start)
            if not statuses:  # a streamed body starts the response when iterated: nothing here to observe
                return body
            status = statuses[-1]
            rule = environ.get(RULE_ENVIRON, "unmatched")
        elapsed_s = time.perf_counter() - started
        method = environ.get("REQUEST_METHOD", "GET").upper()
        code = int(status[:3])
        self.observe(rule, method, code, elapsed_s)
        if self.access_log.enabled:
            self.access_log.write(method, _path(environ), environ.get("QUERY_STRING", ""), code, request_id,
                                  elapsed_s * 1000)
        return body

    def _add_headers(self, status: str, headers: list[tuple[str, str]], environ: dict[str, Any],
                     request_id: str) -> None:
        present = {name.lower() for name, _ in headers}
        if status[:3] in ("204", "304") and "content-type" in present:
            headers[:] = [(n, v) for n, v in headers if n.lower() != "content-type"]
        headers.append(("X-Request-ID", request_id))
        if self.cors_origins:
            # Whether Allow-Origin is sent depends on Origin, so every response says so, also those without
            # it: else a shared cache could hand an allowed origin a copy made for another one (Fetch
            # standard, "CORS protocol and HTTP caches").
            headers.append(("Vary", "Origin"))
            origin = environ.get("HTTP_ORIGIN")
            if origin and origin in self.cors_origins:
                headers.append(("Access-Control-Allow-Origin", origin))
                headers.append(("Access-Control-Expose-Headers", "ETag, X-Request-ID, X-Cache, Retry-After"))
                if environ.get("REQUEST_METHOD") == "OPTIONS":  # CORS preflight (Fetch, "CORS-preflight request")
                    headers.append(("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE"))
                    headers.append(("Access-Control-Allow-Headers",
                                    "Authorization, Content-Type, If-Match, If-None-Match, X-Request-ID"))
                    headers.append(("Access-Control-Max-Age", "600"))
        if present.isdisjoint(self._default_names):  # the usual case: no view set one of them
            headers.extend(self.defaults)
        else:
            headers.extend((n, v) for n, v in self.defaults if n.lower() not in present)


def ascii_query(query: str) -> str:
    """A raw query string with its non-ASCII bytes percent-encoded: the same parameters for valid UTF-8, and no
    500 for invalid UTF-8.

    The environ holds the request's raw bytes as latin-1 (PEP 3333); werkzeug decodes them as UTF-8 before
    parsing and raised ``UnicodeDecodeError`` on a stray byte such as 0xFF: a 500 from every endpoint. Encoded as
    ``%FF``, a valid UTF-8 sequence still decodes to the same text (percent-decoding happens after splitting, so
    an encoded ``&`` or ``=`` cannot appear: these are ASCII and kept), and an invalid one stays percent-encoded
    in the value (werkzeug's documented ``url_quote`` error handling), which the query's schema then refuses
    with a 400 like any other bad value.
    """
    try:
        raw = query.encode("latin-1")
    except UnicodeEncodeError:  # not a server's environ (a test client's str beyond latin-1): its UTF-8 bytes
        raw = query.encode("utf-8", errors="surrogateescape")
    return quote(raw, safe=_ASCII)


def _path(environ: dict[str, Any]) -> str:
    """``request.path`` as werkzeug makes it: PATH_INFO decoded as UTF-8 (replacing bad bytes), one leading /."""
    raw: str = environ.get("PATH_INFO", "")
    path = raw if raw.isascii() else raw.encode("latin-1").decode(errors="replace")
    return "/" + path.lstrip("/")


def request_id_of(environ: Mapping[str, Any]) -> str:
    return str(environ.get(REQUEST_ID_ENVIRON, ""))


def front(app: Flask) -> Front:
    return cast(Front, app.extensions["yurt.front"])


def init_app(app: Flask, settings: Settings, observe_request: RequestObserver) -> Front:
    """Wrap the app in the ``Front``; ``observe_request`` is the metrics' observer (the app factory hands it in:
    the core knows no app-wide HTTP module)."""
    access_log = AccessLog(enabled=settings.log_level in {"DEBUG", "INFO"})
    wrapped = Front(app.wsgi_app, cors_origins=frozenset(settings.cors_origins), access_log=access_log,
                    observe_request=observe_request)
    app.wsgi_app = wrapped  # type: ignore[method-assign]
    app.extensions["yurt.front"] = wrapped
    return wrapped
