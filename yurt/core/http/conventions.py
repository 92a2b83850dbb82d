"""HTTP conventions shared by every blueprint: JSON bodies, query/body parsing into problems, ETags, gzip.

Query strings and JSON bodies are parsed with marshmallow schemas (the same ones ``/openapi.json`` documents),
so the documentation and the validation cannot drift apart. Any parsing failure is a 400 problem whose
``errors`` name each parameter; unknown parameters are errors too (OGC API Features /req/core/query-param-
unknown), so a misspelt ``limt=`` is not silently ignored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qsl

import orjson
from flask import Response, request
from marshmallow import RAISE, Schema, ValidationError, missing
from werkzeug import urls as _werkzeug_urls  # noqa: F401  registers the "werkzeug.url_quote" error handler

from yurt.core.field_errors import field_errors
from yurt.core.http.problems import Problem

P = ParamSpec("P")
R = TypeVar("R")

JSON = "application/json"
GEOJSON = "application/geo+json"

# How deeply arrays and objects may nest in a request body. The deepest real body, a bulk replace
# (collection → features → feature → properties → phones → phone), nests 6; the view code that walks a body
# (merge patch, marshmallow, orjson.dumps with its own limit of 254) recurses once per level, and a body nested
# about 990 deep hit Python's recursion limit: a 500. Deeper than this is a 400 before any code walks it.
MAX_JSON_DEPTH = 32


def json_response(
    body: Any, status: int = 200, *, mimetype: str = JSON, headers: Mapping[str, str] | None = None
) -> Response:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    response = Response(data, status=status, mimetype=mimetype)
    if headers:
        response.headers.update(headers)
    return response


def query_pairs(query_string: str) -> dict[str, list[str]]:
    """The values of a WSGI ``QUERY_STRING`` by name, in order: what ``request.args`` holds (werkzeug parses it
    exactly so: ``parse_qsl``, blank values kept, invalid UTF-8 left percent-encoded), without its MultiDict."""
    out: dict[str, list[str]] = {}
    if query_string:
        if not query_string.isascii():  # the environ holds the raw bytes as latin-1; werkzeug reads them as UTF-8
            query_string = query_string.encode("latin-1").decode()
        for key, value in parse_qsl(query_string, keep_blank_values=True, errors="werkzeug.url_quote"):
            values = out.get(key)
            if values is None:
                out[key] = [value]
            else:
                values.append(value)
    return out


def _args_as_dict(schema: Schema) -> dict[str, Any]:
    lists = fast_load(schema).lists
    out: dict[str, Any] = {}
    for key, values in query_pairs(request.environ.get("QUERY_STRING", "")).items():
        is_list = key in lists
        if len(values) > 1 and not is_list:
            raise Problem(400, f"query parameter {key!r} given more than once", errors={key: ["given twice"]})
        out[key] = values if is_list else values[0]
    return out


class FastLoad:
    """``schema.load`` for a flat query schema, minus marshmallow's per-call machinery (error store, partial
    and hook bookkeeping, a closure per field): a quarter of a ``nearest`` view went there.

    Each field still deserialises and validates itself (``Field.deserialize``: the same conversions,
    validators, defaults). Anything this path does not handle exactly as ``Schema.load`` does — a schema with
    hooks (``pre_load``, ``validates``, ``validates_schema``, ``post_load``), ``many``/``partial``, a dotted
    attribute, an unknown parameter, any field error — answers ``None``, and the caller runs ``Schema.load``
    itself, so every 400 and its messages come from marshmallow as before.
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.usable = (not any(schema._hooks.values()) and not schema.many and not schema.partial
                       and schema.unknown == RAISE
                       and not any("." in (f.attribute or name) for name, f in schema.load_fields.items()))
        self.fields = [(f.data_key if f.data_key is not None else name, f.attribute or name, f)
                       for name, f in schema.load_fields.items()]
        self.known = frozenset(key for key, _, _ in self.fields)
        # Parameters that may repeat (``List`` fields; matched by class name as before).
        self.lists = frozenset(key for key, _, f in self.fields if f.__class__.__name__ == "List")
        # What an absent optional parameter loads as, when that is a constant: ``Field.deserialize`` answers
        # ``load_default`` itself for ``missing`` (no validation runs on it), so it need not be asked.
        self.absent = {key: f.load_default for key, _, f in self.fields
                       if not f.required and not callable(f.load_default)}

    def load(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if not self.usable or not self.known.issuperset(data):
            return None
        out: dict[str, Any] = {}
        absent = self.absent
        for key, attribute, field in self.fields:
            if key not in data and key in absent:
                value = absent[key]
            else:
                try:
                    value = field.deserialize(data.get(key, missing), key, data)
                except ValidationError:
                    return None
            if value is not missing:
                out[attribute] = value
        return out

    def load_query(self, query_string: str) -> dict[str, Any] | None:
        """``load`` of a raw WSGI query string, for the lean routes: ``None`` (the view's path loads it and names
        the problem) also for a parameter given twice that is not a list."""
        data: dict[str, Any] = {}
        for key, values in query_pairs(query_string).items():
            is_list = key in self.lists
            if len(values) > 1 and not is_list:
                return None
            data[key] = values if is_list else values[0]
        return self.load(data)


_FAST_LOADS: dict[int, FastLoad] = {}


def fast_load(schema: Schema) -> FastLoad:
    found = _FAST_LOADS.get(id(schema))
    if found is None or found.schema is not schema:  # the FastLoad keeps its schema alive: ids stay unique
        found = _FAST_LOADS[id(schema)] = FastLoad(schema)
    return found


def parse_query(schema: Schema) -> dict[str, Any]:
    data = _args_as_dict(schema)
    fast = fast_load(schema).load(data)
    if fast is not None:
        return fast
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        raise Problem(400, "invalid query parameters: " + ", ".join(sorted(map(str, exc.messages_dict))),
                      errors=field_errors(exc.messages_dict)) from None
    return loaded


def use_query(schema: Schema) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a view: parsed, validated query parameters arrive as keyword arguments."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            kwargs.update(parse_query(schema))
            return view(*args, **kwargs)

        wrapper.__dict__["query_schema"] = schema  # read by the OpenAPI builder
        return wrapper

    return decorator


def json_body() -> Any:
    """The request's JSON body: 415 for another content type, 400 for malformed JSON, never a 500."""
    mimetype = request.mimetype
    if mimetype not in {JSON, GEOJSON, "application/merge-patch+json"}:
        raise Problem(415, f"expected a JSON body (application/json), got {mimetype or 'no content type'!r}")
    data = request.get_data(cache=True)
    if not data:
        raise Problem(400, "the request body is empty; a JSON document is required")
    try:
        value = orjson.loads(data)  # parses without Python recursion; refuses past 1,024 levels itself
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            raise _too_deep() from None
        raise Problem(400, f"malformed JSON: {exc}") from None
    if _nested_deeper_than(value, MAX_JSON_DEPTH):
        raise _too_deep()
    return value


def _too_deep() -> Problem:
    return Problem(400, f"the JSON body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep",
                   errors={"$": [f"nested more than {MAX_JSON_DEPTH} levels"]})


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays/objects in ``value`` nest more than ``limit`` levels (``{}`` is 1, ``[[1]]`` is 2).

    Iterative, with an explicit stack: the check itself must not recurse. Visits each container once."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def load_body(schema: Schema, body: Any | None = None) -> dict[str, Any]:
    raw = json_body() if body is None else body
    if not isinstance(raw, dict):
        raise Problem(400, "the body must be a JSON object", errors={"$": ["expected an object"]})
    try:
        loaded: dict[str, Any] = schema.load(raw)
    except ValidationError as exc:
        raise Problem(422, "the body is invalid: " + ", ".join(sorted(map(str, exc.messages_dict))),
                      errors=field_errors(exc.messages_dict)) from None
    return loaded


def etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2 If-None-Match: weak comparison over a list, or ``*``."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def conditional(
    etag: str, body: bytes, *, gzipped: bytes | None = None, mimetype: str = JSON, cache_control: str
) -> Response:
    """Answer a GET with its ETag: 304 when the client has it, gzip when asked and available."""
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if etag_matches(request.headers.get("If-None-Match"), etag):
        return Response(status=304, headers=headers)
    if gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        response = Response(gzipped, mimetype=mimetype, headers=headers)
        response.headers["Content-Encoding"] = "gzip"
        return response
    return Response(body, mimetype=mimetype, headers=headers)
