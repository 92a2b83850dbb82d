"""Request and response schemas for the traveller and meetup endpoints; ``/openapi.json`` documents the same
classes.

JSON numbers must be JSON numbers: ``"25.2"`` or ``true`` for a latitude is a type error, not a coercion.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from yurt.api.queries import BBox, Lat, Lon, QueryFloat, QueryInt
from yurt.domain.meetup_search import MAX_MEETUP_RADIUS_KM
from yurt.domain.privacy import MAX_RADIUS_KM

MAX_MEETUP_DURATION = timedelta(days=7)
HANDLE = validate.Regexp(r"^t_[a-z2-7]{26}$", error="not a handle from this service")


class JsonNumber(fields.Float):
    """A finite JSON number (not a string, not a boolean)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be a number")
        if not math.isfinite(value):
            raise ValidationError("must be a finite number")
        return float(value)


def _lat(**kw: Any) -> JsonNumber:
    return JsonNumber(validate=validate.Range(-90, 90), metadata={"description": "WGS-84 latitude, degrees"},
                      **kw)


def _lon(**kw: Any) -> JsonNumber:
    return JsonNumber(validate=validate.Range(-180, 180),
                      metadata={"description": "WGS-84 longitude, degrees"}, **kw)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class PresenceBody(_Strict):
    lat = _lat(required=True)
    lon = _lon(required=True)
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


class _MeetupFields(_Strict):
    title = fields.String(validate=validate.Length(1, 120))
    description = fields.String(validate=validate.Length(0, 4000))
    starts_at = fields.AwareDateTime(format="iso", metadata={"description": "ISO 8601 with a UTC offset"})
    ends_at = fields.AwareDateTime(format="iso")
    lat = _lat()
    lon = _lon()
    place_name = fields.String(validate=validate.Length(1, 200))
    capacity = fields.Integer(strict=True, validate=validate.Range(1, 10_000),
                              metadata={"description": "seats, the organiser not counted"})

    @validates_schema
    def _times(self, data: dict[str, Any], **_: Any) -> None:
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts is not None and ends is not None:
            if ends <= starts:
                raise ValidationError("must be after starts_at", "ends_at")
            if ends - starts > MAX_MEETUP_DURATION:
                raise ValidationError("a meetup lasts at most 7 days", "ends_at")
        if ("lat" in data) != ("lon" in data):
            raise ValidationError("lat and lon change together", "lat" if "lat" not in data else "lon")


class MeetupBody(_MeetupFields):
    title = fields.String(required=True, validate=validate.Length(1, 120))
    description = fields.String(load_default="", validate=validate.Length(0, 4000))
    starts_at = fields.AwareDateTime(format="iso", required=True)
    ends_at = fields.AwareDateTime(format="iso", required=True)
    lat = _lat(required=True)
    lon = _lon(required=True)
    place_name = fields.String(required=True, validate=validate.Length(1, 200))
    capacity = fields.Integer(strict=True, required=True, validate=validate.Range(1, 10_000))


class MeetupPatch(_MeetupFields):
    """Every field optional; the merged meetup is validated again."""


class MeetupNearbyQuery(_Strict):
    lat = Lat(required=True)
    lon = Lon(required=True)
    radius_km = QueryFloat(load_default=25.0, allow_nan=False,
                             validate=validate.Range(1, MAX_MEETUP_RADIUS_KM))
    from_ = fields.AwareDateTime(format="iso", data_key="from")
    to = fields.AwareDateTime(format="iso")
    limit = QueryInt(load_default=50, validate=validate.Range(1, 100))


class MeetupTime(_Strict):
    utc = fields.String(required=True, metadata={"description": "ISO 8601 in UTC, with a Z"})
    local = fields.String(required=True, metadata={"description": "ISO 8601 in the venue's time zone"})
    time_zone = fields.String(required=True, allow_none=True, metadata={"description": "IANA zone of the venue"})


class MeetupVenue(_Strict):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    place_name = fields.String(required=True)


class MeetupAttendee(_Strict):
    """An attendee as the organiser sees them: never their account id (the token's ``sub``)."""

    handle = fields.String(required=True, validate=HANDLE, metadata={
        "description": "The organiser's own opaque handle for this attendee, the one nearby shows them; "
                       "POST /v1/travellers/me/blocks and /v1/travellers/reports take it for a day"})
    display_name = fields.String(required=True, allow_none=True,
                                 metadata={"description": "null unless the attendee shares a profile now"})
    languages = fields.List(fields.String(), required=True, allow_none=True)
    about = fields.String(required=True, allow_none=True)


class MeetupOut(_Strict):
    """A meetup; ``attendees`` only for its organiser, ``you_attend`` only from GET /v1/meetups/<id>."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    starts_at = fields.Nested(MeetupTime, required=True)
    ends_at = fields.Nested(MeetupTime, required=True)
    venue = fields.Nested(MeetupVenue, required=True)
    capacity = fields.Integer(strict=True, required=True)
    attending = fields.Integer(strict=True, required=True)
    status = fields.String(required=True, validate=validate.OneOf(["active", "cancelled"]))
    you_organise = fields.Boolean(required=True)
    you_attend = fields.Boolean()
    attendees = fields.List(fields.Nested(MeetupAttendee), metadata={
        "description": "Only for the organiser, ordered by handle"})


class MeetupFound(MeetupOut):
    distance_km = fields.Float(required=True, metadata={"description": "Exact geodesic distance on WGS-84"})


class MeetupsNearby(Schema):
    results = fields.List(fields.Nested(MeetupFound), required=True)


class Attendance(_Strict):
    attending = fields.Integer(strict=True, required=True)
    you_attend = fields.Boolean(required=True)


class PresenceOut(_Strict):
    """Your presence as stored: a cell, never the position you sent."""

    cell = fields.String(required=True, metadata={"description": "H3 cell id"})
    cell_resolution = fields.Integer(required=True)
    expires_at = fields.String(required=True, metadata={"description": "ISO 8601 in UTC"})
    display_name = fields.String(required=True)
    languages = fields.List(fields.String(), required=True)
    about = fields.String(required=True, allow_none=True)
