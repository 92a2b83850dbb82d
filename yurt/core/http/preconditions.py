"""``If-Match`` on writes (RFC 9110 §13.1.1, RFC 6585 428): exactly one strong ETag, else 428; a stale one is 412
with the current version beside it. Missions and alerts are written the same way."""

from __future__ import annotations

from typing import Any

from flask import request

from yurt.core.http.problems import Problem
from yurt.core.store_errors import StalePrecondition


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
