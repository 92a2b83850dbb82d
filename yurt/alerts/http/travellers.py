"""Alerts for travellers (scope ``traveller``) and their reach (scope ``staff``).

``GET /v1/travellers/me/alerts``: the alerts in force that meet the caller's own stored cell (the cell's
polygon, never a point; for a country or subdivision alert, the place of the cell's centre), and, during a
registered trip, the alerts for the trip's countries (by country, by a subdivision in them, or an area that
reaches them). Nothing finer than the cell is ever used; there is no position parameter.

Trips (``PUT/GET/DELETE /v1/travellers/me/trips``): the body replaces the whole list. Stored under the
pseudonym, never shown to anyone else, gone after the last trip's end, with ``DELETE`` and with
``DELETE /v1/travellers/me``. Store failures fail closed (503 with ``Retry-After``). The use cases are
``AlertService``'s; the views parse, call it and map its errors.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, g

from yurt.alerts.http import service
from yurt.alerts.http.alerts import loaded, unknown
from yurt.alerts.http.answer_schemas import AlertReachSchema
from yurt.alerts.http.schemas import TravellerAlertsSchema, TripsBodySchema
from yurt.alerts.model.record import Trip
from yurt.alerts.service.alerts import UnknownAlert
from yurt.alerts.service.reach import ReachTooLarge
from yurt.alerts.service.trips import TripsInvalid
from yurt.core.auth import requires
from yurt.core.http.clock import request_now_s
from yurt.core.http.contract import body, other_responses, response
from yurt.core.http.conventions import GEOJSON, json_body, json_response
from yurt.core.http.problems import Problem

bp = Blueprint("alert_travellers", __name__)


@bp.get("/v1/travellers/me/alerts")
@requires("traveller")
@response(TravellerAlertsSchema, mimetype=GEOJSON, description="Each alert says why in `matched_by`")
def my_alerts() -> Response:
    """The alerts in force for your shared cell and for your trips under way, most severe first."""
    mine = service().for_traveller(g.principal.sub, request_now_s())
    features = [b'{"matched_by":' + orjson.dumps(reasons) + b"," + alert.feature_bytes(False)[1:]
                for alert, reasons in mine.found]
    head = orjson.dumps({"type": "FeatureCollection", "presence_shared": mine.presence_shared,
                         "trip_countries": mine.trip_countries})
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
    try:
        trips = service().put_trips(g.principal.sub, body["trips"], request_now_s())
    except TripsInvalid as exc:
        raise Problem(422, str(exc), errors=exc.errors) from None
    return json_response(_trips_json(trips), headers={"Cache-Control": "no-store"})


@bp.get("/v1/travellers/me/trips")
@requires("traveller")
@response(TripsBodySchema, description="The trips stored")
def get_trips() -> Response:
    """Your registered trips that are not over."""
    trips = service().trips_of(g.principal.sub, request_now_s())
    return json_response(_trips_json(trips), headers={"Cache-Control": "no-store"})


@bp.delete("/v1/travellers/me/trips")
@requires("traveller")
@response(None, 204, description="Forgotten")
def delete_trips() -> Response:
    """Forget your trips at once."""
    service().forget_trips(g.principal.sub)
    return Response(status=204)


@bp.get("/v1/alerts/<alert_id>/reach")
@requires("staff")
@response(AlertReachSchema, description="Counts in bands, never who")
@other_responses({422: "The area is too large to count"})
def alert_reach(alert_id: str) -> Response:
    """How many travellers the alert reaches now, in bands ("<3" below 3): never who."""
    try:
        body = service().reach(alert_id, request_now_s())
    except UnknownAlert as exc:
        raise unknown(exc) from None
    except ReachTooLarge as exc:
        raise Problem(422, f"{exc}: too large to count", errors={"area": [str(exc)]}) from None
    return json_response(body, headers={"Cache-Control": "no-store"})
