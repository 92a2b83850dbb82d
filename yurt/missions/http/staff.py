"""Staff API (scope ``staff``): create, replace, merge-patch and delete missions, replace the whole dataset,
edit the dataset-wide facts, read the audit trail and undo a bulk replace.

Optimistic concurrency (RFC 9110 §13.1.1, §15.5.13): every write to one mission needs ``If-Match`` with that
mission's ETag (from ``GET /v1/missions/<id>`` or the previous write); a bulk write needs the dataset ETag of
``GET /v1/missions``. A missing ``If-Match`` is 428 (RFC 6585 §3); a stale one is 412 with the current ETag
and the current record in the problem, so a client can show the other person's change. The store re-checks the
ETag inside its atomic write, so two staff editing one post never silently overwrite each other.

The use cases, their validation and their refusals are the service's (``yurt.missions.service.staff``): a view
reads the preconditions and the body, calls it, and maps its errors to problems.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g
from marshmallow import Schema, fields

from yurt.core.auth import requires
from yurt.core.http.contract import body, other_responses, precondition, resource_links, response
from yurt.core.http.conventions import GEOJSON, JSON, json_body, json_response
from yurt.core.http.preconditions import required_etag
from yurt.missions.http import refusals, service
from yurt.missions.model.dataset import MissionRecord
from yurt.missions.schemas.record import CollectionEnvelopeSchema, DatasetMetaSchema, MissionFeatureSchema
from yurt.missions.service import staff

bp = Blueprint("staff", __name__)


class DatasetWritten(Schema):
    count = fields.Integer(required=True, metadata={"description": "Missions in the dataset now"})
    generation = fields.Integer(required=True)
    etag = fields.String(required=True, metadata={"description": "The new dataset ETag"})


# -- helpers --------------------------------------------------------------------------------------------------

def _author() -> str:
    return str(g.principal.sub)


def _written(record: MissionRecord, status: int = 200) -> Response:
    headers = {"ETag": record.etag, "Cache-Control": "no-store"}
    if status == 201:
        headers["Location"] = f"/v1/missions/{record.id}"
    return json_response(record.feature, status, mimetype=GEOJSON, headers=headers)


def dataset_written(written: dict[str, Any]) -> Response:
    return json_response(written, headers={"ETag": written["etag"], "Cache-Control": "no-store"})


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
    with refusals():
        record = staff.create_mission(service(), json_body(), author=_author())
    return _written(record, 201)


@bp.put("/v1/missions/<mission_id>")
@requires("staff")
@precondition("mission")
@body(MissionFeatureSchema, load=False, mimetypes=(JSON, GEOJSON))
@response(MissionFeatureSchema, mimetype=GEOJSON, description="Replaced; `ETag` is its new version")
def replace_mission(mission_id: str) -> Response:
    """Replace one mission with a whole Feature (If-Match: the mission's ETag)."""
    if_match = required_etag("mission")
    with refusals():
        record = staff.replace_mission(service(), mission_id, json_body(), if_match=if_match, author=_author())
    return _written(record)


@bp.patch("/v1/missions/<mission_id>")
@requires("staff")
@precondition("mission")
@body({"type": "object", "description": "JSON Merge Patch (RFC 7396) of the Feature"}, load=False,
      mimetypes=("application/merge-patch+json", JSON))
@response(MissionFeatureSchema, mimetype=GEOJSON, description="Changed; `ETag` is its new version")
def patch_mission(mission_id: str) -> Response:
    """Change one mission with a JSON Merge Patch (RFC 7396) of its Feature (If-Match: the mission's ETag)."""
    if_match = required_etag("mission")
    with refusals():
        record = staff.patch_mission(service(), mission_id, json_body(), if_match=if_match, author=_author())
    return _written(record)


@bp.delete("/v1/missions/<mission_id>")
@requires("staff")
@precondition("mission")
@response(None, 204, description="Deleted")
def delete_mission(mission_id: str) -> Response:
    """Delete one mission (If-Match: its ETag); its last state stays in the history."""
    if_match = required_etag("mission")
    with refusals():
        staff.delete_mission(service(), mission_id, if_match=if_match, author=_author())
    return Response(status=204, headers={"Cache-Control": "no-store"})


# -- the whole dataset ---------------------------------------------------------------------------------------


@bp.put("/v1/missions")
@requires("staff")
@precondition("dataset")
@body(CollectionEnvelopeSchema, load=False, mimetypes=(JSON, GEOJSON))
@response(DatasetWritten, description="Replaced; `ETag` is the new dataset ETag")
def replace_dataset() -> Response:
    """Replace the whole dataset from a GeoJSON FeatureCollection, all or nothing (If-Match: dataset ETag)."""
    if_match = required_etag("dataset")
    with refusals("dataset"):
        written = staff.replace_dataset(service(), json_body(), if_match=if_match, author=_author())
    return dataset_written(written)


@bp.get("/v1/dataset")
@requires("staff")
@response(DatasetMetaSchema, description="The facts; `ETag` is the dataset ETag")
def get_dataset_facts() -> Response:
    """The dataset-wide facts (title, consular hotline, sources); the ETag is the dataset ETag."""
    dataset = staff.dataset_facts(service())
    return json_response(dict(dataset.meta), headers={"ETag": dataset.etag, "Cache-Control": "no-store"})


@bp.put("/v1/dataset")
@requires("staff")
@precondition("dataset")
@body(DatasetMetaSchema, load=False)
@response(DatasetWritten, description="Replaced; `ETag` is the new dataset ETag")
def replace_dataset_facts() -> Response:
    """Replace the dataset-wide facts; missions keep their ETags (If-Match: the dataset ETag)."""
    if_match = required_etag("dataset")
    with refusals("dataset"):
        written = staff.replace_dataset_facts(service(), json_body(), if_match=if_match, author=_author())
    return dataset_written(written)
