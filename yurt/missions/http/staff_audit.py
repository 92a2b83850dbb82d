"""Staff: the audit trail of mission edits (scope ``staff``), and undoing an entry.

Every write is an append-only audit entry with its author, before and after. A bulk entry (replace all, import,
restore) holds two whole datasets: listings summarise it by what changed. Undoing an entry writes through the
same optimistic concurrency as an edit (``If-Match``). The listings and the undo are the service's
(``yurt.missions.service.audit``, ``yurt.missions.service.restore``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g
from marshmallow import Schema, validate

from yurt.core.auth import requires
from yurt.core.http.contract import body, other_responses, precondition, response
from yurt.core.http.conventions import GEOJSON, json_response, use_query
from yurt.core.http.preconditions import required_etag
from yurt.core.http.queries import QueryInt
from yurt.missions.http import refusals, service
from yurt.missions.http.restore import restore_single
from yurt.missions.http.staff import DatasetWritten, dataset_written
from yurt.missions.http.staff_bodies import RestoreBody, restore_options
from yurt.missions.schemas.record import MissionFeatureSchema
from yurt.missions.schemas.staff_answers import AuditEntrySchema, AuditPageSchema
from yurt.missions.service import audit
from yurt.missions.service.restore import restore_dataset

bp = Blueprint("staff_audit", __name__)

class AuditPageQuery(Schema):
    limit = QueryInt(load_default=50, validate=validate.Range(min=1, max=200))
    before = QueryInt(load_default=None, validate=validate.Range(min=1))


# -- audit ---------------------------------------------------------------------------------------------------


def _page(body: dict[str, Any]) -> Response:
    return json_response(body, headers={"Cache-Control": "no-store"})


@bp.get("/v1/missions/<mission_id>/history")
@requires("staff")
@use_query(AuditPageQuery())
@response(AuditPageSchema, description="Newest first")
def mission_history(mission_id: str, limit: int, before: int | None) -> Response:
    """Who changed this mission, when, with before and after; newest first, paged with ``before``."""
    with refusals():
        return _page(audit.mission_history(service(), mission_id, limit, before))


@bp.get("/v1/audit")
@requires("staff")
@use_query(AuditPageQuery())
@response(AuditPageSchema, description="Newest first")
def audit_log(limit: int, before: int | None) -> Response:
    """The append-only audit trail, newest first, paged with ``before``; bulk entries are summarised."""
    return _page(audit.audit_log(service(), limit, before))


@bp.get("/v1/audit/<int:seq>")
@requires("staff")
@response(AuditEntrySchema, description="The entry in full")
def audit_detail(seq: int) -> Response:
    """One audit entry in full (a bulk entry with both whole datasets)."""
    with refusals():
        entry = audit.audit_entry(service(), seq)
    return json_response(entry.to_json(), headers={"Cache-Control": "no-store"})


@bp.post("/v1/audit/<int:seq>/restore")
@requires("staff")
@precondition("dataset (a bulk entry) or of the mission (a single-mission entry)")
@body(RestoreBody, load=False, required=False)
@response(DatasetWritten, description="The dataset restored (a bulk entry)")
@response(MissionFeatureSchema, mimetype=GEOJSON, description="The mission restored (a single-mission entry)")
@response(None, 204, description="The undo deleted the mission the entry had created")
@other_responses({409: "The restore would undo edits made since the entry: `changed_since` lists those "
                       "missions, `dataset_facts_changed_since` the facts; name them in the body to overwrite "
                       "anyway. Or the mission is already as it was before the entry"})
def restore(seq: int) -> Response:
    """Undo an audit entry.

    The dataset as it was before bulk entry `seq` (If-Match: the dataset ETag), or one
    mission as it was before a single-mission entry (If-Match: the mission's ETag; If-None-Match: * when the
    undo recreates a deleted mission; 204 when it deletes a mission the entry created).

    Missions (or dataset facts) edited since the entry would be overwritten too: that is a 409 listing them in
    ``changed_since``, unless the body names them (``{"overwrite": [ids], "overwrite_dataset_facts": true}``).
    """
    options = restore_options()
    with refusals():
        entry = audit.audit_entry(service(), seq)
    if entry.mission_id is not None:
        return restore_single(seq, entry, options)
    if_match = required_etag("dataset")
    with refusals("dataset"):
        written = restore_dataset(service(), seq, entry, if_match=if_match, options=options,
                                  author=str(g.principal.sub))
    return dataset_written(written)
