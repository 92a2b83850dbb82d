"""Response schemas of the public answers (``nearest``, ``responsible``), as marshmallow classes.

They document what the views write (the views assemble bytes for speed and do not dump through these); the
OpenAPI document names them as components, so a generated client reads every answer into named models.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from yurt.alerts.schemas import AlertSummarySchema
from yurt.missions.model.responsibility import BASES, DISTRICT_SOURCES
from yurt.missions.schemas.record import DatasetMetaSchema, HotlineSchema, MissionFeatureSchema

ALERTS_DOC = {"description": "Travel alerts in force for the query point (for a country question: those for the "
                             "country or a subdivision of it), most severe first; GET /v1/alerts/<id> has the "
                             "rest. null when the alerts could not be loaded (never a false 'none')."}


class CountrySchema(Schema):
    code = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2"})
    name = fields.String(required=True, allow_none=True)


class LocalUtcTimeSchema(Schema):
    local = fields.String(required=True, metadata={"description": "ISO 8601 in the post's time zone"})
    utc = fields.String(required=True, metadata={"description": "ISO 8601 in UTC (Z)"})


class NearestResultSchema(Schema):
    mission = fields.Nested(MissionFeatureSchema, required=True)
    distance_km = fields.Float(required=True, validate=validate.Range(min=0), metadata={
        "description": "Geodesic distance on WGS-84, rounded to 0.001 km (building) or 0.1 km (city centre)"})
    distance_uncertainty_km = fields.Float(required=True, allow_none=True, validate=validate.Range(min=0),
                                           metadata={"description": "0 for a building-level point; for a city "
                                                     "centre the dataset's city_location_uncertainty_km"})
    bearing_deg = fields.Float(required=True, validate=validate.Range(0, 360))
    open_now = fields.Raw(required=True, metadata={
        "oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["unknown"]}],
        "description": "true/false from the published hours and the host country's holidays; 'unknown' "
                       "where no hours are published"})
    opens_at = fields.Nested(LocalUtcTimeSchema, required=True, allow_none=True)
    closes_at = fields.Nested(LocalUtcTimeSchema, required=True, allow_none=True)


class ResponsibleMissionSchema(NearestResultSchema):
    district_source = fields.String(required=True, validate=validate.OneOf(list(DISTRICT_SOURCES)), metadata={
        "description": "Why this post is listed: " + "; ".join(f"`{k}`: {v}" for k, v in DISTRICT_SOURCES.items())})


class CountryMissionSchema(Schema):
    """A listed post when the question was a whole country (no point, so no distance)."""

    mission = fields.Nested(MissionFeatureSchema, required=True)
    district_source = fields.String(required=True, validate=validate.OneOf(list(DISTRICT_SOURCES)))


class NearestAnswerSchema(Schema):
    country = fields.Nested(CountrySchema, required=True, allow_none=True, metadata={
        "description": "The country of the query point; null at sea and in Antarctica"})
    at_home = fields.Boolean(required=True, metadata={"description": "true when the point is in Kazakhstan"})
    alerts = fields.List(fields.Nested(AlertSummarySchema), required=True, allow_none=True, metadata=ALERTS_DOC)
    results = fields.List(fields.Nested(NearestResultSchema), required=True)


class ResponsibleAnswerSchema(Schema):
    country = fields.Nested(CountrySchema, required=True, allow_none=True)
    at_home = fields.Boolean(required=True)
    alerts = fields.List(fields.Nested(AlertSummarySchema), required=True, allow_none=True, metadata=ALERTS_DOC)
    subdivisions = fields.List(fields.String(), required=True, allow_none=True, metadata={
        "description": "ISO 3166-2 candidates for the point, likeliest first; null where not looked up"})
    subdivision_ambiguous = fields.Boolean(required=True)
    basis = fields.String(required=True, validate=validate.OneOf(list(BASES)), metadata={
        "description": "; ".join(f"`{k}`: {v}" for k, v in BASES.items())})
    uncertain = fields.Boolean(required=True, metadata={
        "description": "true when the data cannot decide: an assumed post, conflicting claims, a border"})
    conflict = fields.String(required=True, allow_none=True)
    consular_hotline = fields.Nested(HotlineSchema, required=True, allow_none=True)
    missions = fields.List(fields.Raw(metadata={"one_of_schemas": [ResponsibleMissionSchema, CountryMissionSchema]}),
                           required=True)
    nearest = fields.List(fields.Nested(NearestResultSchema), required=True, metadata={
        "description": "The nearest open or limited career posts (empty for a question about a country)"})


class MissionCollectionSchema(Schema):
    """Missions as a GeoJSON FeatureCollection, with the dataset-wide facts."""

    type = fields.String(required=True, validate=validate.Equal("FeatureCollection"))
    dataset = fields.Nested(DatasetMetaSchema, required=True)
    numberMatched = fields.Integer(validate=validate.Range(min=0), metadata={  # noqa: N815 - OGC's name
        "description": "How many missions the filters matched (only when filtered)"})
    features = fields.List(fields.Nested(MissionFeatureSchema), required=True)
