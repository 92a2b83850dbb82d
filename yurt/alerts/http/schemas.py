"""Request and response schemas of the alert endpoints; ``/openapi.json`` documents these classes.

Rules across fields that a schema states badly live in the service (``yurt.alerts.service.writes``): the area's
geometry (shapely), area *or* countries/subdivisions, ``valid_to`` after ``valid_from``, and mission ids that
exist.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from yurt.alerts.model.record import MAX_TRIPS, SEVERITIES
from yurt.core.codes import country_code, subdivision_code
from yurt.core.http.queries import Lat, Lon, QueryInt
from yurt.core.schemas import NameSchema, SourceField


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _text(max_length: int) -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=max_length))


class AlertTextSchema(_Strict):
    en = _text(5000)
    kk = _text(5000)
    ru = _text(5000)


def _unique(values: list[Any]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("must not repeat a value")


AREA_DOC = {
    "type": "object", "nullable": True, "required": ["type", "coordinates"],
    "properties": {"type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
                   "coordinates": {"type": "array", "items": {}}},
    "description": ("GeoJSON Polygon or MultiPolygon (RFC 7946, [lon, lat]); an area across the antimeridian is a "
                    "MultiPolygon split at ±180. Give either area, or countries and/or subdivisions."),
}


class AlertBodySchema(_Strict):
    """The body of ``POST /v1/alerts`` and ``PUT /v1/alerts/<id>`` (and a merge-patched alert)."""

    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    title = fields.Nested(NameSchema, required=True, metadata={"description": "Short title in en, kk and ru"})
    body = fields.Nested(AlertTextSchema, required=True)
    area = fields.Raw(load_default=None, allow_none=True, metadata=AREA_DOC)
    countries = fields.List(country_code(), load_default=list, validate=[validate.Length(max=50), _unique],
                            metadata={"description": "ISO 3166-1 alpha-2 codes", "uniqueItems": True})
    subdivisions = fields.List(subdivision_code(), load_default=list, validate=[validate.Length(max=200), _unique],
                               metadata={"description": "ISO 3166-2 codes", "uniqueItems": True})
    valid_from = fields.AwareDateTime(load_default=None, allow_none=True,
                                      metadata={"description": "Start (aware ISO 8601); default: now"})
    valid_to = fields.AwareDateTime(load_default=None, allow_none=True,
                                    metadata={"description": "End, exclusive (aware ISO 8601); null: open-ended"})
    missions = fields.List(fields.String(validate=validate.Length(min=1, max=80)), load_default=list,
                           validate=[validate.Length(max=50), _unique],
                           metadata={"description": "Ids of the posts to contact (each must exist)"})
    sources = fields.List(SourceField(), load_default=list, validate=validate.Length(max=20))
    # Read-only members of the alert as GET answers it: accepted so that GET → edit → PUT works, then ignored
    # (an id other than the URL's is refused by the view).
    id = fields.String(load_default=None, metadata={"readOnly": True})
    area_countries = fields.Raw(load_default=None, metadata={"readOnly": True})
    created_at = fields.Raw(load_default=None, metadata={"readOnly": True})
    updated_at = fields.Raw(load_default=None, metadata={"readOnly": True})


class AlertListQuery(_Strict):
    lat = Lat()
    lon = Lon()


class AlertAuditQuery(_Strict):
    limit = QueryInt(load_default=50, validate=validate.Range(min=1, max=200))
    before = QueryInt(load_default=None, validate=validate.Range(min=1))


class TripSchema(_Strict):
    countries = fields.List(country_code(), required=True, validate=[validate.Length(min=1, max=20), _unique],
                            metadata={"uniqueItems": True})
    starts = fields.Date(required=True, data_key="from", metadata={"description": "First day (YYYY-MM-DD)"})
    ends = fields.Date(required=True, data_key="to", metadata={"description": "Last day (YYYY-MM-DD)"})

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if "starts" in data and "ends" in data and data["ends"] < data["starts"]:
            raise ValidationError("must not be before from", field_name="to")


class TripsBodySchema(_Strict):
    trips = fields.List(fields.Nested(TripSchema), required=True, validate=validate.Length(max=MAX_TRIPS))




_ISO = {"description": "ISO 8601 in UTC (Z)"}


class _AlertHead(Schema):
    """An alert as stored, but its body and area: what staff wrote, normalised, with its id, times and the
    countries its area meets."""

    id = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    title = fields.Nested(NameSchema, required=True)
    valid_from = fields.String(required=True, metadata=_ISO)
    valid_to = fields.String(required=True, allow_none=True, metadata={"description": "End, exclusive; null: none"})
    countries = fields.List(fields.String(), required=True)
    subdivisions = fields.List(fields.String(), required=True)
    area_countries = fields.List(fields.String(), required=True, metadata={
        "description": "The countries the area meets (empty without an area)"})
    missions = fields.List(fields.String(), required=True)
    sources = fields.List(SourceField(), required=True)
    created_at = fields.String(required=True, metadata=_ISO)
    updated_at = fields.String(required=True, metadata=_ISO)


class _AlertMembers(_AlertHead):
    body = fields.Nested(AlertTextSchema, required=True)


class StaffAlertSchema(_AlertHead):
    """An alert in the staff console's list: no body, and the kind of its area instead of the area."""

    area_type = fields.String(required=True, allow_none=True,
                              validate=validate.OneOf(["Polygon", "MultiPolygon"]),
                              metadata={"description": "null: the alert is by countries or subdivisions"})


class StaffAlertListSchema(Schema):
    """Every stored alert, ended ones too, newest start first."""

    alerts = fields.List(fields.Nested(StaffAlertSchema), required=True)
    now = fields.String(required=True, metadata=_ISO)


class AlertSchema(_AlertMembers):
    """One alert (``GET /v1/alerts/<id>``, and the answer to a staff write)."""

    area = fields.Raw(required=True, allow_none=True, metadata=AREA_DOC)


class AlertPropertiesSchema(_AlertMembers):
    upcoming = fields.Boolean(required=True, metadata={"description": "true before valid_from"})


class AlertFeatureSchema(Schema):
    """An alert as a GeoJSON Feature: its area is the geometry (null for countries or subdivisions)."""

    type = fields.String(required=True, validate=validate.Equal("Feature"))
    id = fields.String(required=True)
    geometry = fields.Raw(required=True, allow_none=True, metadata=AREA_DOC)
    properties = fields.Nested(AlertPropertiesSchema, required=True)


class AlertCollectionSchema(Schema):
    type = fields.String(required=True, validate=validate.Equal("FeatureCollection"))
    features = fields.List(fields.Nested(AlertFeatureSchema), required=True)


class TravellerAlertSchema(AlertFeatureSchema):
    matched_by = fields.List(fields.String(validate=validate.OneOf(["presence", "trip"])), required=True)


class TravellerAlertsSchema(Schema):
    type = fields.String(required=True, validate=validate.Equal("FeatureCollection"))
    presence_shared = fields.Boolean(required=True)
    trip_countries = fields.List(fields.String(), required=True, metadata={
        "description": "Countries of the trips under way"})
    features = fields.List(fields.Nested(TravellerAlertSchema), required=True)
