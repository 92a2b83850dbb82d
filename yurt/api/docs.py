"""``/openapi.json`` generated from the marshmallow schemas, and ``/docs`` served with no internet.

The document is built once per app from the URL map: each view's docstring gives the summary, the schema that
``use_query`` attached gives the parameters, ``REQUEST_BODIES``/``RESPONSES`` name the body schemas.
Swagger UI's assets come from the ``swagger-ui-bundle`` package and are served locally, never from a CDN.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import swagger_ui_bundle
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response, current_app, send_from_directory
from marshmallow import Schema

from yurt.api.answer_schemas import (
    CountryMissionSchema,
    NearestAnswerSchema,
    NearestResultSchema,
    ResponsibleAnswerSchema,
    ResponsibleMissionSchema,
)
from yurt.api.conventions import MAX_JSON_DEPTH, json_response
from yurt.errors import Problem, problem_type_doc
from yurt.schemas import DatasetMetaSchema, DatedSourceSchema, MissionFeatureSchema
from yurt.storage.base import MAX_ID

bp = Blueprint("docs", __name__)

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
SWAGGER_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                           "favicon-32x32.png", "favicon-16x16.png"})

# Extra documentation that decorators cannot carry: request bodies and security, by endpoint name.
REQUEST_BODIES: dict[str, type[Schema] | dict[str, Any]] = {}
OPTIONAL_BODIES: set[str] = set()  # of REQUEST_BODIES, those a request may leave out
EXTRA_RESPONSES: dict[str, dict[str, str]] = {}  # "<endpoint>.<method>" → status → description (a problem)
SECURED: dict[str, str] = {}  # endpoint → required scope
PRECONDITIONS: set[str] = set()  # endpoints that need If-Match (optimistic concurrency): 428 without, 412 stale
# Documented 200 bodies, by "<endpoint>.<method>": what clients (and schemathesis) check responses against.
RESPONSES: dict[str, dict[str, Any]] = {
    "missions.list_missions.get": {"application/geo+json": {"schema": {
        "type": "object", "required": ["type", "features"],
        "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                       "features": {"type": "array", "items": {"$ref": "#/components/schemas/MissionFeature"}}}}}},
    "missions.get_mission.get": {"application/geo+json": {"schema": {
        "$ref": "#/components/schemas/MissionFeature"}}},
    "nearest.nearest.get": {"application/json": {"schema": {"$ref": "#/components/schemas/NearestAnswer"}}},
    "nearest.responsible_mission.get": {"application/json": {"schema": {
        "$ref": "#/components/schemas/ResponsibleAnswer"}}},
}

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "request_id": {"type": "string"},
    },
    "additionalProperties": True,
}

_RULE_ARG = re.compile(r"<(?:([a-z]+):)?([a-z_]+)>")
# Path parameters by converter: <int:…> is yurt.api.queries.BoundedIntConverter (canonical digits, 0..MAX_ID).
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {"int": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}


def build_spec(app: Flask) -> dict[str, Any]:
    spec = APISpec(
        title="Yurt Geo",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Kazakhstan's missions abroad, nearest and responsible posts, compatriots nearby. "
                             "Every error is an RFC 9457 application/problem+json document. A JSON request "
                             f"body may nest arrays and objects at most {MAX_JSON_DEPTH} levels deep (deeper: "
                             "400) and be at most YURT_MAX_BODY_BYTES long, chunked or not (longer: 413); "
                             f"integers in a URL lie within 0..{MAX_ID}."},
    )
    spec.components.schema("MissionFeature", schema=MissionFeatureSchema)
    spec.components.schema("DatasetMeta", schema=DatasetMetaSchema)
    spec.components.schema("DatedSource", schema=DatedSourceSchema)
    spec.components.schema("NearestResult", schema=NearestResultSchema)
    spec.components.schema("NearestAnswer", schema=NearestAnswerSchema)
    spec.components.schema("ResponsibleMission", schema=ResponsibleMissionSchema)
    spec.components.schema("CountryMission", schema=CountryMissionSchema)
    spec.components.schema("ResponsibleAnswer", schema=ResponsibleAnswerSchema)
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    problem_ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.endpoint.startswith("docs.swagger"):
            continue
        view = app.view_functions[rule.endpoint]
        path = _RULE_ARG.sub(r"{\2}", rule.rule)
        operations: dict[str, Any] = {}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            doc = (view.__doc__ or rule.endpoint).strip().splitlines()
            operation: dict[str, Any] = {
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "summary": doc[0],
                "tags": [rule.endpoint.split(".")[0]],
                "parameters": [{"in": "path", "name": arg, "required": True,
                                "schema": _PATH_SCHEMAS.get(converter, {"type": "string"})}
                               for converter, arg in _RULE_ARG.findall(rule.rule)],
                "responses": {
                    "200": {"description": "OK"},
                    "400": {"description": "Bad request", "content": problem_ref},
                    "default": {"description": "Error", "content": problem_ref},
                },
            }
            query_schema = getattr(view, "query_schema", None)
            if query_schema is not None:
                operation["parameters"].append({"in": "query", "schema": query_schema})
            if method == "DELETE":
                operation["responses"]["204"] = {"description": "Done; no body"}
            documented = RESPONSES.get(f"{rule.endpoint}.{method.lower()}")
            if documented is not None:
                operation["responses"]["200"] = {"description": "OK", "content": documented}
            if rule.endpoint in PRECONDITIONS:
                operation["parameters"].append({
                    "in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
                    "description": "The current strong ETag of what this request changes (RFC 9110 §13.1.1)."})
                operation["responses"]["412"] = {"description": "Stale If-Match; the current ETag is in ETag",
                                                 "content": problem_ref}
                operation["responses"]["428"] = {"description": "No usable If-Match", "content": problem_ref}
            body = REQUEST_BODIES.get(f"{rule.endpoint}.{method.lower()}")
            if body is not None:
                operation["requestBody"] = {"required": f"{rule.endpoint}.{method.lower()}" not in OPTIONAL_BODIES,
                                            "content": {"application/json": {"schema": body}}}
            for status, description in EXTRA_RESPONSES.get(f"{rule.endpoint}.{method.lower()}", {}).items():
                content = {} if status == "204" else {"content": problem_ref}  # 204 has no body
                operation["responses"][status] = {"description": description, **content}
            scope = SECURED.get(rule.endpoint)
            if scope:
                operation["security"] = [{"bearer": []}]
                operation["description"] = f"Requires a bearer token with scope `{scope}`."
                operation["responses"]["401"] = {"description": "No or bad token", "content": problem_ref}
                operation["responses"]["403"] = {"description": "Wrong scope", "content": problem_ref}
            operations[method.lower()] = operation
        if operations:
            spec.path(path=path, operations=operations)
    return spec.to_dict()


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
