"""``/openapi.json`` generated from the marshmallow schemas, and ``/docs`` served with no internet.

The document is built once per app, from the views' own declarations (``yurt.api.openapi``).
Swagger UI's assets come from the ``swagger-ui-bundle`` package and are served locally, never from a CDN.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import swagger_ui_bundle
from flask import Blueprint, Response, current_app, send_from_directory

from yurt.api.openapi import build_spec
from yurt.core.http.conventions import json_response
from yurt.core.http.problems import Problem, problem_type_doc

bp = Blueprint("docs", __name__)

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
SWAGGER_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                           "favicon-32x32.png", "favicon-16x16.png"})


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 document of this service."""
    cached = current_app.extensions.get("yurt.openapi")
    if cached is None:
        cached = orjson.dumps(build_spec(current_app))
        current_app.extensions["yurt.openapi"] = cached
    return json_response(cached, mimetype="application/vnd.oai.openapi+json;version=3.0",
                         headers={"Cache-Control": "public, max-age=300"})


DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Yurt Geo API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/swagger-init.js"></script>
</body></html>
"""
DOCS_INIT_JS = """window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
"""
DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"


@bp.get("/problems/<slug>")
def problem_type(slug: str) -> Response:
    """What a problem ``type`` means (the types in every error document point here)."""
    doc = problem_type_doc(slug)
    if doc is None:
        raise Problem(404, f"no problem type {slug!r}")
    return json_response(doc, headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/docs")
def docs() -> Response:
    """Interactive API documentation (Swagger UI, served locally)."""
    return Response(DOCS_HTML, mimetype="text/html", headers={"Content-Security-Policy": DOCS_CSP})


@bp.get("/docs/static/swagger-init.js")
def swagger_init() -> Response:
    """Swagger UI start-up script."""
    return Response(DOCS_INIT_JS, mimetype="text/javascript")


@bp.get("/docs/static/<name>")
def swagger_asset(name: str) -> Response:
    """Swagger UI's own assets, from the swagger-ui-bundle package."""
    if name not in SWAGGER_FILES:
        raise Problem(404, f"no documentation asset {name!r}")
    return send_from_directory(SWAGGER_DIR, name, max_age=86400)
