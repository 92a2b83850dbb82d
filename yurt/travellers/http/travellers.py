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

from flask import Blueprint, Response, g

from yurt.composition import services
from yurt.core import limits
from yurt.core.auth import requires
from yurt.core.http.clock import request_now_s
from yurt.core.http.contract import body, other_responses, response
from yurt.core.http.conventions import json_response, use_query
from yurt.core.http.problems import Problem
from yurt.geo import privacy
from yurt.geo.instants import utc_iso
from yurt.geo.sticky_cells import sticky_cell
from yurt.travellers.http.answer_schemas import AreasAnswerSchema, NearbyAnswerSchema
from yurt.travellers.http.schemas import AreasQuery, HandleBody, NearbyQuery, PresenceBody, PresenceOut
from yurt.travellers.model.area_counts import area_cells_in_bbox, area_counts
from yurt.travellers.service.nearby import nearby_page, resolve_handle
from yurt.travellers.stores.presence import (
    ImplausibleMoveError,
    Presence,
    Profile,
    RateLimitError,
    SuspendedError,
    TravellerStores,
)

bp = Blueprint("travellers", __name__)

MAX_AREA_CELLS = 3000  # resolution-5 cells, about a 900 km × 900 km box
MAX_AREA_SPAN_DEG = 10.0  # H3 fills polygons along great circles: keep boxes small enough to mean what they say


def caller() -> tuple[TravellerStores, str]:
    stores = services().travellers
    return stores, privacy.traveller_id(stores.secret, g.principal.sub)


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
    stores, tid = caller()
    now = request_now_s()
    head = stores.presence.update_head(tid, now, limits.pending_charge())
    limits.settle(head.rate)
    anchor = head.record  # the last accepted update, if any: its cell anchors the sticky cell
    cell = sticky_cell(body.pop("lat"), body.pop("lon"), anchor.cell if anchor is not None else None)
    profile = Profile(body["display_name"], tuple(body["languages"]), body["about"])
    try:
        presence = stores.presence.put_presence(tid, cell, now + body["share_minutes"] * 60, profile, now,
                                                g.principal.issued_at_s, head)
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
    stores, tid = caller()
    presence = stores.presence.get_presence(tid, request_now_s())
    if presence is None:
        raise Problem(404, "you are not visible to compatriots")
    return json_response(_presence_json(presence), headers={"Cache-Control": "no-store"})


@bp.delete("/v1/travellers/me/presence")
@requires("traveller")
@response(None, 204, description="Invisible")
def delete_presence() -> Response:
    """Invisible at once: presence and profile go; the update limiter's record stays until its window ends."""
    stores, tid = caller()
    stores.presence.delete_presence(tid, request_now_s())
    return Response(status=204)


@bp.delete("/v1/travellers/me")
@requires("traveller")
@response(None, 204, description="Erased")
def erase_me() -> Response:
    """Erase everything about you: presence, profile, blocks, handles, attendance and trips.

    Meetups you organise are cancelled."""
    stores, tid = caller()
    services().alerts.trips.erase(tid)
    stores.meetups.erase(g.principal.sub, tid)
    stores.presence.erase(tid, request_now_s())
    return Response(status=204)


@bp.get("/v1/travellers/nearby")
@requires("traveller")
@use_query(NearbyQuery())
@response(NearbyAnswerSchema, description="One page of compatriots, nearer bands first")
@other_responses({409: "You share no presence: nearby is only computed around your own cell"})
def nearby(*, radius_km: float, limit: int, cursor: str | None = None) -> Response:
    """Visible compatriots around your own current presence, nearest band first; no exact distances.

    ``radius_km`` is snapped up to the next band edge (2, 5, 10, 25 or 50 km) before anything is cut, so the
    answer is the same for every radius within one band; the response names the snapped radius.
    """
    radius_km = privacy.snap_radius_km(radius_km)
    stores, tid = caller()
    page = nearby_page(stores, tid, radius_km, limit, cursor, request_now_s(), limits.pending_charge(),
                       limits.settle)
    return json_response(page, headers={"Cache-Control": "no-store"})


def target_of(stores: TravellerStores, tid: str, handle: str) -> str:
    target = resolve_handle(stores, tid, handle, request_now_s())
    if target is None:
        raise Problem(404, "no traveller with this handle was shown to you in the last day",
                      errors={"handle": ["unknown"]})
    return target


@bp.post("/v1/travellers/me/blocks")
@requires("traveller")
@body(HandleBody)
@response(None, 204, description="Blocked")
@other_responses({404: "No traveller with this handle was shown to you in the last day"})
def block(body: dict[str, Any]) -> Response:
    """Hide both of you from each other, for good."""
    stores, tid = caller()
    stores.presence.block(tid, target_of(stores, tid, body["handle"]))
    return Response(status=204)


@bp.get("/v1/travellers/areas")
@requires("traveller")
@use_query(AreasQuery())
@response(AreasAnswerSchema, description="Compatriots per area, in bands, k-anonymous")
def areas(*, bbox: tuple[float, float, float, float]) -> Response:
    """Visible compatriots per resolution-5 cell (~252 km²), in bands; cells with fewer than 3 are left out.

    Only presences of accounts known for a day count (the Sybil defence), and never the caller's own.
    """
    min_lon, min_lat, max_lon, max_lat = bbox
    if max_lat - min_lat > MAX_AREA_SPAN_DEG or (max_lon - min_lon) % 360 > MAX_AREA_SPAN_DEG:
        raise Problem(400, f"the bbox may span at most {MAX_AREA_SPAN_DEG:g}° each way; zoom in",
                      errors={"bbox": ["too large"]})
    boxes = ([(min_lon, min_lat, max_lon, max_lat)] if min_lon <= max_lon
             else [(min_lon, min_lat, 180.0, max_lat), (-180.0, min_lat, max_lon, max_lat)])
    cells: list[str] = []
    for box in boxes:
        found = area_cells_in_bbox(*box, limit=MAX_AREA_CELLS - len(cells))
        if found is None:
            raise Problem(400, "the bbox is too large for the area map; zoom in",
                          errors={"bbox": ["too large"]})
        cells.extend(found)
    stores, tid = caller()
    now = request_now_s()
    counts = stores.presence.occupied(cells, now, established_only=True)
    me = stores.presence.get_presence(tid, now)
    if me is not None and me.established and counts.get(me.cell, 0) > 0:
        counts[me.cell] -= 1  # the caller's own presence never counts
    body = {"resolution": privacy.AREA_RES, "k_anonymity": privacy.K_ANONYMITY,
            "areas": [a.__dict__ for a in area_counts(counts.items())]}
    return json_response(body, headers={"Cache-Control": "no-store"})
