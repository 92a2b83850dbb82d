"""Response schemas of the alerts' audit trail and of reach, as ``/openapi.json`` names them; the views write
the same members."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from yurt.alerts.http.schemas import AlertSchema

_UTC = {"description": "ISO 8601 in UTC (Z)"}
_BAND = {"description": "`<3` below 3, else a band such as `3–4`, `5–9`, `10–19`: never an exact count"}


class AlertAuditEntrySchema(Schema):
    seq = fields.Integer(required=True, validate=validate.Range(min=1))
    kind = fields.String(required=True, validate=validate.Equal("alert"))
    at = fields.String(required=True, metadata=_UTC)
    author = fields.String(required=True)
    action = fields.String(required=True)
    alert_id = fields.String(required=True)
    before = fields.Nested(AlertSchema, required=True, allow_none=True, metadata={"description": "null: created"})
    after = fields.Nested(AlertSchema, required=True, allow_none=True, metadata={"description": "null: deleted"})
    generation = fields.Integer(required=True, validate=validate.Range(min=0))


class AlertAuditPageSchema(Schema):
    entries = fields.List(fields.Nested(AlertAuditEntrySchema), required=True, metadata={
        "description": "Newest first"})
    next = fields.String(metadata={"description": "The next page; absent on the last one"})


class AlertReachSchema(Schema):
    id = fields.String(required=True)
    sharing_presence = fields.String(required=True, metadata=_BAND)
    on_trips = fields.String(required=True, allow_none=True, metadata={
        **_BAND, "description": _BAND["description"] + "; null for an alert that names no country"})
    counted_at = fields.String(required=True, metadata=_UTC)
