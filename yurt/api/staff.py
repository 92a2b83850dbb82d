"""Staff API (scope ``staff``): create, replace, merge-patch and delete missions, replace the whole dataset,
edit the dataset-wide facts, read the audit trail and undo a bulk replace.

Optimistic concurrency (RFC 9110 §13.1.1, §15.5.13): every write to one mission needs ``If-Match`` with that
mission's ETag (from ``GET /v1/missions/<id>`` or the previous write); a bulk write needs the dataset ETag of
``GET /v1/missions``. A missing ``If-Match`` is 428 (RFC 6585 §3); a stale one is 412 with the current ETag
and the current record in the problem, so a client can show the other person's change. The store re-checks the
ETag inside its atomic write, so two staff editing one post never silently overwrite each other.

Bodies are validated by the same schema as the data file (``yurt.dataset``). After a write this worker
rebuilds its ``Dataset`` at once; other workers follow within ``YURT_RELOAD_INTERVAL_S``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, g
from marshmallow import Schema, ValidationError, validate

from yurt.api.conventions import GEOJSON, json_body, json_response, use_query
from yurt.api.docs import EXTRA_RESPONSES, OPTIONAL_BODIES, PRECONDITIONS, REQUEST_BODIES, SECURED
from yurt.api.merge_patch import merge_patch
from yurt.api.mission_restore import restore_single
from yurt.api.queries import QueryInt
from yurt.api.staff_bodies import (
    RestoreBody,
    collection_problem,
    feature_from,
    refuse_undoing_later_edits,
    required_etag,
    restore_options,
    stale,
)
from yurt.auth import requires
from yurt.dataset import DatasetError, parse_collection, referral_problem
from yurt.domain.missions import MissionRecord, dataset_etag
from yurt.errors import Problem
from yurt.field_errors import field_errors
from yurt.schemas import CollectionEnvelopeSchema, DatasetMetaSchema, MissionFeatureSchema, normalise_meta
from yurt.services import services
from yurt.storage.base import AlreadyExists, AuditEntry, NotFound, StalePrecondition

bp = Blueprint("staff", __name__)


class AuditPageQuery(Schema):
    limit = QueryInt(load_default=50, validate=validate.Range(min=1, max=200))
    before = QueryInt(load_default=None, validate=validate.Range(min=1))


# -- helpers --------------------------------------------------------------------------------------------------

def _author() -> str:
    return str(g.principal.sub)


def _written(record: MissionRecord, status: int = 200) -> Response:
    services().catalogue.refresh()
    headers = {"ETag": record.etag, "Cache-Control": "no-store"}
    if status == 201:
        headers["Location"] = f"/v1/missions/{record.id}"
    return json_response(record.feature, status, mimetype=GEOJSON, headers=headers)


def _same_id(feature: Mapping[str, Any], mission_id: str) -> None:
    if feature["properties"]["id"] != mission_id:
        raise Problem(422, "the body's properties.id differs from the id in the URL (renaming is a "
                           "delete and a create)", errors={"properties.id": [f"must be {mission_id!r}"]})


def _record_for(mission_id: str, if_match: str) -> MissionRecord:
    """The mission at ``if_match``: this worker's snapshot, refreshed once if it looks stale or missing."""
    catalogue = services().catalogue
    record = catalogue.current().get(mission_id)
    if record is None or record.etag != if_match:
        record = catalogue.refresh().get(mission_id)
    if record is None:
        raise Problem(404, f"no mission with id {mission_id!r}")
    if record.etag != if_match:
        raise stale(StalePrecondition(record.etag, record.feature), "mission")
    return record


# -- one mission ---------------------------------------------------------------------------------------------


@bp.post("/v1/missions")
@requires("staff")
def create_mission() -> Response:
    """Create a mission from a GeoJSON Feature (409 if its id exists)."""
    feature = feature_from(json_body())
    _check_referral(feature)
    try:
        record = services().store.create(feature, author=_author())
    except AlreadyExists:
        raise Problem(409, f"a mission with id {feature['properties']['id']!r} already exists; edit it with "
                           "PUT or PATCH", errors={"properties.id": ["already exists"]}) from None
    return _written(record, 201)


def _check_referral(feature: Mapping[str, Any]) -> None:
    """``refer_to`` must name another existing post and make no cycle (checked against the current data)."""
    dataset = services().catalogue.current()

    def lookup(mission_id: str) -> Mapping[str, Any] | None:
        record = dataset.get(mission_id)
        return None if record is None else record.feature["properties"]

    problem = referral_problem(feature["properties"], lookup)
    if problem is not None:
        raise Problem(422, f"the mission is invalid: {problem}", errors={"properties.refer_to": [problem]})


def _update(mission_id: str, feature: dict[str, Any], if_match: str, action: str) -> Response:
    _check_referral(feature)
    try:
        record = services().store.update(mission_id, feature, if_match=if_match, author=_author(),
                                         action=action)
    except NotFound:
        raise Problem(404, f"no mission with id {mission_id!r}") from None
    except StalePrecondition as exc:
        raise stale(exc, "mission") from None
    return _written(record)


@bp.put("/v1/missions/<mission_id>")
@requires("staff")
def replace_mission(mission_id: str) -> Response:
    """Replace one mission with a whole Feature (If-Match: the mission's ETag)."""
    if_match = required_etag("mission")
    feature = feature_from(json_body())
    _same_id(feature, mission_id)
    return _update(mission_id, feature, if_match, "replace")


