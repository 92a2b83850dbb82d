"""Meetup endpoints: public events at exact venues, found by exact geodesic distance, capacity that holds.

Attendees are shown to the organiser only, and only as the organiser's own opaque handles for them (the ones
nearby shows during the attendee's current presence session; blocks and reports take them) with the profile an
attendee shares at the moment, never as account ids; everyone sees the count. Ended and cancelled meetups
vanish from search. Times are answered in UTC (ISO 8601, ``Z``) and in the venue's own time zone.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g

from yurt.composition import services
from yurt.core.auth import requires
from yurt.core.http.clock import request_now_s
from yurt.core.http.contract import body, other_responses, resource_links, response
from yurt.core.http.conventions import json_response, use_query
from yurt.core.http.problems import Problem, own_type
from yurt.core.quotas import QuotaExceeded
from yurt.core.store_errors import NotFound
from yurt.geo import privacy
from yurt.geo.instants import utc_iso
from yurt.meetups.http.schemas import (
    MAX_MEETUP_DURATION,
    Attendance,
    MeetupBody,
    MeetupNearbyQuery,
    MeetupOut,
    MeetupPatch,
    MeetupsNearby,
)
from yurt.meetups.stores.meetups import Meetup, MeetupConflictError, NotOrganiserError, TooManyActiveError
from yurt.travellers.http.travellers import caller
from yurt.travellers.stores.presence import TravellerStores

bp = Blueprint("meetups", __name__)

CONFLICTS = {
    "full": "the meetup is full",
    "closed": "the meetup has ended or was cancelled",
    "organiser": "the organiser is not counted among attendees",
    "capacity_below_attendance": "capacity cannot drop below the number already attending",
}


def _time(epoch_s: float, zone: str | None) -> dict[str, Any]:
    local = datetime.fromtimestamp(epoch_s, ZoneInfo(zone) if zone else UTC)
    return {"utc": utc_iso(epoch_s), "local": local.isoformat(timespec="seconds"), "time_zone": zone}


def meetup_json(meetup: Meetup, sub: str, attendees: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": meetup.id, "title": meetup.title, "description": meetup.description,
        "starts_at": _time(meetup.starts_at_s, meetup.time_zone),
        "ends_at": _time(meetup.ends_at_s, meetup.time_zone),
        "venue": {"lat": meetup.lat, "lon": meetup.lon, "place_name": meetup.place_name},
        "capacity": meetup.capacity, "attending": meetup.attending, "status": meetup.status,
        "you_organise": bool(meetup.organiser) and meetup.organiser == sub,
    }
    if attendees is not None:
        body["attendees"] = attendees
    return body


def attendee_views(stores: TravellerStores, meetup_id: str, organiser_tid: str, subs: list[str], now: float
                   ) -> list[dict[str, Any]]:
    """The organiser's view of attendees: for each, the organiser's per-viewer handle (remembered so blocks and
    reports accept it) and the profile the attendee shares now, if any (none while either has blocked the other,
    or while suspended). The handle follows nearby's rule (``privacy.session_handle``): while the attendee
    shares presence visibly to the organiser it is the one nearby shows in that session; otherwise it belongs
    to this meetup alone, so it links no presence session. Ordered by handle, so the order says nothing about
    the accounts; a ``sub`` never leaves this function."""
    tids = [privacy.traveller_id(stores.secret, s) for s in subs]
    shared = stores.presence.presences(tids, now)
    hidden = stores.presence.hidden_from(organiser_tid, list(shared))
    visible = {tid: p for tid, p in shared.items() if tid not in hidden}
    handles = {privacy.session_handle(stores.secret, organiser_tid, tid,
                                      visible[tid].session if tid in visible else f"meetup:{meetup_id}"): tid
               for tid in tids}
    stores.presence.remember_handles(organiser_tid, handles, now)
    views = []
    for handle, tid in sorted(handles.items()):
        presence = visible.get(tid)
        profile = presence.profile if presence is not None else None
        views.append({"handle": handle, "display_name": profile.display_name if profile else None,
                      "languages": list(profile.languages) if profile else None,
                      "about": profile.about if profile else None})
    return views


def _found(meetup_id: str) -> Meetup:
    meetup = services().travellers.meetups.get(meetup_id)
    if meetup is None:
        raise Problem(404, f"no meetup {meetup_id!r}")
    return meetup


def _conflict(exc: MeetupConflictError) -> Problem:
    return Problem(409, CONFLICTS.get(exc.reason, exc.reason), extra={"reason": exc.reason})


@bp.post("/v1/meetups")
@requires("traveller")
@body(MeetupBody)
@response(MeetupOut, 201, description="Organised; `Location` names it", links=resource_links("meetup_id", "/id", {
    "GetMeetup": "meetups.get_meetup.get", "UpdateMeetup": "meetups.update_meetup.patch",
    "CancelMeetup": "meetups.cancel_meetup.delete", "Join": "meetups.join.post", "Leave": "meetups.leave.delete"}))
@other_responses({409: "You already organise `YURT_MEETUPS_PER_ORGANISER` active meetups",
                  429: "Over the rate limit, or over `YURT_MEETUP_RATE` new meetups; retry after `Retry-After`"})
def create_meetup(body: dict[str, Any]) -> Response:
    """Organise a meetup.

    At most `YURT_MEETUPS_PER_ORGANISER` active at once (409 of its own type), and `YURT_MEETUP_RATE` new ones
    a traveller (429 with `Retry-After`)."""
    stores, tid = caller()
    now = request_now_s()
    if body["ends_at"].timestamp() <= now:
        raise Problem(422, "the meetup would already be over", errors={"ends_at": ["in the past"]})
    try:
        services().quotas.charge("meetup", tid)
    except QuotaExceeded as exc:
        raise Problem(429, f"meetup creation is limited to {exc.limit} per traveller; retry after "
                           f"{exc.retry_after_s} s", headers={"Retry-After": str(exc.retry_after_s)}) from None
    zone = services().locator.timezone_at(body["lat"], body["lon"])
    meetup = Meetup(secrets.token_urlsafe(9), g.principal.sub, body["title"], body["description"],
                    body["starts_at"].timestamp(), body["ends_at"].timestamp(), body["lat"], body["lon"],
                    body["place_name"], body["capacity"], zone)
    cap = services().settings.meetups_per_organiser
    try:
        created = stores.meetups.create(meetup, tid, now, cap)
    except TooManyActiveError:
        type_, title = own_type("too-many-active-meetups")
        raise Problem(409, f"you already organise {cap} active meetups; cancel one or wait until one ends",
                      type_=type_, title=title, extra={"max_active": cap}) from None
    return json_response(meetup_json(created, g.principal.sub, []), status=201,
                         headers={"Location": f"/v1/meetups/{created.id}"})


@bp.get("/v1/meetups/nearby")
@requires("traveller")
@use_query(MeetupNearbyQuery())
@response(MeetupsNearby, description="Nearest first")
def nearby_meetups(*, lat: float, lon: float, radius_km: float, limit: int, from_: datetime | None = None,
                   to: datetime | None = None) -> Response:
    """Active meetups within ``radius_km`` of a point, nearest first by exact geodesic distance on WGS-84."""
    now = request_now_s()
    window_start = max(now, from_.timestamp()) if from_ else now
    window_end = to.timestamp() if to else float("inf")
    if window_end <= window_start:
        raise Problem(400, "`to` must be after `from` (and after now)", errors={"to": ["before from"]})
    found = services().travellers.meetups.search(lat, lon, radius_km, limit, window_start, window_end, now)
    sub = g.principal.sub
    results = [{**meetup_json(m, sub), "distance_km": round(d, 6)} for m, d in found]
    return json_response({"results": results}, headers={"Cache-Control": "no-store"})


@bp.get("/v1/meetups/<meetup_id>")
@requires("traveller")
@response(MeetupOut)
def get_meetup(meetup_id: str) -> Response:
    """A meetup; its organiser also sees the attendees, as handles of their own (never account ids)."""
    meetup = _found(meetup_id)
    stores, tid = caller()
    sub = g.principal.sub
    attendees = None
    if meetup.organiser and meetup.organiser == sub:
        attendees = attendee_views(stores, meetup_id, tid, stores.meetups.attendees(meetup_id), request_now_s())
    body = meetup_json(meetup, sub, attendees)
    body["you_attend"] = stores.meetups.is_attending(meetup_id, sub)
    return json_response(body, headers={"Cache-Control": "no-store"})


@bp.patch("/v1/meetups/<meetup_id>")
@requires("traveller")
@body(MeetupPatch)
@response(MeetupOut, description="The changed meetup")
@other_responses({409: "The change conflicts with the meetup's state (capacity below attendance, ended)"})
def update_meetup(meetup_id: str, body: dict[str, Any]) -> Response:
    """Change a meetup's details (its organiser only); the merged meetup is checked like a new one."""
    changes = body
    current = _found(meetup_id)
    record: dict[str, Any] = {}
    for key in ("title", "description", "place_name", "capacity", "lat", "lon"):
        if key in changes:
            record[key] = changes[key]
    starts = changes["starts_at"].timestamp() if "starts_at" in changes else current.starts_at_s
    ends = changes["ends_at"].timestamp() if "ends_at" in changes else current.ends_at_s
    if ends <= starts or ends - starts > MAX_MEETUP_DURATION.total_seconds():
        raise Problem(422, "ends_at must be after starts_at, within 7 days",
                      errors={"ends_at": ["out of range"]})
    record.update(starts_at_s=starts, ends_at_s=ends)
    lat, lon = record.get("lat", current.lat), record.get("lon", current.lon)
    if "lat" in record:
        record["time_zone"] = services().locator.timezone_at(lat, lon)
    stores, tid = caller()
    try:
        updated = stores.meetups.update(meetup_id, g.principal.sub, tid, record, request_now_s())
    except NotOrganiserError:
        raise Problem(403, "only the organiser can change a meetup") from None
    except MeetupConflictError as exc:
        raise _conflict(exc) from None
    return json_response(meetup_json(updated, g.principal.sub))


