"""Request and response schemas for the traveller and meetup endpoints; ``/openapi.json`` documents the same
classes.

JSON numbers must be JSON numbers: ``"25.2"`` or ``true`` for a latitude is a type error, not a coercion.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from yurt.core.http.queries import HANDLE, BBox, QueryFloat, QueryInt, json_lat, json_lon
from yurt.geo.privacy import MAX_RADIUS_KM


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class PresenceBody(_Strict):
    lat = json_lat(required=True)
    lon = json_lon(required=True)
    share_minutes = fields.Integer(strict=True, load_default=60, validate=validate.Range(15, 1440))
    display_name = fields.String(required=True, validate=validate.Length(1, 64))
    languages = fields.List(fields.String(validate=validate.Regexp(r"^[a-z]{2,3}$",
                                                                   error="an ISO 639 code in lower case")),
                            required=True, validate=validate.Length(1, 10))
    about = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class NearbyQuery(_Strict):
    radius_km = QueryFloat(load_default=10.0, allow_nan=False, validate=validate.Range(1, MAX_RADIUS_KM), metadata={
        "description": "Search radius in km, 1–50. Snapped up to the next band edge (2, 5, 10, 25 or 50 km) "
                       "before any cut, so every radius within one band gives the same answer: a search on the "
                       "radius learns the band, never a finer distance. The response's radius_km is the "
                       "snapped value."})
    limit = QueryInt(load_default=20, validate=validate.Range(1, 50))
    cursor = fields.String(validate=validate.Length(1, 300))


class HandleBody(_Strict):
    handle = fields.String(required=True, validate=HANDLE)


class ReportBody(_Strict):
    handle = fields.String(required=True, validate=HANDLE)
    reason = fields.String(required=True, validate=validate.Length(1, 1000))


class StaffReportsQuery(_Strict):
    limit = QueryInt(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(validate=validate.Length(1, 100),
                           metadata={"description": "next_cursor of the previous page"})


class AreasQuery(_Strict):
    bbox = BBox(required=True, metadata={"description": "minLon,minLat,maxLon,maxLat", "type": "string"})


class PresenceOut(_Strict):
    """Your presence as stored: a cell, never the position you sent."""

    cell = fields.String(required=True, metadata={"description": "H3 cell id"})
    cell_resolution = fields.Integer(required=True)
    expires_at = fields.String(required=True, metadata={"description": "ISO 8601 in UTC"})
    display_name = fields.String(required=True)
    languages = fields.List(fields.String(), required=True)
    about = fields.String(required=True, allow_none=True)
