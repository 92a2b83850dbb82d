"""Staff request bodies and preconditions turned into data or into problems with field paths.

``field_errors`` flattens marshmallow's nested messages to paths such as ``properties.phones[0].number`` (and
``features[3].properties.email`` for a bulk replace), so a client can put each message next to its field.
``required_etag`` enforces RFC 9110 §13.1.1 for lost-update protection: exactly one strong ETag, else 428
(RFC 6585 §3); ``stale`` is the 412 that carries the current ETag and record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import request
from marshmallow import ValidationError

from yurt.dataset import DatasetError, parse_feature
from yurt.errors import Problem
from yurt.services import services
from yurt.storage.base import StalePrecondition

_FEATURE_PATH = re.compile(r"^(features\[\d+\]) \(.*\)$")


def field_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested messages into ``{"properties.phones[0].number": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix or "$"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for sub_path, sub_messages in field_errors(value, path).items():
                out.setdefault(sub_path, []).extend(sub_messages)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "$"] = list(messages)
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            out.update(field_errors(value, f"{prefix}[{i}]"))
    else:
        out[prefix or "$"] = [str(messages)]
    return out


def invalid(exc: ValidationError) -> Problem:
    errors = field_errors(exc.messages)
    return Problem(422, "the mission is invalid: " + ", ".join(sorted(errors)), errors=errors)


def feature_from(raw: Any) -> dict[str, Any]:
    try:
        return parse_feature(raw, services().locator.timezone_at)
    except ValidationError as exc:
        raise invalid(exc) from None


def collection_problem(exc: DatasetError) -> Problem:
    errors: dict[str, list[str]] = {}
    for path, messages in exc.errors.items():
        match = _FEATURE_PATH.match(path)  # "features[3] (kz-x)" → "features[3]"; the id is in the detail
        errors.update(field_errors(messages, match.group(1) if match else path))
    return Problem(422, str(exc.args[0]), errors=errors)


def required_etag(what: str) -> str:
    header = (request.headers.get("If-Match") or "").strip()
    if not header:
        raise Problem(428, f"this write needs If-Match with the {what} ETag, so it cannot overwrite a change "
                           "you have not seen", errors={"If-Match": ["missing"]})
    if header == "*" or "," in header or header.startswith("W/"):
        raise Problem(428, f"If-Match must be exactly one strong ETag (the {what} ETag); '*', lists and weak "
                           "tags do not protect against lost updates",
                      errors={"If-Match": ["not one strong ETag"]})
    return header


def stale(exc: StalePrecondition, what: str) -> Problem:
    headers = {"ETag": exc.current_etag} if exc.current_etag else {}
    extra: dict[str, Any] = {"current_etag": exc.current_etag}
    if exc.current is not None:
        extra["current"] = exc.current
    return Problem(412, f"the {what} changed since you read it; review the current version and retry with "
                        "its ETag", headers=headers, extra=extra)

