"""Marshmallow schemas: the mission record (the data file and staff bodies share it), and request parameters.

The mission record is the ``properties`` of a GeoJSON Feature (RFC 7946). Values computed per request
(distance, bearing, open-now) and the record's version never live in ``properties``: they sit beside the
Feature or in headers. ``MISSION_SCHEMA_DOC`` in the README is generated from these classes' field lists.

All schemas raise on unknown fields, so a typo in a staff edit is an error, not a silently dropped value.
"""

from __future__ import annotations

import math
import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from yurt.core.codes import check_timezone, country_code, subdivision_code
from yurt.core.schemas import NameSchema, SourceField
from yurt.core.schemas import StrictSchema as _Strict
from yurt.core.schemas import Text as _Text
from yurt.geo.hours import validate_hours

MISSION_TYPES = (
    "embassy",
    "consulate_general",
    "consulate",
    "honorary_consulate",
    "permanent_mission",
    "diplomatic_mission",
)
STATUSES = ("open", "limited", "suspended", "closed")
SERVICES = (
    "passports",
    "visas",
    "notary",
    "civil_registry",
    "citizenship",
    "consular_registration",
    "legalisation",
    "return_certificate",
    "emergency_assistance",
)
PHONE_KINDS = ("main", "consular", "emergency", "fax")
LANGUAGES = ("en", "kk", "ru")
LOCATION_PRECISIONS = ("building", "city")

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Path segments that name endpoints beside /v1/missions/<id>: a mission may not take them as its id.
RESERVED_IDS = frozenset({"nearest", "responsible", "dataset", "quality"})
PHONE_PATTERN = re.compile(r"^\+[1-9][0-9 ()\-]{4,24}[0-9]$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# The same rule for a reader of /openapi.json: JavaScript's \s (the document's regex dialect) lacks characters
# Python's has (\x1c-\x1f, \x85), so they are spelt out; \uFEFF is JavaScript's only.
EMAIL_DOC_PATTERN = r"^[^@\s\x1c-\x1f\x85\uFEFF]+@[^@\s\x1c-\x1f\x85\uFEFF]+\.[A-Za-z]{2,}$"


def _check_hours(expr: str) -> None:
    message = validate_hours(expr)
    if message is not None:
        raise ValidationError(f"not valid opening_hours syntax: {message}")








class PhoneSchema(_Strict):
    number = fields.String(required=True,
                           validate=validate.Regexp(PHONE_PATTERN, error="expected +<country code> <number>"))
    kind = fields.String(required=True, validate=validate.OneOf(PHONE_KINDS))
    note = _Text(200)










class MissionPropertiesSchema(_Strict):
    id = fields.String(required=True, validate=[validate.Length(min=3, max=80), validate.Regexp(ID_PATTERN),
                                                validate.NoneOf(RESERVED_IDS, error="{input!r} is a reserved path")])
    type = fields.String(required=True, validate=validate.OneOf(MISSION_TYPES))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_note = _Text(1000, allow_none=True)
    host_country = country_code(required=True)
    city = _Text(120, required=True)
    name = fields.Nested(NameSchema, required=True)
    name_unsourced = fields.List(fields.String(validate=validate.OneOf(LANGUAGES)), load_default=None,
                                 metadata={"uniqueItems": True})
    address = _Text(500, allow_none=True)
    phones = fields.List(fields.Nested(PhoneSchema), validate=validate.Length(max=20))
    email = fields.String(allow_none=True, validate=validate.Regexp(EMAIL_PATTERN, error="not an e-mail address"),
                          metadata={"pattern": EMAIL_DOC_PATTERN})
    website = fields.Url(allow_none=True, schemes={"https", "http"}, metadata={
        "pattern": r"^https?://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,6}(/[A-Za-z0-9._~/-]*)?$",
        "description": "An http or https URL"})
    timezone = fields.String(validate=check_timezone, metadata={
        "enum_component": "TimeZone", "description": "Derived from the point when left out (required at sea)"})
    hours = fields.String(allow_none=True, validate=[validate.Length(min=1, max=500), _check_hours], metadata={
        "description": "OpenStreetMap opening_hours syntax, e.g. Mo-Fr 09:00-13:00,14:00-18:00; PH off"})
    hours_note = _Text(1000, allow_none=True)
    services = fields.List(fields.String(validate=validate.OneOf(SERVICES)), required=True,
                           metadata={"uniqueItems": True})
    services_default = fields.Boolean(load_default=False)
    accredited_to = fields.List(country_code(), load_default=list, metadata={
        "uniqueItems": True, "description": "Other countries this post serves (never host_country)"})
    districts = fields.List(subdivision_code(), load_default=list, metadata={"uniqueItems": True})
    districts_note = _Text(1000, allow_none=True)
    location_precision = fields.String(required=True, validate=validate.OneOf(LOCATION_PRECISIONS))
    sources = fields.List(SourceField(), required=True, validate=validate.Length(min=1, max=50))
    checked_on = fields.Date(required=True, allow_none=True, metadata={
        "description": "The newest date of a source confirming the record's contacts; null if none is dated"})
    refer_to = fields.String(allow_none=True, load_default=None, validate=validate.Regexp(ID_PATTERN), metadata={
        "description": "The id of the post that stands in for this one (status limited, suspended or closed)"})
    note = _Text(2000, allow_none=True)

    @validates_schema
    def _cross_field(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("status") != "open" and not data.get("status_note"):
            errors["status_note"] = ["required when status is not 'open'"]
        if data.get("refer_to") is not None:
            if data.get("status") == "open":
                errors["refer_to"] = ["only a post whose status is limited, suspended or closed may refer elsewhere"]
            elif data.get("refer_to") == data.get("id"):
                errors["refer_to"] = ["a post cannot refer to itself"]
        host = data.get("host_country")
        if host and host in (data.get("accredited_to") or []):
            errors["accredited_to"] = ["must not repeat host_country"]
        for field_name in ("services", "accredited_to", "districts", "name_unsourced"):
            values = data.get(field_name) or []
            if len(values) != len(set(values)):
                errors.setdefault(field_name, []).append("duplicate values")
        if errors:
            raise ValidationError(errors)


def _check_coordinates(value: list[float]) -> None:
    if len(value) != 2:
        raise ValidationError("a Point has exactly [lon, lat]")
    lon, lat = value
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValidationError("coordinates must be finite numbers")
    if not -180.0 <= lon <= 180.0:
        raise ValidationError("longitude (first) must be within [-180, 180]")
    if not -90.0 <= lat <= 90.0:
        raise ValidationError("latitude (second) must be within [-90, 90]")


class PointSchema(_Strict):
    type = fields.String(required=True, validate=validate.Equal("Point"))
    coordinates = fields.List(fields.Float(allow_nan=False, metadata={"minimum": -180, "maximum": 180}),
                              required=True, validate=_check_coordinates, metadata={
                                  "minItems": 2, "maxItems": 2,
                                  "description": "[lon, lat] (RFC 7946): lon within [-180, 180], lat within [-90, 90]"})


class MissionFeatureSchema(_Strict):
    type = fields.String(required=True, validate=validate.Equal("Feature"))
    id = fields.String()
    geometry = fields.Nested(PointSchema, required=True)
    properties = fields.Nested(MissionPropertiesSchema, required=True)

    @validates_schema
    def _same_id(self, data: dict[str, Any], **_: Any) -> None:
        feature_id = data.get("id")
        if feature_id is not None and feature_id != data["properties"]["id"]:
            raise ValidationError({"id": ["must equal properties.id"]})


class HotlineSchema(_Strict):
    number = fields.String(required=True, validate=validate.Regexp(PHONE_PATTERN))
    note = _Text(1000, allow_none=True)
    sources = fields.List(_Text(2000), load_default=list)


class DatasetMetaSchema(_Strict):
    title = _Text(300, required=True)
    publisher = _Text(300, allow_none=True)
    consular_hotline = fields.Nested(HotlineSchema, allow_none=True, required=True)
    checked_on = fields.Date(required=True)
    city_location_uncertainty_km = fields.Float(allow_nan=False, validate=validate.Range(0, 1000), metadata={
        "description": "How far a city-level point may be from its post (95th percentile of building-to-city-"
                       "centre offsets of the posts whose building is known)"})
    licence = _Text(1000, allow_none=True)
    sources = fields.List(_Text(2000), load_default=list)
    note = _Text(4000, allow_none=True)


class CollectionEnvelopeSchema(Schema):
    """The FeatureCollection around the features; features are validated one by one to report each index."""

    class Meta:
        unknown = RAISE

    type = fields.String(required=True, validate=validate.Equal("FeatureCollection"))
    dataset = fields.Nested(DatasetMetaSchema, required=True)
    features = fields.List(fields.Raw(metadata={"one_of_schemas": [MissionFeatureSchema]}), required=True)
    bbox = fields.List(fields.Float())
    name = fields.String()


FEATURE_SCHEMA = MissionFeatureSchema()
META_SCHEMA = DatasetMetaSchema()
ENVELOPE_SCHEMA = CollectionEnvelopeSchema()


def normalise_feature(raw: Any) -> dict[str, Any]:
    """Validate one Feature and return it in canonical form (``id`` set, coordinates rounded to 1e-7 deg).

    Raises ``ValidationError`` whose ``messages`` name each bad field.
    """
    if not isinstance(raw, dict):
        raise ValidationError({"_schema": ["a Feature must be a JSON object"]})
    loaded = FEATURE_SCHEMA.load(raw)
    props = MissionPropertiesSchema().dump(loaded["properties"])
    # Dump keeps only keys that were present; drop the load_default None for name_unsourced and refer_to.
    props = {k: v for k, v in props.items() if not (k in ("name_unsourced", "refer_to") and v is None)}
    lon, lat = loaded["geometry"]["coordinates"]
    return {
        "type": "Feature",
        "id": props["id"],
        # 1e-7 degree is ~1 cm: finer than any source, and it keeps [lon, lat] as written by staff.
        "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
        "properties": props,
    }


def normalise_meta(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationError({"_schema": ["dataset must be a JSON object"]})
    result: dict[str, Any] = META_SCHEMA.dump(META_SCHEMA.load(raw))
    return result
