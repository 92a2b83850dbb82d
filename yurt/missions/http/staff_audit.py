"""Staff: the audit trail of mission edits (scope ``staff``), and undoing an entry.

Every write is an append-only audit entry with its author, before and after. A bulk entry (replace all, import,
restore) holds two whole datasets: listings summarise it by what changed. Undoing an entry writes through the
same optimistic concurrency as an edit (``If-Match``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response
from marshmallow import Schema, validate

from yurt.composition import services
from yurt.core.auth import requires
from yurt.core.http.contract import body, other_responses, precondition, response
from yurt.core.http.conventions import GEOJSON, json_response, use_query
from yurt.core.http.preconditions import required_etag
from yurt.core.http.problems import Problem
from yurt.core.http.queries import QueryInt
from yurt.missions.http.restore import restore_single
from yurt.missions.http.staff import DatasetWritten, replace_all
from yurt.missions.http.staff_bodies import (
    RestoreBody,
    collection_problem,
    refuse_undoing_later_edits,
    restore_options,
)
from yurt.missions.schemas.dataset import DatasetError, parse_collection
from yurt.missions.schemas.record import MissionFeatureSchema
from yurt.missions.schemas.staff_answers import AuditEntrySchema, AuditPageSchema
from yurt.missions.stores.base import AuditEntry

bp = Blueprint("staff_audit", __name__)

class AuditPageQuery(Schema):
    limit = QueryInt(load_default=50, validate=validate.Range(min=1, max=200))
    before = QueryInt(load_default=None, validate=validate.Range(min=1))


# -- audit ---------------------------------------------------------------------------------------------------


def _summary(entry: AuditEntry, mission_id: str | None = None) -> dict[str, Any]:
    """An entry for a listing. A bulk entry holds two whole datasets: list it by what changed, or, in one
    mission's history, by that mission's own before and after."""
    body = entry.to_json()
    if entry.mission_id is not None or entry.before is None or "features" not in (entry.after or {}):
        return body
    before = {f["properties"]["id"]: f for f in (entry.before or {}).get("features", [])}
    after = {f["properties"]["id"]: f for f in (entry.after or {}).get("features", [])}
    if mission_id is not None:
        body["before"], body["after"] = before.get(mission_id), after.get(mission_id)
        return body
    body["before"] = body["after"] = None
    body["changes"] = {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
        "dataset_changed": entry.before.get("dataset") != (entry.after or {}).get("dataset"),
    }
    body["detail_url"] = f"/v1/audit/{entry.seq}"
    return body


def _page(entries: list[AuditEntry], limit: int, base: str, mission_id: str | None) -> Response:
    body: dict[str, Any] = {"entries": [_summary(e, mission_id) for e in entries]}
    if len(entries) == limit:
        body["next"] = f"{base}?limit={limit}&before={entries[-1].seq}"
    return json_response(body, headers={"Cache-Control": "no-store"})


@bp.get("/v1/missions/<mission_id>/history")
@requires("staff")
@use_query(AuditPageQuery())
@response(AuditPageSchema, description="Newest first")
def mission_history(mission_id: str, limit: int, before: int | None) -> Response:
    """Who changed this mission, when, with before and after; newest first, paged with ``before``."""
    entries = services().store.audit(mission_id=mission_id, limit=limit, before_seq=before)
    own = [e for e in entries if e.concerns(mission_id)]
    if not own and services().catalogue.current().get(mission_id) is None and before is None:
        raise Problem(404, f"no mission with id {mission_id!r} and no history for it")
    return _page(entries, limit, f"/v1/missions/{mission_id}/history", mission_id)


@bp.get("/v1/audit")
@requires("staff")
@use_query(AuditPageQuery())
@response(AuditPageSchema, description="Newest first")
def audit_log(limit: int, before: int | None) -> Response:
    """The append-only audit trail, newest first, paged with ``before``; bulk entries are summarised."""
    return _page(services().store.audit(limit=limit, before_seq=before), limit, "/v1/audit", None)


@bp.get("/v1/audit/<int:seq>")
@requires("staff")
@response(AuditEntrySchema, description="The entry in full")
def audit_detail(seq: int) -> Response:
    """One audit entry in full (a bulk entry with both whole datasets)."""
    entry = services().store.audit_entry(seq)
    if entry is None:
        raise Problem(404, f"no audit entry {seq}")
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
    entry = services().store.audit_entry(seq)
    if entry is None:
        raise Problem(404, f"no audit entry {seq}")
    if entry.mission_id is not None:
        return restore_single(seq, entry, options)
    if_match = required_etag("dataset")
    before = entry.before
    if not isinstance(before, Mapping) or "features" not in before:
        raise Problem(409, f"audit entry {seq} ({entry.action}) holds no dataset to restore")
    refuse_undoing_later_edits(seq, before, entry.after or {}, if_match, options)
    raw = {"type": "FeatureCollection", "dataset": before.get("dataset"), "features": before["features"]}
    try:
        collection = parse_collection(raw, services().locator.timezone_at)
    except DatasetError as exc:
        raise collection_problem(exc) from None
    return replace_all(collection.meta, collection.features, if_match, "restore")
