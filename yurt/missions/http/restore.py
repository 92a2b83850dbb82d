"""``POST /v1/audit/<seq>/restore`` for a single-mission entry: parse the preconditions, call the use case
(``yurt.missions.service.restore_one``), map its errors to problems.

The mission's own preconditions apply, not the dataset's: ``If-Match`` with the mission's current ETag
(428 without it, 412 with the current record when stale), or ``If-None-Match: *`` when the undo creates a
deleted mission again. An undo over edits made since the entry is the same 409 as a bulk restore's, listing
the mission in ``changed_since``; naming it in ``{"overwrite": [id]}`` goes ahead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, g, request

from yurt.composition import services
from yurt.core.http.conventions import GEOJSON, json_response
from yurt.core.http.preconditions import stale
from yurt.core.http.problems import Problem
from yurt.core.store_errors import AlreadyExists, NotFound, StalePrecondition
from yurt.missions.http.staff_bodies import feature_from, restore_conflict
from yurt.missions.service.restore_one import ChangedSince, NothingToRestore, PreconditionMissing, restore_mission
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
        restored = restore_mission(services().store, entry, if_match=_if_match(), create_only=create_only,
                                   overwrite=options["overwrite"], author=str(g.principal.sub),
                                   validate=feature_from)
    except PreconditionMissing as exc:
        raise Problem(428, exc.reason, errors={exc.header: ["missing"]}) from None
    except StalePrecondition as exc:
        raise stale(exc, "mission") from None
    except NothingToRestore:
        raise Problem(409, f"mission {entry.mission_id} is already as it was before audit entry {seq}") from None
    except ChangedSince as exc:
        conflict = restore_conflict(seq, exc.conflicts, options)
        assert conflict is not None  # ChangedSince is raised only for a mission the body did not name
        raise conflict from None
    except (NotFound, AlreadyExists):  # deleted or created between the check and the write
        raise Problem(412, f"mission {entry.mission_id} changed since you read it; reload and retry") from None
    services().catalogue.refresh()
    if restored.record is None:
        return Response(status=204, headers={"Cache-Control": "no-store"})
    return json_response(restored.record.feature, mimetype=GEOJSON,
                         headers={"ETag": restored.record.etag, "Cache-Control": "no-store"})