@bp.delete("/v1/meetups/<meetup_id>")
@requires("traveller")
@response(MeetupOut, description="The cancelled meetup")
def cancel_meetup(meetup_id: str) -> Response:
    """Cancel a meetup (its organiser only): it leaves search at once; attendees still see it as cancelled."""
    stores, tid = caller()
    try:
        cancelled = stores.meetups.cancel(meetup_id, g.principal.sub, tid)
    except NotFound:
        raise Problem(404, f"no meetup {meetup_id!r}") from None
    except NotOrganiserError:
        raise Problem(403, "only the organiser can cancel a meetup") from None
    return json_response(meetup_json(cancelled, g.principal.sub))


@bp.post("/v1/meetups/<meetup_id>/attendance")
@requires("traveller")
@response(Attendance)
@other_responses({409: "The meetup is full, over, or you organise it"})
def join(meetup_id: str) -> Response:
    """Attend a meetup."""
    stores, tid = caller()
    try:
        meetup = stores.meetups.join(meetup_id, g.principal.sub, tid, request_now_s())
    except NotFound:
        raise Problem(404, f"no meetup {meetup_id!r}") from None
    except MeetupConflictError as exc:
        raise _conflict(exc) from None
    return json_response({"attending": meetup.attending, "you_attend": True})


@bp.delete("/v1/meetups/<meetup_id>/attendance")
@requires("traveller")
@response(Attendance)
def leave(meetup_id: str) -> Response:
    """Stop attending a meetup."""
    stores, tid = caller()
    try:
        meetup = stores.meetups.leave(meetup_id, g.principal.sub, tid)
    except NotFound:
        raise Problem(404, f"no meetup {meetup_id!r}") from None
    return json_response({"attending": meetup.attending, "you_attend": False})
