"""Gunicorn workers whose own error answers are problem documents too.

Gunicorn refuses some requests before the app sees them: a request line longer than ``limit_request_line``
(414), more than ``limit_request_fields`` header fields or one longer than ``limit_request_field_size`` (431), a
malformed request line, method, HTTP version or header (400). Stock gunicorn writes those as an HTML page
(``Worker.handle_error`` → ``gunicorn.util.write_error``). These workers write the service's one error shape
instead: an RFC 9457 ``application/problem+json`` document from
``yurt.core.http.problems.problem_document``, with a fresh
``request_id`` (also in ``X-Request-ID`` and the log line), the security headers every response carries, and
``Connection: close``. Any other exception goes to gunicorn's own ``handle_error``.

Privacy: gunicorn's messages quote the offending request line or header, which can hold coordinates
(``GET /v1/missions/nearest?lat=…&lon=… HTTP/1.1 junk``); neither the detail nor the log line here quotes any
of the client's bytes.

``gunicorn.conf.py`` picks ``ProblemSyncWorker`` or, with ``GUNICORN_THREADS`` > 1, ``ProblemThreadWorker``.
Gunicorn loads the class in the master too, so this module imports nothing that builds the app.
"""

from __future__ import annotations

import os
from http import HTTPStatus
from typing import Any

import orjson
from gunicorn import util
from gunicorn.http import errors as gerrors
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

from yurt.core.http.problems import PROBLEM_MEDIA_TYPE, problem_document
from yurt.core.observability import API_CSP, SECURITY_HEADER_LIST

_MALFORMED_LINE = "the request line is not valid HTTP/1.1 (method SP request-target SP HTTP-version)"
_MALFORMED_HEADER = "a request header field is malformed or not allowed"
_MALFORMED_BODY = "the chunked request body is malformed"

# Exception → (status, detail): what gunicorn's own handle_error answers with, minus the quoted input. Checked in
# order: the response-header errors subclass the request-header ones but are the app's fault (gunicorn: 500),
# so they are left to gunicorn. ``None`` as detail: built from the limits in ``_limit_detail``.
_CLIENT_ERRORS: tuple[tuple[type[BaseException], int, str | None], ...] = (
    (gerrors.InvalidResponseHeader, 0, None),
    (gerrors.InvalidResponseHeaderName, 0, None),
    (gerrors.LimitRequestLine, 414, None),
    (gerrors.LimitRequestHeaders, 431, None),
    (gerrors.InvalidRequestLine, 400, _MALFORMED_LINE),
    (gerrors.InvalidRequestMethod, 400, "the request method is not a valid HTTP method token"),
    (gerrors.InvalidHTTPVersion, 400, "the request's HTTP version is not supported (HTTP/1.0 and HTTP/1.1 are)"),
    (gerrors.InvalidHeaderName, 400, _MALFORMED_HEADER),
    (gerrors.InvalidHeader, 400, _MALFORMED_HEADER),
    (gerrors.ObsoleteFolding, 400, "obsolete line folding in a header field is not accepted (RFC 9112 §5.2)"),
    (gerrors.InvalidSchemeHeaders, 400, "the request's forwarded-scheme headers contradict each other"),
    (gerrors.InvalidChunkSize, 400, _MALFORMED_BODY),
    (gerrors.ChunkMissingTerminator, 400, _MALFORMED_BODY),
    (gerrors.InvalidChunkExtension, 400, _MALFORMED_BODY),
    (gerrors.UnsupportedTransferCoding, 501, "the request's transfer coding is not supported (chunked is)"),
    (gerrors.ExpectationFailed, 417, "the request's Expect header cannot be met (100-continue can)"),
    (gerrors.InvalidProxyLine, 400, "the PROXY protocol line is malformed"),
    (gerrors.ForbiddenProxyRequest, 403, "PROXY protocol requests are not accepted from this address"),
    (gerrors.InvalidH2CPreface, 400, "the HTTP/2 connection preface is malformed"),
)


class ProblemErrorsMixin:
    """Overrides ``Worker.handle_error`` for the request errors above; put it before a gunicorn worker class."""

    log: Any  # the worker's, set by gunicorn's Worker
    cfg: Any

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        answer = self._problem_for(exc)
        if answer is None:
            super().handle_error(req, client, addr, exc)  # type: ignore[misc]
            return
        status, detail = answer
        request_id = os.urandom(12).hex()
        ip = addr[0] if addr else ""
        self.log.warning("Invalid request from ip=%s: %s %s: %s (request_id %s)",
                         ip, status, type(exc).__name__, detail, request_id)
        try:
            util.write_nonblock(client, problem_bytes(status, detail, request_id))
        except Exception:
            self.log.debug("Failed to send error message.")

    def _problem_for(self, exc: BaseException) -> tuple[int, str] | None:
        for cls, status, detail in _CLIENT_ERRORS:
            if isinstance(exc, cls):
                return (status, detail or self._limit_detail(exc)) if status else None
        return None

    def _limit_detail(self, exc: BaseException) -> str:
        cfg = self.cfg
        if isinstance(exc, gerrors.LimitRequestLine):
            return f"the request line is longer than this server accepts ({cfg.limit_request_line} bytes)"
        return ("the request's header fields are too many or too large (this server accepts "
                f"{cfg.limit_request_fields} fields of {cfg.limit_request_field_size} bytes each)")


def problem_bytes(status: int, detail: str, request_id: str) -> bytes:
    """A whole HTTP/1.1 response: the problem document, ``Connection: close`` and the usual headers."""
    body = orjson.dumps({**problem_document(status, detail), "request_id": request_id})
    headers = [("Date", util.http_date()), ("Connection", "close"), ("Content-Type", PROBLEM_MEDIA_TYPE),
               ("Content-Length", str(len(body))), ("Cache-Control", "no-store"), ("X-Request-ID", request_id),
               *SECURITY_HEADER_LIST, ("Content-Security-Policy", API_CSP)]
    head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
    return (head + "\r\n").encode("latin-1") + body


class ProblemSyncWorker(ProblemErrorsMixin, SyncWorker):  # type: ignore[misc]  # gunicorn has no types
    """gunicorn's sync worker (the default: one request at a time per process)."""


class ProblemThreadWorker(ProblemErrorsMixin, ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker (``GUNICORN_THREADS`` > 1)."""
