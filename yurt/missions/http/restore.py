"""``POST /v1/audit/<seq>/restore`` for a single-mission entry: parse the preconditions, call the use case
(``yurt.missions.service.restore``), map its errors to problems.

The mission's own preconditions apply, not the dataset's: ``If-Match`` with the mission's current ETag
(428 without it, 412 with the current record when stale), or ``If-None-Match: *`` when the undo creates a
deleted mission again. An undo over edits made since the entry is the same 409 as a bulk restore's, listing
the mission in ``changed_since``; naming it in ``{"overwrite": [id]}`` goes ahead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, g, request

from yurt.core.http.conventions import GEOJSON, json_response
from yurt.core.http.preconditions import stale
from yurt.core.http.problems import Problem
from yurt.core.store_errors import AlreadyExists, NotFound, StalePrecondition
from yurt.missions.http import problem, service
from yurt.missions.service.errors import MissionError
from yurt.missions.service.restore import restore_single as restore_one
from yurt.missions.service.restore_one import PreconditionMissing
from yurt.missions.stores.base import AuditEntry


def _if_match() -> str | None:
    header = (request.headers.get("If-Match") or "").strip()
    if not header:
        return None
    if header == "*" or "," in header or header.startswith("W/"):
        raise Problem(428, "If-Match must be exactly one strong ETag (the mission's ETag)",
                      errors={"If-Match": ["not one strong ETag"]})
    return header


def restore_single(seq: int, entry: AuditEntry, options: Mapping[str, Any]) -> Response:
    """Undo single-mission entry ``seq``: the mission as it was before it (deleted if the entry created it)."""
    create_only = (request.headers.get("If-None-Match") or "").strip() == "*"
    try:
        restored = restore_one(service(), seq, entry, if_match=_if_match(), create_only=create_only,
                               options=options, author=str(g.principal.sub))
    except PreconditionMissing as exc:
        raise Problem(428, exc.reason, errors={exc.header: ["missing"]}) from None
    except StalePrecondition as exc:
        raise stale(exc, "mission") from None
    except MissionError as exc:  # already as it was (409), changed since (409), no longer valid (422)
        raise problem(exc) from None
    except (NotFound, AlreadyExists):  # deleted or created between the check and the write
        raise Problem(412, f"mission {entry.mission_id} changed since you read it; reload and retry") from None
    if restored.record is None:
        return Response(status=204, headers={"Cache-Control": "no-store"})
    return json_response(restored.record.feature, mimetype=GEOJSON,
                         headers={"ETag": restored.record.etag, "Cache-Control": "no-store"})
