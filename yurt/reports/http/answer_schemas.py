"""Response schemas of the report endpoints: what the reporter is told, and what staff read. ``/openapi.json``
names them; the views write the same members."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from yurt.reports.stores.missions import CATEGORIES, RESOLUTIONS

_UTC = {"description": "ISO 8601 in UTC (Z)"}
_STAFF_HANDLE = {"description": "A staff handle for the traveller (never the account id); the suspension "
                                "endpoint takes it"}


class MissionReportReceiptSchema(Schema):
    id = fields.Integer(required=True, validate=validate.Range(min=1))
    status = fields.String(required=True, validate=validate.Equal("open"))
    created_at = fields.String(required=True, metadata=_UTC)


class MissionReportSchema(Schema):
    id = fields.Integer(required=True, validate=validate.Range(min=1))
    mission_id = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    text = fields.String(required=True)
    reporter = fields.String(required=True, metadata={"description": "A keyed pseudonym of the reporter"})
    created_at = fields.String(required=True, metadata=_UTC)
    status = fields.String(required=True, validate=validate.OneOf(("open", "resolved")))
    resolution = fields.String(required=True, allow_none=True, validate=validate.OneOf(RESOLUTIONS))
    resolution_note = fields.String(required=True, allow_none=True)
    resolved_by = fields.String(required=True, allow_none=True)
    resolved_at = fields.String(required=True, allow_none=True, metadata=_UTC)


class MissionReportListSchema(Schema):
    total = fields.Integer(required=True, validate=validate.Range(min=0), metadata={
        "description": "How many reports match the filters (the page may hold fewer)"})
    reports = fields.List(fields.Nested(MissionReportSchema), required=True)


class TravellerReportReceiptSchema(Schema):
    id = fields.Integer(required=True, validate=validate.Range(min=1))
    status = fields.String(required=True, validate=validate.Equal("received"))


class TravellerReportSchema(Schema):
    id = fields.Integer(required=True, validate=validate.Range(min=1))
    at = fields.String(required=True, metadata=_UTC)
    reason = fields.String(required=True)
    open = fields.Boolean(required=True, metadata={"description": "false once staff suspended the target"})
    target = fields.String(required=True, metadata=_STAFF_HANDLE)
    reporter = fields.String(required=True, metadata=_STAFF_HANDLE)


class TravellerReportPageSchema(Schema):
    reports = fields.List(fields.Nested(TravellerReportSchema), required=True, metadata={
        "description": "Newest first"})
    next_cursor = fields.String(required=True, allow_none=True, metadata={"description": "null on the last page"})


class SuspensionSchema(Schema):
    handle = fields.String(required=True)
    suspended = fields.Boolean(required=True, validate=validate.Equal(True))
    reports_closed = fields.Integer(required=True, validate=validate.Range(min=0))
