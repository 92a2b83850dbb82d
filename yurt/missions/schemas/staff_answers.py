"""Response schemas of the staff answers about missions: the audit trail, the quality report, who is signed in,
and district outlines. They document what the views write; ``/openapi.json`` names them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from yurt.missions.model.quality import CHECKS
from yurt.missions.schemas.record import MISSION_TYPES, STATUSES

_UTC = {"description": "ISO 8601 in UTC (Z)"}
_STATE = {"type": "object", "nullable": True, "description": (
    "A mission Feature (single-mission entries), a whole dataset {dataset, features} (bulk entries, in "
    "GET /v1/audit/<seq>), or null (created, deleted, or a bulk entry in a listing)")}


class AuditChangesSchema(Schema):
    added = fields.List(fields.String(), required=True)
    removed = fields.List(fields.String(), required=True)
    changed = fields.List(fields.String(), required=True)
    dataset_changed = fields.Boolean(required=True)


class AuditEntrySchema(Schema):
    """One acknowledged write: who, when, what it replaced and with what."""

    seq = fields.Integer(required=True, validate=validate.Range(min=1))
    at = fields.String(required=True, metadata=_UTC)
    author = fields.String(required=True)
    action = fields.String(required=True)
    mission_id = fields.String(required=True, allow_none=True, metadata={"description": "null for a bulk entry"})
    before = fields.Raw(required=True, allow_none=True, metadata=_STATE)
    after = fields.Raw(required=True, allow_none=True, metadata=_STATE)
    generation = fields.Integer(required=True, validate=validate.Range(min=0))
    extra = fields.Dict(metadata={"description": "What else the write recorded (e.g. what a restore overwrote)"})
    changes = fields.Nested(AuditChangesSchema, metadata={"description": "A bulk entry in a listing: which ids"})
    detail_url = fields.String(metadata={"description": "A bulk entry in a listing: where it is in full"})


class AuditPageSchema(Schema):
    entries = fields.List(fields.Nested(AuditEntrySchema), required=True, metadata={"description": "Newest first"})
    next = fields.String(metadata={"description": "The next page; absent on the last one"})


# One count per check: how many posts lack it.
MissingCountsSchema = Schema.from_dict(
    {check: fields.Integer(required=True, validate=validate.Range(min=0)) for check in CHECKS},
    name="MissingCountsSchema")


class QualityPostSchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(MISSION_TYPES))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    host_country = fields.String(required=True)
    missing = fields.List(fields.String(validate=validate.OneOf(CHECKS)), required=True)
    newest_source = fields.String(required=True, allow_none=True, metadata={"description": "The newest source date"})
    searched = fields.String(required=True, allow_none=True, metadata={
        "description": "What was searched for the missing facts, and where (data/quality-searched.tsv)"})


class QualityReportSchema(Schema):
    as_of = fields.String(required=True, metadata={"description": "The day the report was computed"})
    posts_counted = fields.Integer(required=True)
    career_posts = fields.Integer(required=True)
    consulates = fields.Integer(required=True)
    missing = fields.Nested(MissingCountsSchema, required=True)
    career_missing = fields.Nested(MissingCountsSchema, required=True)
    posts = fields.List(fields.Nested(QualityPostSchema), required=True)


class WhoAmISchema(Schema):
    sub = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    expires_at = fields.String(required=True, allow_none=True, metadata=_UTC)


class DistrictPropertiesSchema(Schema):
    code = fields.String(required=True, metadata={"description": "ISO 3166-2"})
    name = fields.String(required=True, allow_none=True)
    places = fields.Integer(required=True, metadata={"description": "Labelled places the outline is drawn from"})
    approximate = fields.Boolean(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("outline", "places")))


class DistrictFeatureSchema(Schema):
    type = fields.String(required=True, validate=validate.Equal("Feature"))
    geometry = fields.Dict(required=True, metadata={"description": "A Polygon (outline) or a MultiPoint (places)"})
    properties = fields.Nested(DistrictPropertiesSchema, required=True)


class DistrictOutlinesSchema(Schema):
    type = fields.String(required=True, validate=validate.Equal("FeatureCollection"))
    features = fields.List(fields.Nested(DistrictFeatureSchema), required=True)
