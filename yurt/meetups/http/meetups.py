"""Meetup endpoints: public events at exact venues, found by exact geodesic distance, capacity that holds.

Attendees are shown to the organiser only, and only as the organiser's own opaque handles for them (the ones
nearby shows during the attendee's current presence session; blocks and reports take them) with the profile an
attendee shares at the moment, never as account ids; everyone sees the count. Ended and cancelled meetups
vanish from search. Times are answered in UTC (ISO 8601, ``Z``) and in the venue's own time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g

from yurt.core.auth import requires
from yurt.core.http.clock import request_now_s
from yurt.core.http.contract import body, other_responses, resource_links, response
from yurt.core.http.conventions import json_response, use_query
from yurt.core.http.problems import Problem, own_type
from yurt.geo.instants import utc_iso
from yurt.meetups.http import service
from yurt.meetups.http.schemas import (
    Attendance,
    MeetupBody,
    MeetupNearbyQuery,
    MeetupOut,
    MeetupPatch,
    MeetupsNearby,
)
from yurt.meetups.service import (
    Attendee,
    InvalidMeetupError,
    InvalidWindowError,
    Meetup,
    MeetupConflictError,
    MeetupNotFoundError,
    NotOrganiserError,
    QuotaExceeded,
    TooManyActiveError,
)

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


def meetup_json(meetup: Meetup, sub: str, attendees: list[Attendee] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": meetup.id, "title": meetup.title, "description": meetup.description,
        "starts_at": _time(meetup.starts_at_s, meetup.time_zone),
        "ends_at": _time(meetup.ends_at_s, meetup.time_zone),
        "venue": {"lat": meetup.lat, "lon": meetup.lon, "place_name": meetup.place_name},
        "capacity": meetup.capacity, "attending": meetup.attending, "status": meetup.status,
        "you_organise": bool(meetup.organiser) and meetup.organiser == sub,
    }
    if attendees is not None:
        body["attendees"] = [_attendee_json(a) for a in attendees]
    return body


def _attendee_json(attendee: Attendee) -> dict[str, Any]:
    profile = attendee.profile
    return {"handle": attendee.handle, "display_name": profile.display_name if profile else None,
            "languages": list(profile.languages) if profile else None,
            "about": profile.about if profile else None}


def _not_found(exc: MeetupNotFoundError) -> Problem:
    return Problem(404, str(exc))


def _invalid(exc: InvalidMeetupError) -> Problem:
    return Problem(422, str(exc), errors={exc.field: [exc.reason]})


def _conflict(exc: MeetupConflictError) -> Problem:
    return Problem(409, CONFLICTS.get(exc.reason, exc.reason), extra={"reason": exc.reason})


def _seconds(body: dict[str, Any]) -> dict[str, Any]:
    """The body with its instants as seconds since the epoch, as the service takes them."""
    fields = {k: v for k, v in body.items() if k not in ("starts_at", "ends_at")}
    fields.update({f"{k}_s": body[k].timestamp() for k in ("starts_at", "ends_at") if k in body})
    return fields


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
    try:
        created = service().create(g.principal.sub, _seconds(body), request_now_s())
    except InvalidMeetupError as exc:
        raise _invalid(exc) from None
    except QuotaExceeded as exc:
        raise Problem(429, f"meetup creation is limited to {exc.limit} per traveller; retry after "
                           f"{exc.retry_after_s} s", headers={"Retry-After": str(exc.retry_after_s)}) from None
    except TooManyActiveError as exc:
        cap = exc.max_active
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
    try:
        found = service().search(lat, lon, radius_km, limit, from_.timestamp() if from_ else None,
                                 to.timestamp() if to else None, request_now_s())
    except InvalidWindowError as exc:
        raise Problem(400, str(exc), errors={"to": ["before from"]}) from None
    sub = g.principal.sub
    results = [{**meetup_json(m, sub), "distance_km": round(d, 6)} for m, d in found]
    return json_response({"results": results}, headers={"Cache-Control": "no-store"})


@bp.get("/v1/meetups/<meetup_id>")
@requires("traveller")
@response(MeetupOut)
def get_meetup(meetup_id: str) -> Response:
    """A meetup; its organiser also sees the attendees, as handles of their own (never account ids)."""
    sub = g.principal.sub
    try:
        view = service().view(meetup_id, sub, request_now_s())
    except MeetupNotFoundError as exc:
        raise _not_found(exc) from None
    body = meetup_json(view.meetup, sub, view.attendees)
    body["you_attend"] = view.you_attend
    return json_response(body, headers={"Cache-Control": "no-store"})


@bp.patch("/v1/meetups/<meetup_id>")
@requires("traveller")
@body(MeetupPatch)
@response(MeetupOut, description="The changed meetup")
@other_responses({409: "The change conflicts with the meetup's state (capacity below attendance, ended)"})
def update_meetup(meetup_id: str, body: dict[str, Any]) -> Response:
    """Change a meetup's details (its organiser only); the merged meetup is checked like a new one."""
    try:
        updated = service().update(meetup_id, g.principal.sub, _seconds(body), request_now_s())
    except MeetupNotFoundError as exc:
        raise _not_found(exc) from None
    except InvalidMeetupError as exc:
        raise _invalid(exc) from None
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
    try:
        cancelled = service().cancel(meetup_id, g.principal.sub)
    except MeetupNotFoundError as exc:
        raise _not_found(exc) from None
    except NotOrganiserError:
        raise Problem(403, "only the organiser can cancel a meetup") from None
    return json_response(meetup_json(cancelled, g.principal.sub))


@bp.post("/v1/meetups/<meetup_id>/attendance")
@requires("traveller")
@response(Attendance)
@other_responses({409: "The meetup is full, over, or you organise it"})
def join(meetup_id: str) -> Response:
    """Attend a meetup."""
    try:
        meetup = service().join(meetup_id, g.principal.sub, request_now_s())
    except MeetupNotFoundError as exc:
        raise _not_found(exc) from None
    except MeetupConflictError as exc:
        raise _conflict(exc) from None
    return json_response({"attending": meetup.attending, "you_attend": True})


@bp.delete("/v1/meetups/<meetup_id>/attendance")
@requires("traveller")
@response(Attendance)
def leave(meetup_id: str) -> Response:
    """Stop attending a meetup."""
    try:
        meetup = service().leave(meetup_id, g.principal.sub)
    except MeetupNotFoundError as exc:
        raise _not_found(exc) from None
    return json_response({"attending": meetup.attending, "you_attend": False})
