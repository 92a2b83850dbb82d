"""Traveller endpoints: opt-in presence, nearby compatriots in bands, blocks, area counts, erasure (reports:
``traveller_reports``).

The submitted coordinates are turned into an H3 resolution-7 cell on arrival and then dropped: they are never
stored, logged or echoed back. The cell is sticky (``sticky_cells``): a position just outside the traveller's
current cell keeps it, so repeated noisy updates from one spot do not tell which side of an edge they are on.
Nearby answers are computed around the caller's own stored cell only (there is no origin parameter), with
per-viewer, per-session handles and distance bands between cell centres (``yurt.geo.privacy``); the radius
is snapped to a band edge. Area counts resist Sybils (``yurt.travellers.model.area_counts``).
Store failures fail closed: ``StoreUnavailable`` becomes a 503 problem with ``Retry-After``.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, g, request

from yurt.core import limits
from yurt.core.auth import requires
from yurt.core.http.clock import request_now_s
from yurt.core.http.contract import body, other_responses, response
from yurt.core.http.conventions import json_response, use_query
from yurt.core.http.problems import Problem
from yurt.geo import privacy
from yurt.geo.instants import utc_iso
from yurt.travellers.http import service
from yurt.travellers.http.answer_schemas import AreasAnswerSchema, NearbyAnswerSchema
from yurt.travellers.http.schemas import AreasQuery, HandleBody, NearbyQuery, PresenceBody, PresenceOut
from yurt.travellers.service import (
    MAX_AREA_SPAN_DEG,
    AreaTooLargeError,
    ImplausibleMoveError,
    NotSharingError,
    Presence,
    Profile,
    RateLimitError,
    StaleCursorError,
    SuspendedError,
    UnknownHandleError,
)

__all__ = ["MAX_AREA_SPAN_DEG", "bp"]

bp = Blueprint("travellers", __name__)

NEARBY_RULE = "/v1/travellers/nearby"
# The nearby view's query schema: the view and its lean route (``lean_nearby``) load a query with this instance.
NEARBY_QUERY = NearbyQuery()
# What the lean route's counted attempt raised (a refusal, the 429, an outage), for the view to raise in its
# place: Flask answers the problem, without a second store call or a second count (``lean_nearby``).
NEARBY_REFUSAL_ENVIRON = "yurt.travellers.nearby_refusal"


def _tid() -> str:
    """The caller's pseudonym."""
    return service().traveller_id(g.principal.sub)


def _presence_json(presence: Presence) -> dict[str, Any]:
    return {"cell": presence.cell, "cell_resolution": privacy.PRESENCE_RES,
            "expires_at": utc_iso(presence.expires_at_s), "display_name": presence.profile.display_name,
            "languages": list(presence.profile.languages),
            "about": presence.profile.about}


@bp.put("/v1/travellers/me/presence")
@requires("traveller")
@body(PresenceBody)
@response(PresenceOut, description="Your presence")
@other_responses({403: "Staff suspended your visibility, or the token lacks the `traveller` scope",
                  429: "Over the rate limit, one update a minute or the daily budget; retry after `Retry-After`"})
def put_presence(body: dict[str, Any]) -> Response:
    """Become visible to compatriots until `share_minutes` from now; the position is kept as a cell only."""
    profile = Profile(body["display_name"], tuple(body["languages"]), body["about"])
    try:
        presence = service().share(_tid(), body.pop("lat"), body.pop("lon"), profile, body["share_minutes"],
                                   request_now_s(), g.principal.issued_at_s, limits.pending_charge(), limits.settle)
    except RateLimitError as exc:
        detail = ("position updates are limited to one per minute" if exc.reason == "too_soon"
                  else "the daily budget of position updates is spent")
        retry_after = str(max(1, math.ceil(exc.retry_after_s)))
        raise Problem(429, detail, headers={"Retry-After": retry_after}) from None
    except ImplausibleMoveError:
        raise Problem(422, "this update implies travelling faster than 1,000 km/h since your last one",
                      errors={"lat": ["implausible move"], "lon": ["implausible move"]}) from None
    except SuspendedError:
        raise Problem(403, "staff suspended your visibility") from None
    return json_response(_presence_json(presence))


