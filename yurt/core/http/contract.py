"""The HTTP contract of a view, declared once, in decorators beside it (in the manner of apifairy/flask-smorest).

A view states what it reads and answers; ``yurt.api.docs`` builds ``/openapi.json`` from these declarations
and from nothing else:

- the summary is the first sentence of the docstring, the rest of it the description;
- ``use_query(Schema())`` (``yurt.core.http.conventions``) parses and declares the query string;
- ``requires(scope)`` (``yurt.core.auth``) checks and declares the bearer token's scope (401, 403);
- ``body(Schema())`` declares the JSON body and, unless the view parses it itself, loads it into ``body=``
  (400 malformed, 413 too long, 415 not JSON, 422 invalid);
- ``response(Schema, status)`` declares a success answer (one per status), ``other_responses({409: "why"})`` the
  problems a view raises beyond the ones its declarations imply;
- ``revalidated()`` declares a GET that answers 304 to a matching ``If-None-Match``;
- ``precondition("mission")`` declares the ``If-Match`` a write needs (428 without a usable one, 412 stale).

The libraries themselves were not taken: both parse with webargs (other error bodies, 422 for a bad query) and
dump answers through the schema, where these views write pre-serialised bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from marshmallow import Schema

from yurt.core.http.conventions import JSON, load_body

F = TypeVar("F", bound=Callable[..., Any])

# What If-Match must look like: one strong entity tag (RFC 9110 §8.8.3), no list, no ``*``, not weak.
STRONG_ETAG_PATTERN = r'^"[\x21\x23-\x2B\x2D-\x7E]*"$'


@dataclass
class Reply:
    """One documented answer: a body schema (a marshmallow class, or a JSON Schema dict) or none."""

    description: str
    schema: type[Schema] | Schema | dict[str, Any] | None = None
    mimetype: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)  # header name → what it carries
    links: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # OpenAPI links: what to call next


@dataclass
class Contract:
    body: type[Schema] | Schema | dict[str, Any] | None = None
    body_required: bool = True
    body_mimetypes: tuple[str, ...] = (JSON,)
    replies: dict[tuple[int, str], Reply] = field(default_factory=dict)  # (status, mimetype) → answer
    errors: dict[int, str] = field(default_factory=dict)
    precondition: str | None = None  # whose ETag If-Match carries
    revalidated: bool = False  # answers 304 to a matching If-None-Match


def contract_of(view: Callable[..., Any]) -> Contract:
    """The view's contract, created on first use. Wrappers (``functools.wraps``) share it by reference."""
    found = view.__dict__.get("contract")
    if found is None:
        found = view.__dict__["contract"] = Contract()
    assert isinstance(found, Contract)
    return found


def resource_links(parameter: str, id_pointer: str, operations: Mapping[str, str], *,
                   if_match: bool = False) -> dict[str, Any]:
    """OpenAPI links from an answer that names a resource (its id at ``id_pointer`` in the body) to operations
    on it, ``{"Get": "<operationId>", ...}``; ``if_match``: writes send the answer's ``ETag`` as ``If-Match``."""
    links: dict[str, Any] = {}
    for name, operation_id in operations.items():
        parameters = {parameter: f"$response.body#{id_pointer}"}
        if if_match and operation_id.rsplit(".", 1)[1] in ("put", "patch", "delete"):
            parameters["header.If-Match"] = "$response.header.ETag"
        links[name] = {"operationId": operation_id, "parameters": parameters}
    return links


def body(schema: type[Schema] | Schema | dict[str, Any], *, load: bool = True, required: bool = True,
         mimetypes: tuple[str, ...] = (JSON,)) -> Callable[[F], F]:
    """Declare the JSON body. ``load``: parse it with ``schema`` and pass the result as ``body=`` (a view that
    parses it itself, e.g. a merge patch, says ``load=False``)."""

    def decorator(view: F) -> F:
        wrapped: Callable[..., Any] = view
        if load:
            loader = schema() if isinstance(schema, type) else schema
            assert isinstance(loader, Schema), "only a marshmallow schema can load a body"

            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return view(*args, body=load_body(loader), **kwargs)

            wrapped = wrapper
        declared = contract_of(wrapped)
        declared.body, declared.body_required, declared.body_mimetypes = schema, required, mimetypes
        return wrapped  # type: ignore[return-value]

    return decorator


def response(schema: type[Schema] | Schema | dict[str, Any] | None = None, status: int = 200, *,
             description: str = "OK", mimetype: str = JSON, headers: Mapping[str, str] | None = None,
             links: Mapping[str, Mapping[str, Any]] | None = None) -> Callable[[F], F]:
    """Declare a success answer (documentation only: the view writes it). ``links``: operations a client can
    call next with values from this answer (OpenAPI links; see ``edit_links``)."""

    def decorator(view: F) -> F:
        contract_of(view).replies[status, mimetype] = Reply(description, schema, mimetype, dict(headers or {}),
                                                            dict(links or {}))
        return view

    return decorator


def other_responses(described: Mapping[int, str]) -> Callable[[F], F]:
    """Declare problems the view raises beyond those its other declarations imply."""

    def decorator(view: F) -> F:
        contract_of(view).errors.update(described)
        return view

    return decorator


def precondition(whose: str) -> Callable[[F], F]:
    """Declare the ``If-Match`` the write needs: ``whose`` ETag (e.g. ``mission``)."""

    def decorator(view: F) -> F:
        contract_of(view).precondition = whose
        return view

    return decorator


def revalidated() -> Callable[[F], F]:
    """Declare a GET with an ETag that answers 304 Not Modified to a matching ``If-None-Match``."""

    def decorator(view: F) -> F:
        contract_of(view).revalidated = True
        return view

    return decorator
