"""The alert as other features' answers carry it (``nearest``, ``responsible``): its id, severity and title."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from yurt.alerts.model.record import SEVERITIES
from yurt.core.schemas import NameSchema


class AlertSummarySchema(Schema):
    """An alert as ``nearest`` and ``responsible`` carry it (``GET /v1/alerts/<id>`` has the rest)."""

    id = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    title = fields.Nested(NameSchema, required=True)