@bp.patch("/v1/missions/<mission_id>")
@requires("staff")
def patch_mission(mission_id: str) -> Response:
    """Change one mission with a JSON Merge Patch (RFC 7396) of its Feature (If-Match: the mission's ETag)."""
    if_match = required_etag("mission")
    patch = json_body()
    base = _record_for(mission_id, if_match)
    feature = feature_from(merge_patch(base.feature, patch))
    _same_id(feature, mission_id)
    return _update(mission_id, feature, if_match, "patch")


@bp.delete("/v1/missions/<mission_id>")
@requires("staff")
def delete_mission(mission_id: str) -> Response:
    """Delete one mission (If-Match: its ETag); its last state stays in the history."""
    if_match = required_etag("mission")
    try:
        services().store.delete(mission_id, if_match=if_match, author=_author())
    except NotFound:
        raise Problem(404, f"no mission with id {mission_id!r}") from None
    except StalePrecondition as exc:
        raise stale(exc, "mission") from None
    services().catalogue.refresh()
    return Response(status=204, headers={"Cache-Control": "no-store"})


# -- the whole dataset ---------------------------------------------------------------------------------------


def _replace_all(meta: Mapping[str, Any], features: list[dict[str, Any]], if_match: str, action: str
                 ) -> Response:
    try:
        state = services().store.replace_all(meta, features, if_match=if_match, author=_author(),
                                             action=action)
    except StalePrecondition as exc:
        raise stale(exc, "dataset") from None
    dataset = services().catalogue.refresh()
    etag = dataset_etag(state.meta, [r.feature for r in state.records])
    body = {"count": len(state.records), "generation": dataset.generation, "etag": etag}
    return json_response(body, headers={"ETag": etag, "Cache-Control": "no-store"})


@bp.put("/v1/missions")
@requires("staff")
def replace_dataset() -> Response:
    """Replace the whole dataset from a GeoJSON FeatureCollection, all or nothing (If-Match: dataset ETag)."""
    if_match = required_etag("dataset")
    try:
        collection = parse_collection(json_body(), services().locator.timezone_at)
    except DatasetError as exc:
        raise collection_problem(exc) from None
    return _replace_all(collection.meta, collection.features, if_match, "replace_all")


@bp.get("/v1/dataset")
@requires("staff")
def get_dataset_facts() -> Response:
    """The dataset-wide facts (title, consular hotline, sources); the ETag is the dataset ETag."""
    dataset = services().catalogue.refresh()
    return json_response(dict(dataset.meta), headers={"ETag": dataset.etag, "Cache-Control": "no-store"})


@bp.put("/v1/dataset")
@requires("staff")
def replace_dataset_facts() -> Response:
    """Replace the dataset-wide facts; missions keep their ETags (If-Match: the dataset ETag)."""
    if_match = required_etag("dataset")
    try:
        meta = normalise_meta(json_body())
    except ValidationError as exc:
        errors = field_errors(exc.messages)
        raise Problem(422, "the dataset facts are invalid: " + ", ".join(sorted(errors)),
                      errors=errors) from None
    features = [dict(r.feature) for r in services().store.load().records]
    return _replace_all(meta, features, if_match, "dataset_facts")


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
def audit_log(limit: int, before: int | None) -> Response:
    """The append-only audit trail, newest first, paged with ``before``; bulk entries are summarised."""
    return _page(services().store.audit(limit=limit, before_seq=before), limit, "/v1/audit", None)


@bp.get("/v1/audit/<int:seq>")
@requires("staff")
def audit_detail(seq: int) -> Response:
    """One audit entry in full (a bulk entry with both whole datasets)."""
    entry = services().store.audit_entry(seq)
    if entry is None:
        raise Problem(404, f"no audit entry {seq}")
    return json_response(entry.to_json(), headers={"Cache-Control": "no-store"})


@bp.post("/v1/audit/<int:seq>/restore")
@requires("staff")
def restore(seq: int) -> Response:
    """Undo an entry: the dataset as it was before bulk entry ``seq`` (If-Match: the dataset ETag), or one
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
    return _replace_all(collection.meta, collection.features, if_match, "restore")


# OpenAPI: every endpoint here needs the staff scope; bodies are the data file's own schemas.
for _rule in ("create_mission", "replace_mission", "patch_mission", "delete_mission", "replace_dataset",
              "get_dataset_facts", "replace_dataset_facts", "mission_history", "audit_log", "audit_detail",
              "restore"):
    SECURED[f"staff.{_rule}"] = "staff"
PRECONDITIONS.update(f"staff.{name}" for name in ("replace_mission", "patch_mission", "delete_mission",
                                                   "replace_dataset", "replace_dataset_facts", "restore"))
REQUEST_BODIES.update({
    "staff.create_mission.post": MissionFeatureSchema,
    "staff.replace_mission.put": MissionFeatureSchema,
    "staff.patch_mission.patch": {"type": "object",
                                  "description": "JSON Merge Patch (RFC 7396) of the Feature"},
    "staff.replace_dataset.put": CollectionEnvelopeSchema,
    "staff.replace_dataset_facts.put": DatasetMetaSchema,
    "staff.restore.post": RestoreBody,
})
OPTIONAL_BODIES.add("staff.restore.post")
EXTRA_RESPONSES["staff.restore.post"] = {
    "204": "The undo deleted the mission the entry had created",
    "409": "The restore would undo edits made since the entry: `changed_since` lists those missions, "
           "`dataset_facts_changed_since` the facts; name them in the body to overwrite anyway. Or the mission "
           "is already as it was before the entry"}
