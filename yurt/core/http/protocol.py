"""Two HTTP/1.1 details that Flask and werkzeug leave loose: chunked bodies and ``OPTIONS``.

**Chunked request bodies are bounded like the others.** A body with ``Content-Length`` over
``YURT_MAX_BODY_BYTES`` is a 413. A chunked one (``Transfer-Encoding: chunked``, no length) was read by
werkzeug through a stream capped at the limit that stops *silently* there, so the view parsed a truncated
document: a 400 "malformed JSON" instead of a 413, and a body that happened to be valid JSON at the cut would
have been used. ``BoundedChunkedBody`` reads such a body before the app (at most the limit plus one byte) and
hands it on with a ``Content-Length``: werkzeug then treats it exactly as it treats a sized body, 413 included.
A malformed chunk raises gunicorn's own parse error out of the app, which ``yurt/core/http/gunicorn_worker.py`` answers
as a 400 problem (read inside a view, it was a 500).

**OPTIONS answers 204 with ``Allow``** (RFC 9110 §9.3.7), no body. Flask's automatic answer was a 200 with an
empty ``text/html`` body. CORS preflight headers are added to it by ``yurt.core.observability`` for configured
origins, as before.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response
from flask.globals import request_ctx

READ_CHUNK_BYTES = 64 * 1024


class YurtFlask(Flask):
    """Flask, with the default ``OPTIONS`` answer a 204 (Flask documents subclassing for this)."""

    def make_default_options_response(self) -> Response:
        adapter = request_ctx.url_adapter  # what Flask's own default reads
        methods = sorted(adapter.allowed_methods()) if adapter is not None else ["OPTIONS"]
        return Response(status=204, headers={"Allow": ", ".join(methods)})


class BoundedChunkedBody:
    """WSGI middleware: a body without ``Content-Length`` is read here, up to ``max_bytes`` + 1, and passed on
    with one, so the app's size limit sees its real size. Bodies with a length pass untouched (zero cost)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if "HTTP_TRANSFER_ENCODING" in environ and not environ.get("CONTENT_LENGTH"):
            body = _read_at_most(environ["wsgi.input"], self.max_bytes + 1)
            # Over the limit: the length says so (limit + 1) and werkzeug answers 413 when the app reads it.
            # The framing is gone, as behind a proxy that de-chunks: werkzeug ignores a length while the
            # request still says chunked.
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            del environ["HTTP_TRANSFER_ENCODING"]
        return self.app(environ, start_response)  # type: ignore[no-any-return]


def _read_at_most(stream: Any, limit: int) -> bytes:
    parts: list[bytes] = []
    remaining = limit
    while remaining > 0:
        part = stream.read(min(remaining, READ_CHUNK_BYTES))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def init_app(app: Flask, max_body_bytes: int) -> None:
    app.wsgi_app = BoundedChunkedBody(app.wsgi_app, max_body_bytes)  # type: ignore[method-assign]
