"""Request and response schemas of the meetup endpoints; ``/openapi.json`` documents the same classes.

JSON numbers must be JSON numbers: ``"25.2"`` or ``true`` for a latitude is a type error, not a coercion.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from yurt.core.http.queries import HANDLE, Lat, Lon, QueryFloat, QueryInt, json_lat, json_lon
from yurt.meetups.model.rules import MAX_MEETUP_DURATION
from yurt.meetups.model.search import MAX_MEETUP_RADIUS_KM


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _MeetupFields(_Strict):
    title = fields.String(validate=validate.Length(1, 120))
    description = fields.String(validate=validate.Length(0, 4000))
    starts_at = fields.AwareDateTime(format="iso", metadata={"description": "ISO 8601 with a UTC offset"})
    ends_at = fields.AwareDateTime(format="iso")
    lat = json_lat()
    lon = json_lon()
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
    lat = json_lat(required=True)
    lon = json_lon(required=True)
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
