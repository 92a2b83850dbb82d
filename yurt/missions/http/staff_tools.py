"""Small staff endpoints the console needs (scope ``staff``): who is signed in, pasted coordinates read on the
server, and the approximate outlines of consular districts.

- ``GET /v1/staff/me``: the verified token's ``sub``, scopes and expiry, so the console shows who is signed in
  and warns before the token runs out.
- ``POST /v1/staff/parse-point`` ``{"text": "48°08′14″N 11°34′32″E"}`` → ``{"lat", "lon"}``, or a 400 problem
  naming ``text`` (``yurt.geo.point_text``: geopy's ``Point``, read whole or refused).
- ``GET /v1/staff/districts?codes=DE-BE,DE-BB``: per ISO 3166-2 code, the labelled places the subdivision
  lookup uses and their convex hull, marked approximate (``yurt.geo.district_outline``).
"""

from __future__ import annotations

from typing import Any

import jwt
from flask import Blueprint, Response, g, request
from marshmallow import Schema, ValidationError, fields, validate

from yurt.core.auth import requires
from yurt.core.http.contract import body, response
from yurt.core.http.conventions import GEOJSON, json_response, use_query
from yurt.core.http.problems import Problem
from yurt.geo.instants import utc_iso
from yurt.missions.http import service
from yurt.missions.schemas.staff_answers import DistrictOutlinesSchema, WhoAmISchema
from yurt.missions.service.tools import district_features, subdivision_names

bp = Blueprint("staff_tools", __name__)

MAX_DISTRICT_CODES = 60  # the longest published district list has 17 codes


class ParsePointBody(Schema):
    class Meta:
        unknown = "raise"

    text = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "Latitude, longitude as pasted: 48.1372, 11.5755 or 48°08′14″N 11°34′32″E"})


class ParsedPoint(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


def _codes(value: str) -> list[str]:
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    if not codes or len(codes) > MAX_DISTRICT_CODES:
        raise ValidationError(f"1 to {MAX_DISTRICT_CODES} comma-separated ISO 3166-2 codes")
    unknown = [c for c in codes if c not in subdivision_names()]
    if unknown:
        raise ValidationError(f"not ISO 3166-2 subdivision codes: {', '.join(unknown[:5])}")
    return list(dict.fromkeys(codes))


class DistrictsQuery(Schema):
    class Meta:
        unknown = "raise"

    codes = fields.String(required=True, validate=validate.Length(min=2, max=1000), metadata={
        "description": "Comma-separated ISO 3166-2 codes, e.g. DE-BE,DE-BB", "comma_separated": True,
        "type": "array", "items": {"$ref": "#/components/schemas/SubdivisionCode"}, "minItems": 1,
        "maxItems": MAX_DISTRICT_CODES})


@bp.get("/v1/staff/me")
@requires("staff")
@response(WhoAmISchema)
def who_am_i() -> Response:
    """Who is signed in: the token's sub, scopes and expiry."""
    token = request.headers["Authorization"].partition(" ")[2].strip()
    # Verified by @requires just now; only the expiry is read here.
    exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    expires_at = (utc_iso(float(exp))
                  if isinstance(exp, int | float) else None)
    return json_response({"sub": g.principal.sub, "scopes": sorted(g.principal.scopes), "expires_at": expires_at},
                         headers={"Cache-Control": "no-store"})


@bp.post("/v1/staff/parse-point")
@requires("staff")
@body(ParsePointBody)
@response(ParsedPoint, description="The point read")
def parse_point_text(body: dict[str, Any]) -> Response:
    """Read pasted coordinates (latitude, longitude; decimal or degrees-minutes-seconds).

    400 when the text holds no point this reader understands."""
    from yurt.geo.point_text import PointTextError, parse_point  # geopy: imported when first used

    text = body["text"]
    try:
        lat, lon = parse_point(text)
    except PointTextError as exc:
        raise Problem(400, f"the coordinates could not be read: {exc}", errors={"text": [str(exc)]}) from None
    return json_response({"lat": lat, "lon": lon}, headers={"Cache-Control": "no-store"})


@bp.get("/v1/staff/districts")
@requires("staff")
@use_query(DistrictsQuery())
@response(DistrictOutlinesSchema, mimetype=GEOJSON,
          description="Approximate outlines and the labelled places they are drawn from")
def districts(codes: str) -> Response:
    """Approximate outlines of subdivisions: their labelled places and convex hull (marked approximate)."""
    try:
        wanted = _codes(codes)
    except ValidationError as exc:
        raise Problem(400, f"invalid query parameters: codes: {exc.messages[0]}",
                      errors={"codes": [str(m) for m in exc.messages]}) from None
    features = district_features(service(), wanted)
    return json_response({"type": "FeatureCollection", "features": features}, mimetype=GEOJSON,
                         headers={"Cache-Control": "private, max-age=3600"})
