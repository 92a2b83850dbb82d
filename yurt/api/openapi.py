"""The OpenAPI 3 document, built from the views' declarations alone (``yurt.core.http.contract``).

For each route of the URL map: the summary and description from the view's docstring, the path parameters from
the rule (``<int:…>`` is bounded, ``yurt.core.http.queries.BoundedIntConverter``), the query from ``use_query``, the
scope from ``requires``, the body, answers, extra problems and ``If-Match`` from the contract decorators. The
problems every declaration implies are added here, once: 400 for a query or a body, 404 for a path parameter,
401/403 for a scope, 413/415/422 for a body, 412/428 for ``If-Match``, 429 everywhere (the rate limit).
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from yurt.core.codes import ENUM_COMPONENTS
from yurt.core.http.contract import STRONG_ETAG_PATTERN, Contract
from yurt.core.http.conventions import MAX_JSON_DEPTH
from yurt.core.store_errors import MAX_ID
from yurt.missions.schemas.record import RESERVED_IDS, MissionFeatureSchema

# Tags in the order a reader needs them: the public answers first, operations last.
TAGS = (
    ("Missions", "Public: the missions, the nearest to a point, the one responsible for it."),
    ("Alerts", "Public: travel alerts in force and upcoming; staff publish and edit them."),
    ("OGC API Features", "The missions for GIS tools (OGC API – Features, Part 1: Core)."),
    ("Travellers", "Opt-in presence, compatriots nearby in bands, blocks, reports, trips (scope `traveller`)."),
    ("Meetups", "Public events at exact venues (scope `traveller`)."),
    ("Staff", "Editing missions and the dataset, audit, reports, console tools (scope `staff`)."),
    ("Operations", "Health, metrics, this document, the interactive docs and the staff console's files."),
)
_PUBLIC_TAGS = {"missions": "Missions", "nearest": "Missions", "alerts": "Alerts", "ogc": "OGC API Features"}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem: every error of this service, from every route.",
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
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

_RULE_ARG = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>")
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {"int": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                                            "path": {"type": "string", "pattern": "^[^/]"}}
# Path arguments restricted beyond their converter, by rule: at /v1/missions/<mission_id> a mission id is never
# one of the segments that name the endpoints beside it (GET /v1/missions/quality is the quality report).
_PATH_ARG_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("/v1/missions/<mission_id>", "mission_id"): {"type": "string", "not": {"enum": sorted(RESERVED_IDS)}},
}
_DOUBLE_BACKTICKS = re.compile(r"``([^`]+)``")
_SENTENCE_END = re.compile(r"(?<=[.:;])\s+(?=[A-Z(])")


def _tag(endpoint: str, scope: str | None) -> str:
    blueprint = endpoint.split(".", 1)[0]
    if scope == "staff":
        return "Staff"
    if scope == "traveller":
        return "Meetups" if blueprint == "meetups" else "Travellers"
    return _PUBLIC_TAGS.get(blueprint, "Operations")


def _texts(docstring: str | None, endpoint: str) -> tuple[str, str]:
    """(summary, description): the docstring's first sentence, and the rest; RST ``code`` becomes `code`."""
    text = _DOUBLE_BACKTICKS.sub(r"`\1`", (docstring or "").strip())
    if not text:
        raise ValueError(f"the view {endpoint} has no docstring: its first sentence is the OpenAPI summary")
    first, _, rest = text.partition("\n\n")
    first = " ".join(line.strip() for line in first.splitlines())
    summary, *more = _SENTENCE_END.split(first, maxsplit=1)
    rest_lines = " ".join(line.strip() for line in rest.splitlines()) if rest else ""
    return summary.rstrip(".:;"), " ".join(part for part in (*more, rest_lines) if part)


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": _PROBLEM}


def _content(schema: Any, mimetype: str) -> dict[str, Any]:
    return {mimetype: {"schema": schema}}


