"""Request schemas of the reports about travellers; ``/openapi.json`` documents the same classes."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from yurt.core.http.queries import HANDLE, QueryInt


class ReportBody(Schema):
    class Meta:
        unknown = RAISE

    handle = fields.String(required=True, validate=HANDLE)
    reason = fields.String(required=True, validate=validate.Length(1, 1000))


class StaffReportsQuery(Schema):
    class Meta:
        unknown = RAISE

    limit = QueryInt(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(validate=validate.Length(1, 100),
                           metadata={"description": "next_cursor of the previous page"})
