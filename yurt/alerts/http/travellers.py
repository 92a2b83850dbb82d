"""Alerts for travellers (scope ``traveller``) and their reach (scope ``staff``).

``GET /v1/travellers/me/alerts``: the alerts in force that meet the caller's own stored cell (the cell's
polygon, never a point; for a country or subdivision alert, the place of the cell's centre), and, during a
registered trip, the alerts for the trip's countries (by country, by a subdivision in them, or an area that
reaches them). Nothing finer than the cell is ever used; there is no position parameter.

Trips (``PUT/GET/DELETE /v1/travellers/me/trips``): the body replaces the whole list. Stored under the
pseudonym, never shown to anyone else, gone after the last trip's end, with ``DELETE`` and with
``DELETE /v1/travellers/me``. Store failures fail closed (503 with ``Retry-After``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Blueprint, Response

from yurt.alerts.http.alerts import alerts, loaded
from yurt.alerts.http.answer_schemas import AlertReachSchema
from yurt.alerts.http.schemas import TravellerAlertsSchema, TripsBodySchema
from yurt.alerts.model.record import MAX_TRIP_AHEAD, Trip
from yurt.alerts.service import answers
from yurt.alerts.service.reach import ReachTooLarge, reach
from yurt.alerts.service.writes import is_alert_id
from yurt.composition import services
from yurt.core.auth import requires
from yurt.core.http.clock import request_now_s
from yurt.core.http.contract import body, other_responses, response
from yurt.core.http.conventions import GEOJSON, json_body, json_response
from yurt.core.http.problems import Problem
from yurt.travellers.http.travellers import caller

bp = Blueprint("alert_travellers", __name__)


@bp.get("/v1/travellers/me/alerts")
@requires("traveller")
@response(TravellerAlertsSchema, mimetype=GEOJSON, description="Each alert says why in `matched_by`")
def my_alerts() -> Response:
    """The alerts in force for your shared cell and for your trips under way, most severe first."""
    stores, tid = caller()
    now = request_now_s()
    presence = stores.presence.get_presence(tid, now)
    trips = alerts().trips.get(tid, now)
    found = answers.for_traveller(alerts().book.current(), services().locator,
                                  presence.cell if presence is not None else None, trips, now)
    features = [b'{"matched_by":' + orjson.dumps(reasons) + b"," + alert.feature_bytes(False)[1:]
                for alert, reasons in found]
    under_way = sorted({c for t in trips if t.under_way(now) for c in t.countries})
    head = orjson.dumps({"type": "FeatureCollection", "presence_shared": presence is not None,
                         "trip_countries": under_way})
    body = head[:-1] + b',"features":[' + b",".join(features) + b"]}"
    return json_response(body, mimetype=GEOJSON, headers={"Cache-Control": "no-store"})


def _trips_json(trips: list[Trip]) -> dict[str, Any]:
    return {"trips": [t.to_json() for t in trips]}


@bp.put("/v1/travellers/me/trips")
@requires("traveller")
@body(TripsBodySchema, load=False)
@response(TripsBodySchema, description="The trips stored")
def put_trips() -> Response:
    """Register your trips (the list replaces the one stored): countries and dates, no position."""
    body = loaded(json_body(), TripsBodySchema())
    now = request_now_s()
    today = datetime.fromtimestamp(now, UTC).date()
    errors: dict[str, list[str]] = {}
    trips = []
    for i, raw in enumerate(body["trips"]):
        trip = Trip(tuple(raw["countries"]), raw["starts"], raw["ends"])
        if trip.ends > today + MAX_TRIP_AHEAD:
            errors[f"trips[{i}].to"] = [f"may be at most a year ahead (until {today + MAX_TRIP_AHEAD})"]
        elif trip.finishes_s <= now:
            errors[f"trips[{i}].to"] = ["is over already"]
        trips.append(trip)
    if errors:
        raise Problem(422, "the trips are invalid: " + ", ".join(sorted(errors)), errors=errors)
    _, tid = caller()
    alerts().trips.put(tid, trips, now)
    return json_response(_trips_json(trips), headers={"Cache-Control": "no-store"})


@bp.get("/v1/travellers/me/trips")
@requires("traveller")
@response(TripsBodySchema, description="The trips stored")
def get_trips() -> Response:
    """Your registered trips that are not over."""
    _, tid = caller()
    return json_response(_trips_json(alerts().trips.get(tid, request_now_s())), headers={"Cache-Control": "no-store"})


@bp.delete("/v1/travellers/me/trips")
@requires("traveller")
@response(None, 204, description="Forgotten")
def delete_trips() -> Response:
    """Forget your trips at once."""
    _, tid = caller()
    alerts().trips.erase(tid)
    return Response(status=204)


@bp.get("/v1/alerts/<alert_id>/reach")
@requires("staff")
@response(AlertReachSchema, description="Counts in bands, never who")
@other_responses({422: "The area is too large to count"})
def alert_reach(alert_id: str) -> Response:
    """How many travellers the alert reaches now, in bands ("<3" below 3): never who."""
    record = alerts().store.get(alert_id) if is_alert_id(alert_id) else None
    if record is None:
        raise Problem(404, f"no alert with id {alert_id[:40]!r}")
    svc = services()
    try:
        body = reach(record, svc.travellers.presence, alerts().trips, svc.locator, request_now_s())
    except ReachTooLarge as exc:
        raise Problem(422, f"{exc}: too large to count", errors={"area": [str(exc)]}) from None
    return json_response(body, headers={"Cache-Control": "no-store"})