@bp.get("/v1/travellers/me/presence")
@requires("traveller")
@response(PresenceOut, description="Your presence")
@other_responses({404: "You are not visible to compatriots"})
def get_presence() -> Response:
    """Your presence as compatriots see it (404 when you are not visible)."""
    presence = service().presence(_tid(), request_now_s())
    if presence is None:
        raise Problem(404, "you are not visible to compatriots")
    return json_response(_presence_json(presence), headers={"Cache-Control": "no-store"})


@bp.delete("/v1/travellers/me/presence")
@requires("traveller")
@response(None, 204, description="Invisible")
def delete_presence() -> Response:
    """Invisible at once: presence and profile go; the update limiter's record stays until its window ends."""
    service().hide(_tid(), request_now_s())
    return Response(status=204)


@bp.delete("/v1/travellers/me")
@requires("traveller")
@response(None, 204, description="Erased")
def erase_me() -> Response:
    """Erase everything about you: presence, profile, blocks, handles, attendance and trips.

    Meetups you organise are cancelled."""
    service().erase(g.principal.sub, _tid(), request_now_s())
    return Response(status=204)


@bp.get(NEARBY_RULE)
@requires("traveller")
@use_query(NEARBY_QUERY)
@response(NearbyAnswerSchema, description="One page of compatriots, nearer bands first")
@other_responses({409: "You share no presence: nearby is only computed around your own cell"})
def nearby(*, radius_km: float, limit: int, cursor: str | None = None) -> Response:
    """Visible compatriots around your own current presence, nearest band first; no exact distances.

    ``radius_km`` is snapped up to the next band edge (2, 5, 10, 25 or 50 km) before anything is cut, so the
    answer is the same for every radius within one band; the response names the snapped radius.
    """
    refusal = request.environ.pop(NEARBY_REFUSAL_ENVIRON, None)  # the lean route's attempt (``lean_nearby``)
    try:
        if refusal is not None:
            raise refusal
        page = service().nearby(_tid(), radius_km, limit, cursor, request_now_s(), limits.pending_charge(),
                                limits.settle)
    except NotSharingError as exc:
        raise Problem(409, str(exc)) from None
    except StaleCursorError as exc:
        raise Problem(400, str(exc), errors={"cursor": ["invalid or stale"]}) from None
    return json_response(page, headers={"Cache-Control": "no-store"})


@bp.post("/v1/travellers/me/blocks")
@requires("traveller")
@body(HandleBody)
@response(None, 204, description="Blocked")
@other_responses({404: "No traveller with this handle was shown to you in the last day"})
def block(body: dict[str, Any]) -> Response:
    """Hide both of you from each other, for good."""
    try:
        service().block(_tid(), body["handle"], request_now_s())
    except UnknownHandleError as exc:
        raise Problem(404, str(exc), errors={"handle": ["unknown"]}) from None
    return Response(status=204)


@bp.get("/v1/travellers/areas")
@requires("traveller")
@use_query(AreasQuery())
@response(AreasAnswerSchema, description="Compatriots per area, in bands, k-anonymous")
def areas(*, bbox: tuple[float, float, float, float]) -> Response:
    """Visible compatriots per resolution-5 cell (~252 km²), in bands; cells with fewer than 3 are left out.

    Only presences of accounts known for a day count (the Sybil defence), and never the caller's own. The bbox
    may span at most 6.5° of latitude and of longitude (a 400 beyond).
    """
    try:
        body = service().areas(_tid(), bbox, request_now_s())
    except AreaTooLargeError as exc:
        raise Problem(400, str(exc), errors={"bbox": ["too large"]}) from None
    return json_response(body, headers={"Cache-Control": "no-store"})
