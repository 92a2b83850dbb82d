"""Rules between values that /openapi.json states in prose because OpenAPI 3.0 cannot state them as schema.

Everything a single value must satisfy is in the document itself (ranges, patterns, enums of country,
subdivision and time-zone codes, lengths, the If-Match form), so a generated value that breaks it is the
document's bug. What is left are relations between values (minLat <= maxLat; ends_at after starts_at; lat and
lon together), grammars no pattern holds (opening_hours, pasted coordinates), and values only the server hands
out (cursors). For those, each positive case is brought within the stated rule before it is sent, here, once per
rule; negative cases are sent as generated. A rule missing here shows up as "schema-valid request rejected".
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis

from yurt.missions.schemas.record import ID_PATTERN, RESERVED_IDS
from yurt.travellers.http.travellers import MAX_AREA_SPAN_DEG

Repair = Callable[[schemathesis.Case], None]
NOW = datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _ordered_bbox(value: str, max_span: float | None = None) -> str:
    """minLat <= maxLat (a bbox may cross the antimeridian, never a pole); and the areas' span limit."""
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in value.split(","))
    min_lat, max_lat = sorted((min_lat, max_lat))
    if max_span is not None:
        max_lat = min(max_lat, min_lat + max_span * (1 - 1e-9))  # min_lat + span may round above the span
        max_lon = min_lon if (max_lon - min_lon) % 360 > max_span else max_lon
    return f"{min_lon},{min_lat},{max_lon},{max_lat}"


def _bbox(max_span: float | None = None) -> Repair:
    def repair(case: schemathesis.Case) -> None:
        if isinstance(case.query, dict) and isinstance(case.query.get("bbox"), str):
            case.query["bbox"] = _ordered_bbox(case.query["bbox"], max_span)

    return repair


def _point_together(*, or_country: bool) -> Repair:
    """lat and lon come together (responsible: or country alone; alerts: or neither)."""

    def repair(case: schemathesis.Case) -> None:
        query = case.query if isinstance(case.query, dict) else {}
        if or_country and "country" in query:
            query.pop("lat", None), query.pop("lon", None)
        elif "lat" in query or "lon" in query or or_country:
            query.setdefault("lat", 48.85), query.setdefault("lon", 2.35)
        case.query = query

    return repair


def _meetup_times(case: schemathesis.Case) -> None:
    """ends_at after starts_at, at most 7 days later, and not over; a PATCH moves lat and lon together."""
    body = case.body if isinstance(case.body, dict) else None
    if body is None:
        return
    if "starts_at" in body or "ends_at" in body or case.method == "POST":
        body["starts_at"], body["ends_at"] = _iso(NOW + timedelta(days=1)), _iso(NOW + timedelta(days=1, hours=2))
    if ("lat" in body) != ("lon" in body):
        body.setdefault("lat", 43.24), body.setdefault("lon", 76.95)


def _meetup_window(case: schemathesis.Case) -> None:
    """to after from, and after now."""
    if isinstance(case.query, dict):
        case.query.pop("from", None)
        if "to" in case.query:
            case.query["to"] = _iso(NOW + timedelta(days=30))


def _mission(feature: Any, index: int = 0) -> None:
    """status_note with a status other than open; refer_to an existing post (none here); accredited_to without
    the host country; opening_hours syntax; lat within [-90, 90]; an id that is not a reserved path; a time zone
    for a point at sea."""
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        return
    props = feature["properties"]
    props["id"] = f"fuzz-{index}" if props.get("id") in RESERVED_IDS or index else props.get("id")
    feature.pop("id", None)
    if props.get("status") != "open":
        props["status_note"] = props.get("status_note") or "temporarily closed"
    props["refer_to"] = None
    props.setdefault("timezone", "Europe/Paris")  # derived from the point when left out, required at sea
    if "hours" in props:
        props["hours"] = "Mo-Fr 09:00-18:00"
    props["accredited_to"] = [c for c in props.get("accredited_to") or [] if c != props.get("host_country")]
    coordinates = (feature.get("geometry") or {}).get("coordinates")
    if isinstance(coordinates, list) and len(coordinates) == 2:
        coordinates[1] = max(-90.0, min(90.0, coordinates[1]))


