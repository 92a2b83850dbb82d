"""Staff API (scope ``staff``): create, replace, merge-patch and delete missions, replace the whole dataset,
edit the dataset-wide facts, read the audit trail and undo a bulk replace.

Optimistic concurrency (RFC 9110 §13.1.1, §15.5.13): every write to one mission needs ``If-Match`` with that
mission's ETag (from ``GET /v1/missions/<id>`` or the previous write); a bulk write needs the dataset ETag of
``GET /v1/missions``. A missing ``If-Match`` is 428 (RFC 6585 §3); a stale one is 412 with the current ETag
and the current record in the problem, so a client can show the other person's change. The store re-checks the
ETag inside its atomic write, so two staff editing one post never silently overwrite each other.

Bodies are validated by the same schema as the data file (``yurt.missions.schemas.dataset``). After a write this worker
rebuilds its ``Dataset`` at once; other workers follow within ``YURT_RELOAD_INTERVAL_S``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, g
from marshmallow import Schema, ValidationError, fields

from yurt.composition import services
from yurt.core.auth import requires
from yurt.core.field_errors import field_errors
from yurt.core.http.contract import body, other_responses, precondition, resource_links, response
from yurt.core.http.conventions import GEOJSON, JSON, json_body, json_response
from yurt.core.http.merge_patch import merge_patch
from yurt.core.http.preconditions import required_etag, stale
from yurt.core.http.problems import Problem
from yurt.core.store_errors import AlreadyExists, NotFound, StalePrecondition
from yurt.missions.http.staff_bodies import collection_problem, feature_from
from yurt.missions.model.dataset import MissionRecord, dataset_etag
from yurt.missions.schemas.dataset import DatasetError, parse_collection, referral_problem
from yurt.missions.schemas.record import (
    CollectionEnvelopeSchema,
    DatasetMetaSchema,
    MissionFeatureSchema,
    normalise_meta,
)

bp = Blueprint("staff", __name__)


class DatasetWritten(Schema):
    count = fields.Integer(required=True, metadata={"description": "Missions in the dataset now"})
    generation = fields.Integer(required=True)
    etag = fields.String(required=True, metadata={"description": "The new dataset ETag"})


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
@body(MissionFeatureSchema, load=False, mimetypes=(JSON, GEOJSON))
@response(MissionFeatureSchema, 201, mimetype=GEOJSON, description="Created; `ETag` is its version",
          links=resource_links("mission_id", "/properties/id", {
              "GetMission": "missions.get_mission.get", "ReplaceMission": "staff.replace_mission.put",
              "PatchMission": "staff.patch_mission.patch", "DeleteMission": "staff.delete_mission.delete",
              "MissionHistory": "staff_audit.mission_history.get"}, if_match=True))
@other_responses({409: "A mission with this id exists"})
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
@precondition("mission")
@body(MissionFeatureSchema, load=False, mimetypes=(JSON, GEOJSON))
@response(MissionFeatureSchema, mimetype=GEOJSON, description="Replaced; `ETag` is its new version")
def replace_mission(mission_id: str) -> Response:
    """Replace one mission with a whole Feature (If-Match: the mission's ETag)."""
    if_match = required_etag("mission")
    feature = feature_from(json_body())
    _same_id(feature, mission_id)
    return _update(mission_id, feature, if_match, "replace")


@bp.patch("/v1/missions/<mission_id>")
@requires("staff")
@precondition("mission")
@body({"type": "object", "description": "JSON Merge Patch (RFC 7396) of the Feature"}, load=False,
      mimetypes=("application/merge-patch+json", JSON))
@response(MissionFeatureSchema, mimetype=GEOJSON, description="Changed; `ETag` is its new version")
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
@precondition("mission")
@response(None, 204, description="Deleted")
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


def replace_all(meta: Mapping[str, Any], features: list[dict[str, Any]], if_match: str, action: str
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
@precondition("dataset")
@body(CollectionEnvelopeSchema, load=False, mimetypes=(JSON, GEOJSON))
@response(DatasetWritten, description="Replaced; `ETag` is the new dataset ETag")
def replace_dataset() -> Response:
    """Replace the whole dataset from a GeoJSON FeatureCollection, all or nothing (If-Match: dataset ETag)."""
    if_match = required_etag("dataset")
    try:
        collection = parse_collection(json_body(), services().locator.timezone_at)
    except DatasetError as exc:
        raise collection_problem(exc) from None
    return replace_all(collection.meta, collection.features, if_match, "replace_all")


@bp.get("/v1/dataset")
@requires("staff")
@response(DatasetMetaSchema, description="The facts; `ETag` is the dataset ETag")
def get_dataset_facts() -> Response:
    """The dataset-wide facts (title, consular hotline, sources); the ETag is the dataset ETag."""
    dataset = services().catalogue.refresh()
    return json_response(dict(dataset.meta), headers={"ETag": dataset.etag, "Cache-Control": "no-store"})


@bp.put("/v1/dataset")
@requires("staff")
@precondition("dataset")
@body(DatasetMetaSchema, load=False)
@response(DatasetWritten, description="Replaced; `ETag` is the new dataset ETag")
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
    return replace_all(meta, features, if_match, "dataset_facts")