def _operation(endpoint: str, view: Any, rule_text: str, method: str) -> dict[str, Any]:
    declared: Contract = view.__dict__.get("contract") or Contract()
    scope: str | None = view.__dict__.get("required_scope")
    query = view.__dict__.get("query_schema")
    summary, description = _texts(view.__doc__, endpoint)
    path_args = _RULE_ARG.findall(rule_text)
    operation: dict[str, Any] = {
        "operationId": f"{endpoint}.{method}",
        "summary": summary,
        "tags": [_tag(endpoint, scope)],
        "parameters": [{"in": "path", "name": arg, "required": True,
                        "schema": _PATH_SCHEMAS.get(converter)
                        or _PATH_ARG_SCHEMAS.get((rule_text, arg), {"type": "string"})}
                       for converter, arg in path_args],
    }
    responses: dict[str, Any] = {}
    for (status, _), reply in sorted(declared.replies.items()):
        entry: dict[str, Any] = responses.setdefault(str(status), {"description": reply.description})
        if entry["description"] != reply.description:
            entry["description"] += f"; or {reply.description[0].lower()}{reply.description[1:]}"
        if reply.schema is not None:
            entry.setdefault("content", {}).update(_content(reply.schema, reply.mimetype))
        if reply.links:
            entry.setdefault("links", {}).update(reply.links)
        if reply.headers:
            entry["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                                for name, text in reply.headers.items()}
    if not responses:
        responses["204" if method == "delete" else "200"] = {"description": "Done; no body" if method == "delete"
                                                              else "OK"}
    implied: dict[int, str] = {429: "Over the rate limit; retry after `Retry-After` seconds"}
    if query is not None:
        operation["parameters"].append({"in": "query", "schema": query})
        implied[400] = "A query parameter is invalid, unknown or given twice; `errors` names each"
    if path_args:
        implied[404] = "Nothing has this identifier"
    if declared.body is not None:
        operation["requestBody"] = {"required": declared.body_required,
                                    "content": {m: {"schema": declared.body} for m in declared.body_mimetypes}}
        implied[400] = "Malformed JSON, not an object, or nested more than 32 levels deep"
        implied[413] = "The body is longer than `YURT_MAX_BODY_BYTES`"
        implied[415] = "The body is not JSON"
        implied[422] = "The body is invalid; `errors` names each field"
    if scope is not None:
        operation["security"] = [{"bearer": []}]
        operation["x-scope"] = scope
        description = f"Requires a bearer token with scope `{scope}`. {description}".strip()
        implied[401] = "No bearer token, or a bad, expired or too long-lived one"
        implied[403] = f"The token lacks the `{scope}` scope"
    if declared.precondition is not None:
        operation["parameters"].append({
            "in": "header", "name": "If-Match", "required": True,
            "schema": {"type": "string", "pattern": STRONG_ETAG_PATTERN},
            "description": f"The current strong ETag of the {declared.precondition} (RFC 9110 §13.1.1): one "
                           "quoted tag, not `*`, not weak, not a list."})
        implied[412] = (f"The {declared.precondition} changed since that ETag: the current ETag is in `ETag` "
                        "and in `current_etag`")
        implied[428] = "No usable If-Match: missing, `*`, weak or a list (RFC 6585 §3)"
    if declared.revalidated:
        operation["parameters"].append({
            "in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
            "description": "ETags the client holds, comma-separated, or `*` (RFC 9110 §13.1.2): 304 if one "
                           "matches (weak comparison)"})
        responses["304"] = {"description": "Not modified: the client's copy is current"}
        if "200" in responses:
            responses["200"].setdefault("headers", {})["ETag"] = {
                "description": "The strong ETag of this answer", "schema": {"type": "string"}}
    for status, text in sorted({**implied, **declared.errors}.items()):
        responses.setdefault(str(status), _problem(text))
    operation["responses"] = responses
    if description:
        operation["description"] = description
    return operation


def _one_of(converter: Any, field: Any, **_: Any) -> dict[str, Any]:
    """A field that is one of several shapes: ``metadata={"one_of_schemas": [SchemaClass or JSON Schema, ...]}``;
    a marshmallow class becomes a named component."""
    alternatives = field.metadata.get("one_of_schemas")
    if not alternatives:
        return {}
    shapes = [a if isinstance(a, dict) else converter.resolve_nested_schema(a) for a in alternatives]
    return shapes[0] if len(shapes) == 1 else {"oneOf": shapes}


def _enum_component(converter: Any, field: Any, ret: dict[str, Any], **_: Any) -> dict[str, Any]:
    """A value from a closed set named in ``ENUM_COMPONENTS``: a reference to that component."""
    name = field.metadata.get("enum_component")
    if name is None:
        return {}
    kept: dict[str, Any] = {k: ret[k] for k in ("description", "nullable") if k in ret}
    ret.clear()
    return {"allOf": [{"$ref": f"#/components/schemas/{name}"}], **kept} if kept else {
        "$ref": f"#/components/schemas/{name}"}


def _nullable_ref(converter: Any, field: Any, ret: dict[str, Any], **_: Any) -> dict[str, Any]:
    """A nullable nested schema: the named schema or null. apispec writes ``anyOf: [{type: object, nullable},
    {$ref}]``, whose first branch admits any object at all."""
    branches = ret.get("anyOf")
    null = {"type": "object", "nullable": True}
    if not (isinstance(branches, list) and len(branches) == 2 and null in branches):
        return {}
    (named,) = [b for b in branches if b != null]
    if "$ref" not in named:
        return {}
    del ret["anyOf"]
    return {"allOf": [named], "nullable": True}


def _unexploded(converter: Any, field: Any, **_: Any) -> dict[str, Any]:
    """A query parameter written as one comma-separated value (``codes=DE-BE,DE-BB``)."""
    return {"style": "form", "explode": False} if field.metadata.get("comma_separated") else {}


def build_spec(app: Flask) -> dict[str, Any]:
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="Yurt Geo",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[marshmallow],
        info={"description": "Kazakhstan's missions abroad, nearest and responsible posts, compatriots nearby. "
                             "Every error is an RFC 9457 application/problem+json document. A JSON request "
                             f"body may nest arrays and objects at most {MAX_JSON_DEPTH} levels deep (deeper: "
                             "400) and be at most YURT_MAX_BODY_BYTES long, chunked or not (longer: 413); "
                             f"integers in a URL lie within 0..{MAX_ID}."},
    )
    converter: Any = marshmallow.converter  # apispec's converter is untyped
    for attribute in (_one_of, _enum_component, _nullable_ref):
        converter.add_attribute_function(attribute)
    converter.add_parameter_attribute_function(_unexploded)
    for name, text in TAGS:
        spec.tag({"name": name, "description": text})
    spec.components.schema("MissionFeature", schema=MissionFeatureSchema)  # answers refer to it by name
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    for name, (description, values) in ENUM_COMPONENTS.items():
        spec.components.schema(name, {"type": "string", "description": description, "enum": sorted(values())})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.endpoint.startswith("docs.swagger"):
            continue
        view = app.view_functions[rule.endpoint]
        operations = {method.lower(): _operation(rule.endpoint, view, rule.rule, method.lower())
                      for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})}
        if operations:
            spec.path(path=_RULE_ARG.sub(r"{\2}", rule.rule), operations=operations)
    return spec.to_dict()