def _mission_body(case: schemathesis.Case) -> None:
    _mission(case.body)
    if case.path_parameters and isinstance(case.body, dict) and isinstance(case.body.get("properties"), dict):
        # The body's id is the URL's: a real one (from a link) goes into the body, a drawn one into the URL. A real
        # id is one the record schema accepts (its pattern and its 3-80 characters): a drawn "0" matches the
        # pattern, and in the body it made a schema-invalid "positive" case whose answer (412 or 422) depended on
        # the state earlier cases left.
        mission_id = str(case.path_parameters["mission_id"])
        if ID_PATTERN.fullmatch(mission_id) and 3 <= len(mission_id) <= 80:
            case.body["properties"]["id"] = case.path_parameters["mission_id"]
        else:
            case.path_parameters["mission_id"] = case.body["properties"]["id"]


def _collection_body(case: schemathesis.Case) -> None:
    if isinstance(case.body, dict):
        for i, feature in enumerate(case.body.get("features") or []):
            _mission(feature, i + 1)


def _alert(case: schemathesis.Case) -> None:
    """An area, or countries and/or subdivisions (areas are drawn without shapely's validity: none here);
    valid_to after valid_from and not past."""
    body = case.body if isinstance(case.body, dict) else None
    if body is None:
        return
    body["area"] = None
    if not body.get("countries") and not body.get("subdivisions"):
        body["countries"] = ["FR"]
    body["valid_from"], body["valid_to"] = _iso(NOW), _iso(NOW + timedelta(days=3))
    body["missions"] = []  # each must name an existing post
    body.pop("id", None)


def _merge_patch(members: dict[str, Any]) -> Repair:
    """A merge patch names members of the resource, and the merged resource must be valid as a whole: the
    document says so in prose (its schema is any object). Sent: a patch of one editable member."""

    def repair(case: schemathesis.Case) -> None:
        case.body = dict(members)

    return repair


def _trips(case: schemathesis.Case) -> None:
    """to not before from, at most a year ahead, not over already."""
    if isinstance(case.body, dict):
        for trip in case.body.get("trips") or []:
            trip["from"], trip["to"] = str((NOW + timedelta(days=10)).date()), str((NOW + timedelta(days=20)).date())


def _parse_point(case: schemathesis.Case) -> None:
    """The text holds a point in one of the described notations."""
    if isinstance(case.body, dict):
        case.body["text"] = "48.1372, 11.5755"


def _no_cursor(case: schemathesis.Case) -> None:
    """A cursor is only one the list gave out (next_cursor)."""
    if isinstance(case.query, dict):
        case.query.pop("cursor", None)


REPAIRS: dict[str, Repair] = {
    "GET /v1/missions": _bbox(),
    "GET /collections/{collection_id}/items": _bbox(),
    "GET /v1/travellers/areas": _bbox(MAX_AREA_SPAN_DEG),
    "GET /v1/missions/responsible": _point_together(or_country=True),
    "GET /v1/alerts": _point_together(or_country=False),
    "POST /v1/meetups": _meetup_times,
    "PATCH /v1/meetups/{meetup_id}": _meetup_times,
    "GET /v1/meetups/nearby": _meetup_window,
    "POST /v1/missions": _mission_body,
    "PUT /v1/missions/{mission_id}": _mission_body,
    "PUT /v1/missions": _collection_body,
    "POST /v1/alerts": _alert,
    "PUT /v1/alerts/{alert_id}": _alert,
    "PATCH /v1/alerts/{alert_id}": _merge_patch({"severity": "advisory"}),
    "PATCH /v1/missions/{mission_id}": _merge_patch({"properties": {"note": "checked by phone"}}),
    "PUT /v1/travellers/me/trips": _trips,
    "POST /v1/staff/parse-point": _parse_point,
    "GET /v1/staff/traveller-reports": _no_cursor,
}


def own_operation(case: schemathesis.Case) -> schemathesis.Case:
    """A case of /v1/missions/{mission_id} whose id is a reserved segment (``quality``, ``nearest``...) is a
    request to another operation of the document (the path parameter says ``not`` those): the id is replaced, in
    positive and negative cases alike, so the answer is checked against the operation that was drawn."""
    if (case.path == "/v1/missions/{mission_id}" and isinstance(case.path_parameters, dict)
            and case.path_parameters.get("mission_id") in RESERVED_IDS):
        case.path_parameters["mission_id"] = "fuzz-reserved"
    return case


def within_stated_rules(case: schemathesis.Case) -> schemathesis.Case:
    own_operation(case)
    repair = REPAIRS.get(f"{case.method} {case.path}")
    if repair is not None:
        with contextlib.suppress(ValueError, TypeError, AttributeError):  # not the shape a rule is about: as drawn
            repair(case)
    return case
